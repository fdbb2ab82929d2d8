/** How many runs carry each label, in order of first appearance. */
export function countByLabel<R>(runs: R[], label: (run: R) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const run of runs) counts[label(run)] = (counts[label(run)] ?? 0) + 1;
  return counts;
}

/** The runs whose label is `value`, and the others. */
export function splitByLabel<R>(runs: R[], label: (run: R) => string, value: string): { kept: R[]; excluded: R[] } {
  const kept: R[] = [];
  const excluded: R[] = [];
  for (const run of runs) (label(run) === value ? kept : excluded).push(run);
  return { kept, excluded };
}

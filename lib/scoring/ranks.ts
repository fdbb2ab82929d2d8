/** Ranks of values ascending (1 = smallest); tied values share the mean of the ranks they span. */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  const ranks = new Array<number>(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && order[end + 1]!.v === order[start]!.v) end++;
    const shared = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) ranks[order[k]!.i] = shared;
    start = end + 1;
  }
  return ranks;
}

/** Mean over tasks of each method's rank by performance ratio (MLGym's "Plackett-Luce" mean rank). */
export function meanRanks(ratios: Record<string, Record<string, number>>, methods: readonly string[]): Record<string, number> {
  const totals = methods.map(() => 0);
  const tasks = Object.values(ratios);
  for (const byMethod of tasks) {
    averageRanks(methods.map((m) => byMethod[m]!)).forEach((rank, i) => (totals[i]! += rank));
  }
  return Object.fromEntries(methods.map((m, i) => [m, totals[i]! / tasks.length]));
}

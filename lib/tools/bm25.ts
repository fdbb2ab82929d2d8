export function tokenize(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

export interface Ranked {
  index: number;
  score: number;
}

/**
 * Okapi BM25 ranking of `docs` for `query`: the `limit` best documents with a positive score, best
 * first (ties keep document order). Uses the idf that stays positive for terms in most documents.
 */
export function rankBm25(docs: readonly string[], query: string, limit: number, k1 = 1.2, b = 0.75): Ranked[] {
  const tokens = docs.map(tokenize);
  const avgLength = tokens.reduce((sum, t) => sum + t.length, 0) / Math.max(docs.length, 1);
  const documentFrequency = new Map<string, number>();
  for (const t of tokens) for (const term of new Set(t)) documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1);
  const queryTerms = [...new Set(tokenize(query))];
  const scores = tokens.map((t, index) => {
    const counts = new Map<string, number>();
    for (const term of t) counts.set(term, (counts.get(term) ?? 0) + 1);
    let score = 0;
    for (const term of queryTerms) {
      const tf = counts.get(term) ?? 0;
      if (!tf) continue;
      const n = documentFrequency.get(term)!;
      const idf = Math.log(1 + (docs.length - n + 0.5) / (n + 0.5));
      score += (idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * t.length) / avgLength));
    }
    return { index, score };
  });
  return scores
    .filter((s) => s.score > 0)
    .sort((x, y) => y.score - x.score || x.index - y.index)
    .slice(0, limit);
}

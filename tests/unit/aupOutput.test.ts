import { afterEach, describe, expect, it, vi } from 'vitest';
import { sayAupTable, sayAupVariants } from '../../cli/aup.js';

function stderrOf(print: () => void): string[] {
  const lines: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string) => (lines.push(...chunk.split('\n').filter(Boolean)), true)) as typeof process.stderr.write);
  print();
  return lines;
}

afterEach(() => vi.restoreAllMocks());

describe('the AUP printer (cli/aup.ts), shared by aup, bench and report', () => {
  it('prints a table of AUP and mean rank, best AUP first', () => {
    const lines = stderrOf(() => sayAupTable({ methods: ['a', 'longer-name', 'baseline'], aup: { a: 0.25, 'longer-name': 0.5, baseline: 0.125 }, ranks: { a: 2, 'longer-name': 1, baseline: 3 } }));
    expect(lines).toEqual([
      'method          AUP  mean rank',
      'longer-name   0.500       1.00',
      'a             0.250       2.00',
      'baseline      0.125       3.00',
    ]);
  });

  it("prints both of MLGym's AUP variants, one line each, best first", () => {
    const lines = stderrOf(() => sayAupVariants({ tauMax: 0.5, bestAttempt: { a: 0.1, b: 0.3 }, bestSubmission: { a: 0.2, b: 0.2 } }));
    expect(lines).toEqual(['AUP (best attempt, T = 0.5): b 0.300, a 0.100', 'AUP (best submission, T = 0.5): a 0.200, b 0.200']);
  });
});

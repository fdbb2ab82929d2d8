import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const TICK_MS = 10;

/** Resident set size of a process, from /proc/<pid>/status (VmRSS, in kB). */
export function vmRssMb(pid: number): number {
  const line = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return line ? Number(line[1]) / 1024 : NaN;
}

/** CPU time a process has used (user + system), from /proc/<pid>/stat. */
export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(')').pop()!.trim().split(/\s+/);
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/** Sample `read` every `everyMs` until stopped; returns the peak and the mean. */
export function sampler(read: () => number, everyMs = 200): { stop: () => { peak: number; mean: number } } {
  const samples: number[] = [read()];
  const timer = setInterval(() => samples.push(read()), everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      samples.push(read());
      return { peak: Math.max(...samples), mean: samples.reduce((a, b) => a + b, 0) / samples.length };
    },
  };
}

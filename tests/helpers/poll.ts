/**
 * Poll `probe` until it gives a value. The deadline only stops a hung test (no timing is asserted): it is
 * generous because a loaded CI machine runs the servers, engines and other test files beside this one.
 */
export async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 240_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * The one wait helper of the tests: polls `condition` until it holds and fails
 * naming what it waited for after a generous timeout. It is never a timing
 * assertion: the timeout only keeps a broken test from hanging.
 */
export async function waitFor(what: string | (() => string), condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${typeof what === 'string' ? what : what()}`);
    await sleep(10);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

import { randomBytes } from 'node:crypto';

/** Every test run uses fresh names, so parallel runs on one host never collide. */
export function runId(): string {
  return randomBytes(4).toString('hex');
}

/** Polls `condition` until it holds; fails with `what` after a generous timeout (no timing assertions). */
export async function waitFor(what: string | (() => string), condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export const LOOPBACK = '127.0.0.1';

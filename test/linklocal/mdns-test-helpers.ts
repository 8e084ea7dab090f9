import { randomBytes } from 'node:crypto';

/** Every test run uses fresh names, so parallel runs on one host never collide. */
export function runId(): string {
  return randomBytes(4).toString('hex');
}

export const LOOPBACK = '127.0.0.1';

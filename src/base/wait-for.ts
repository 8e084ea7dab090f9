import type { EventEmitter } from 'node:events';

/** How long a wait may last and what may cut it short; the same shape everywhere in the library. */
export interface WaitOptions {
  /** Give up after this long (milliseconds); the caller's default applies when absent. */
  timeoutMs?: number;
  /** Abort the wait; it rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface WaitForSpec<T> {
  /** Whose events to watch. */
  emitter: EventEmitter;
  /** The condition, checked now and after each of `events`: a defined value ends the wait with it. */
  check: () => T | undefined;
  /** Events after which `check` runs again. */
  events: readonly string[];
  /** Events that end the wait with an error (e.g. the room was left), each with the error to reject with. */
  failOn?: Readonly<Record<string, () => Error>>;
  /** Absent or Infinity: no timeout. */
  timeoutMs?: number;
  /** The error for a timeout. */
  timeoutError?: () => Error;
  signal?: AbortSignal;
}

/**
 * Waits for a condition that only changes when an emitter fires an event:
 * resolves as soon as `check()` yields a value, rejects on a `failOn` event,
 * the timeout or the abort signal, and always removes every listener and timer
 * it added. The one "wait for something or time out" of the library.
 */
export function waitFor<T>(spec: WaitForSpec<T>): Promise<T> {
  const first = spec.check();
  if (first !== undefined) return Promise.resolve(first);
  if (spec.signal?.aborted) return Promise.reject(abortReason(spec.signal));
  const { emitter, events, failOn = {}, signal } = spec;
  return new Promise<T>((resolve, reject) => {
    const failures = Object.entries(failOn).map(([event, error]) => [event, (): void => finish(() => reject(error()))] as const);
    const recheck = (): void => {
      const value = spec.check();
      if (value !== undefined) finish(() => resolve(value));
    };
    const onAbort = (): void => finish(() => reject(abortReason(signal)));
    const timeoutMs = spec.timeoutMs ?? Infinity;
    const timer = Number.isFinite(timeoutMs)
      ? setTimeout(() => finish(() => reject(spec.timeoutError?.() ?? new Error(`timed out after ${timeoutMs} ms`))), Math.max(0, timeoutMs))
      : undefined;
    let settled = false;
    const finish = (settle: () => void): void => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      for (const event of events) emitter.off(event, recheck);
      for (const [event, listener] of failures) emitter.off(event, listener);
      signal?.removeEventListener('abort', onAbort);
      settle();
    };
    for (const event of events) emitter.on(event, recheck);
    for (const [event, listener] of failures) emitter.on(event, listener);
    signal?.addEventListener('abort', onAbort);
  });
}

function abortReason(signal: AbortSignal | undefined): unknown {
  return signal?.reason ?? new Error('aborted');
}

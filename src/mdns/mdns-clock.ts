/**
 * Time, timers and randomness for the mDNS layer: the one place it touches
 * the real clock. The responder, the browsers and the cache take an
 * `MdnsClock`, so tests run probing, tie-breaks, conflicts and expiry on
 * virtual time (src/testing/virtual-clock.ts) with a seed.
 */
export interface MdnsTimer {
  cancel(): void;
}

export interface MdnsClock {
  /** Milliseconds on a monotonic-enough scale (wall clock for the real one). */
  now(): number;
  /** Uniform in [0, 1). */
  random(): number;
  /**
   * Runs `fn` after `ms`. A `background` timer does not keep the process alive
   * (the responder's periodic tick); others do (a probe in flight).
   */
  setTimer(ms: number, fn: () => void, options?: { background?: boolean }): MdnsTimer;
}

export const systemClock: MdnsClock = {
  now: () => Date.now(),
  random: () => Math.random(),
  setTimer(ms, fn, options) {
    const timer = setTimeout(fn, ms);
    if (options?.background === true) timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};

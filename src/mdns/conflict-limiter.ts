/**
 * RFC 6762 §8.1: "If fifteen conflicts occur within any ten-second period,
 * then the host MUST wait at least five seconds before each successive
 * additional probe attempt." One per responder (the host), counting every
 * conflict: a name contested while we held it (§9) and a probe lost to a
 * rival. Renaming starts a new registration, so a per-registration count
 * would let someone who claims every name we try keep us probing flat out.
 * Once held back, every further probe attempt waits until ten seconds have
 * passed without a conflict.
 */
export const CONFLICT_BURST = 15;
export const CONFLICT_WINDOW_MS = 10_000;
export const CONFLICT_BACKOFF_MS = 5_000;

export class ConflictLimiter {
  private readonly times: number[] = [];
  private holding = false;

  record(now: number): void {
    this.times.push(now);
    this.forget(now);
    if (this.times.length >= CONFLICT_BURST) this.holding = true;
  }

  /** Whether probing is being held back now. */
  throttled(now: number): boolean {
    this.forget(now);
    return this.holding;
  }

  /** The delay before a probe round that would otherwise start after `delay` ms. */
  probeDelay(now: number, delay: number): number {
    return this.throttled(now) ? Math.max(delay, CONFLICT_BACKOFF_MS) : delay;
  }

  private forget(now: number): void {
    while (this.times.length > 0 && now - this.times[0]! > CONFLICT_WINDOW_MS) this.times.shift();
    // Only whether there were fifteen matters; the list stays small under a flood.
    if (this.times.length > CONFLICT_BURST) this.times.splice(0, this.times.length - CONFLICT_BURST);
    if (this.times.length === 0) this.holding = false;
  }
}

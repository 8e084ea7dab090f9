import type { MdnsClock, MdnsTimer } from '../mdns/mdns-clock.js';
import { randomFraction, type RandomSource } from '../base/random.js';
import { EventQueue } from './event-queue.js';

/**
 * Virtual time for the timer-driven layers (mDNS): timers run only when a
 * test advances the clock, in time order, and randomness comes from a seed,
 * so probing races, conflicts and expiry replay exactly.
 */
export class VirtualClock implements MdnsClock {
  private current: number;
  private readonly queue = new EventQueue<{ fn: () => void; cancelled: boolean }>();

  constructor(
    private readonly randomSource: RandomSource,
    start = 1_000_000,
  ) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  random(): number {
    return randomFraction(this.randomSource);
  }

  setTimer(ms: number, fn: () => void): MdnsTimer {
    const entry = { fn, cancelled: false };
    this.queue.push(this.current + Math.max(0, ms), entry);
    return { cancel: () => void (entry.cancelled = true) };
  }

  /**
   * Runs every timer due within `ms`, letting promise continuations settle
   * between timers (code under test awaits between steps).
   */
  async advance(ms: number): Promise<void> {
    const until = this.current + ms;
    for (;;) {
      await settle();
      const next = this.queue.peekTime();
      if (next === undefined || next > until) break;
      const { time, item } = this.queue.pop()!;
      this.current = Math.max(this.current, time);
      if (!item.cancelled) item.fn();
    }
    this.current = until;
    await settle();
  }

  /** Advances in small steps until `condition` holds; fails after `limitMs` of virtual time. */
  async until(what: string, condition: () => boolean, limitMs = 60_000, stepMs = 50): Promise<void> {
    const deadline = this.current + limitMs;
    while (!condition()) {
      if (this.current >= deadline) throw new Error(`not within ${limitMs} ms of virtual time: ${what}`);
      await this.advance(stepMs);
    }
  }
}

/** Lets queued promise continuations run (several rounds: chains of awaits). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

import type { Logger } from '../base/logger.js';
import { randomInRange, type RandomSource } from '../base/random.js';
import type { EngineTiming } from './engine-types.js';
import type { TimerQueue } from './timer-queue.js';

/** What the engine's layers share: injected time, randomness, timers and output. */
export interface EngineContext {
  readonly timing: EngineTiming;
  readonly random: RandomSource;
  readonly timers: TimerQueue;
  readonly log: Logger;
  readonly maxDatagramSize: number;
  readonly maxMessageSize: number;
  /** Current time (ms) of the call being processed. */
  now(): number;
  /** Multicast an already-encoded datagram. */
  transmit(datagram: Uint8Array): void;
}

/** Absolute deadline `now + random in [low, high)`. */
export function deadlineIn(ctx: EngineContext, range: readonly [number, number]): number {
  const [low, high] = range;
  return ctx.now() + (high > low ? randomInRange(ctx.random, low, high) : low);
}

import { randomInRange, type RandomSource } from '../base/random.js';

/** A group for a new room: 239.255.71.X, X in [1, 254) (spec §0.1). A room policy, not the transport's. */
export function randomGroupAddress(random: RandomSource): string {
  return `239.255.71.${randomInRange(random, 1, 254)}`;
}

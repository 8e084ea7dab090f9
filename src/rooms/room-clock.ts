import { randomUUID } from 'node:crypto';
import type { RandomSource } from '../base/random.js';

/**
 * Time and fresh ids for a room: the only place the room's logic reads the
 * wall clock or draws random ids, so a simulation can run it on virtual time
 * with seeded ids.
 */
export interface RoomClock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** A fresh message id (unique across hosts). */
  newId(): string;
}

export const systemRoomClock: RoomClock = {
  now: () => Date.now(),
  newId: () => randomUUID(),
};

/** Virtual time and seeded ids (simulations, tests). */
export function simulatedRoomClock(now: () => number, random: RandomSource): RoomClock {
  return {
    now,
    newId: () => {
      let hex = '';
      for (let i = 0; i < 4; i++) hex += random.nextUint32().toString(16).padStart(8, '0');
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
    },
  };
}

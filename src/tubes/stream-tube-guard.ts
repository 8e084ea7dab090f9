/**
 * Pure checks a room stream tube applies to the outside world (spec §7.5):
 * which peer address may connect, how many connections a tube may hold at once,
 * and the SI id a requester picks.
 */
import { randomInRange, type RandomSource } from '../base/random.js';
import { comparableAddress } from '../linklocal/peer-identity.js';

/** `si@id` is a random decimal 1..254 (§7.5 step 3). */
export function pickSiId(random: RandomSource): string {
  return String(randomInRange(random, 1, 255));
}

/** A TCP connection is only accepted from one of the contact's advertised addresses (§7.5 step 7). */
export function isAdvertisedAddress(remote: string, advertised: readonly string[]): boolean {
  const plain = comparableAddress(remote);
  return advertised.some((a) => comparableAddress(a) === plain);
}

/** Bounds the connections one tube holds at once, so a flood of SI requests or connects cannot exhaust sockets. */
export class ConnectionBudget {
  private inUse = 0;
  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`bad connection limit ${limit}`);
  }
  get open(): number {
    return this.inUse;
  }
  /** Takes one slot; false when the tube is full and the new connection must be refused. */
  tryTake(): boolean {
    if (this.inUse >= this.limit) return false;
    this.inUse += 1;
    return true;
  }
  release(): void {
    if (this.inUse > 0) this.inUse -= 1;
  }
}

import type { AdvertiseResult } from '../linklocal/room-advertiser.js';
import type { AdvertState } from './room-merge.js';

/** Our mDNS record of the current group, as far as withdrawing it goes. */
type Record = 'none' | 'pending' | 'withdrawing' | AdvertiseResult | 'failed';

/**
 * The room's advertisement of its current group, without I/O: where the
 * probe stands (what the merge rule reads) and the order of withdrawals. A
 * withdrawal waits for the announcement to settle, so the goodbye is never
 * overtaken by it; whoever waits for the withdrawal is run once it is done.
 */
export class RoomAdvertisement {
  /** What the merge rule reads (room-merge.ts). */
  state: AdvertState = 'off';
  private record: Record = 'none';
  private waiters: Array<() => void> = [];

  constructor(private readonly enabled: boolean) {}

  /** A new group of ours is connected: true if the shell must advertise it. */
  start(): boolean {
    if (!this.enabled) {
      this.state = 'off';
      return false;
    }
    this.state = 'probing';
    this.record = 'pending';
    return true;
  }

  /** The probe ended (or failed). True if a withdrawal waiting for it must go out now. */
  settled(result: AdvertiseResult | Error): boolean {
    if (result instanceof Error) {
      this.record = 'failed';
      if (this.state === 'probing') this.state = 'off';
    } else {
      this.record = result;
      if (result === 'conflict') {
        if (this.state === 'probing') this.state = 'lost-probing';
      } else if (this.state === 'probing') {
        this.state = result === 'advertised' ? 'advertised' : 'withdrawn';
      }
    }
    return this.waiters.length > 0 && this.withdrawThen(() => undefined);
  }

  /** Another host holds the name with other data. */
  lost(): void {
    if (this.state === 'probing') this.state = 'lost-probing';
    else if (this.state === 'advertised') this.state = 'lost-established';
  }

  /**
   * Runs `next` once our record is gone. True if the shell must withdraw
   * it now (then `withdrawn()` runs `next`); `next` may also run at once.
   */
  withdrawThen(next: () => void): boolean {
    switch (this.record) {
      case 'pending':
      case 'withdrawing':
        this.waiters.push(next);
        return false;
      case 'advertised':
        this.record = 'withdrawing';
        this.waiters.push(next);
        return true;
      default:
        this.record = 'none';
        for (const waiting of this.waiters.splice(0)) waiting();
        next();
        return false;
    }
  }

  /** The shell withdrew our record. */
  withdrawn(): void {
    if (this.record !== 'withdrawing') return;
    this.record = 'none';
    for (const next of this.waiters.splice(0)) next();
  }

  /** We are in a new group now, not advertised yet. */
  movedOn(): void {
    this.state = 'off';
    this.record = 'none';
  }

  /** The room is gone: nobody waits any more. */
  clear(): void {
    this.waiters = [];
  }
}

import { isIPv4 } from 'node:net';

/**
 * Where our own advertisement of the room stands, as far as merging cares:
 * - 'off': we do not advertise it (`advertise: false`, or advertising failed);
 * - 'probing': mDNS probing is under way (its outcome decides);
 * - 'advertised': we hold the name on mDNS;
 * - 'lost-probing': another host held the name before us and defended it: we never advertised;
 * - 'lost-established': we had advertised it, then another host announced other data for it
 *   (both announced without hearing each other, e.g. a network partition healed);
 * - 'withdrawn': we are leaving.
 */
export type AdvertState = 'off' | 'probing' | 'advertised' | 'lost-probing' | 'lost-established' | 'withdrawn';

export interface GroupAddress {
  address: string;
  port: number;
}

export interface MergeView {
  /** The group we are in. */
  ours: GroupAddress;
  /** What the room list shows under the room's name, if anything. */
  listed: GroupAddress | undefined;
  /** No other member in our rMulticast group. */
  alone: boolean;
  advert: AdvertState;
}

/** 'wait': nothing to do now, but the pending probe's outcome may change that. */
export type MergeDecision = 'stay' | 'move' | 'wait';

/**
 * Should a room joined by name (never one joined by address or invitation)
 * leave its group for the one listed under the same name? Salut never does,
 * so two people creating a room within the lookup delay split it for good
 * (spec §11.5). Every node applies the same rule to what it sees, so two lone
 * creators meet instead of swapping past each other:
 *
 * 1. A room with other members never moves (it is the room for them).
 * 2. If we do not hold the name on mDNS because someone held it first (our
 *    probe was answered), or we do not advertise at all, the listed group is
 *    the room: move. Its holder sees only its own group listed and stays, so
 *    exactly one side moves, whether or not that group has members.
 * 3. If both sides advertised (no probe saw the other: same port so no
 *    conflict, or a healed partition), the one whose group address sorts
 *    later moves; equal addresses are ambiguous and nobody moves.
 *
 * While our own probe is still running we wait for its outcome.
 */
export function mergeDecision(view: MergeView): MergeDecision {
  const { ours, listed } = view;
  if (!view.alone || listed === undefined || sameGroup(listed, ours)) return 'stay';
  switch (view.advert) {
    case 'probing':
      return 'wait';
    case 'withdrawn':
      return 'stay';
    case 'off':
    case 'lost-probing':
      return 'move';
    case 'advertised':
    case 'lost-established':
      return compareAddresses(listed.address, ours.address) < 0 ? 'move' : 'stay';
  }
}

export function sameGroup(a: GroupAddress, b: GroupAddress): boolean {
  return a.address === b.address && a.port === b.port;
}

export function groupKey(group: GroupAddress): string {
  return `${group.address}:${group.port}`;
}

/** IPv4 addresses numerically (239.255.71.9 before 239.255.71.10); anything else as text after them. */
export function compareAddresses(a: string, b: string): number {
  const va = isIPv4(a) ? ipv4Value(a) : undefined;
  const vb = isIPv4(b) ? ipv4Value(b) : undefined;
  if (va !== undefined && vb !== undefined) return va - vb;
  if (va !== undefined) return -1;
  if (vb !== undefined) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function ipv4Value(address: string): number {
  return address.split('.').reduce((value, part) => value * 256 + Number(part), 0);
}

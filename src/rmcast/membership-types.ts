import type { IdListPacket } from '../wire/packet.js';
import type { EngineContext } from './engine-context.js';
import type { EngineEvent, MembershipResetReason } from './engine-types.js';
import type { SenderTable } from './sender-table.js';
import type { TimerHandle } from './timer-queue.js';

/** Per-member states (spec §8.1); numeric order matters and only ever increases. */
export const MemberState = {
  Unknown: 0,
  AjStarted: 1, // we asked for its start position
  AjRepeat: 2, // it asked for ours: keep repeating our ATTEMPT_JOIN
  AjDone: 3, // positions exchanged
  Joining: 4, // never used (kept for the order)
  Member: 5,
  Failing: 6,
  MemberFailing: 7, // failing, and was a member
  InstantFailure: 8, // dropped without a failure round
} as const;
export type MemberState = (typeof MemberState)[keyof typeof MemberState];

export const MembershipState = { Disconnected: 0, Normal: 1, Gathering: 2, Joining: 3, Resetting: 4 } as const;
export type MembershipState = (typeof MembershipState)[keyof typeof MembershipState];

/** See Membership.gatheringFull. */
export const MAX_GATHERING_STRANGERS = 255;
/** Least time between two JOINs of ours in one join phase (see restartJoinPhase). */
export const JOIN_RESEND_MIN_MS = 100;

/** @internal */
export class MemberRecord {
  state: MemberState = MemberState.Unknown;
  agreed = false;
  joinPacketId = 0;
  readonly reported = new Set<number>();
  failureTimer: TimerHandle | undefined;
  /** It said BYE: when it leaves our view, it left rather than failed. */
  saidBye = false;
  constructor(readonly id: number) {}
}

/** Members leaving our view in one step, each with why. */
export type LostMembers = Array<{ name: string; reason: 'left' | 'failed' }>;

/** The 'members-lost' events for `lost`: one per reason, failures first. */
export function lostEvents(lost: LostMembers): EngineEvent[] {
  const events: EngineEvent[] = [];
  for (const reason of ['failed', 'left'] as const) {
    const names = lost.filter((l) => l.reason === reason).map((l) => l.name);
    if (names.length > 0) events.push({ type: 'members-lost', names, reason });
  }
  return events;
}

export type JoinCheck = 'equal' | 'more-info' | 'less-info' | 'failed';

/** What membership needs from the engine around it. */
export interface MembershipHost {
  readonly ownId: number;
  /**
   * Originate a reliable control packet (next id, current depends) and cache it.
   * `ids` come best first: those that do not fit the datagram are left out, and
   * `ids` of the result are the ones sent.
   */
  originateControl(type: IdListPacket['type'], ids: number[], repeating: boolean): { packetId: number; bytes: Uint8Array; ids: number[] };
  /** We were declared failed, or are stuck ('join-blocked'): leave under the old id and come back with a new one (spec §8.9). */
  reset(why?: MembershipResetReason): void;
  emit(event: EngineEvent): void;
}

/**
 * Ours (issue 15): at most MAX_GATHERING_STRANGERS ids outside our view take
 * part in our gathering (whatever their state); more are ignored until a
 * view is installed (real ones keep sending). Each that never answers or
 * has no name ends up in our JOIN's failure list, and members must list the
 * same failures to agree (spec §8.5): lists cut to fit a datagram would
 * never agree, and the JOIN timeout would then fail honest members. The
 * bound is the wire's own list limit (255 ids): a lower one (64) split any
 * group of more than 65 members starting together into pieces that never
 * merged (test: engine-stress "80 members started at once"), while forged
 * ids are already bounded by the sender table and need a name to join.
 */
export function strangersFull(members: ReadonlyMap<number, MemberRecord>, view: ReadonlyMap<number, string>): boolean {
  if (members.size - view.size < MAX_GATHERING_STRANGERS) return false;
  let strangers = 0;
  for (const m of members.values()) {
    if (!view.has(m.id) && ++strangers >= MAX_GATHERING_STRANGERS) return true;
  }
  return false;
}

/** What Membership's failure rounds (membership-failures.ts) use of it; they import this, not Membership. */
export interface MembershipCore {
  readonly ctx: EngineContext;
  readonly host: MembershipHost;
  readonly table: SenderTable;
  readonly state: MembershipState;
  readonly active: boolean;
  readonly members: Map<number, MemberRecord>;
  readonly view: Map<number, string>;
  pendingFailures: number[];
  agreementCheck(): void;
  markPendingFailed(): void;
  noteLost(id: number, lost: LostMembers): void;
  startFailing(m: MemberRecord): void;
  updateMember(id: number, newState: MemberState, start: number): boolean;
}

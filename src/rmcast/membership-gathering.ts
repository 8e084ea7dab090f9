import { encodePacket } from '../wire/codec.js';
import type { IdListPacket, Packet } from '../wire/packet.js';
import { deadlineIn } from './engine-context.js';
import { hex } from './datagram-bytes.js';
import { MemberState, MembershipState, type MembershipCore } from './membership-types.js';
import type { TimerHandle } from './timer-queue.js';

const NAME_ANNOUNCE_INTERVAL_MS = 1000;
/** How long a repair request heard makes the settled quiet twice as long. */
const LOSS_MEMORY_MS = 10_000;

/** What the gathering needs of Membership. */
export interface GatheringHost extends Omit<MembershipCore, 'state'> {
  state: MembershipState;
  updateFromPacket(packet: Packet, newState: MemberState): boolean;
  nameOf(id: number): string | undefined;
  enterJoinPhase(): void;
}

/**
 * The gathering of the membership layer (spec §8.3): the ATTEMPT_JOIN
 * exchange that gives newcomers and members each other's start positions,
 * and when it ends. Part of Membership; split out of it for size.
 */
export class Gathering {
  private ajSendTimer: TimerHandle | undefined;
  private repeatingAj: { packetId: number; bytes: Uint8Array; timer: TimerHandle | undefined } | undefined;
  private sendEmpty = false;
  private gatheringTimer: TimerHandle | undefined;
  private settledTimer: TimerHandle | undefined;

  constructor(private readonly m: GatheringHost) {}

  /** Stop every gathering timer and the repeating ATTEMPT_JOIN (join phase, leave, reset). */
  stop(): void {
    this.stopRepeatingAj();
    for (const timer of [this.ajSendTimer, this.gatheringTimer, this.settledTimer]) this.m.ctx.timers.cancel(timer);
    this.ajSendTimer = this.gatheringTimer = this.settledTimer = undefined;
    this.sendEmpty = false;
  }

  sendAttemptJoin(empty: boolean): void {
    if (!this.m.active || this.m.state === MembershipState.Joining) return;
    this.m.state = MembershipState.Gathering;
    this.restartGatheringTimer();
    this.sendEmpty ||= empty;
    if (!this.ajSendTimer?.active) {
      this.ajSendTimer = this.m.ctx.timers.schedule(deadlineIn(this.m.ctx, this.m.ctx.timing.attemptJoinDelay), () => {
        this.ajSendTimer = undefined;
        this.onAttemptJoinTimer();
      });
    }
  }

  private restartGatheringTimer(): void {
    this.m.ctx.timers.cancel(this.gatheringTimer);
    this.gatheringTimer = this.m.ctx.timers.schedule(deadlineIn(this.m.ctx, this.m.ctx.timing.gatheringQuiet), () => {
      this.gatheringTimer = undefined;
      if (this.m.state !== MembershipState.Gathering) return;
      this.m.ctx.log.debug('gathering quiet: join phase');
      this.m.enterJoinPhase();
    });
    this.armSettledCheck();
  }

  /**
   * Ours (issue 10): the original waits 4.8-5.2 s after the last gathering
   * activity even when every position has long been exchanged. Once nothing
   * is left to exchange (no member below AJ_DONE, no ATTEMPT_JOIN pending or
   * repeating), a much shorter quiet (`gatheringSettledQuiet`) ends the
   * gathering. Local policy only: the JOIN we then send pulls everybody still
   * gathering, original peers included, into the join phase (spec §8.5),
   * where a member whose position someone still lacks is dropped from this
   * view and joins in the next round; nothing is lost, a round is at worst
   * repeated. Any activity re-arms the check; the long timer stays as the
   * fallback.
   */
  private armSettledCheck(): void {
    this.m.ctx.timers.cancel(this.settledTimer);
    this.settledTimer = undefined;
    const quiet = this.m.ctx.timing.gatheringSettledQuiet;
    if (this.m.state !== MembershipState.Gathering || quiet[1] <= 0) return;
    // Datagrams get lost here: a member may not have heard of everybody yet. Wait twice as long.
    const lossy = this.m.ctx.now() - this.lossHeardAt < LOSS_MEMORY_MS;
    const wait: [number, number] = lossy ? [2 * quiet[0], 2 * quiet[1]] : quiet;
    this.settledTimer = this.m.ctx.timers.schedule(deadlineIn(this.m.ctx, wait), () => {
      this.settledTimer = undefined;
      if (this.m.state !== MembershipState.Gathering || !this.gatheringSettled()) return;
      this.m.ctx.log.debug('gathering settled: join phase');
      this.m.enterJoinPhase();
    });
  }

  /** Somebody asked for a repair: this network loses datagrams (see armSettledCheck). */
  lossHeard(): void {
    this.lossHeardAt = this.m.ctx.now();
  }
  private lossHeardAt = -Infinity;

  /**
   * Any ATTEMPT_JOIN datagram, a repeat included (repeats are not processed
   * again): somebody still exchanges positions, maybe with a member we have
   * not heard of yet, so our gathering is not settled for another quiet.
   */
  attemptJoinHeard(): void {
    if (this.settledTimer !== undefined) this.armSettledCheck();
  }

  private gatheringSettled(): boolean {
    if (this.repeatingAj !== undefined || this.ajSendTimer?.active) return false;
    for (const m of this.m.members.values()) {
      // A member still unnamed at the join phase is failed (spec §8.4): wait for its name.
      if (m.state < MemberState.AjDone || (m.state < MemberState.Failing && this.m.nameOf(m.id) === undefined)) return false;
    }
    return true;
  }

  private onAttemptJoinTimer(): void {
    if (this.m.state !== MembershipState.Gathering) return;
    this.stopRepeatingAj();
    const list: number[] = [];
    let anyRepeat = false;
    for (const m of this.m.members.values()) {
      if (m.state === MemberState.Unknown) m.state = MemberState.AjStarted;
      if (m.state === MemberState.AjStarted) list.push(m.id);
      if (m.state === MemberState.AjRepeat) anyRepeat = true;
    }
    const repeat = list.length > 0 || anyRepeat;
    if (!repeat && !this.sendEmpty) {
      this.armSettledCheck();
      return;
    }
    this.sendEmpty = false;
    if (list.length > 0) this.announceName();
    // Too many to ask at once: named, further along, recently heard first (SenderTable.rankIds).
    const ranked = list.length > 1 ? this.m.table.rankIds(list) : list;
    const { packetId, bytes, ids } = this.m.host.originateControl('attempt-join', ranked, repeat);
    if (ids.length < list.length) this.m.ctx.log.warn('ATTEMPT_JOIN list cut to fit a datagram', { wanted: list.length, sent: ids.length });
    this.m.ctx.log.debug('sent ATTEMPT_JOIN', { packetId, list: ids.map(hex), repeat });
    if (repeat) {
      this.repeatingAj = { packetId, bytes, timer: undefined };
      this.scheduleAjRepeat();
    } else {
      this.armSettledCheck();
    }
  }

  /**
   * Ours (issue 10): a newcomer takes up our ATTEMPT_JOIN only once it knows
   * our name, and would otherwise ask for it (WHOIS, 100-400 ms). Our
   * unsolicited WHOIS_REPLY (as sent at connect, spec §4.2) just before the
   * ATTEMPT_JOIN that asks newcomers for their positions saves that round;
   * at most once a second.
   */
  announceName(): void {
    const own = this.m.table.own;
    const now = this.m.ctx.now();
    if (own?.name === undefined || now - this.lastNameAnnounce < NAME_ANNOUNCE_INTERVAL_MS) return;
    this.lastNameAnnounce = now;
    this.m.ctx.transmit(encodePacket({ type: 'whois-reply', sender: own.id, name: own.name }));
  }
  private lastNameAnnounce = -Infinity;

  private scheduleAjRepeat(): void {
    const aj = this.repeatingAj;
    if (aj === undefined) return;
    aj.timer = this.m.ctx.timers.schedule(deadlineIn(this.m.ctx, this.m.ctx.timing.repairAnswerDelay), () => {
      aj.timer = undefined;
      if (this.repeatingAj !== aj) return;
      // Ours: stop as soon as nobody is left to exchange positions with.
      const needed = [...this.m.members.values()].some(
        (m) => m.state === MemberState.AjStarted || m.state === MemberState.AjRepeat,
      );
      if (!needed) {
        this.stopRepeatingAj();
        this.armSettledCheck();
        return;
      }
      this.m.ctx.transmit(aj.bytes);
      this.scheduleAjRepeat();
    });
  }

  private stopRepeatingAj(): void {
    const aj = this.repeatingAj;
    if (aj === undefined) return;
    this.m.ctx.timers.cancel(aj.timer);
    this.repeatingAj = undefined;
    this.m.table.stopRepeating(aj.packetId);
  }

  onAttemptJoin(packet: IdListPacket): void {
    if (this.m.state === MembershipState.Joining) return;
    const own = this.m.host.ownId;
    let ourIdListed = false;
    let changed = false;
    for (const id of packet.ids) {
      if (id === own) ourIdListed = true;
      else changed = this.m.updateMember(id, MemberState.AjStarted, 0) || changed;
    }
    changed = this.m.updateFromPacket(packet, ourIdListed ? MemberState.AjRepeat : MemberState.AjDone) || changed;
    this.m.state = MembershipState.Gathering;
    this.restartGatheringTimer();
    // The original's suppression test always yields -1 (Q11): answer when anything changed.
    if (changed) this.sendAttemptJoin(false);
  }
}

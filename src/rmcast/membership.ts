import { isStart, MAX_LIST_ENTRIES, type IdListPacket, type Packet, type ReliablePacket } from '../wire/packet.js';
import { seqAdd, seqDiff } from '../wire/sequence.js';
import type { EngineContext } from './engine-context.js';
import { MAX_SENDER_RECORDS } from './engine-defaults.js';
import { fitControlLists } from './list-limits.js';
import { hex, type SenderTable } from './sender-table.js';
import { SenderState, type SenderRecord } from './sender-record.js';
import { silenceLimit } from './silence-rule.js';
import { FailureRounds } from './membership-failures.js';
import { Gathering } from './membership-gathering.js';
import {
  JOIN_RESEND_MIN_MS,
  lostEvents,
  MemberRecord,
  strangersFull,
  MembershipState,
  MemberState,
  type JoinCheck,
  type LostMembers,
  type MembershipCore,
  type MembershipHost,
} from './membership-types.js';

export { MembershipState, MemberState, type MembershipHost } from './membership-types.js';
import type { TimerHandle } from './timer-queue.js';


/**
 * The membership layer (spec §8): ATTEMPT_JOIN gathering, JOIN agreement,
 * FAILURE rounds and view changes. It decides who is in the group and gives
 * newcomers their start positions; it never sees its own control packets.
 */
export class Membership implements MembershipCore {
  state: MembershipState = MembershipState.Disconnected;
  /** Our current view: member id -> name, changed exactly when NEW/LOST events are emitted. */
  readonly view = new Map<number, string>();
  /** @internal */ readonly members = new Map<number, MemberRecord>();
  private joinTimer: TimerHandle | undefined;
  private joinSendTimer: TimerHandle | undefined;
  private nextJoinAt = 0;
  private joinList: number[] = [];
  private joinFailures: number[] = [];
  /** @internal */ pendingFailures: number[] = [];
  /** @internal */ readonly failures: FailureRounds;
  /** @internal */ readonly gathering: Gathering;

  constructor(
    /** @internal */ readonly ctx: EngineContext,
    /** @internal */ readonly table: SenderTable,
    /** @internal */ readonly host: MembershipHost,
  ) {
    this.failures = new FailureRounds(this);
    this.gathering = new Gathering(this);
  }

  /**
   * Ours (issue 15): member records are bounded like sender records. Ids
   * dropped without a failure round (INSTANT_FAILURE) are only kept to be
   * listed in our next JOIN; while strangers keep the gathering going, the
   * oldest of them are forgotten first.
   */
  private addMember(id: number): MemberRecord {
    if (this.members.size >= MAX_SENDER_RECORDS) {
      for (const [oldId, old] of this.members) {
        if (this.members.size < MAX_SENDER_RECORDS) break;
        if (old.state === MemberState.InstantFailure && !this.joinFailures.includes(oldId)) {
          this.ctx.timers.cancel(old.failureTimer);
          this.members.delete(oldId);
        }
      }
    }
    const member = new MemberRecord(id);
    this.members.set(id, member);
    return member;
  }

  /** See strangersFull (membership-types.ts). */
  private gatheringFull(): boolean {
    return strangersFull(this.members, this.view);
  }


  /** Member records held (view, gathering, failing). */
  get size(): number {
    return this.members.size;
  }

  onConnected(): void {
    this.state = MembershipState.Normal;
  }

  /** Drop everything (leave, reset, close). */
  clear(next: MembershipState): void {
    this.gathering.stop();
    for (const timer of [this.joinTimer, this.joinSendTimer]) this.ctx.timers.cancel(timer);
    for (const m of this.members.values()) this.ctx.timers.cancel(m.failureTimer);
    this.joinTimer = this.joinSendTimer = undefined;
    this.members.clear();
    this.joinList = [];
    this.joinFailures = [];
    this.pendingFailures = [];
    this.failures.forget();
    this.state = next;
  }

  /** Names in our view, for a reset: they are all gone from our point of view. */
  takeView(): string[] {
    const names = [...this.view.values()];
    this.view.clear();
    return names;
  }

  /** @internal */
  get active(): boolean {
    return this.state !== MembershipState.Disconnected && this.state !== MembershipState.Resetting;
  }

  // ---- helpers (spec §8.1) -----------------------------------------------------------

  /** @internal */
  updateMember(id: number, newState: MemberState, start: number): boolean {
    if (id === this.host.ownId) return false;
    if (!this.members.has(id) && this.gatheringFull()) return false;
    const record = this.table.ensure(id);
    if (record === undefined) return false;
    let member = this.members.get(id);
    if (member === undefined) {
      member = this.addMember(id);
    }
    if (newState <= member.state) return false;
    member.state = newState;
    if (newState === MemberState.AjRepeat || newState === MemberState.AjDone) this.table.setStart(record, start);
    return true;
  }

  /** @internal */
  updateFromPacket(packet: Packet, newState: MemberState): boolean {
    let changed = false;
    if ('packetId' in packet && packet.type !== 'repair-request') {
      changed = this.updateMember(packet.sender, newState, seqAdd(packet.packetId, 1));
      for (const d of packet.depends) {
        changed = this.updateMember(d.senderId, newState, d.packetId) || changed;
      }
    } else if (packet.type === 'session') {
      changed = this.updateMember(packet.sender, newState, 0);
      for (const d of packet.positions) {
        changed = this.updateMember(d.senderId, newState, 0) || changed;
      }
    }
    return changed;
  }

  /** The sender table dropped a stranger to make room: forget it here too unless it got somewhere. */
  forget(id: number): void {
    const m = this.members.get(id);
    if (m !== undefined && m.state < MemberState.AjRepeat) {
      this.ctx.timers.cancel(m.failureTimer);
      this.members.delete(id);
    }
  }

  /** @internal */
  nameOf(id: number): string | undefined {
    return this.table.get(id)?.name;
  }

  // ---- foreign packets (spec §8.2) ---------------------------------------------------

  onForeignPacket(packet: Packet): void {
    if (!this.active || this.state === MembershipState.Joining || packet.type === 'bye') return;
    if (!this.members.has(packet.sender) && this.gatheringFull()) return;
    const record = this.table.ensure(packet.sender);
    if (record === undefined) return;
    if (packet.type !== 'whois-reply') record.spoke = true;
    // Ours (issue 15): the original gathers with a stranger and with every id
    // its packet mentions (depends, SESSION positions) at once, so two forged
    // packets from an unknown id naming 170 made-up ids each made 342
    // gathering members. We first ask the stranger's name (WHOIS, rate-limited)
    // and gather with it, and the ids it mentions, once it is named. A real
    // newcomer announces its name when it connects and keeps sending (SESSIONs,
    // a repeating ATTEMPT_JOIN), so it is at most one packet late; a forger
    // that never answers to a name gets nowhere. Mentions themselves are taken
    // as in the original: the join check (spec §8.5) fails every member that
    // others list and we do not know, so refusing them breaks merges.
    if (!this.table.isEstablished(packet.sender)) return;
    const reliable = 'depends' in packet;
    if (!reliable && packet.type !== 'session') return;
    const own = this.host.ownId;
    if (packet.type === 'attempt-join') {
      if (packet.ids.includes(own)) {
        this.updateFromPacket(packet, MemberState.AjRepeat);
        this.gathering.sendAttemptJoin(true);
        return;
      }
      if (packet.depends.some((d) => d.senderId === own)) {
        if (this.members.get(packet.sender)?.state === MemberState.AjStarted) {
          this.updateFromPacket(packet, MemberState.AjDone);
          this.gathering.sendAttemptJoin(true);
        }
        return;
      }
    }
    if (packet.type === 'data' && !isStart(packet)) return;
    this.updateFromPacket(packet, MemberState.Unknown);
    this.gathering.sendAttemptJoin(false);
  }

  // ---- gathering (spec §8.3): membership-gathering.ts ----------------------------------

  /** @internal */
  enterJoinPhase(): void {
    this.prepareJoin();
    this.restartJoinPhase();
    this.agreementCheck();
  }

  /** A member got its name: a view waiting for it may now install. */
  memberNamed(id: number): void {
    if (this.state === MembershipState.Joining && this.joinList.includes(id)) this.agreementCheck();
  }

  // ---- join phase (spec §8.4-§8.6) ---------------------------------------------------

  private prepareJoin(): void {
    this.gathering.stop();
    if (this.ctx.log.isEnabled('debug')) {
      this.ctx.log.debug('preparing join', {
        members: [...this.members.values()].map((m) => `${hex(m.id)}:${m.state}:${this.nameOf(m.id) ?? '?'}`),
      });
    }
    for (const m of [...this.members.values()]) {
      if (m.state < MemberState.AjRepeat) {
        m.state = MemberState.InstantFailure;
        this.table.removeSender(m.id);
      } else if (m.state >= MemberState.Failing) {
        continue;
      } else if (this.nameOf(m.id) === undefined) {
        // Ours (issue 10): the original fails a member it cannot name yet.
        // With a short gathering a member is often pulled into the join phase
        // by somebody's JOIN while its WHOIS answer is still on the way, and
        // would fail a live member. We keep it (we have its position) and the
        // view waits for its name (agreementCheck); one that never answers
        // is failed by the name deadline (spec §5.9) as any other.
        continue;
      } else if (m.state < MemberState.Member) {
        // A newcomer beats an older incarnation with the same name.
        const name = this.nameOf(m.id);
        for (const o of this.members.values()) {
          if (o !== m && o.state >= MemberState.AjRepeat && o.state < MemberState.Failing && this.nameOf(o.id) === name) {
            this.ctx.log.debug('newcomer replaces an older incarnation', { name, old: hex(o.id), new: hex(m.id) });
            this.startFailing(o);
          }
        }
      }
    }
  }

  /** We hear this member (within its silence limit) and hold packets of it we could not process. */
  private heardButBlocked(id: number): boolean {
    const record = this.table.get(id);
    if (record === undefined || !record.hasStart || record.state >= SenderState.Stopped) return false;
    const heard = this.ctx.now() - record.lastHeard < silenceLimit(record, this.ctx.timing);
    return heard && seqDiff(record.nextOutput, record.nextInput) > 0;
  }

  /** Mark failing (MEMBER_FAILING if it was a member, so it is reported LOST) and queue it. */
  /** @internal */
  startFailing(m: MemberRecord): void {
    m.state = m.state === MemberState.Member ? MemberState.MemberFailing : MemberState.Failing;
    this.pendingFailures.push(m.id);
  }

  private computeJoinLists(): void {
    this.joinList = [];
    this.joinFailures = [];
    for (const m of this.members.values()) {
      m.agreed = false;
      (m.state < MemberState.Failing ? this.joinList : this.joinFailures).push(m.id);
    }
    this.joinFailures = this.failures.rank(this.joinFailures);
  }

  private restartJoinPhase(): void {
    this.state = MembershipState.Joining;
    this.computeJoinLists();
    // Ours (issue 15): each JOIN that tells us more makes us send a new one;
    // two members whose lists keep differing (strangers coming and going)
    // would exchange JOINs as fast as the network carries them. A JOIN within
    // JOIN_RESEND_MIN_MS of the previous one waits, and goes out once, with
    // the lists as they are then.
    const now = this.ctx.now();
    if (now < this.nextJoinAt) {
      if (!this.joinSendTimer?.active) {
        this.joinSendTimer = this.ctx.timers.schedule(this.nextJoinAt, () => {
          this.joinSendTimer = undefined;
          if (this.state === MembershipState.Joining) this.sendJoin();
        });
      }
      return;
    }
    this.sendJoin();
  }

  private sendJoin(): void {
    // Members pulled into the join phase by this JOIN fail whoever they cannot name (spec §8.4).
    this.gathering.announceName();
    this.ctx.timers.cancel(this.joinSendTimer);
    this.joinSendTimer = undefined;
    this.nextJoinAt = this.ctx.now() + JOIN_RESEND_MIN_MS;
    const own = this.table.own;
    if (own !== undefined) this.table.setHold(own, own.nextInput);
    const { packetId, ids } = this.host.originateControl('join', this.joinFailures, false);
    // The failures left out stay in joinFailures: they still leave our member
    // records when the view installs, and checkJoin compares a full list as
    // "at least" (see there).
    if (ids.length < this.joinFailures.length) this.ctx.log.warn('JOIN failure list cut to fit a datagram', { wanted: this.joinFailures.length, sent: ids.length });
    this.ctx.log.debug('sent JOIN', { packetId, members: this.joinList.map(hex), failures: ids.map(hex) });
    this.markPendingFailed();
    this.ctx.timers.cancel(this.joinTimer);
    this.joinTimer = this.ctx.timers.schedule(this.ctx.now() + this.ctx.timing.joinTimeout, () => {
      this.joinTimer = undefined;
      if (this.state !== MembershipState.Joining) return;
      const silent = this.joinList.filter((id) => {
        const m = this.members.get(id);
        return m !== undefined && !m.agreed && m.state < MemberState.Failing;
      });
      // Ours: members we still hear, whose packets we hold and cannot
      // process, are not silent: we are stuck. A newcomer failed out of one
      // join round can be left waiting for a packet its start points at that
      // every holder has since freed (it no longer counted for their garbage
      // collection); failing them all, as the original would, makes each of
      // them find itself declared failed and the whole group resets. Starting
      // over under a new id costs only us a rejoin.
      if (silent.length > 0 && silent.every((id) => this.heardButBlocked(id))) {
        this.ctx.log.debug('join phase timed out behind packets of members we still hear', { members: silent.map(hex) });
        this.host.reset('join-blocked');
        return;
      }
      // Ours (issue 15): members of our view may have failed to agree only
      // because of a stranger that exchanged positions and never sends a
      // JOIN (it counts in everybody's member list). Fail the silent
      // strangers first and give our view one more round.
      const strangers = silent.filter((id) => !this.view.has(id));
      if (strangers.length > 0 && strangers.length < silent.length) {
        this.failMembers(undefined, strangers);
        if (this.state === MembershipState.Joining) this.restartJoinPhase();
        return;
      }
      this.failMembers(undefined, silent);
    });
  }

  /** @internal */
  markPendingFailed(): void {
    for (const id of this.pendingFailures) {
      const record = this.table.get(id);
      if (record !== undefined) this.table.markFailed(record);
    }
    this.pendingFailures = [];
  }

  private onJoin(x: SenderRecord, packet: IdListPacket): void {
    if (this.state === MembershipState.Normal || !this.active) return;
    const m = this.members.get(x.id);
    if (m === undefined) return;
    this.table.setHold(x, packet.packetId);
    m.joinPacketId = packet.packetId;
    if (this.state === MembershipState.Gathering) {
      this.prepareJoin();
      // The lists must describe the members we just prepared, or every entry of
      // the JOIN's depends would look unknown to check_join.
      this.computeJoinLists();
      if (this.checkJoin(packet) === 'failed') return;
      this.restartJoinPhase();
    }
    switch (this.checkJoin(packet)) {
      case 'equal':
        m.agreed = true;
        this.agreementCheck();
        break;
      case 'more-info':
        this.table.releaseHold(x);
        break;
      case 'less-info':
        this.restartJoinPhase();
        if (this.checkJoin(packet) === 'equal') m.agreed = true;
        this.agreementCheck();
        break;
      case 'failed':
        break;
    }
  }

  private checkJoin(packet: IdListPacket): JoinCheck {
    const own = this.host.ownId;
    let result: JoinCheck = 'equal';
    for (const f of packet.ids) {
      if (f === own) {
        this.host.reset();
        return 'failed';
      }
      let m = this.members.get(f);
      if (m === undefined) m = this.addMember(f);
      if (m.state < MemberState.AjRepeat) {
        m.state = MemberState.InstantFailure;
        this.table.removeSender(f);
        result = 'less-info';
      } else if (m.state < MemberState.Failing) {
        this.startFailing(m);
        result = 'less-info';
      }
    }
    if (result === 'less-info') return result;
    // Spec §8.5 compares counts: fewer failures than ours means the sender has
    // yet to learn some (wait for its next JOIN). A JOIN whose list is as long
    // as a datagram allows (255 ids, list-limits.ts) may have left out some it
    // knows, and would never grow: ours at least as long counts as equal (ours:
    // with forged ids filling the gathering, members waited for a longer JOIN
    // that could not come until the join timed out and failed one of them).
    const listFull = packet.ids.length >= fitControlLists(packet.depends.length, MAX_LIST_ENTRIES, this.ctx.maxDatagramSize).ids;
    if (listFull ? this.joinFailures.length < packet.ids.length : this.joinFailures.length !== packet.ids.length) result = 'more-info';
    if (!packet.depends.some((d) => d.senderId === own)) {
      this.host.reset();
      return 'failed';
    }
    let counted = 0;
    for (const { senderId } of packet.depends) {
      if (senderId === own || this.joinList.includes(senderId)) {
        counted++;
      } else if (!this.joinFailures.includes(senderId)) {
        let m = this.members.get(senderId);
        if (m === undefined) m = this.addMember(senderId);
        if (m.state < MemberState.Failing) {
          m.state = MemberState.InstantFailure;
          this.table.removeSender(senderId);
        }
        result = 'less-info';
      }
    }
    if (result === 'equal' && counted !== this.joinList.length) result = 'more-info';
    return result;
  }

  /** @internal */
  agreementCheck(): void {
    if (this.state !== MembershipState.Joining) return;
    for (const id of this.joinList) {
      const m = this.members.get(id);
      if (m !== undefined && m.state < MemberState.InstantFailure && !m.agreed) return;
      // A view names its members: wait for a name still being asked (see prepareJoin).
      if (m !== undefined && m.state < MemberState.Failing && this.nameOf(id) === undefined) return;
    }
    // A JOIN we held back (restartJoinPhase) still goes out: the others wait for it.
    if (this.joinSendTimer?.active) this.sendJoin();
    this.installView();
  }

  private installView(): void {
    const lost: LostMembers = [];
    const joined: string[] = [];
    for (const id of this.joinFailures) {
      const m = this.members.get(id);
      if (m === undefined) continue;
      if (m.state === MemberState.MemberFailing || m.state === MemberState.Failing) {
        this.noteLost(id, lost);
        for (const o of this.members.values()) o.reported.delete(id);
        this.table.removeSender(id);
      }
      this.ctx.timers.cancel(m.failureTimer);
      this.members.delete(id);
    }
    for (const id of this.joinList) {
      const m = this.members.get(id);
      if (m === undefined) continue;
      if (m.state < MemberState.Failing) {
        if (m.state !== MemberState.Member) {
          m.state = MemberState.Member;
          const record = this.table.get(id);
          const name = record?.name;
          if (record !== undefined && name !== undefined) {
            this.table.setDataStart(record, m.joinPacketId);
            this.view.set(id, name);
            joined.push(name);
          }
        }
      } else {
        // Failed during the join phase after agreeing: it leaves our view too (ours).
        this.noteLost(id, lost);
        this.table.removeSender(id);
        this.ctx.timers.cancel(m.failureTimer);
        this.members.delete(id);
      }
    }
    this.joinList = [];
    this.joinFailures = [];
    this.failures.forget();
    this.state = MembershipState.Normal;
    this.ctx.timers.cancel(this.joinTimer);
    this.joinTimer = undefined;
    this.ctx.log.debug('view installed', { joined, lost, view: [...this.view.values()] });
    for (const event of lostEvents(lost)) this.host.emit(event);
    if (joined.length > 0) this.host.emit({ type: 'members-joined', names: joined });
    const own = this.table.own;
    if (own !== undefined) this.table.releaseHold(own);
    for (const m of this.members.values()) {
      const record = this.table.get(m.id);
      if (record !== undefined) this.table.releaseHold(record);
    }
  }

  /** Remove a member from the view, collecting its name for a LOST event. */
  /** @internal */
  noteLost(id: number, lost: LostMembers): void {
    const name = this.view.get(id);
    if (name !== undefined) {
      this.view.delete(id);
      lost.push({ name, reason: this.members.get(id)?.saidBye === true ? 'left' : 'failed' });
    }
  }

  // ---- failures and leaving (spec §8.7, §8.8) ----------------------------------------

  /** The sender table reports senders failed (no name, no progress, silence, bad acks, bad message). */
  onSendersFailed(ids: readonly number[]): void {
    if (!this.active) return;
    this.failMembers(undefined, ids);
  }

  private failMember(reporter: number | undefined, id: number): void {
    this.failMembers(reporter, [id]);
  }

  /** @internal Fail several senders at once (FailureRounds.failMembers). */
  failMembers(reporter: number | undefined, ids: readonly number[]): void {
    this.failures.failMembers(reporter, ids);
  }

  // ---- control packets in causal order ------------------------------------------------

  onControlPacket(record: SenderRecord, packet: ReliablePacket): void {
    if (!this.active) return;
    switch (packet.type) {
      case 'attempt-join':
        this.gathering.onAttemptJoin(packet);
        break;
      case 'join':
        this.onJoin(record, packet);
        break;
      case 'failure':
        this.failMembers(packet.sender, packet.ids);
        break;
      case 'bye': {
        this.ctx.log.debug('BYE processed', { sender: hex(packet.sender), name: record.name });
        const leaver = this.members.get(packet.sender);
        if (leaver !== undefined) leaver.saidBye = true; // it leaves our view as one that left, not one that failed
        this.failMember(undefined, packet.sender);
        break;
      }
      default:
        break;
    }
  }
}

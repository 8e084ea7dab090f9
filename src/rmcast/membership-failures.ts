import { hex } from './datagram-bytes.js';
import { MAX_SENDER_RECORDS } from './engine-defaults.js';
import { lostEvents, MembershipState, MemberState, type LostMembers, type MembershipCore } from './membership-types.js';

/**
 * Failure rounds of the membership layer (spec §8.7): declaring members
 * failed, waiting until every member confirmed, and failing those that stay
 * silent. Part of Membership; split out of it for size.
 */
export class FailureRounds {
  /** Ids we confirmed failed without knowing them (see failMembers); forgotten at each view. */
  private readonly confirmed = new Set<number>();

  constructor(private readonly m: MembershipCore) {}

  forget(): void {
    this.confirmed.clear();
  }

  /**
   * Failure lists best first, for when they do not fit a datagram: members of
   * our view first, then others failing, then those dropped without a round;
   * ties by id, so members that hold the same failures cut them the same way.
   */
  rank(ids: number[]): number[] {
    if (ids.length < 2) return ids;
    const rank = (id: number): number => {
      if (this.m.view.has(id)) return 0;
      const state = this.m.members.get(id)?.state;
      return state === MemberState.MemberFailing || state === MemberState.Failing ? 1 : 2;
    };
    return ids.map((id) => ({ id, r: rank(id) })).sort((a, b) => a.r - b.r || a.id - b.id).map((x) => x.id);
  }

  /**
   * Fail several senders at once (spec §8.7). Ours: the original sends one
   * FAILURE per failed member; a sweep or a FAILURE naming 255 ids then made
   * us send hundreds of packets. Those started failing together go out in one
   * FAILURE (several when they do not fit one datagram).
   */
  failMembers(reporter: number | undefined, ids: readonly number[]): void {
    if (!this.m.active) return;
    const considered: number[] = [];
    const confirm: number[] = [];
    let started = false;
    const fromView = reporter !== undefined && this.m.view.has(reporter);
    for (const id of ids) {
      if (id === this.m.host.ownId) {
        this.m.host.reset();
        return;
      }
      const m = this.m.members.get(id);
      if (m === undefined || m.state < MemberState.AjRepeat || m.state === MemberState.InstantFailure) {
        this.m.table.removeSender(id);
        if (m !== undefined) m.state = MemberState.InstantFailure;
        // Ours: a member of our view fails somebody we never gathered with (we
        // ignored or forgot a stranger): say we agree, once, or it waits for
        // our word until the failure timeout and then fails us (spec §8.7).
        if (fromView && !this.confirmed.has(id)) {
          if (this.confirmed.size >= MAX_SENDER_RECORDS) this.confirmed.clear();
          this.confirmed.add(id);
          confirm.push(id);
        }
        continue;
      }
      considered.push(id);
      if (m.state < MemberState.Failing) {
        this.m.startFailing(m);
        m.failureTimer = this.m.ctx.timers.schedule(this.m.ctx.now() + this.m.ctx.timing.failureTimeout, () => {
          m.failureTimer = undefined;
          this.onFailureTimeout(id);
        });
        started = true;
      }
    }
    if (started || confirm.length > 0) {
      // More failures than one datagram holds go out in several FAILURE packets.
      let failures = [...this.rank([...this.m.pendingFailures]), ...confirm];
      while (failures.length > 0) {
        const { ids: sent } = this.m.host.originateControl('failure', failures, false);
        this.m.ctx.log.debug('sent FAILURE', { failed: sent.map(hex) });
        if (sent.length === 0) break;
        failures = failures.slice(sent.length);
      }
      this.m.markPendingFailed();
    }
    for (const id of considered) {
      if (!this.m.active) return;
      if (reporter !== undefined && reporter !== this.m.host.ownId) {
        this.m.updateMember(reporter, MemberState.Unknown, 0);
        this.m.members.get(reporter)?.reported.add(id);
      }
      this.completionCheck(id);
    }
  }

  private completionCheck(id: number): void {
    const m = this.m.members.get(id);
    if (m === undefined || (m.state !== MemberState.Failing && m.state !== MemberState.MemberFailing)) return;
    for (const o of this.m.members.values()) {
      if (o.id === id) continue;
      const confirming = o.state === MemberState.AjDone || o.state === MemberState.Joining || o.state === MemberState.Member;
      if (confirming && !o.reported.has(id)) return;
    }
    for (const o of this.m.members.values()) o.reported.delete(id);
    if (m.state === MemberState.MemberFailing) {
      const lost: LostMembers = [];
      this.m.noteLost(id, lost);
      for (const event of lostEvents(lost)) this.m.host.emit(event);
    }
    this.m.table.removeSender(id);
    this.m.ctx.timers.cancel(m.failureTimer);
    m.failureTimer = undefined;
    if (this.m.state === MembershipState.Joining) {
      m.state = MemberState.InstantFailure;
      this.m.agreementCheck();
    } else {
      this.m.members.delete(id);
    }
    for (const other of [...this.m.members.values()]) {
      if (other.id !== id && (other.state === MemberState.Failing || other.state === MemberState.MemberFailing)) {
        this.completionCheck(other.id);
      }
    }
  }

  private onFailureTimeout(id: number): void {
    const m = this.m.members.get(id);
    if (m === undefined || (m.state !== MemberState.Failing && m.state !== MemberState.MemberFailing)) return;
    const silent = [...this.m.members.values()]
      .filter((o) => o.id !== id && o.state >= MemberState.AjDone && o.state <= MemberState.Member && !o.reported.has(id))
      .map((o) => o.id);
    if (silent.length > 0) this.failMembers(undefined, silent);
  }
}

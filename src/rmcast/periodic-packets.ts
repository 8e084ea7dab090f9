import { encodePacket } from '../wire/codec.js';
import type { SessionPacket } from '../wire/packet.js';
import { deadlineIn, type EngineContext } from './engine-context.js';
import { sessionLimit } from './list-limits.js';
import type { SenderTable } from './sender-table.js';
import type { TimerHandle } from './timer-queue.js';

/** What the periodic packets need from the engine. */
export interface PeriodicHost {
  running(): boolean;
  senderId(): number | undefined;
  /** Originate a NO_DATA now. */
  keepalive(): void;
}

/**
 * Ours: a receiver that only listens would otherwise acknowledge nothing until
 * its 180 s keepalive, so senders keep every packet cached. After delivering
 * messages we send a NO_DATA (an ordinary reliable packet, understood by the
 * original) within this delay, or at once once the messages delivered since
 * took this many packets. Counted in packets, not messages: the sender's
 * window is 192 packets (SEND_WINDOW), so 64 messages of three or more
 * fragments each never got their ack before the window closed, and every
 * window then waited out ACK_DELAY_MS (large messages crawled at ~190
 * packets/s).
 */
const ACK_DELAY_MS = 1000;
const ACK_AFTER_PACKETS = 64;

/**
 * Periodic packets (spec §5.5, §5.6) and liveness sweeps: SESSION every
 * 0.7-1.3 s (at connect too), the keepalive NO_DATA, acknowledgements after deliveries, and the
 * sender table's sweep.
 */
export class PeriodicPackets {
  private sessionTimer: TimerHandle | undefined;
  private keepaliveTimer: TimerHandle | undefined;
  private sweepTimer: TimerHandle | undefined;
  private keepaliveDeadline = 0;
  private ackTimer: TimerHandle | undefined;
  /** Packets (fragments) of the messages delivered since our last originated packet. */
  private unackedPackets = 0;

  constructor(
    private readonly ctx: EngineContext,
    private readonly table: SenderTable,
    private readonly host: PeriodicHost,
    /** EngineOptions.imitateOriginal: no acknowledgements after deliveries, full SESSION lists, SESSION suppression. */
    private readonly imitateOriginal = false,
  ) {}

  start(): void {
    // Ours (issue 10): the original sends its first SESSION 1.5-3 s after
    // connecting; members gather with a newcomer only once they hear it speak
    // (its WHOIS_REPLY alone names it, spec Q8), so announcing at once cuts
    // that wait from every join.
    if (!this.imitateOriginal) this.sendSession();
    this.scheduleSession();
    this.restartKeepalive();
    this.scheduleSweep();
  }

  stop(): void {
    for (const timer of [this.sessionTimer, this.keepaliveTimer, this.sweepTimer, this.ackTimer]) this.ctx.timers.cancel(timer);
    this.sessionTimer = this.keepaliveTimer = this.sweepTimer = this.ackTimer = undefined;
    this.keepaliveDeadline = 0;
    this.unackedPackets = 0;
  }

  /** We delivered a message of `packets` fragments: acknowledge it soon (see ACK_DELAY_MS). */
  noteDelivery(packets = 1): void {
    if (this.imitateOriginal) return;
    this.unackedPackets += packets;
    if (this.unackedPackets >= ACK_AFTER_PACKETS) {
      this.sendAck();
    } else if (!this.ackTimer?.active) {
      this.ackTimer = this.ctx.timers.schedule(this.ctx.now() + ACK_DELAY_MS, () => {
        this.ackTimer = undefined;
        if (this.unackedPackets > 0) this.sendAck();
      });
    }
  }

  /** Any packet we originate carries our acks (and resets the count). */
  noteOriginated(): void {
    this.unackedPackets = 0;
  }

  private sendAck(): void {
    if (!this.host.running()) return;
    this.host.keepalive();
  }

  private scheduleSession(): void {
    this.ctx.timers.cancel(this.sessionTimer);
    this.sessionTimer = this.ctx.timers.schedule(deadlineIn(this.ctx, this.ctx.timing.sessionInterval), () => {
      this.sessionTimer = undefined;
      if (this.sendSession()) this.scheduleSession();
    });
  }

  private sendSession(): boolean {
    const id = this.host.senderId();
    if (!this.host.running() || id === undefined) return false;
    const positions = this.table.sessionPositions(sessionLimit(this.ctx.maxDatagramSize), !this.imitateOriginal);
    this.ctx.transmit(encodePacket({ type: 'session', sender: id, positions }));
    return true;
  }

  /** Imitating the original (spec §5.5): when another member's SESSION said what ours would, draw our interval afresh. */
  heardSession(packet: SessionPacket): void {
    if (!this.imitateOriginal || !this.sessionTimer?.active) return;
    if (this.table.lists.sessionTellsNothingNew(packet)) this.scheduleSession();
  }

  /**
   * Every packet we originate with depends pushes the keepalive back. Ours
   * (not spec Q23): re-sending others' packets does not, since it says
   * nothing of our own progress; a member that only repaired would show none
   * for 5 minutes and be failed (issue 10). Only the
   * deadline moves; the one armed timer re-arms itself when it finds it early,
   * so a busy sender does not cancel and schedule a timer per packet.
   */
  restartKeepalive(): void {
    if (!this.host.running()) return;
    this.keepaliveDeadline = this.ctx.now() + this.ctx.timing.keepalive;
    if (this.keepaliveTimer?.active) return;
    this.armKeepalive();
  }

  private armKeepalive(): void {
    this.keepaliveTimer = this.ctx.timers.schedule(this.keepaliveDeadline, () => {
      this.keepaliveTimer = undefined;
      if (!this.host.running()) return;
      if (this.ctx.now() < this.keepaliveDeadline) {
        this.armKeepalive();
        return;
      }
      this.host.keepalive();
      // A node alone has no depends, so nothing else would re-arm it.
      if (!this.keepaliveTimer) this.restartKeepalive();
    });
  }

  private scheduleSweep(): void {
    const t = this.ctx.timing;
    const candidates = [1000, t.nameDiscoveryDeadline / 4, t.progressWatchdog / 4];
    if (t.silenceTimeout > 0) candidates.push(t.silenceTimeout / 4);
    if (t.quickSilenceTimeout > 0) candidates.push(t.quickSilenceTimeout / 8);
    const period = Math.max(10, Math.min(...candidates));
    this.sweepTimer = this.ctx.timers.schedule(this.ctx.now() + period, () => {
      this.sweepTimer = undefined;
      if (!this.host.running()) return;
      this.table.sweep();
      this.scheduleSweep();
    });
  }
}

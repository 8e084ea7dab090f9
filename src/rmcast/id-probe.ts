import { encodePacket } from '../wire/codec.js';
import type { Packet } from '../wire/packet.js';
import type { EngineContext } from './engine-context.js';
import { hex } from './datagram-bytes.js';
import type { TimerHandle } from './timer-queue.js';

/**
 * Choosing a sender id (spec §4.1): listen, then probe for a random candidate
 * with WHOIS_REQUESTs from sender 0; anybody using it, or probing for it too
 * (counting our own looped-back probes), makes us start over with another.
 */
export class IdProbe {
  private candidate = 0;
  private sent = 0;
  private seen = 0;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly ctx: EngineContext,
    /** Whether our own probes come back to us (multicast loopback). */
    private readonly loopback: boolean,
    private readonly onChosen: (id: number) => void,
  ) {}

  start(): void {
    do this.candidate = this.ctx.random.nextUint32();
    while (this.candidate === 0);
    this.sent = 0;
    this.seen = 0;
    this.ctx.timers.cancel(this.timer);
    this.timer = this.ctx.timers.schedule(this.ctx.now() + this.ctx.timing.probeListen, () => this.send());
  }

  stop(): void {
    this.ctx.timers.cancel(this.timer);
    this.timer = undefined;
  }

  /** A packet heard while probing. */
  check(packet: Packet): void {
    let conflict = packet.sender === this.candidate;
    if (!conflict && packet.type === 'whois-request' && packet.queriedId === this.candidate) {
      if (packet.sender !== 0) conflict = true;
      else conflict = ++this.seen > this.sent;
    }
    if (conflict) {
      this.ctx.log.debug('sender id taken while probing; trying another', { candidate: hex(this.candidate) });
      this.start();
    }
  }

  private send(): void {
    this.ctx.transmit(encodePacket({ type: 'whois-request', sender: 0, queriedId: this.candidate }));
    this.sent++;
    if (!this.loopback) this.seen++;
    const next =
      this.sent < this.ctx.timing.probeCount
        ? () => this.send()
        : () => {
            this.timer = undefined;
            this.onChosen(this.candidate);
          };
    this.timer = this.ctx.timers.schedule(this.ctx.now() + this.ctx.timing.probeInterval, next);
  }
}

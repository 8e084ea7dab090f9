import type { MdnsMessage } from '../mdns/records.js';
import type { MdnsEndpoint, MdnsTransport, MdnsTransportStats } from '../mdns/transport.js';
import type { VirtualClock } from './virtual-clock.js';

const MDNS_PORT = 5353;

/**
 * A link for mDNS responders on virtual time: every multicast reaches every
 * attached host (the sender too, as on a real link) after a small seeded
 * delay; `inject` puts a packet on the link from anywhere (an attacker).
 */
export class VirtualMdnsLink {
  private readonly hosts = new Map<string, VirtualMdnsTransport>();
  /** Every packet sent on the link, for assertions. */
  readonly sent: Array<{ from: string; message: MdnsMessage }> = [];

  constructor(private readonly clock: VirtualClock) {}

  attach(address: string): MdnsTransport {
    const transport = new VirtualMdnsTransport(address, this);
    this.hosts.set(address, transport);
    return transport;
  }

  inject(message: MdnsMessage, from: MdnsEndpoint, to?: string): void {
    this.deliver(message, from, to);
  }

  /** @internal */
  deliver(message: MdnsMessage, from: MdnsEndpoint, to?: string): void {
    this.sent.push({ from: from.address, message });
    for (const host of this.hosts.values()) {
      if (to !== undefined && host.interfaceAddress !== to) continue;
      const copy = structuredClone(message);
      this.clock.setTimer(1 + this.clock.random() * 4, () => host.receive(copy, from));
    }
  }

  /** @internal */
  detach(address: string): void {
    this.hosts.delete(address);
  }
}

class VirtualMdnsTransport implements MdnsTransport {
  readonly interfaceName = 'vlink0';
  readonly port = MDNS_PORT;
  readonly stats: MdnsTransportStats = { received: 0, malformed: 0, ignored: 0, offLink: 0, sent: 0 };
  private handler: ((message: MdnsMessage, from: MdnsEndpoint) => void) | undefined;
  private closed = false;

  constructor(
    readonly interfaceAddress: string,
    private readonly link: VirtualMdnsLink,
  ) {}

  onMessage(handler: (message: MdnsMessage, from: MdnsEndpoint) => void): void {
    this.handler = handler;
  }

  send(message: MdnsMessage, to?: MdnsEndpoint): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.stats.sent++;
    this.link.deliver(message, { address: this.interfaceAddress, port: MDNS_PORT }, to?.address);
    return Promise.resolve();
  }

  receive(message: MdnsMessage, from: MdnsEndpoint): void {
    if (this.closed) return;
    this.stats.received++;
    this.handler?.(message, from);
  }

  close(): Promise<void> {
    this.closed = true;
    this.link.detach(this.interfaceAddress);
    return Promise.resolve();
  }
}

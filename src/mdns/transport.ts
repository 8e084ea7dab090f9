import { networkInterfaces } from 'node:os';
import { createSocket, type Socket } from 'node:dgram';
import makeMulticastDns from 'multicast-dns';
import { Logger, silentLogger } from '../base/logger.js';
import { decodeMdnsMessage, encodeMdnsMessage } from './dns-codec.js';
import { MdnsError } from './mdns-error.js';
import { messageWireLength, type MdnsMessage, type MdnsRecord } from './records.js';

/**
 * The adapter: the only file that knows which mDNS library we use. It owns one
 * UDP socket on port 5353, pinned to one IPv4 interface, and turns packets
 * into our own `MdnsMessage` model and back. Probing, announcing, caching and
 * answering are ours (mdns-responder.ts), so swapping the library means
 * rewriting this file only.
 *
 * Library: multicast-dns, for the socket set-up only (SO_REUSEADDR bind,
 * group membership on the given interface, outgoing interface, loopback).
 * Packets are read from and written to the socket with our own codec
 * (dns-codec.ts): the library's dns-packet splits names on every '.', so it
 * cannot carry an instance label that contains one (RFC 6763 §4.3).
 */
export interface MdnsEndpoint {
  address: string;
  port: number;
}

export interface MdnsTransport {
  /** The IPv4 address the socket is pinned to. */
  readonly interfaceAddress: string;
  /** The name of that interface (`eth0`, `lo`): the scope of IPv6 link-local addresses learnt on it. */
  readonly interfaceName: string;
  /** The port mDNS runs on (5353); senders from other ports are legacy unicast resolvers. */
  readonly port: number;
  onMessage(handler: (message: MdnsMessage, from: MdnsEndpoint) => void): void;
  /** Multicast to the group, or unicast to `to`. Responses too big for one datagram are split. */
  send(message: MdnsMessage, to?: MdnsEndpoint): Promise<void>;
  close(): Promise<void>;
  readonly stats: MdnsTransportStats;
}

export interface MdnsTransportStats {
  received: number;
  /** Packets the codec rejected. */
  malformed: number;
  /** Well-formed packets holding nothing we model (other opcodes, only NSEC/HINFO…). */
  ignored: number;
  /** Packets from outside the interface's subnet (RFC 6762 §11), dropped. */
  offLink: number;
  sent: number;
}

export interface MdnsTransportOptions {
  /** IPv4 address of the interface to pin to, e.g. '127.0.0.1' in tests. */
  interface: string;
  /** Default 5353. */
  port?: number;
  /** Default 224.0.0.251. */
  group?: string;
  logger?: Logger;
}

/** Payload budget for one datagram: Ethernet MTU minus IP and UDP headers (RFC 6762 §17). */
const MAX_DATAGRAM = 1472;

interface LocalInterface {
  name: string;
  address: string;
  netmask: string;
  internal: boolean;
}

function localIPv4Interfaces(): LocalInterface[] {
  const out: LocalInterface[] = [];
  for (const [name, list] of Object.entries(networkInterfaces())) {
    for (const info of list ?? []) {
      if (info.family === 'IPv4') out.push({ name, address: info.address, netmask: info.netmask, internal: info.internal });
    }
  }
  return out;
}

/**
 * The address real users get when they give no `--interface`: the first
 * non-internal IPv4 interface. Tests never rely on this.
 */
export function defaultInterfaceAddress(): string {
  const found = localIPv4Interfaces().find((i) => !i.internal);
  if (found === undefined) throw new MdnsError('mdns-interface', 'no non-loopback IPv4 interface found; pass --interface');
  return found.address;
}

function ipv4ToInt(address: string): number {
  const parts = address.split('.').map(Number);
  return (((parts[0] ?? 0) << 24) | ((parts[1] ?? 0) << 16) | ((parts[2] ?? 0) << 8) | (parts[3] ?? 0)) >>> 0;
}

export async function openMdnsTransport(options: MdnsTransportOptions): Promise<MdnsTransport> {
  const logger = (options.logger ?? silentLogger).child('mdns-transport');
  const iface = localIPv4Interfaces().find((i) => i.address === options.interface);
  if (iface === undefined) {
    throw new MdnsError('mdns-interface', `no local IPv4 interface has address ${options.interface}`);
  }
  const port = options.port ?? 5353;
  const group = options.group ?? '224.0.0.251';
  // Loopback never leaves the host anyway; on a real link RFC 6762 §11 asks for IP TTL 255.
  const loopback = iface.internal;
  // Our socket, handed to the library, so that we read and write the datagrams ourselves.
  const socket = createSocket({ type: 'udp4', reuseAddr: true });
  const mdns = makeMulticastDns({
    socket,
    interface: options.interface,
    bind: '0.0.0.0',
    ip: group,
    port,
    type: 'udp4',
    reuseAddr: true,
    loopback: true,
    ttl: loopback ? 1 : 255,
  });
  const transport = new MulticastDnsTransport(mdns, socket, options.interface, iface.name, iface.netmask, port, group, logger);
  await transport.ready();
  return transport;
}

type MulticastDns = ReturnType<typeof makeMulticastDns>;

class MulticastDnsTransport implements MdnsTransport {
  readonly stats: MdnsTransportStats = { received: 0, malformed: 0, ignored: 0, offLink: 0, sent: 0 };
  private handler: ((message: MdnsMessage, from: MdnsEndpoint) => void) | undefined;
  private closed = false;
  private readonly subnet: number;
  private readonly mask: number;
  private readonly readyPromise: Promise<void>;

  constructor(
    private readonly mdns: MulticastDns,
    private readonly socket: Socket,
    readonly interfaceAddress: string,
    readonly interfaceName: string,
    netmask: string,
    readonly port: number,
    private readonly group: string,
    private readonly logger: Logger,
  ) {
    this.mask = ipv4ToInt(netmask);
    this.subnet = ipv4ToInt(interfaceAddress) & this.mask;
    this.readyPromise = new Promise<void>((resolve, reject) => {
      let settled = false;
      let startupError: (Error & { code?: string; syscall?: string }) | undefined;
      const fail = (error: Error & { code?: string; syscall?: string }): void => {
        if (settled) return;
        settled = true;
        this.closed = true;
        mdns.destroy();
        const code = error.syscall === 'bind' || error.code === 'EADDRINUSE' || error.code === 'EACCES' ? 'mdns-socket' : 'mdns-interface';
        reject(new MdnsError(code, `cannot open mDNS on ${interfaceAddress} port ${port}: ${error.message}`, { cause: error }));
      };
      mdns.on('warning', (error: Error & { syscall?: string }) => {
        if (error.syscall !== undefined) {
          // Socket option failures (membership, outgoing interface) come as warnings, before 'ready' at start-up.
          if (!settled) startupError ??= error;
          this.logger.warn('mDNS socket warning', { error: error.message, syscall: error.syscall });
        }
        // Without a syscall it is the library's own decoder failing; we decode (and count) ourselves.
      });
      mdns.on('error', (error: Error) => {
        if (!settled) fail(error);
        else this.logger.error('mDNS socket error', { error: error.message });
      });
      mdns.once('ready', () => {
        if (startupError !== undefined) return fail(startupError);
        settled = true;
        resolve();
      });
    });
    socket.on('message', (datagram: Buffer, rinfo: { address: string; port: number }) => this.onDatagram(datagram, rinfo));
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  onMessage(handler: (message: MdnsMessage, from: MdnsEndpoint) => void): void {
    this.handler = handler;
  }

  private onDatagram(datagram: Uint8Array, rinfo: { address: string; port: number }): void {
    if (this.closed) return;
    this.stats.received++;
    if ((ipv4ToInt(rinfo.address) & this.mask) !== this.subnet) {
      this.stats.offLink++;
      return;
    }
    let message: MdnsMessage | undefined;
    try {
      message = decodeMdnsMessage(datagram);
    } catch (error) {
      // Hostile or broken packets.
      this.stats.malformed++;
      if (this.logger.isEnabled('debug')) this.logger.debug('dropped undecodable mDNS packet', { from: rinfo.address, reason: error instanceof Error ? error.message : String(error) });
      return;
    }
    if (message === undefined) {
      this.stats.ignored++;
      return;
    }
    if (this.logger.isEnabled('debug')) {
      this.logger.debug(`${message.response ? 'response' : 'query'} from ${rinfo.address}:${rinfo.port}`, {
        questions: message.questions.map((q) => `${q.type} ${q.name}`),
        answers: message.answers.map((r) => `${r.type} ${r.name} ttl=${r.ttl}`),
      });
    }
    try {
      this.handler?.(message, { address: rinfo.address, port: rinfo.port });
    } catch (error) {
      // A bug above us must not take the socket down with it.
      this.logger.error('mDNS message handler failed', { error: error instanceof Error ? error.stack : String(error) });
    }
  }

  async send(message: MdnsMessage, to?: MdnsEndpoint): Promise<void> {
    if (this.closed) return;
    let parts: MdnsMessage[];
    try {
      parts = splitMessage(message);
    } catch (error) {
      // Names are checked before they are published; this is a name learnt from a peer we cannot re-encode.
      this.logger.warn('mDNS message not sent: cannot encode it', { error: error instanceof Error ? error.message : String(error) });
      return;
    }
    for (const part of parts) {
      let datagram: Uint8Array;
      try {
        datagram = encodeMdnsMessage(part);
      } catch (error) {
        // Names are checked before they are published; this is a name learnt from a peer we cannot re-encode.
        this.logger.warn('mDNS message not sent: cannot encode it', { error: error instanceof Error ? error.message : String(error) });
        continue;
      }
      const target = to ?? { address: this.group, port: this.port };
      await new Promise<void>((resolve) => {
        if (this.closed) return resolve();
        this.socket.send(datagram, target.port, target.address, (error) => {
          if (error) this.logger.warn('mDNS send failed', { error: error.message });
          else this.stats.sent++;
          resolve();
        });
      });
    }
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.mdns.destroy(() => resolve()));
  }
}

/**
 * Splits a message that would not fit one datagram. Queries keep their
 * questions in the first part and spread known answers with TC set on all
 * but the last (RFC 6762 §7.2); responses spread their records.
 */
function splitMessage(message: MdnsMessage): MdnsMessage[] {
  if (messageWireLength(message) <= MAX_DATAGRAM) return [message];
  const records: Array<['answers' | 'authorities' | 'additionals', MdnsRecord]> = [
    ...message.answers.map((r) => ['answers', r] as ['answers', MdnsRecord]),
    ...message.authorities.map((r) => ['authorities', r] as ['authorities', MdnsRecord]),
    ...(message.response ? message.additionals.map((r) => ['additionals', r] as ['additionals', MdnsRecord]) : []),
  ];
  const parts: MdnsMessage[] = [];
  let current: MdnsMessage = { ...message, answers: [], authorities: [], additionals: [] };
  let started = false;
  for (const [section, record] of records) {
    const next: MdnsMessage = { ...current, [section]: [...current[section], record] };
    if (started && messageWireLength(next) > MAX_DATAGRAM) {
      parts.push(current);
      current = { ...message, questions: message.response ? message.questions : [], answers: [], authorities: [], additionals: [] };
      current = { ...current, [section]: [record] };
    } else {
      current = next;
    }
    started = true;
  }
  parts.push(current);
  if (!message.response) {
    parts.forEach((p, i) => {
      p.truncated = i < parts.length - 1;
    });
  }
  return parts;
}

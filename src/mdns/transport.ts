import { networkInterfaces } from 'node:os';
import type { Answer as LibraryAnswer, Packet as LibraryPacket, Question as LibraryQuestion } from 'dns-packet';
import makeMulticastDns from 'multicast-dns';
import { Logger, silentLogger } from '../base/logger.js';
import { MdnsError } from './mdns-error.js';
import {
  messageWireLength,
  type MdnsMessage,
  type MdnsQuestion,
  type MdnsRecord,
  type MdnsRecordType,
} from './records.js';

/**
 * The adapter: the only file that knows which mDNS library we use. It owns one
 * UDP socket on port 5353, pinned to one IPv4 interface, and turns packets
 * into our own `MdnsMessage` model and back. Probing, announcing, caching and
 * answering are ours (mdns-responder.ts), so swapping the library means
 * rewriting this file only.
 *
 * Library: multicast-dns (socket set-up: SO_REUSEADDR bind, group membership
 * on the given interface, outgoing interface, loopback) with its dns-packet
 * codec (bounds-checked decoder; compression pointers must point backwards,
 * so pointer loops are impossible).
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
const FLAG_AUTHORITATIVE = 1 << 10;
const FLAG_TRUNCATED = 1 << 9;
const MODELLED_TYPES: ReadonlySet<string> = new Set<MdnsRecordType>(['A', 'AAAA', 'PTR', 'SRV', 'TXT']);

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
  const mdns = makeMulticastDns({
    interface: options.interface,
    bind: '0.0.0.0',
    ip: group,
    port,
    type: 'udp4',
    reuseAddr: true,
    loopback: true,
    ttl: loopback ? 1 : 255,
  });
  const transport = new MulticastDnsTransport(mdns, options.interface, iface.name, iface.netmask, port, group, logger);
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
        } else {
          // Decode failures of the codec: hostile or broken packets.
          this.stats.malformed++;
          if (this.logger.isEnabled('debug')) this.logger.debug('dropped undecodable mDNS packet', { reason: error.message });
        }
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
    mdns.on('packet', (packet: unknown, rinfo: { address: string; port: number }) => this.onPacket(packet, rinfo));
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  onMessage(handler: (message: MdnsMessage, from: MdnsEndpoint) => void): void {
    this.handler = handler;
  }

  private onPacket(packet: unknown, rinfo: { address: string; port: number }): void {
    if (this.closed) return;
    this.stats.received++;
    if ((ipv4ToInt(rinfo.address) & this.mask) !== this.subnet) {
      this.stats.offLink++;
      return;
    }
    let message: MdnsMessage | undefined;
    try {
      message = fromLibraryPacket(packet);
    } catch {
      this.stats.malformed++;
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
    for (const part of splitMessage(message)) {
      await new Promise<void>((resolve) => {
        const packet = toLibraryPacket(part);
        const target = to ?? { address: this.group, port: this.port };
        const done = (error: Error | null): void => {
          if (error) this.logger.warn('mDNS send failed', { error: error.message });
          else this.stats.sent++;
          resolve();
        };
        if (part.response) this.mdns.respond({ ...packet, answers: packet.answers ?? [] }, target, done);
        else this.mdns.query({ ...packet, questions: packet.questions ?? [] }, target, done);
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

function toLibraryRecord(record: MdnsRecord): LibraryAnswer {
  const base = { name: record.name, ttl: record.ttl, class: 'IN' as const, flush: record.cacheFlush };
  switch (record.type) {
    case 'TXT':
      return { ...base, type: 'TXT', data: record.data.map((s) => Buffer.from(s)) };
    case 'SRV':
      return { ...base, type: 'SRV', data: { ...record.data } };
    default:
      return { ...base, type: record.type, data: record.data };
  }
}

function toLibraryPacket(message: MdnsMessage): LibraryPacket {
  let flags = 0;
  if (message.response) flags |= FLAG_AUTHORITATIVE;
  if (message.truncated) flags |= FLAG_TRUNCATED;
  return {
    type: message.response ? 'response' : 'query',
    id: message.id,
    flags,
    // The codec accepts 'ANY' (255) although its type declarations omit it.
    questions: message.questions.map((q) => ({ name: q.name, type: q.type as LibraryQuestion['type'], class: 'IN' as const })),
    answers: message.answers.map(toLibraryRecord),
    authorities: message.authorities.map(toLibraryRecord),
    additionals: message.additionals.map(toLibraryRecord),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffff;
}

/** Validates the decoder's output shape; unknown record types and classes are skipped. */
function fromLibraryRecord(raw: unknown): MdnsRecord | undefined {
  if (!isObject(raw)) return undefined;
  const { name, type, ttl, data } = raw;
  if (typeof name !== 'string' || typeof type !== 'string' || !MODELLED_TYPES.has(type)) return undefined;
  if (raw['class'] !== 'IN') return undefined;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 0) return undefined;
  const base = { name, ttl, cacheFlush: raw['flush'] === true };
  switch (type as MdnsRecordType) {
    case 'A':
    case 'AAAA':
    case 'PTR':
      return typeof data === 'string' ? ({ ...base, type, data } as MdnsRecord) : undefined;
    case 'SRV': {
      if (!isObject(data)) return undefined;
      const { priority, weight, port, target } = data;
      if (!isPort(priority) || !isPort(weight) || !isPort(port) || typeof target !== 'string') return undefined;
      return { ...base, type: 'SRV', data: { priority, weight, port, target } };
    }
    case 'TXT': {
      if (!Array.isArray(data) || !data.every((s) => s instanceof Uint8Array)) return undefined;
      return { ...base, type: 'TXT', data: data.map((s: Uint8Array) => new Uint8Array(s)) };
    }
  }
}

function fromLibraryQuestion(raw: unknown): MdnsQuestion | undefined {
  if (!isObject(raw)) return undefined;
  const { name, type } = raw;
  if (typeof name !== 'string' || typeof type !== 'string') return undefined;
  if (raw['class'] !== 'IN' && raw['class'] !== 'ANY') return undefined;
  if (type !== 'ANY' && !MODELLED_TYPES.has(type)) return undefined;
  return { name, type: type as MdnsQuestion['type'] };
}

function recordList(raw: unknown): MdnsRecord[] {
  if (!Array.isArray(raw)) return [];
  const out: MdnsRecord[] = [];
  for (const r of raw) {
    const record = fromLibraryRecord(r);
    if (record !== undefined) out.push(record);
  }
  return out;
}

function fromLibraryPacket(packet: unknown): MdnsMessage | undefined {
  if (!isObject(packet)) return undefined;
  // RFC 6762 §18.3/§18.11: other opcodes and non-zero rcodes are ignored.
  if (packet['opcode'] !== undefined && packet['opcode'] !== 'QUERY') return undefined;
  if (packet['rcode'] !== undefined && packet['rcode'] !== 'NOERROR') return undefined;
  const flags = typeof packet['flags'] === 'number' ? packet['flags'] : 0;
  const questions: MdnsQuestion[] = [];
  if (Array.isArray(packet['questions'])) {
    for (const q of packet['questions']) {
      const question = fromLibraryQuestion(q);
      if (question !== undefined) questions.push(question);
    }
  }
  const message: MdnsMessage = {
    id: typeof packet['id'] === 'number' ? packet['id'] : 0,
    response: packet['type'] === 'response',
    truncated: (flags & FLAG_TRUNCATED) !== 0,
    questions,
    answers: recordList(packet['answers']),
    authorities: recordList(packet['authorities']),
    additionals: recordList(packet['additionals']),
  };
  if (message.questions.length + message.answers.length + message.authorities.length + message.additionals.length === 0) {
    return undefined;
  }
  return message;
}

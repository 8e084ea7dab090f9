import { isIPv4, isIPv6 } from 'node:net';
import { escapeLabel, MAX_LABEL_BYTES, nameWireBytes, unescapeLabel } from './dns-name.js';
import { MdnsError } from './mdns-error.js';

/**
 * Our own model of the DNS messages mDNS carries. Only the record types
 * DNS-SD needs are modelled; the transport adapter drops everything else, so
 * nothing above it ever sees library types.
 *
 * Names are in presentation form without the trailing dot
 * (`alice@laptop._presence._tcp.local`): labels joined by '.', a '.' or '\'
 * inside a label escaped as `\.` / `\\` (RFC 6763 §4.3, see dns-name.ts), so
 * the room `team.alpha` is `team\.alpha._clique._udp.local`.
 */
export type MdnsRecordType = 'A' | 'AAAA' | 'PTR' | 'SRV' | 'TXT';

export interface SrvData {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

interface RecordBase {
  name: string;
  /** Seconds. 0 = goodbye. */
  ttl: number;
  /** The mDNS cache-flush bit (top bit of the class): set on records of a unique RRset. */
  cacheFlush: boolean;
}

export type MdnsRecord =
  | (RecordBase & { type: 'A'; data: string })
  | (RecordBase & { type: 'AAAA'; data: string })
  | (RecordBase & { type: 'PTR'; data: string })
  | (RecordBase & { type: 'SRV'; data: SrvData })
  | (RecordBase & { type: 'TXT'; data: Uint8Array[] });

export interface MdnsQuestion {
  name: string;
  type: MdnsRecordType | 'ANY';
}

export interface MdnsMessage {
  id: number;
  response: boolean;
  /** TC bit: a query whose known-answer list continues in the next packet. */
  truncated: boolean;
  questions: MdnsQuestion[];
  answers: MdnsRecord[];
  /** In queries: the records a host proposes while probing (RFC 6762 §8.2). */
  authorities: MdnsRecord[];
  additionals: MdnsRecord[];
}

export const MDNS_DOMAIN = 'local';
export const SERVICES_META_QUERY = '_services._dns-sd._udp.local';

/** DNS names compare case-insensitively, but only for ASCII letters (RFC 6762 §16). */
export function nameKey(name: string): string {
  return name.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}

/** Identity of the RRset a record belongs to. */
export function rrsetKey(record: { name: string; type: string }): string {
  return `${nameKey(record.name)}\u0000${record.type}`;
}

/** Canonical text of the record data, for equality. */
export function rdataKey(record: MdnsRecord): string {
  switch (record.type) {
    case 'A':
      return record.data;
    case 'AAAA':
      return Buffer.from(ipv6Bytes(record.data)).toString('hex');
    case 'PTR':
      return nameKey(record.data);
    case 'SRV':
      return `${record.data.priority} ${record.data.weight} ${record.data.port} ${nameKey(record.data.target)}`;
    case 'TXT':
      return record.data.map((s) => Buffer.from(s).toString('hex')).join(',');
  }
}

/** Identity of one record (RRset + data), TTL and flush bit excluded. */
export function recordKey(record: MdnsRecord): string {
  return `${rrsetKey(record)}\u0000${rdataKey(record)}`;
}

export function sameRecord(a: MdnsRecord, b: MdnsRecord): boolean {
  return a.type === b.type && nameKey(a.name) === nameKey(b.name) && rdataKey(a) === rdataKey(b);
}

/** `{...record, ttl}` without losing the discriminated union. */
export function withTtl(record: MdnsRecord, ttl: number): MdnsRecord {
  return { ...record, ttl } as MdnsRecord;
}

// --- wire sizes and raw rdata (for packet splitting and probe tie-breaking) ---

function nameWireLength(name: string): number {
  return nameWireBytes(name).length;
}

function nameBytes(name: string): Uint8Array {
  return nameWireBytes(name);
}

export function ipv6Bytes(text: string): Uint8Array {
  if (!isIPv6(text)) throw new MdnsError('mdns-name', `not an IPv6 address: ${text}`);
  let body = text.split('%')[0] ?? '';
  const out = new Uint8Array(16);
  // An embedded dotted IPv4 tail is rewritten as two hex groups first.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(body);
  if (v4?.[1] !== undefined) {
    const b = v4[1].split('.').map(Number);
    body = body.slice(0, -v4[1].length) + `${(((b[0] ?? 0) << 8) | (b[1] ?? 0)).toString(16)}:${(((b[2] ?? 0) << 8) | (b[3] ?? 0)).toString(16)}`;
  }
  const [head = '', tail] = body.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...headGroups, ...new Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}

function ipv4Bytes(text: string): Uint8Array {
  return Uint8Array.from(text.split('.').map(Number));
}

/** Uncompressed RDATA bytes, as RFC 6762 §8.2 compares them. */
export function rdataBytes(record: MdnsRecord): Uint8Array {
  switch (record.type) {
    case 'A':
      return ipv4Bytes(record.data);
    case 'AAAA':
      return ipv6Bytes(record.data);
    case 'PTR':
      return nameBytes(record.data);
    case 'SRV': {
      const head = Buffer.alloc(6);
      head.writeUInt16BE(record.data.priority, 0);
      head.writeUInt16BE(record.data.weight, 2);
      head.writeUInt16BE(record.data.port, 4);
      return Buffer.concat([head, nameBytes(record.data.target)]);
    }
    case 'TXT': {
      const strings = record.data.length === 0 ? [new Uint8Array(0)] : record.data;
      return Buffer.concat(strings.flatMap((s) => [Uint8Array.of(s.length), s]));
    }
  }
}

const TYPE_CODES: Record<MdnsRecordType, number> = { A: 1, PTR: 12, TXT: 16, AAAA: 28, SRV: 33 };

/** Bytes one record takes in a packet without name compression. */
export function recordWireLength(record: MdnsRecord): number {
  return nameWireLength(record.name) + 10 + rdataBytes(record).length;
}

export function questionWireLength(question: MdnsQuestion): number {
  return nameWireLength(question.name) + 4;
}

export function messageWireLength(message: MdnsMessage): number {
  let length = 12;
  for (const q of message.questions) length += questionWireLength(q);
  for (const r of [...message.answers, ...message.authorities, ...message.additionals]) length += recordWireLength(r);
  return length;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

function compareForTieBreak(a: MdnsRecord, b: MdnsRecord): number {
  // Class is IN for everything we publish; then type, then raw rdata.
  return TYPE_CODES[a.type] - TYPE_CODES[b.type] || compareBytes(rdataBytes(a), rdataBytes(b));
}

/**
 * Simultaneous-probe tie-break (RFC 6762 §8.2): both sets sorted, compared
 * pairwise; the first difference decides, a longer list wins over its prefix.
 * Negative: ours is lexicographically earlier, so we lose and must defer.
 */
export function compareProbeSets(ours: readonly MdnsRecord[], theirs: readonly MdnsRecord[]): number {
  const a = [...ours].sort(compareForTieBreak);
  const b = [...theirs].sort(compareForTieBreak);
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = compareForTieBreak(a[i]!, b[i]!);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

// --- names we publish ---

/**
 * A DNS-SD instance label we are about to publish: any UTF-8 text of 1–63
 * bytes without control characters. Dots, spaces and backslashes are fine:
 * they are escaped in presentation form and carried as plain bytes of the
 * one label on the wire (RFC 6763 §4.3).
 */
export function checkInstanceLabel(label: string, what: string): void {
  if (label.length === 0) throw new MdnsError('mdns-name', `${what} must not be empty`);
  if (Buffer.byteLength(label) > MAX_LABEL_BYTES) {
    throw new MdnsError('mdns-name', `${what} ${JSON.stringify(label)} is longer than ${MAX_LABEL_BYTES} bytes of UTF-8`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(label)) throw new MdnsError('mdns-name', `${what} ${JSON.stringify(label)} contains control characters`);
  if (/\p{Cs}/u.test(label)) throw new MdnsError('mdns-name', `${what} ${JSON.stringify(label)} is not valid Unicode text`);
}

/** `team.alpha` + `_clique._udp` → `team\.alpha._clique._udp.local`. */
export function serviceInstanceName(instance: string, serviceType: string): string {
  return `${escapeLabel(instance)}.${serviceType}.${MDNS_DOMAIN}`;
}

/**
 * The instance label (as plain text) of `fqdn` if it is an instance of
 * `serviceType`, else undefined: the part before the suffix must be exactly
 * one label (`a.b._clique._udp.local` is a name two labels deep, not the room `a.b`).
 */
export function instanceOf(fqdn: string, serviceType: string): string | undefined {
  const suffix = `.${nameKey(serviceType)}.${MDNS_DOMAIN}`;
  if (!nameKey(fqdn).endsWith(suffix)) return undefined;
  const escaped = fqdn.slice(0, fqdn.length - suffix.length);
  if (escaped.length === 0) return undefined;
  const instance = unescapeLabel(escaped);
  return instance !== undefined && instance.length > 0 ? instance : undefined;
}

export function isAddressRecordType(type: string): type is 'A' | 'AAAA' {
  return type === 'A' || type === 'AAAA';
}

export function addressRecordType(address: string): 'A' | 'AAAA' {
  if (isIPv4(address)) return 'A';
  if (isIPv6(address)) return 'AAAA';
  throw new MdnsError('mdns-name', `not an IP address: ${JSON.stringify(address)}`);
}

// --- TXT (RFC 6763 §6) ---

const MAX_TXT_STRING = 255;

/** Encodes `key=value` strings in order; `undefined` values are left out. */
export function encodeTxt(entries: ReadonlyArray<readonly [string, string | undefined]>): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const [key, value] of entries) {
    if (value === undefined) continue;
    if (!/^[\x20-\x3c\x3e-\x7e]+$/.test(key)) throw new MdnsError('mdns-txt', `bad TXT key ${JSON.stringify(key)}`);
    const bytes = Buffer.from(`${key}=${value}`);
    if (bytes.length > MAX_TXT_STRING) throw new MdnsError('mdns-txt', `TXT entry ${key} is longer than ${MAX_TXT_STRING} bytes`);
    out.push(bytes);
  }
  return out;
}

/** Cuts `value` so that `key=value` fits in one TXT string, on a UTF-8 character boundary. */
export function fitTxtValue(key: string, value: string): string {
  const room = MAX_TXT_STRING - Buffer.byteLength(key) - 1;
  if (Buffer.byteLength(value) <= room) return value;
  let out = '';
  let used = 0;
  for (const ch of value) {
    const n = Buffer.byteLength(ch);
    if (used + n > room) break;
    out += ch;
    used += n;
  }
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * TXT strings → key/value map. Keys are case-insensitive (kept lower-case),
 * the first occurrence of a key wins, a key without '=' has value '' and
 * strings starting with '=' are ignored (RFC 6763 §6.4). The result has no
 * prototype, so keys like `__proto__` are plain keys.
 */
export function decodeTxt(strings: readonly Uint8Array[]): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  for (const s of strings) {
    if (s.length === 0) continue;
    const eq = s.indexOf(0x3d);
    if (eq === 0) continue;
    const key = nameKey(utf8.decode(eq < 0 ? s : s.subarray(0, eq)));
    if (key in out) continue;
    out[key] = eq < 0 ? '' : utf8.decode(s.subarray(eq + 1));
  }
  return out;
}

// --- TTLs ---

/** TTLs of what we publish, in seconds: host-type records (A/AAAA, SRV) and the rest (PTR, TXT). */
export interface MdnsTtls {
  host: number;
  other: number;
}

/** What Avahi uses, and so what salut peers publish (spec §0). Tests pass short ones to exercise expiry. */
export const DEFAULT_TTLS: MdnsTtls = { host: 120, other: 4500 };

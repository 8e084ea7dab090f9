import { labelsToName, MAX_NAME_WIRE_BYTES, nameWireBytes } from './dns-name.js';
import { MdnsError } from './mdns-error.js';
import { rdataBytes, type MdnsMessage, type MdnsQuestion, type MdnsRecord, type MdnsRecordType } from './records.js';

/**
 * The DNS message codec (RFC 1035 §4) for the record types DNS-SD needs, in
 * our own model. We own it rather than use the library's because names must
 * keep their label structure: an instance label may contain '.' (a room
 * called `team.alpha`), and the library joins and splits names on every '.'.
 *
 * Decoding is defensive: every read is bounds-checked, compression pointers
 * must point strictly backwards (so they cannot loop), names are limited to
 * 255 bytes, and record data must exactly fill its RDLENGTH. Anything else is
 * a malformed packet (MdnsError 'mdns-packet'). Records of other types and
 * classes are skipped. Encoding never compresses.
 */

const HEADER_BYTES = 12;
const FLAG_RESPONSE = 0x8000;
const FLAG_AUTHORITATIVE = 0x0400;
const FLAG_TRUNCATED = 0x0200;
const CLASS_IN = 1;
const CLASS_ANY = 255;
/** Top bit of the class: cache-flush in records, unicast-response (QU) in questions (RFC 6762 §10.2, §5.4). */
const CLASS_TOP_BIT = 0x8000;
const TYPE_ANY = 255;

const TYPE_CODES: Record<MdnsRecordType, number> = { A: 1, PTR: 12, TXT: 16, AAAA: 28, SRV: 33 };
const TYPES_BY_CODE = new Map<number, MdnsRecordType>(Object.entries(TYPE_CODES).map(([t, c]) => [c, t as MdnsRecordType]));

function malformed(reason: string): MdnsError {
  return new MdnsError('mdns-packet', `malformed mDNS packet: ${reason}`);
}

class Reader {
  constructor(
    readonly bytes: Uint8Array,
    public offset = 0,
  ) {}

  need(n: number): void {
    if (this.offset + n > this.bytes.length) throw malformed(`${n} bytes needed at offset ${this.offset}, packet has ${this.bytes.length}`);
  }

  u16(): number {
    this.need(2);
    const value = ((this.bytes[this.offset] ?? 0) << 8) | (this.bytes[this.offset + 1] ?? 0);
    this.offset += 2;
    return value;
  }

  u32(): number {
    const high = this.u16();
    return high * 0x10000 + this.u16();
  }

  take(n: number): Uint8Array {
    this.need(n);
    const out = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  /** A possibly compressed name; the reader moves past its inline part. */
  name(): string {
    const labels: Uint8Array[] = [];
    let position = this.offset;
    let resumeAt: number | undefined;
    // Each pointer must point before the previous one (or before the name's start): no loops.
    let limit = this.offset;
    let wire = 1;
    for (;;) {
      if (position >= this.bytes.length) throw malformed('name runs past the end');
      const length = this.bytes[position] ?? 0;
      if (length === 0) {
        position += 1;
        break;
      }
      const kind = length & 0xc0;
      if (kind === 0xc0) {
        if (position + 1 >= this.bytes.length) throw malformed('compression pointer runs past the end');
        const target = ((length & 0x3f) << 8) | (this.bytes[position + 1] ?? 0);
        if (target >= limit) throw malformed('compression pointer does not point backwards');
        resumeAt ??= position + 2;
        position = target;
        limit = target;
        continue;
      }
      if (kind !== 0) throw malformed(`reserved label type 0x${kind.toString(16)}`);
      if (position + 1 + length > this.bytes.length) throw malformed('label runs past the end');
      wire += length + 1;
      if (wire > MAX_NAME_WIRE_BYTES) throw malformed('name longer than 255 bytes');
      labels.push(this.bytes.subarray(position + 1, position + 1 + length));
      position += 1 + length;
    }
    this.offset = resumeAt ?? position;
    return labelsToName(labels);
  }
}

function formatIPv6(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  // RFC 5952 §4.2: the longest run of two or more zero groups becomes '::' (the first one on a tie).
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

function readRecordData(reader: Reader, type: MdnsRecordType, length: number): MdnsRecord['data'] {
  const end = reader.offset + length;
  reader.need(length);
  let data: MdnsRecord['data'];
  switch (type) {
    case 'A': {
      if (length !== 4) throw malformed(`A record of ${length} bytes`);
      data = Array.from(reader.take(4)).join('.');
      break;
    }
    case 'AAAA': {
      if (length !== 16) throw malformed(`AAAA record of ${length} bytes`);
      data = formatIPv6(reader.take(16));
      break;
    }
    case 'PTR':
      data = reader.name();
      break;
    case 'SRV': {
      const priority = reader.u16();
      const weight = reader.u16();
      const port = reader.u16();
      data = { priority, weight, port, target: reader.name() };
      break;
    }
    case 'TXT': {
      const strings: Uint8Array[] = [];
      while (reader.offset < end) {
        const n = reader.take(1)[0] ?? 0;
        if (reader.offset + n > end) throw malformed('TXT string runs past its record');
        strings.push(new Uint8Array(reader.take(n)));
      }
      data = strings;
      break;
    }
  }
  if (reader.offset !== end) throw malformed(`${type} record data does not fill its ${length} bytes`);
  return data;
}

function readRecord(reader: Reader): MdnsRecord | undefined {
  const name = reader.name();
  const typeCode = reader.u16();
  const klass = reader.u16();
  const ttl = reader.u32();
  const length = reader.u16();
  const type = TYPES_BY_CODE.get(typeCode);
  if (type === undefined || (klass & ~CLASS_TOP_BIT) !== CLASS_IN) {
    reader.take(length);
    return undefined;
  }
  const data = readRecordData(reader, type, length);
  return { name, ttl, cacheFlush: (klass & CLASS_TOP_BIT) !== 0, type, data } as MdnsRecord;
}

function readQuestion(reader: Reader): MdnsQuestion | undefined {
  const name = reader.name();
  const typeCode = reader.u16();
  const klass = reader.u16() & ~CLASS_TOP_BIT;
  if (klass !== CLASS_IN && klass !== CLASS_ANY) return undefined;
  const type = typeCode === TYPE_ANY ? 'ANY' : TYPES_BY_CODE.get(typeCode);
  return type === undefined ? undefined : { name, type };
}

/**
 * One datagram → our model. Undefined when the packet is well-formed but not
 * for us: another opcode or a non-zero rcode (RFC 6762 §18.3, §18.11), or
 * nothing of a modelled type. Throws MdnsError('mdns-packet') when malformed.
 */
export function decodeMdnsMessage(bytes: Uint8Array): MdnsMessage | undefined {
  const reader = new Reader(bytes);
  reader.need(HEADER_BYTES);
  const id = reader.u16();
  const flags = reader.u16();
  const counts = [reader.u16(), reader.u16(), reader.u16(), reader.u16()] as const;
  const questions: MdnsQuestion[] = [];
  for (let i = 0; i < counts[0]; i++) {
    const question = readQuestion(reader);
    if (question !== undefined) questions.push(question);
  }
  const sections: MdnsRecord[][] = [[], [], []];
  sections.forEach((records, s) => {
    for (let i = 0; i < counts[s + 1]!; i++) {
      const record = readRecord(reader);
      if (record !== undefined) records.push(record);
    }
  });
  const opcode = (flags >> 11) & 0xf;
  const rcode = flags & 0xf;
  if (opcode !== 0 || rcode !== 0) return undefined;
  const [answers, authorities, additionals] = sections as [MdnsRecord[], MdnsRecord[], MdnsRecord[]];
  if (questions.length + answers.length + authorities.length + additionals.length === 0) return undefined;
  return { id, response: (flags & FLAG_RESPONSE) !== 0, truncated: (flags & FLAG_TRUNCATED) !== 0, questions, answers, authorities, additionals };
}

function u16(value: number): Uint8Array {
  return Uint8Array.of((value >> 8) & 0xff, value & 0xff);
}

function encodeRecord(record: MdnsRecord): Uint8Array[] {
  const rdata = rdataBytes(record);
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(TYPE_CODES[record.type], 0);
  fixed.writeUInt16BE(CLASS_IN | (record.cacheFlush ? CLASS_TOP_BIT : 0), 2);
  fixed.writeUInt32BE(record.ttl, 4);
  fixed.writeUInt16BE(rdata.length, 8);
  return [nameWireBytes(record.name), fixed, rdata];
}

/** Our model → one datagram (uncompressed). Throws MdnsError('mdns-name') for a name that cannot be encoded. */
export function encodeMdnsMessage(message: MdnsMessage): Uint8Array {
  let flags = 0;
  if (message.response) flags |= FLAG_RESPONSE | FLAG_AUTHORITATIVE;
  if (message.truncated) flags |= FLAG_TRUNCATED;
  const parts: Uint8Array[] = [
    u16(message.id & 0xffff),
    u16(flags),
    u16(message.questions.length),
    u16(message.answers.length),
    u16(message.authorities.length),
    u16(message.additionals.length),
  ];
  for (const q of message.questions) {
    parts.push(nameWireBytes(q.name), u16(q.type === 'ANY' ? TYPE_ANY : TYPE_CODES[q.type]), u16(CLASS_IN));
  }
  for (const r of [...message.answers, ...message.authorities, ...message.additionals]) parts.push(...encodeRecord(r));
  return Buffer.concat(parts);
}

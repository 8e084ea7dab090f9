/** Reading a datagram's header fields without decoding it, and comparing datagrams. */

/** Packet id of a reliable datagram (bytes 12-15), or undefined for other types and short datagrams. */
export function readReliablePacketId(datagram: Uint8Array): number | undefined {
  const type = datagram[7]!;
  if (type < 0x0f || type > 0x14 || datagram.length < 16) return undefined;
  return ((datagram[12]! << 24) | (datagram[13]! << 16) | (datagram[14]! << 8) | datagram[15]!) >>> 0;
}

/** Byte equality through Node's native compare: it runs on every looped-back packet of ours, so no JS loop. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** The header's sender id (bytes 8-11), without decoding the rest. */
export function readSender(datagram: Uint8Array): number {
  return ((datagram[8]! << 24) | (datagram[9]! << 16) | (datagram[10]! << 8) | datagram[11]!) >>> 0;
}

export function hex(id: number): string {
  return '0x' + id.toString(16).padStart(8, '0');
}

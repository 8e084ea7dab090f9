/**
 * Packet-id comparison exactly as the original computes it (spec §1). It is not
 * general serial-number arithmetic: wrap-around is recognised only within
 * 0xFFFF of the boundary, otherwise ids compare as plain unsigned integers with
 * the distance clamped to ±0x7FFFFFFF. Implementations must match it bit for bit
 * because it decides which packets are accepted, duplicated or dropped.
 */
export function seqDiff(from: number, to: number): number {
  if (from > 0xffff0000 && to < 0x0000ffff) return (to - from) >>> 0;
  if (to > 0xffff0000 && from < 0x0000ffff) return ((to - from) >>> 0) | 0;
  if (from > to) return -Math.min(from - to, 0x7fffffff);
  return Math.min(to - from, 0x7fffffff);
}

/** id + n modulo 2^32. */
export function seqAdd(id: number, n: number): number {
  return (id + n) >>> 0;
}

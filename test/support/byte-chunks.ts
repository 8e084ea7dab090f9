/**
 * Cut `bytes` into consecutive chunks at the given offsets (taken modulo
 * length + 1, so a cut may fall at either end; duplicates are merged), for
 * feeding incremental parsers in arbitrary pieces. The chunks concatenate to
 * `bytes`; some may be empty.
 */
export function cutAt<T extends Uint8Array>(bytes: T, offsets: number[]): T[] {
  const points = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: T[] = [];
  let start = 0;
  for (const p of points) {
    chunks.push(bytes.subarray(start, p) as T);
    start = p;
  }
  chunks.push(bytes.subarray(start) as T);
  return chunks;
}

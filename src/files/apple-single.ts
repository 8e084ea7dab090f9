/**
 * iChat asks for files with `Accept-Encoding: AppleSingle`; salut then sends
 * the bytes after a 38-byte AppleSingle header naming one entry, the data
 * fork (spec §8.3). Pure.
 */
export const APPLE_SINGLE_HEADER_BYTES = 38;
const MAGIC = 0x00051600;
const VERSION = 0x00020000;
const DATA_FORK = 1;

/** True if an Accept-Encoding header value lists AppleSingle (case-insensitive, any parameters). */
export function wantsAppleSingle(acceptEncoding: string | undefined): boolean {
  if (acceptEncoding === undefined) return false;
  return acceptEncoding.split(',').some((part) => part.split(';')[0]!.trim().toLowerCase() === 'applesingle');
}

/** The header for a file of `size` bytes; the format's length field is 32 bits, so larger files cannot be wrapped. */
export function appleSingleHeader(size: number): Buffer {
  if (!Number.isSafeInteger(size) || size < 0 || size > 0xffff_ffff) throw new RangeError(`AppleSingle cannot wrap ${size} bytes`);
  const header = Buffer.alloc(APPLE_SINGLE_HEADER_BYTES);
  header.writeUInt32BE(MAGIC, 0);
  header.writeUInt32BE(VERSION, 4);
  // bytes 8..23: filler, zero
  header.writeUInt16BE(1, 24); // one entry
  header.writeUInt32BE(DATA_FORK, 26);
  header.writeUInt32BE(APPLE_SINGLE_HEADER_BYTES, 30);
  header.writeUInt32BE(size, 34);
  return header;
}

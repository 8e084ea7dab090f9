/** Hand-made hostile D-Bus blobs, each broken in one way, for the decoder and the GLib comparison. */

export const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
const le32 = (n: number): string => Buffer.from(Uint32Array.of(n).buffer).toString('hex');

/** A little-endian method call (type 1, serial 1) from header field and body bytes, lengths and padding computed. */
export function blob(fields: string, body: string): Uint8Array {
  const fieldBytes = hex(fields);
  const pad = (8 - (fieldBytes.length % 8)) % 8;
  return hex(`6c 01 00 01 ${le32(hex(body).length)} 01000000 ${le32(fieldBytes.length)} ${fields} ${'00'.repeat(pad)} ${body}`);
}

/** The call "/a" "M" with a signature and body: the fixture for most hostile variants. */
export function call(signature: string, body: string): Uint8Array {
  const pathAndMember = '01 01 6f 00 02000000 2f 61 00 0000000000 03 01 73 00 01000000 4d 00';
  if (signature === '') return blob(pathAndMember, body);
  const length = signature.length.toString(16).padStart(2, '0');
  return blob(`${pathAndMember} 000000000000 08 01 67 00 ${length} ${Buffer.from(signature).toString('hex')} 00`, body);
}

export const HOSTILE: Record<string, Uint8Array> = {
  'empty': new Uint8Array(0),
  'bad endian byte': (() => { const b = call('u', '07000000'); b[0] = 0x78; return b; })(),
  'protocol version 2': (() => { const b = call('u', '07000000'); b[3] = 2; return b; })(),
  'message type 0': (() => { const b = call('u', '07000000'); b[1] = 0; return b; })(),
  'serial 0': (() => { const b = call('u', '07000000'); b[8] = 0; return b; })(),
  'truncated body': call('u', '07000000').subarray(0, 58),
  'body length past the end': (() => { const b = call('u', '07000000'); b[4] = 0xff; b[7] = 0x7f; return b; })(),
  'boolean 2': call('b', '02000000'),
  'string without NUL': call('s', '01000000 41 41'),
  'string with NUL inside': call('s', '02000000 41 00 00'),
  'string with invalid UTF-8': call('s', '02000000 c3 28 00'),
  'string length 4 GiB': call('s', 'ffffffff 41 00'),
  'array length 4 GiB': call('ai', 'ffffffff 00000000'),
  'array length not a whole element': call('ai', '03000000 00000000'),
  'bad object path': call('o', '03000000 2f 61 2f 00'),
  'bad signature value': call('g', '01 28 00'),
  'variant with two types': call('v', '02 69 69 00 07000000'),
  'body without signature': call('', '07000000'),
  'body longer than its values': call('y', '07 00 00 00'),
  'nonzero padding': call('yu', '07 01 00 00 07000000'),
  'method call without member': blob('01 01 6f 00 02000000 2f 61 00', ''),
  'duplicate path field': blob('01 01 6f 00 02000000 2f 61 00 0000000000 01 01 6f 00 02000000 2f 62 00 0000000000 03 01 73 00 01000000 4d 00', ''),
  'field array ends inside a field': (() => { const b = call('u', '07000000'); b[12] = b[12]! - 1; return b; })(),
  'signature with 33 nested arrays': call('a'.repeat(33) + 'y', '00000000'),
  'variants nested 65 deep': call('v', '01 76 00 '.repeat(65) + '01 79 00 07'),
  'header path holds a string': blob('01 01 73 00 02000000 2f 61 00 0000000000 03 01 73 00 01000000 4d 00', ''),
};


/**
 * Turning a name a peer sent into one we may create in the user's directory:
 * never a path, never hidden, never a device, never a control or bidi
 * character, never longer than file systems allow. Pure.
 */

/** Bytes of UTF-8 we keep in a name (most file systems allow 255; room is left for ` (12).part`). */
export const MAX_NAME_BYTES = 200;
const FALLBACK_NAME = 'file';
/** Windows device names, which open the device rather than a file on Windows shares (any extension, any case). */
const DEVICE_NAME = /^(con|prn|aux|nul|clock\$|conin\$|conout\$|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;
// Control characters (C0, DEL, C1), bidi controls that make `exe.txt` read as `txt.exe`, and zero-width characters.
// eslint-disable-next-line no-control-regex
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;
/** Characters refused by Windows or meaning a path anywhere. */
const RESERVED = /[<>:"/\\|?*]/g;

/** A safe file name for `raw` (the last path segment only; 'file' when nothing is left). */
export function sanitizeFileName(raw: string): string {
  const lastSegment = raw.split(/[/\\]/).pop() ?? '';
  let name = lastSegment.normalize('NFC').replace(INVISIBLE, '').replace(RESERVED, '_');
  // Leading dots hide a file (and `..` is the parent); trailing dots and blanks vanish on Windows.
  name = name.replace(/^[.\s]+/, '').replace(/[.\s]+$/, '');
  if (DEVICE_NAME.test(name)) name = `_${name}`;
  name = truncateKeepingExtension(name, MAX_NAME_BYTES);
  return name === '' ? FALLBACK_NAME : name;
}

/** The n-th name to try on a clash: `notes.txt` → `notes (1).txt`; n = 0 is the name itself. */
export function clashName(name: string, n: number): string {
  if (n === 0) return name;
  const { stem, extension } = splitExtension(name);
  return `${stem} (${n})${extension}`;
}

function splitExtension(name: string): { stem: string; extension: string } {
  const dot = name.lastIndexOf('.');
  // A dot at 0 is not an extension; an extension of more than 16 characters is probably part of the name.
  if (dot <= 0 || name.length - dot > 17) return { stem: name, extension: '' };
  return { stem: name.slice(0, dot), extension: name.slice(dot) };
}

function truncateKeepingExtension(name: string, maxBytes: number): string {
  if (Buffer.byteLength(name) <= maxBytes) return name;
  const { stem, extension } = splitExtension(name);
  const room = maxBytes - Buffer.byteLength(extension);
  return `${truncateUtf8(stem, room).replace(/[.\s]+$/, '')}${extension}`;
}

/** The longest prefix of `text` whose UTF-8 fits in `maxBytes`, never splitting a character. */
function truncateUtf8(text: string, maxBytes: number): string {
  let bytes = 0;
  let out = '';
  for (const ch of text) {
    const size = Buffer.byteLength(ch);
    if (bytes + size > maxBytes) break;
    bytes += size;
    out += ch;
  }
  return out;
}

import { MdnsError } from './mdns-error.js';

/**
 * DNS names in presentation form (RFC 1035 §5.1, RFC 6763 §4.3): labels
 * joined by '.', where a '.' or '\' that belongs *inside* a label is written
 * `\.` or `\\` (and any byte may be written `\DDD`, three decimal digits).
 *
 * Every name in our record model is in this form, so a room called
 * `team.alpha` is the single label `team\.alpha` of
 * `team\.alpha._clique._udp.local`; on the wire that label simply contains
 * the dot byte. The codec (dns-codec.ts) converts between the two.
 */

export const MAX_LABEL_BYTES = 63;
/** RFC 1035 §3.1: the wire form, length bytes and terminating zero included. */
export const MAX_NAME_WIRE_BYTES = 255;

/** One instance label → presentation form (RFC 6763 §4.3). */
export function escapeLabel(label: string): string {
  return label.replace(/[\\.]/g, (c) => `\\${c}`);
}

/**
 * Presentation form → the labels' bytes. Throws MdnsError('mdns-name') on
 * an empty label inside the name, a label over 63 bytes, a name over 255
 * bytes on the wire, or a dangling / malformed escape. '' and '.' are the root.
 */
export function nameToLabels(name: string): Uint8Array[] {
  const labels: Uint8Array[] = [];
  if (name === '' || name === '.') return labels;
  let current: number[] = [];
  let wire = 1;
  const finish = (): void => {
    if (current.length === 0) throw new MdnsError('mdns-name', `empty label in ${JSON.stringify(name)}`);
    if (current.length > MAX_LABEL_BYTES) throw new MdnsError('mdns-name', `a label of ${JSON.stringify(name)} is longer than ${MAX_LABEL_BYTES} bytes`);
    wire += current.length + 1;
    labels.push(Uint8Array.from(current));
    current = [];
  };
  const text = name;
  let endsWithSeparator = false;
  for (let i = 0; i < text.length; ) {
    const code = text.codePointAt(i) ?? 0;
    const char = String.fromCodePoint(code);
    i += char.length;
    endsWithSeparator = char === '.';
    if (char === '.') {
      finish();
    } else if (char === '\\') {
      const digits = /^[0-9]{3}/.exec(text.slice(i));
      if (digits !== null) {
        const value = Number(digits[0]);
        if (value > 255) throw new MdnsError('mdns-name', `bad escape \\${digits[0]} in ${JSON.stringify(name)}`);
        current.push(value);
        i += 3;
      } else {
        const next = text.codePointAt(i);
        if (next === undefined) throw new MdnsError('mdns-name', `dangling '\\' at the end of ${JSON.stringify(name)}`);
        const escaped = String.fromCodePoint(next);
        current.push(...Buffer.from(escaped));
        i += escaped.length;
      }
    } else {
      current.push(...Buffer.from(char));
    }
  }
  // A trailing unescaped '.' is the root written out (`local.`).
  if (!endsWithSeparator) finish();
  if (wire > MAX_NAME_WIRE_BYTES) throw new MdnsError('mdns-name', `${JSON.stringify(name)} is longer than ${MAX_NAME_WIRE_BYTES} bytes on the wire`);
  return labels;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * One label's bytes → presentation form. Valid UTF-8 is kept as text with
 * only '.' and '\' escaped, so names we build with `escapeLabel` come back
 * identical; other bytes (not UTF-8, or control bytes) become `\DDD`, so
 * that any label read from the wire is sent back byte for byte.
 */
export function labelToText(bytes: Uint8Array): string {
  let text: string | undefined;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    text = undefined;
  }
  // eslint-disable-next-line no-control-regex
  if (text !== undefined && !/[\u0000-\u001f\u007f]/.test(text)) return escapeLabel(text);
  let out = '';
  for (const byte of bytes) {
    if (byte === 0x2e || byte === 0x5c) out += `\\${String.fromCharCode(byte)}`;
    else if (byte > 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else if (byte === 0x20) out += ' ';
    else out += `\\${byte.toString().padStart(3, '0')}`;
  }
  return out;
}

export function labelsToName(labels: readonly Uint8Array[]): string {
  return labels.map(labelToText).join('.');
}

/** Uncompressed wire form of a presentation-form name. */
export function nameWireBytes(name: string): Uint8Array {
  const labels = nameToLabels(name);
  const out = new Uint8Array(labels.reduce((n, l) => n + l.length + 1, 1));
  let offset = 0;
  for (const label of labels) {
    out[offset++] = label.length;
    out.set(label, offset);
    offset += label.length;
  }
  out[offset] = 0;
  return out;
}

/** A single presentation-form label → its text; undefined if it is not one label or its bytes are not UTF-8. */
export function unescapeLabel(escaped: string): string | undefined {
  let labels: Uint8Array[];
  try {
    labels = nameToLabels(escaped);
  } catch {
    return undefined;
  }
  if (labels.length !== 1 || labels[0] === undefined) return undefined;
  try {
    return strictUtf8.decode(labels[0]);
  } catch {
    return undefined;
  }
}

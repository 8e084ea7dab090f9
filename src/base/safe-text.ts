/**
 * Peer-supplied text is printed in places that interpret some characters:
 * terminals act on C0 and C1 controls (ESC sequences, and their 8-bit forms
 * such as U+009B CSI), and bidirectional formatting characters reorder
 * whatever follows them on the line (a U+202E in a nick can make the rest of
 * a log line read backwards). JSON.stringify escapes only U+0000–U+001F, so
 * its output still carries the others raw.
 *
 * The characters treated as unsafe here: C0 controls, DEL and the C1 range
 * (U+007F–U+009F), the bidi marks and embeddings (U+061C ALM, U+200E LRM,
 * U+200F RLM, U+202A–U+202E LRE/RLE/PDF/LRO/RLO, U+2066–U+2069
 * LRI/RLI/FSI/PDI) and the line and paragraph separators U+2028/U+2029
 * (line breaks to some terminals and older JavaScript).
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;
/** The same set without C0: those JSON already escapes in strings, and JSON's own layout uses \n outside them. */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/** `\u00XX`-style escape of one UTF-16 code unit. */
function unicodeEscape(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** True if `text` holds any unsafe character (control, bidi control, line/paragraph separator). */
export function hasUnsafeChars(text: string): boolean {
  UNSAFE.lastIndex = 0;
  const found = UNSAFE.test(text);
  UNSAFE.lastIndex = 0;
  return found;
}

/** Every unsafe character as a visible `\uXXXX`: for plain-text log lines. */
export function escapeUnsafeChars(text: string): string {
  return text.replace(UNSAFE, unicodeEscape);
}

/**
 * Escapes the unsafe characters JSON.stringify leaves raw, in JSON text it
 * produced: they can only occur inside string literals, where `\uXXXX` means
 * the same character, so the document parses to the same value.
 */
export function escapeUnsafeInJson(json: string): string {
  return json.replace(UNSAFE_IN_JSON, unicodeEscape);
}

/**
 * JSON.stringify whose output never holds a raw control or bidi character:
 * the one JSON writer for anything a terminal, a log or a script reads.
 */
export function safeJsonStringify(value: unknown, replacer?: (this: unknown, key: string, value: unknown) => unknown, space?: number): string {
  const json = JSON.stringify(value, replacer, space) as string | undefined;
  return json === undefined ? 'null' : escapeUnsafeInJson(json);
}

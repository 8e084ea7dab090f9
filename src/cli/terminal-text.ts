/**
 * Terminal safety for one peer-supplied field (a name, a nick, a message, a
 * topic) before it is put on a line with other text:
 *
 * - Controls cannot reach the screen: C0 (except tab), DEL, C1 (U+0080–U+009F,
 *   8-bit CSI and friends), the line/paragraph separators, and every explicit
 *   bidi formatting character (U+061C, U+200E/F, U+202A–E, U+2066–9) become
 *   U+FFFD, so the reader sees that something was there.
 * - A field that holds right-to-left letters is wrapped in FSI … PDI (U+2068,
 *   U+2069): a bidi-aware terminal lays it out on its own, so it cannot
 *   reorder the rest of the line (the timestamp, the other person's name), and
 *   the isolate is always closed because the field holds no bidi controls of
 *   its own any more. Fields without right-to-left letters cannot reorder
 *   anything and are left byte-for-byte as they were (non-bidi terminals and
 *   scripts reading plain ASCII see no change).
 *
 * Why not escape bidi text visibly instead: Arabic and Hebrew names and
 * messages are legitimate and must stay readable; only the control characters
 * are hostile. Idempotent: a field this function already isolated comes back unchanged.
 */
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;
/** Letters and digits of right-to-left scripts (Hebrew, Arabic, Syriac, Thaana, NKo, … and their presentation forms). */
const RIGHT_TO_LEFT = /[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc\u{10800}-\u{10fff}\u{1e800}-\u{1efff}]/u;
const FSI = '\u2068';
const PDI = '\u2069';

export function printable(text: string): string {
  if (text.startsWith(FSI) && text.endsWith(PDI) && text.length >= 2) {
    const inner = text.slice(1, -1);
    if (!hasControl(inner) && RIGHT_TO_LEFT.test(inner)) return text; // exactly what we would have made of it
  }
  const clean = text.replace(CONTROLS, '\ufffd');
  return RIGHT_TO_LEFT.test(clean) ? `${FSI}${clean}${PDI}` : clean;
}

function hasControl(text: string): boolean {
  CONTROLS.lastIndex = 0;
  const found = CONTROLS.test(text);
  CONTROLS.lastIndex = 0;
  return found;
}

/**
 * Terminal safety: a peer's name or text must not carry control sequences
 * (cursor moves, colour, OSC titles, line breaks that fake other lines) to our
 * screen. Every control character becomes U+FFFD.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g, '\ufffd');
}

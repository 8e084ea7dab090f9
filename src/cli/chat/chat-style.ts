/**
 * How `clique join` dresses lines on a colour terminal, irssi-style: each
 * member's name in a colour of its own (stable: derived from the identity,
 * so alice is the same colour in every window and every run), and a line
 * that mentions us in bold. Off when the output is not a terminal or
 * NO_COLOR is set (https://no-color.org).
 */
export interface ChatStyle {
  /** `shown` (already printable) in the colour of member `name`. */
  name(shown: string, name: string): string;
  /** A whole line that mentions us. */
  mention(line: string): string;
}

/** Readable on dark and light backgrounds: the six colours and their bright forms, no black, white or grey. */
const PALETTE = [31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96];

/** FNV-1a over UTF-16 units: cheap, stable across runs and machines. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The SGR colour code of a member (an index into PALETTE). */
export function nickColourCode(name: string): number {
  return PALETTE[hash(name) % PALETTE.length]!;
}

export const PLAIN_STYLE: ChatStyle = { name: (shown) => shown, mention: (line) => line };

export const COLOUR_STYLE: ChatStyle = {
  name: (shown, name) => `\x1b[${nickColourCode(name)}m${shown}\x1b[39m`,
  mention: (line) => `\x1b[1m${line}\x1b[22m`,
};

export function chatStyleFor(output: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): ChatStyle {
  const noColour = env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '';
  return output.isTTY === true && !noColour && env['TERM'] !== 'dumb' ? COLOUR_STYLE : PLAIN_STYLE;
}

/**
 * Whether `text` mentions us: our nick, or the user part of our name, as a
 * whole word, case-insensitively (`alice:`, `@alice`, `hi Alice!` do;
 * `malice` does not).
 */
export function mentions(text: string, self: string, nick: string | null | undefined): boolean {
  const words = [nick, self.slice(0, self.lastIndexOf('@') >= 0 ? self.lastIndexOf('@') : self.length), self].filter(
    (w): w is string => typeof w === 'string' && w.trim().length >= 2,
  );
  const folded = text.toLowerCase();
  return words.some((word) => {
    const w = word.trim().toLowerCase();
    let at = folded.indexOf(w);
    while (at >= 0) {
      const before = at === 0 ? '' : folded[at - 1]!;
      const after = folded[at + w.length] ?? '';
      if (!isWordChar(before) && !isWordChar(after)) return true;
      at = folded.indexOf(w, at + 1);
    }
    return false;
  });
}

function isWordChar(c: string): boolean {
  return c !== '' && /[\p{L}\p{N}_]/u.test(c);
}

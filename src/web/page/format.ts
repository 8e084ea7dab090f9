/** Pure helpers of the page (no DOM), tested on their own. */

/** The local day of an ISO time, as a key to tell days apart. */
export function dayKey(time: string): string {
  const d = new Date(time);
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

export function dayLabel(time: string): string {
  return new Date(time).toLocaleDateString(undefined, { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' });
}

export function clockLabel(time: string): string {
  const d = new Date(time);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/** Does `text` mention one of our names, as a whole word (case-insensitive)? */
export function mentions(text: string, names: Array<string | null | undefined>): boolean {
  const lower = text.toLowerCase();
  for (const name of names) {
    if (name === null || name === undefined || name.length < 2) continue;
    const n = name.toLowerCase();
    for (let at = lower.indexOf(n); at !== -1; at = lower.indexOf(n, at + 1)) {
      const before = at === 0 ? '' : lower[at - 1]!;
      const after = lower[at + n.length] ?? '';
      if (!/[\p{L}\p{N}_]/u.test(before) && !/[\p{L}\p{N}_]/u.test(after)) return true;
    }
  }
  return false;
}

/** What the composer line asks for: a line, an action (`/me`), or a command. `//x` sends `/x`. */
export type ComposerInput =
  | { kind: 'say'; text: string }
  | { kind: 'action'; text: string }
  | { kind: 'topic'; text: string }
  | { kind: 'nick'; text: string }
  | { kind: 'join'; room: string }
  | { kind: 'leave' }
  | { kind: 'unknown'; command: string };

export function parseComposer(line: string): ComposerInput {
  if (line.startsWith('//')) return { kind: 'say', text: line.slice(1) };
  if (!line.startsWith('/')) return { kind: 'say', text: line };
  const space = line.indexOf(' ');
  const command = (space === -1 ? line.slice(1) : line.slice(1, space)).toLowerCase();
  const rest = space === -1 ? '' : line.slice(space + 1);
  switch (command) {
    case 'me':
      return { kind: 'action', text: rest };
    case 'topic':
      return { kind: 'topic', text: rest };
    case 'nick':
      return { kind: 'nick', text: rest.trim() };
    case 'join':
      return { kind: 'join', room: rest.trim() };
    case 'leave':
    case 'part':
      return { kind: 'leave' };
    default:
      return { kind: 'unknown', command };
  }
}

/** A member as shown: the nick when it has one, else the name. */
export function shown(name: string, nick: string | null | undefined): string {
  return nick !== null && nick !== undefined && nick !== '' ? nick : name;
}

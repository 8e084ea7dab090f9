/** The commands `clique join` knows (chat-commands.ts), for Tab. */
export const CHAT_COMMANDS = ['/help', '/history', '/invite', '/me', '/msg', '/nick', '/paste', '/query', '/quit', '/topic', '/who'];

export interface CompletionSources {
  /** Members' nicks and names, as one would type them. */
  nicks: readonly string[];
  /** Rooms advertised on the LAN. */
  rooms: readonly string[];
}

/**
 * readline's completer for the chat line: the word under the cursor (the
 * line's end) completed from the commands (a first word starting with `/`),
 * else the nicks, then the room names. A nick completed as the line's first
 * word gets `: ` after it, as irssi does. Returns readline's
 * `[matches, replaced part]`; several matches are listed by readline, and the
 * common prefix is filled in.
 */
export function completeChatLine(line: string, sources: CompletionSources): [string[], string] {
  const start = line.search(/\S+$/);
  const word = start < 0 ? '' : line.slice(start);
  if (word === '') return [[], ''];
  const first = line.slice(0, start).trim() === '';
  if (first && word.startsWith('/')) return [CHAT_COMMANDS.filter((c) => c.startsWith(word.toLowerCase())), word];
  const folded = word.toLowerCase();
  const pick = (list: readonly string[]): string[] => [...new Set(list.filter((x) => x.toLowerCase().startsWith(folded)))].sort((a, b) => a.localeCompare(b));
  const nicks = pick(sources.nicks);
  if (nicks.length > 0) return [first && nicks.length === 1 ? [`${nicks[0]}: `] : nicks, word];
  return [pick(sources.rooms), word];
}

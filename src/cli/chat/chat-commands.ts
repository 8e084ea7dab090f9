/**
 * What a line typed in `clique join` asks for. Plain text is a message; a
 * leading `/` is a command. `//text` sends "/text" literally.
 */
export type ChatInput =
  | { kind: 'say'; text: string }
  | { kind: 'action'; text: string }
  | { kind: 'topic'; text: string | undefined }
  | { kind: 'invite'; contact: string; reason: string | undefined }
  | { kind: 'who' }
  /** `/nick name` sets the nick, `/nick --clear` removes it (nick undefined). */
  | { kind: 'nick'; nick: string | undefined }
  /** `/nick` alone: show ours. */
  | { kind: 'show-nick' }
  | { kind: 'history'; limit: number }
  | { kind: 'msg'; to: string; text: string }
  | { kind: 'query'; to: string | undefined }
  /** `/accept [id] [dir]`: receive a file offered to us (the latest offer without an id; dir default the current one). */
  | { kind: 'accept'; id: string | undefined; dir: string | undefined }
  | { kind: 'decline'; id: string | undefined }
  | { kind: 'help' }
  | { kind: 'quit' }
  | { kind: 'empty' }
  | { kind: 'error'; message: string };

export const CHAT_HELP = [
  'type a line and press Enter to send it; commands:',
  '  /me <action>              send an action (* you waves)',
  '  /topic [text]             show the topic, or set it',
  '  /invite <nick|contact> [why]  invite someone on the LAN (see `clique contacts`)',
  '  /who                      list the members',
  '  /nick [name]              show your nick in this room, or set it',
  '  /nick --clear             go by your name (user@host) again',
  '  /history [n]              show the last n messages kept locally (default 20)',
  '  /msg <nick|contact> text  send a 1-1 message (a room nick or a contact\'s name or alias)',
  '  /query [nick|contact]     plain lines go 1-1 to them from now on; /query alone: back to the room',
  '  /paste                    type or paste several lines as one message (a line with . sends it)',
  '  /accept [id] [dir]        receive a file offered to you (the latest without an id) into dir (default: here)',
  '  /decline [id]             decline a file offered to you (the latest without an id)',
  '  /help                     this help',
  '  /quit                     leave the room (also Ctrl-C or Ctrl-D)',
  '  //text                    send a line that starts with /',
  'Tab completes nicks, commands and room names; a paste of several lines asks before sending',
];

export function parseChatInput(line: string): ChatInput {
  const text = line.replace(/\s+$/, '');
  if (text.trim() === '') return { kind: 'empty' };
  if (text.startsWith('//')) return { kind: 'say', text: text.slice(1) };
  if (!text.startsWith('/')) return { kind: 'say', text };
  const match = /^\/(\S+)\s*(.*)$/s.exec(text);
  const command = match?.[1]?.toLowerCase() ?? '';
  const rest = match?.[2]?.trim() ?? '';
  switch (command) {
    case 'me':
      return rest === '' ? { kind: 'error', message: 'usage: /me <action>' } : { kind: 'action', text: rest };
    case 'topic':
      return { kind: 'topic', text: rest === '' ? undefined : rest };
    case 'invite': {
      const [contact, ...why] = rest.split(/\s+/);
      if (contact === undefined || contact === '') return { kind: 'error', message: 'usage: /invite <contact> [reason]' };
      return { kind: 'invite', contact, reason: why.length > 0 ? why.join(' ') : undefined };
    }
    case 'who':
    case 'names':
      return { kind: 'who' };
    case 'nick':
      if (rest === '') return { kind: 'show-nick' };
      return { kind: 'nick', nick: rest === '--clear' ? undefined : rest };
    case 'history': {
      const limit = rest === '' ? 20 : Number(rest);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) return { kind: 'error', message: 'usage: /history [1-10000]' };
      return { kind: 'history', limit };
    }
    case 'msg': {
      const m = /^(\S+)\s+(.+)$/s.exec(rest);
      if (m === null) return { kind: 'error', message: 'usage: /msg <nick|contact> <text>' };
      return { kind: 'msg', to: m[1]!, text: m[2]! };
    }
    case 'query':
      if (/\s/.test(rest)) return { kind: 'error', message: 'usage: /query [nick|contact]' };
      return { kind: 'query', to: rest === '' ? undefined : rest };
    case 'accept': {
      const m = /^(\S+)?(?:\s+(.+))?$/s.exec(rest);
      return { kind: 'accept', id: m?.[1], dir: m?.[2] };
    }
    case 'decline':
      if (/\s/.test(rest)) return { kind: 'error', message: 'usage: /decline [id]' };
      return { kind: 'decline', id: rest === '' ? undefined : rest };
    case 'help':
    case '?':
      return { kind: 'help' };
    case 'quit':
    case 'exit':
    case 'leave':
    case 'part':
      return { kind: 'quit' };
    default:
      return { kind: 'error', message: `unknown command /${command} (try /help)` };
  }
}

import type { ContactJson, MemberJson } from '../../service/control-protocol.js';

/** Who `/msg x` or `/query x` means. */
export type PersonLookup =
  | { kind: 'found'; name: string }
  | { kind: 'none' }
  | { kind: 'ambiguous'; candidates: string[] };

/**
 * A nick is accepted wherever a contact is expected: `who` is a contact's
 * name (`user@host`), a contact's alias, or a room member's nick (or name).
 * Aliases and nicks are matched without regard to case; a name with `@` that
 * nobody shows yet is taken as written (the service waits for it to appear).
 * Several people behind one word is ambiguous: nothing is sent, the
 * candidates are shown.
 */
export function lookUpPerson(who: string, contacts: readonly ContactJson[], members: readonly MemberJson[]): PersonLookup {
  if (contacts.some((c) => c.name === who) || members.some((m) => m.member === who)) return { kind: 'found', name: who };
  const folded = who.toLowerCase();
  const candidates = new Set<string>();
  for (const c of contacts) if (c.alias !== null && c.alias.toLowerCase() === folded) candidates.add(c.name);
  for (const m of members) if (m.nick !== null && m.nick.toLowerCase() === folded) candidates.add(m.member);
  if (candidates.size === 1) return { kind: 'found', name: [...candidates][0]! };
  if (candidates.size > 1) return { kind: 'ambiguous', candidates: [...candidates].sort() };
  if (who.includes('@')) return { kind: 'found', name: who };
  return { kind: 'none' };
}

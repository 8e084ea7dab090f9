import type { Contact, PresenceStatus } from './contact.js';
import type { ResolvedService } from '../mdns/service-browser.js';
import { decodeTxt, encodeTxt, fitTxtValue } from '../mdns/records.js';

/** What we say about ourselves in the XEP-0174 TXT record (spec §6.1). */
export interface PresenceInfo {
  status: PresenceStatus;
  /** Status message; published as `msg` only when non-empty. */
  message?: string;
  nick?: string;
  first?: string;
  last?: string;
  email?: string;
  jid?: string;
  /** XEP-0115 caps: published as `node`, `hash`, `ver` together. */
  caps?: { node: string; hash: string; ver: string };
}

const STATUSES: ReadonlySet<string> = new Set<PresenceStatus>(['avail', 'away', 'dnd']);

/**
 * TXT strings in salut's order; unset values are left out, over-long values
 * are cut to fit one 255-byte TXT string rather than failing.
 */
export function presenceTxt(info: PresenceInfo, port: number): Uint8Array[] {
  const fit = (key: string, value: string | undefined): readonly [string, string | undefined] => [
    key,
    value === undefined ? undefined : fitTxtValue(key, value),
  ];
  return encodeTxt([
    ['txtvers', '1'],
    ['port.p2pj', String(port)],
    fit('nick', info.nick),
    fit('1st', info.first),
    fit('last', info.last),
    fit('email', info.email),
    fit('jid', info.jid),
    ['status', info.status],
    fit('msg', info.message === '' ? undefined : info.message),
    fit('node', info.caps?.node),
    fit('hash', info.caps?.hash),
    fit('ver', info.caps?.ver),
  ]);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** Display name rule of spec §6.2: `nick`, else `1st last` (either alone), else none. */
export function aliasFromTxt(txt: Record<string, string>): string | undefined {
  const nick = nonEmpty(txt['nick']);
  if (nick !== undefined) return nick;
  const parts = [nonEmpty(txt['1st']), nonEmpty(txt['last'])].filter((p): p is string => p !== undefined);
  return parts.length > 0 ? parts.join(' ') : undefined;
}

/**
 * A resolved `_presence._tcp` service as a contact. `status` values we do
 * not know keep the previous status (default `avail`); `port.p2pj` is ignored
 * in favour of the SRV port, as salut does. IPv6 link-local addresses get the
 * `%scope` of the interface they were learnt on, or they could not be connected to.
 */
export function contactFromService(service: ResolvedService, previous: Contact | undefined, scope?: string): Contact {
  const txt = decodeTxt(service.txt);
  const raw = txt['status'];
  const status: PresenceStatus = raw !== undefined && STATUSES.has(raw) ? (raw as PresenceStatus) : (previous?.status ?? 'avail');
  const contact: Contact = {
    name: service.instance,
    addresses: service.addresses.map((a) => (scope !== undefined && /^fe80:/i.test(a) && !a.includes('%') ? `${a}%${scope}` : a)),
    port: service.port,
    status,
    txt,
  };
  const message = nonEmpty(txt['msg']);
  if (message !== undefined) contact.message = message;
  const alias = aliasFromTxt(txt);
  if (alias !== undefined) contact.alias = alias;
  return contact;
}

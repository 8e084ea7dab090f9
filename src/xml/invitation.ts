import { XmlElement } from './xml-element.js';
import { NS_CLIENT, NS_CLIQUE } from './namespaces.js';

/** Body text salut puts in every invitation so that clients without Clique (iChat) show something. */
export const INVITATION_BODY = 'You got a Clique chatroom invitation';

/** A Clique room invitation (§5): where the inviter's room lives on the LAN. */
export interface CliqueInvitation {
  room: string;
  /** Multicast group (or any IP literal) the inviter is joined with, as text. */
  address: string;
  port: number;
  /** Optional message; '' when absent. */
  reason: string;
  /**
   * Other children of `<invite>` (e.g. OLPC `<properties>`), kept intact and
   * re-emitted after the known fields when building.
   */
  extensions: XmlElement[];
}

export interface InvitationAddressing {
  from?: string;
  to?: string;
}

/**
 * The fallback `<body>` for people whose client knows no Clique (a plain
 * XEP-0174 client such as Pidgin's Bonjour shows only this): who invites, to
 * which room, why, and how to join. salut never shows an invitation's body
 * (§5.3: the room code takes the stanza first), so this costs it nothing.
 * The by-address form works for a private (unadvertised) room too.
 */
export function invitationBody(invitation: { room: string; address: string; port: number; reason?: string }, inviter: string): string {
  const room = shellWord(invitation.room);
  const reason = invitation.reason !== undefined && invitation.reason !== '' ? ` (${invitation.reason})` : '';
  return (
    `${inviter} invites you to the room "${invitation.room}"${reason}. ` +
    `Join it with: clique join ${room} (or by address: clique join ${room} --address ${invitation.address} --port ${invitation.port})`
  );
}

/** A room name as one word for a POSIX shell. */
function shellWord(text: string): string {
  return /^[A-Za-z0-9._@+=:,-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * The invitation message as salut sends it (§5.1): `type="normal"`, `<body>`
 * before `<invite>`, and inside it `<roomname>`, `<reason>` only when
 * non-empty, `<address>`, `<port>`, then any extensions.
 */
export function buildInvitationMessage(
  invitation: Omit<CliqueInvitation, 'extensions' | 'reason'> & Partial<Pick<CliqueInvitation, 'extensions' | 'reason'>>,
  addressing: InvitationAddressing = {},
  body: string = INVITATION_BODY,
): XmlElement {
  const message = new XmlElement('message', NS_CLIENT, { type: 'normal', from: addressing.from, to: addressing.to });
  message.child('body', NS_CLIENT, {}, body);
  const invite = message.child('invite', NS_CLIQUE);
  invite.child('roomname', NS_CLIQUE, {}, invitation.room);
  if (invitation.reason !== undefined && invitation.reason !== '') invite.child('reason', NS_CLIQUE, {}, invitation.reason);
  invite.child('address', NS_CLIQUE, {}, invitation.address);
  invite.child('port', NS_CLIQUE, {}, String(invitation.port));
  for (const extension of invitation.extensions ?? []) invite.append(extension.clone());
  return message;
}

/** The `<invite xmlns="http://telepathy.freedesktop.org/xmpp/clique">` child, if the stanza carries one. */
export function findInvite(stanza: XmlElement): XmlElement | undefined {
  return stanza.getChild('invite', NS_CLIQUE);
}

export type InvitationReadResult =
  | { ok: true; invitation: CliqueInvitation }
  | { ok: false; reason: string };

const KNOWN_FIELDS = new Set(['roomname', 'reason', 'address', 'port']);

/**
 * Reads an invitation the way salut validates it (§5.3), leniently on form
 * and strictly on content: fields in any order and any namespace, unknown
 * children kept as extensions; `roomname` non-empty, `address` and `port`
 * present, port a decimal 1..65535. Whether the address is an IP literal is
 * left to the caller (the xml layer does not know about sockets).
 * Returns undefined if the stanza carries no Clique `<invite>` at all.
 */
export function readInvitation(stanza: XmlElement): InvitationReadResult | undefined {
  const invite = findInvite(stanza);
  if (invite === undefined) return undefined;
  const fields = new Map<string, XmlElement>();
  const extensions: XmlElement[] = [];
  for (const child of invite.elements()) {
    if (KNOWN_FIELDS.has(child.name) && !fields.has(child.name)) fields.set(child.name, child);
    else extensions.push(child);
  }
  const room = fields.get('roomname')?.text();
  if (room === undefined || room === '') return { ok: false, reason: 'missing or empty roomname' };
  const address = fields.get('address')?.text().trim();
  if (address === undefined || address === '') return { ok: false, reason: 'missing address' };
  const portText = fields.get('port')?.text().trim();
  if (portText === undefined) return { ok: false, reason: 'missing port' };
  if (!/^[0-9]{1,5}$/.test(portText)) return { ok: false, reason: `port ${JSON.stringify(portText)} is not a decimal number` };
  const port = Number(portText);
  if (port < 1 || port > 65535) return { ok: false, reason: `port ${port} out of range` };
  return { ok: true, invitation: { room, address, port, reason: fields.get('reason')?.text() ?? '', extensions } };
}

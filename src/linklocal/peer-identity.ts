import type { Contact, ContactDirectory } from './contact.js';
import { normalizeAddress } from './tcp-connect.js';

/**
 * Who is talking on an incoming XEP-0174 stream (spec §6.5, tightened).
 *
 * wocky believes a header `from` whatever the source address; salut itself
 * checks, for its direct bytestreams, that the connection comes from one of
 * the claimed contact's resolved addresses. We apply that check to every
 * stream: a header `from` is believed only if the connection's source address
 * is one the named contact advertises. Without `from` (iChat) the contact is
 * the one advertising the source address.
 *
 * A contact may be seen on the TCP stream before its mDNS records reach us
 * (both sides just started, or it moved to a new address): such streams are
 * neither accepted nor refused at once but wait, bounded, for the directory
 * to catch up ('wait').
 */
export type IdentityVerdict =
  | { kind: 'accept'; peer: string }
  | { kind: 'refuse'; reason: string }
  | { kind: 'wait'; reason: 'unknown-contact' | 'address-mismatch' | 'no-contact-at-address'; claimed?: string };

/** Address in the form contacts advertise it: IPv4-mapped IPv6 as IPv4, no IPv6 zone, lower case. */
export function comparableAddress(address: string): string {
  return normalizeAddress(address.replace(/%.*$/, '')).toLowerCase();
}

/** True if `contact` advertises `source` among its resolved addresses. */
export function advertises(contact: Contact, source: string): boolean {
  const wanted = comparableAddress(source);
  return contact.addresses.some((a) => comparableAddress(a) === wanted);
}

/** The verdict for a stream header `attrs` arriving from `source`. Pure: the caller decides how long to wait. */
export function identifyPeer(attrs: Readonly<Record<string, string>>, source: string | undefined, contacts: ContactDirectory, self: string): IdentityVerdict {
  const from = attrs['from'];
  if (from !== undefined && from !== '') {
    if (from === self) return { kind: 'refuse', reason: 'the header claims our own name' };
    if (source === undefined) return { kind: 'refuse', reason: 'no source address' };
    const contact = contacts.get(from);
    if (contact === undefined) return { kind: 'wait', reason: 'unknown-contact', claimed: from };
    if (!advertises(contact, source)) return { kind: 'wait', reason: 'address-mismatch', claimed: from };
    return { kind: 'accept', peer: from };
  }
  if (source === undefined) return { kind: 'refuse', reason: 'no from and no source address' };
  const contact = contacts.findByAddress(comparableAddress(source));
  if (contact === undefined) return { kind: 'wait', reason: 'no-contact-at-address' };
  if (contact.name === self) return { kind: 'refuse', reason: 'no from, and the source address is our own' };
  return { kind: 'accept', peer: contact.name };
}

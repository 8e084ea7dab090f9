/**
 * A person seen on the LAN through XEP-0174 (`_presence._tcp`). Shared between
 * the mDNS browser (which produces contacts) and the TCP stream layer (which
 * needs addresses to connect to and to identify header-less iChat peers).
 */
export type PresenceStatus = 'avail' | 'away' | 'dnd';

export interface Contact {
  /** XEP-0174 instance name, `user@host`: the contact's identity everywhere. */
  name: string;
  /** Resolved addresses (IPv4 or IPv6 literals), in the order to try them. */
  addresses: string[];
  /** SRV port of the contact's XEP-0174 TCP listener. */
  port: number;
  status: PresenceStatus;
  /** Status message (`msg`), if any. */
  message?: string;
  /** Display name: `nick`, else `1st last`, else undefined (show `name`). */
  alias?: string;
  /** All TXT keys as received (values decoded as UTF-8). */
  txt: Record<string, string>;
}

/** Read-only view of the live contact list. */
export interface ContactDirectory {
  get(name: string): Contact | undefined;
  /** First contact advertising this address (IPv4-mapped IPv6 normalised), for peers that omit `from`. */
  findByAddress(address: string): Contact | undefined;
  list(): Contact[];
}

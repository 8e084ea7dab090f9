import { createHash } from 'node:crypto';

/** Longer ids are remembered by their SHA-256, so a hostile sender's huge ids cost 64 bytes each. */
const MAX_KEPT_ID_LENGTH = 128;

/**
 * The message ids seen lately, per sender, for de-duplication: bounded, the
 * oldest forgotten first. rMulticast already delivers each message once; this
 * catches a sender (buggy or hostile) that sends the same id twice.
 */
export class RecentIds {
  private readonly seen = new Set<string>();

  constructor(private readonly capacity = 4096) {}

  /** Records the id; false if this sender already used it. */
  add(sender: string, id: string): boolean {
    const key = ownedKey(sender, id);
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    if (this.seen.size > this.capacity) {
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    return true;
  }
}

/**
 * A key that shares no memory with the stanza it came from. The XML parser
 * cuts attribute values out of the whole document, and V8 keeps such a slice
 * (and a string built from it) pointing into the parent: 4,096 remembered ids
 * held 4,096 whole messages alive (about 40 MB at 10 KB bodies, found by the
 * soak in bench/soak.ts). A round trip through bytes makes a fresh string.
 */
function ownedKey(sender: string, id: string): string {
  const kept = id.length > MAX_KEPT_ID_LENGTH ? `sha256:${createHash('sha256').update(id).digest('hex')}` : id;
  return Buffer.from(`${sender}\u0000${kept}`, 'utf8').toString('utf8');
}

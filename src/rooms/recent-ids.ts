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
    const key = `${sender}\u0000${id}`;
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    if (this.seen.size > this.capacity) {
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    return true;
  }
}

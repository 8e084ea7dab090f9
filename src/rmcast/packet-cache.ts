/**
 * One sender's cached packets, keyed by 32-bit packet id. Ids in use form a
 * sliding window (new ones at the end, acknowledged ones freed at the front),
 * so they live in a ring of slots indexed by `id - base`, grown by doubling.
 *
 * Why not a Map: every few hundred inserts a Map rehashes into a new table and
 * the old table, already promoted to V8's old generation, still points at the
 * young entries it held until the next full GC. The scavenger treats those
 * pointers as live, so nearly every cached packet was promoted and collected
 * only by mark-compact: about a third of the engine's time went to GC. The
 * ring is one long-lived array whose slots are cleared in place.
 *
 * Ids far outside the window (a hostile or confused sender) go to a small
 * overflow Map instead of growing the ring beyond MAX_RING_SLOTS.
 */
const INITIAL_SLOTS = 64;
const MAX_RING_SLOTS = 1 << 16;
const HALF_RANGE = 0x80000000;

export class PacketCache<T> {
  private slots: Array<T | undefined> = new Array<T | undefined>(INITIAL_SLOTS).fill(undefined);
  private mask = INITIAL_SLOTS - 1;
  /** The id stored at slot `head`. */
  private base = 0;
  private head = 0;
  private inRing = 0;
  private readonly overflow = new Map<number, T>();

  get size(): number {
    return this.inRing + this.overflow.size;
  }

  get(id: number): T | undefined {
    const offset = (id - this.base) >>> 0;
    if (offset <= this.mask) {
      const value = this.slots[(this.head + offset) & this.mask];
      if (value !== undefined) return value;
    }
    return this.overflow.size === 0 ? undefined : this.overflow.get(id);
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  set(id: number, value: T): void {
    if (this.inRing === 0) {
      // Empty ring: start the window here.
      this.base = id;
      this.head = 0;
    }
    let offset = (id - this.base) >>> 0;
    if (offset > this.mask && !this.makeRoom(id)) {
      this.overflow.set(id, value);
      return;
    }
    offset = (id - this.base) >>> 0;
    const index = (this.head + offset) & this.mask;
    if (this.slots[index] === undefined) this.inRing++;
    this.slots[index] = value;
    if (this.overflow.size > 0) this.overflow.delete(id);
  }

  delete(id: number): boolean {
    const offset = (id - this.base) >>> 0;
    if (offset <= this.mask) {
      const index = (this.head + offset) & this.mask;
      if (this.slots[index] !== undefined) {
        this.slots[index] = undefined;
        this.inRing--;
        if (offset === 0) this.advanceFront();
        return true;
      }
    }
    return this.overflow.size > 0 && this.overflow.delete(id);
  }

  clear(): void {
    this.slots.fill(undefined);
    this.inRing = 0;
    this.head = 0;
    this.overflow.clear();
  }

  /** A snapshot (safe to delete from while iterating), window order first. */
  values(): T[] {
    return this.entries().map(([, value]) => value);
  }

  /** A snapshot of [id, value] pairs (safe to delete from while iterating). */
  entries(): Array<[number, T]> {
    const out: Array<[number, T]> = [];
    if (this.inRing > 0) {
      for (let offset = 0; offset <= this.mask; offset++) {
        const value = this.slots[(this.head + offset) & this.mask];
        if (value !== undefined) out.push([(this.base + offset) >>> 0, value]);
      }
    }
    for (const entry of this.overflow) out.push(entry);
    return out;
  }

  [Symbol.iterator](): Iterator<[number, T]> {
    return this.entries()[Symbol.iterator]();
  }

  /** Keep the window starting at its oldest stored id, so it follows the sender. */
  private advanceFront(): void {
    while (this.inRing > 0 && this.slots[this.head] === undefined) {
      this.head = (this.head + 1) & this.mask;
      this.base = (this.base + 1) >>> 0;
    }
  }

  /** Make the window reach `id`: move its start back or grow the ring; false if that would take too many slots. */
  private makeRoom(id: number): boolean {
    const capacity = this.mask + 1;
    const used = this.usedSpan();
    const ahead = (id - this.base) >>> 0;
    const shift = ahead < HALF_RANGE ? 0 : (this.base - id) >>> 0;
    const needed = shift === 0 ? ahead + 1 : used + shift;
    if (needed > MAX_RING_SLOTS) return false;
    if (needed > capacity) {
      let newCapacity = capacity;
      while (newCapacity < needed) newCapacity *= 2;
      const slots = new Array<T | undefined>(newCapacity).fill(undefined);
      for (let offset = 0; offset < used; offset++) slots[offset] = this.slots[(this.head + offset) & this.mask];
      this.slots = slots;
      this.mask = newCapacity - 1;
      this.head = 0;
    }
    // The slots just before head are free: the stored span plus the shift fits.
    this.head = (this.head - shift) & this.mask;
    this.base = (this.base - shift) >>> 0;
    return true;
  }

  /** Offset one past the last stored id in the ring (0 when empty). */
  private usedSpan(): number {
    for (let offset = this.mask; offset >= 0; offset--) {
      if (this.slots[(this.head + offset) & this.mask] !== undefined) return offset + 1;
    }
    return 0;
  }
}

/**
 * What a D-Bus tube keeps for the application until it attaches (spec §7.4):
 * a FIFO bounded by the bytes of the messages it holds, not their number, so
 * a flood of small messages costs no more than one big one.
 */
export class DBusTubeInbox<T> {
  #items: { item: T; bytes: number }[] = [];
  #head = 0;
  #bytes = 0;

  constructor(readonly maxBytes: number) {}

  get bytes(): number {
    return this.#bytes;
  }

  get length(): number {
    return this.#items.length - this.#head;
  }

  /** False (and nothing kept) when `bytes` more would pass the bound. */
  push(item: T, bytes: number): boolean {
    if (bytes > this.maxBytes - this.#bytes) return false;
    this.#items.push({ item, bytes });
    this.#bytes += bytes;
    return true;
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const entry = this.#items[this.#head]!;
    this.#items[this.#head] = undefined as never; // let the message go
    this.#head += 1;
    this.#bytes -= entry.bytes;
    // compact now and then so the array does not keep a long dead prefix
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return entry.item;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
    this.#bytes = 0;
  }
}

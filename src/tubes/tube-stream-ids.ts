import { MAX_TUBE_STREAM_ID, MIN_TUBE_STREAM_ID } from './tube-types.js';

/**
 * Our rMulticast stream ids for D-Bus tube data in one room (spec §7.4): a
 * new tube takes the id after the last one handed out, wrapping 65535 → 1
 * and skipping ids still in use; 0 is stream 0 (XML) and never handed out.
 * Ids are per sender, so this is one member's allocator, not the room's.
 */
export class TubeStreamIds {
  readonly #inUse = new Set<number>();
  #last = 0;

  /** The next free id, or undefined when all 65535 are in use. */
  allocate(): number | undefined {
    if (this.#inUse.size >= MAX_TUBE_STREAM_ID - MIN_TUBE_STREAM_ID + 1) return undefined;
    let candidate = this.#last;
    do candidate = candidate >= MAX_TUBE_STREAM_ID ? MIN_TUBE_STREAM_ID : candidate + 1;
    while (this.#inUse.has(candidate));
    this.#inUse.add(candidate);
    this.#last = candidate;
    return candidate;
  }

  /** Frees an id when its tube closes; false if it was not in use. */
  release(id: number): boolean {
    return this.#inUse.delete(id);
  }

  has(id: number): boolean {
    return this.#inUse.has(id);
  }

  get size(): number {
    return this.#inUse.size;
  }
}

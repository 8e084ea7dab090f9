/**
 * Encoded packets are carved out of shared slabs. A fresh `new Uint8Array(n)`
 * above 64 bytes is an off-heap allocation of its own that V8 must track and
 * sweep; a sender keeps hundreds of its packets for repairs, so one slab per
 * ~100 packets costs far less garbage collection than one buffer each.
 * Slabs are never reused: a slab is freed only when no packet in it is still
 * referenced, and a new one is zero-filled, so no bytes of an old packet can
 * leak into a new one.
 */
const SLAB_BYTES = 16 * 1024;
/** Larger datagrams get their own buffer: they would waste most of a slab. */
const LARGEST_SLABBED = 2048;

let slab = new ArrayBuffer(SLAB_BYTES);
let used = 0;

/** A zero-filled view of `size` bytes for one datagram. */
export function allocateDatagram(size: number): Uint8Array {
  if (size > LARGEST_SLABBED) return new Uint8Array(size);
  if (used + size > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    used = 0;
  }
  const view = new Uint8Array(slab, used, size);
  used += size;
  return view;
}

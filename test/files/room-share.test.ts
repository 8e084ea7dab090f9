import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { buildShareOffer, readShareOffer, ShareReceiver, streamShare, NS_CLIQUE_FILES } from '../../src/files/room-share.js';
import { SafeReceiver } from '../../src/files/safe-receiver.js';
import { el } from '../../src/xml/xml-element.js';
import { serializeElement } from '../../src/xml/xml-serialize.js';
import { assertProperty, propertySeed } from '../support/fast-check-seed.js';

const seed = propertySeed();
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'clique-share-'));
  dirs.push(dir);
  return dir;
}
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const OFFER = { id: 's1', name: 'film.mkv', size: 123, sha256: 'ab'.repeat(32), mimeType: 'video/x-matroska', streamId: 7 };

describe('the room share offer (stream 0)', () => {
  it('is one <share> element that reads back; malformed ones are ignored', () => {
    expect(serializeElement(buildShareOffer(OFFER))).toBe(
      `<share xmlns="urn:x-clique:files:0" id="s1" name="film.mkv" size="123" sha256="${'ab'.repeat(32)}" mime-type="video/x-matroska" stream="7"/>`,
    );
    expect(readShareOffer(buildShareOffer(OFFER))).toEqual(OFFER);
    for (const [attr, value] of [['stream', '0'], ['stream', '65536'], ['size', '-1'], ['size', '1.5'], ['sha256', 'AB'.repeat(32)], ['sha256', 'ab'], ['name', ''], ['id', '']] as const) {
      expect(readShareOffer(buildShareOffer(OFFER).setAttr(attr, value)), `${attr}=${value}`).toBeUndefined();
    }
    expect(readShareOffer(el('share', 'urn:other'))).toBeUndefined();
  });

  it('the reader never throws, and what it accepts is in range (fast-check)', () => {
    const value = fc.oneof(fc.string({ maxLength: 70 }), fc.nat().map(String), fc.constant('ab'.repeat(32)));
    assertProperty(
      fc.property(fc.dictionary(fc.constantFrom('id', 'name', 'size', 'sha256', 'mime-type', 'stream'), value), (attrs) => {
        const read = readShareOffer(el('share', NS_CLIQUE_FILES, attrs));
        if (read !== undefined) {
          expect(read.streamId >= 1 && read.streamId <= 65535).toBe(true);
          expect(Number.isSafeInteger(read.size) && read.size >= 0).toBe(true);
          expect(read.sha256).toMatch(/^[0-9a-f]{64}$/);
        }
      }),
      seed,
      { numRuns: 500 },
    );
  });
});

/** A stand-in for the room's data stream: each send is delivered later, in order, like rMulticast. */
function fakeStream(deliver: (chunk: Uint8Array) => void): { send: (chunk: Uint8Array) => Promise<void>; maxInFlight: () => number } {
  let inFlight = 0;
  let max = 0;
  return {
    send: (chunk) => {
      inFlight += 1;
      max = Math.max(max, inFlight);
      return new Promise((resolve) =>
        setImmediate(() => {
          deliver(Uint8Array.from(chunk));
          inFlight -= 1;
          resolve();
        }),
      );
    },
    maxInFlight: () => max,
  };
}

describe('streaming a share and receiving it', () => {
  it('a file goes through in chunks, one in flight at a time, and arrives verified under its name', async () => {
    const bytes = randomBytes(5 * 1024 * 1024 + 17);
    const src = join(freshDir(), 'film.bin');
    writeFileSync(src, bytes);
    const dir = freshDir();
    const progress: number[] = [];
    const receiver = new ShareReceiver(await SafeReceiver.open({ dir, name: 'film.bin', expectedSize: bytes.length, sha256: sha(bytes), maxBytes: 1e9 }), bytes.length, undefined, (n) => progress.push(n));
    const stream = fakeStream((chunk) => receiver.push(chunk));
    await streamShare(src, bytes.length, stream.send);
    expect(await receiver.done).toBe(join(dir, 'film.bin'));
    expect(sha(readFileSync(join(dir, 'film.bin')))).toBe(sha(bytes));
    expect(stream.maxInFlight()).toBe(1);
    expect(progress.at(-1)).toBe(bytes.length);
    expect(readdirSync(dir)).toEqual(['film.bin']);
  });

  it('a wrong hash, more than offered, or a cancel mid-way fail only that share and leave nothing', async () => {
    const bytes = randomBytes(300_000);
    const src = join(freshDir(), 'x.bin');
    writeFileSync(src, bytes);
    const dir = freshDir();

    const wrongHash = new ShareReceiver(await SafeReceiver.open({ dir, name: 'x.bin', expectedSize: bytes.length, sha256: sha(Buffer.from('other')), maxBytes: 1e9 }), bytes.length);
    await streamShare(src, bytes.length, fakeStream((c) => wrongHash.push(c)).send);
    await expect(wrongHash.done).rejects.toMatchObject({ code: 'file-hash-mismatch' });

    const short = 1000;
    const tooMuch = new ShareReceiver(await SafeReceiver.open({ dir, name: 'x.bin', expectedSize: short, maxBytes: 1e9 }), short);
    tooMuch.push(bytes.subarray(0, short + 1));
    await expect(tooMuch.done).rejects.toMatchObject({ code: 'file-too-large' });

    const cancelled = new ShareReceiver(await SafeReceiver.open({ dir, name: 'x.bin', expectedSize: bytes.length, maxBytes: 1e9 }), bytes.length);
    cancelled.push(bytes.subarray(0, 1000));
    cancelled.cancel();
    await expect(cancelled.done).rejects.toMatchObject({ code: 'file-cancelled' });

    const abort = new AbortController();
    let sends = 0;
    await expect(
      streamShare(src, bytes.length, async () => {
        if (++sends === 2) abort.abort();
      }, { chunkBytes: 1000, signal: abort.signal }),
    ).rejects.toMatchObject({ code: 'file-cancelled' });
    await new Promise((r) => setTimeout(r, 50));
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a receiver whose disk falls too far behind fails rather than buffering without bound', async () => {
    const dir = freshDir();
    const receiver = new ShareReceiver(await SafeReceiver.open({ dir, name: 'y', expectedSize: 10_000, maxBytes: 1e9 }), 10_000, 2_000);
    for (let i = 0; i < 5; i++) receiver.push(new Uint8Array(1000));
    await expect(receiver.done).rejects.toMatchObject({ code: 'file-no-space' });
  });
});

import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { appleSingleHeader, APPLE_SINGLE_HEADER_BYTES, wantsAppleSingle } from '../../src/files/apple-single.js';
import { clashName, MAX_NAME_BYTES, sanitizeFileName } from '../../src/files/file-name.js';
import { FileTransferError } from '../../src/files/file-transfer-error.js';
import { SafeReceiver } from '../../src/files/safe-receiver.js';
import { assertProperty, propertySeed } from '../support/fast-check-seed.js';

const seed = propertySeed();
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'clique-files-'));
  dirs.push(dir);
  return dir;
}
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function rejection(p: Promise<unknown>): Promise<FileTransferError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(FileTransferError);
    return e as FileTransferError;
  }
  throw new Error('expected a rejection');
}

describe('file names from peers', () => {
  it('keeps ordinary names and cuts every path, hiding dot, device name and control character', () => {
    expect(sanitizeFileName('notes today.txt')).toBe('notes today.txt');
    expect(sanitizeFileName('Ünïcödé 写真.jpg')).toBe('Ünïcödé 写真.jpg');
    expect(sanitizeFileName('../../etc/passwd')).toBe('passwd');
    expect(sanitizeFileName('..\\..\\windows\\system.ini')).toBe('system.ini');
    expect(sanitizeFileName('/abs/path/x')).toBe('x');
    expect(sanitizeFileName('..')).toBe('file');
    expect(sanitizeFileName('.')).toBe('file');
    expect(sanitizeFileName('')).toBe('file');
    expect(sanitizeFileName('.bashrc')).toBe('bashrc');
    expect(sanitizeFileName('CON')).toBe('_CON');
    expect(sanitizeFileName('nul.txt')).toBe('_nul.txt');
    expect(sanitizeFileName('com1.tar.gz')).toBe('_com1.tar.gz');
    expect(sanitizeFileName('console.txt')).toBe('console.txt');
    expect(sanitizeFileName('a\u0000b\nc\u001b[31m.txt')).toBe('abc[31m.txt');
    expect(sanitizeFileName('invoice\u202etxt.exe')).toBe('invoicetxt.exe');
    expect(sanitizeFileName('what?<>|*:".txt')).toBe('what_______.txt');
    expect(sanitizeFileName('trailing. . ')).toBe('trailing');
    const long = `${'é'.repeat(300)}.tar.gz`;
    const cut = sanitizeFileName(long);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(MAX_NAME_BYTES);
    expect(cut.endsWith('.gz')).toBe(true);
  });

  it('clash names go name (n).ext', () => {
    expect(clashName('notes.txt', 0)).toBe('notes.txt');
    expect(clashName('notes.txt', 1)).toBe('notes (1).txt');
    expect(clashName('archive.tar.gz', 2)).toBe('archive.tar (2).gz');
    expect(clashName('README', 3)).toBe('README (3)');
  });

  it('any name becomes one plain, visible, bounded file name (fast-check)', () => {
    const piece = fc.oneof(fc.string({ unit: 'binary', maxLength: 30 }), fc.constantFrom('..', '/', '\\', '.', 'CON', 'nul', ' ', '\u202e', '\u0000'));
    assertProperty(
      fc.property(fc.array(piece, { maxLength: 12 }).map((p) => p.join('')), (raw) => {
        const name = sanitizeFileName(raw);
        expect(name.length).toBeGreaterThan(0);
        expect(Buffer.byteLength(name)).toBeLessThanOrEqual(MAX_NAME_BYTES);
        expect(name).not.toMatch(/[/\\<>:"|?*]/);
        // eslint-disable-next-line no-control-regex
        expect(name).not.toMatch(/[\u0000-\u001f\u007f\u202a-\u202e]/);
        expect(name.startsWith('.')).toBe(false);
        expect(name).not.toMatch(/^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i);
        expect(sanitizeFileName(name)).toBe(name);
      }),
      seed,
      { numRuns: 1000 },
    );
  });
});

describe('AppleSingle header (spec §8.3)', () => {
  it('is 38 bytes: magic, version, 16 zero bytes, one data-fork entry at offset 38 with the file length', () => {
    const h = appleSingleHeader(0x01020304);
    expect(h.length).toBe(APPLE_SINGLE_HEADER_BYTES);
    expect(h.toString('hex')).toBe('00051600' + '00020000' + '00'.repeat(16) + '0001' + '00000001' + '00000026' + '01020304');
    expect(() => appleSingleHeader(2 ** 32)).toThrow(RangeError);
  });

  it('is asked for by Accept-Encoding in any case', () => {
    expect(wantsAppleSingle('AppleSingle')).toBe(true);
    expect(wantsAppleSingle('gzip, applesingle;q=1')).toBe(true);
    expect(wantsAppleSingle('gzip')).toBe(false);
    expect(wantsAppleSingle(undefined)).toBe(false);
  });
});

describe('SafeReceiver', () => {
  it('writes into name.part, checks the hash, then puts the file under its name', async () => {
    const dir = freshDir();
    const data = Buffer.from('hello, world');
    const r = await SafeReceiver.open({ dir, name: 'greeting.txt', expectedSize: data.length, sha256: sha(data), maxBytes: 1e9 });
    await r.write(data.subarray(0, 5));
    expect(readdirSync(dir)).toEqual(['greeting.txt.part']);
    await r.write(data.subarray(5));
    const path = await r.finish();
    expect(path).toBe(join(dir, 'greeting.txt'));
    expect(readFileSync(path, 'utf8')).toBe('hello, world');
    expect(readdirSync(dir)).toEqual(['greeting.txt']);
  });

  it('never overwrites: a clash takes name (1).ext, and a traversal name lands inside the directory', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'a.txt'), 'mine');
    const r = await SafeReceiver.open({ dir, name: '../a.txt', maxBytes: 100 });
    await r.write(Buffer.from('theirs'));
    expect(await r.finish()).toBe(join(dir, 'a (1).txt'));
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('mine');
  });

  it('a hash mismatch, a short body or an oversize body leaves nothing behind', async () => {
    const dir = freshDir();
    const bad = await SafeReceiver.open({ dir, name: 'x', expectedSize: 3, sha256: sha(Buffer.from('abc')), maxBytes: 100 });
    await bad.write(Buffer.from('abd'));
    expect((await rejection(bad.finish())).code).toBe('file-hash-mismatch');
    const short = await SafeReceiver.open({ dir, name: 'x', expectedSize: 3, maxBytes: 100 });
    await short.write(Buffer.from('ab'));
    expect((await rejection(short.finish())).code).toBe('file-short');
    const long = await SafeReceiver.open({ dir, name: 'x', expectedSize: 3, maxBytes: 100 });
    expect((await rejection(long.write(Buffer.from('abcd')))).code).toBe('file-too-large');
    await long.abort();
    const unbounded = await SafeReceiver.open({ dir, name: 'x', maxBytes: 5 });
    await unbounded.write(Buffer.from('12345'));
    expect((await rejection(unbounded.write(Buffer.from('6')))).code).toBe('file-too-large');
    await unbounded.abort();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses before writing a file above the limit or above the free space', async () => {
    const dir = freshDir();
    expect((await rejection(SafeReceiver.open({ dir, name: 'x', expectedSize: 101, maxBytes: 100 }))).code).toBe('file-too-large');
    expect((await rejection(SafeReceiver.open({ dir, name: 'x', expectedSize: Number.MAX_SAFE_INTEGER, maxBytes: Number.MAX_SAFE_INTEGER }))).code).toBe('file-no-space');
    expect(readdirSync(dir)).toEqual([]);
  });
});

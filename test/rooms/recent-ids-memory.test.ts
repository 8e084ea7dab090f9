import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RecentIds } from '../../src/rooms/recent-ids.js';

const ROOT = resolve(import.meta.dirname, '../..');

describe('RecentIds', () => {
  it('says whether a sender used an id before, per sender, forgetting the oldest beyond its capacity', () => {
    const ids = new RecentIds(3);
    expect(ids.add('a@x', '1')).toBe(true);
    expect(ids.add('a@x', '1')).toBe(false);
    expect(ids.add('b@x', '1')).toBe(true);
    ids.add('a@x', '2');
    ids.add('a@x', '3');
    expect(ids.add('a@x', '1')).toBe(true); // forgotten: the oldest went first
    const long = 'x'.repeat(10_000);
    expect(ids.add('a@x', long)).toBe(true);
    expect(ids.add('a@x', long)).toBe(false);
  });

  it('keeps no received document alive through the ids it remembers (the soak found 4,096 whole stanzas held)', () => {
    // In a child with --expose-gc: 2,000 ids cut out of 100 KB documents, as the XML parser cuts them.
    const script = `
      const { RecentIds } = await import(${JSON.stringify(resolve(ROOT, 'src/rooms/recent-ids.ts'))});
      const ids = new RecentIds(4096);
      for (let i = 0; i < 2000; i++) {
        const documentText = '<message id="m' + i + '-' + 'y'.repeat(20) + '">' + 'z'.repeat(100_000) + String(i) + '</message>';
        const id = documentText.slice(13, documentText.indexOf('"', 13));
        ids.add('alice@host', id);
      }
      globalThis.gc(); globalThis.gc();
      process.stdout.write(String(process.memoryUsage().heapUsed));
    `;
    const run = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    const heapUsed = Number(run.stdout);
    // Held documents would be 2,000 x 100 KB = 200 MB; the ids themselves are a few hundred KB.
    expect(heapUsed).toBeGreaterThan(0);
    expect(heapUsed).toBeLessThan(40 * 1024 * 1024);
  });
});

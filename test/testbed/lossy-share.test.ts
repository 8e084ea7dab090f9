import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canLoseFrames, canRunTestbed, startTestbed, type Testbed } from '../support/testbed.js';
import { waitFor } from '../support/wait.js';
import { describeMembers, sees, spawnMember, type Member } from './testbed-members.js';

/*
 * Issue 12 item 2 under loss: three hosts on a bridge that drops 10 % of the
 * frames each host sends (independently per receiver). Ann shares a file once;
 * ben and cat take every share, and each ends with the file, SHA-256 matching,
 * recovered by rMulticast's repairs.
 */
let testbed: Testbed | undefined;
const members: Member[] = [];
const dirs: string[] = [];

afterAll(() => {
  for (const m of members) m.child.kill('SIGKILL');
  testbed?.down();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'clique-lossy-share-'));
  dirs.push(dir);
  return dir;
}

function startSharer(bed: Testbed, host: number, name: string, group: string, port: number, dir: string): Member {
  return spawnMember(bed, host, name, 'share-member.ts', [group, String(port), dir], members);
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe.skipIf(!canRunTestbed() || !canLoseFrames())('a room share over a bridge losing 10 % of frames (real processes, namespaces)', () => {
  it('a 50 MB file shared once reaches both other members with the SHA-256 matching', async () => {
    const bed = startTestbed(3);
    testbed = bed;
    for (const host of [1, 2, 3]) bed.loseFrom(host, 10);
    const group = '239.255.71.79';
    const port = 20_000 + ((process.pid + 11) % 20_000);
    const [annDir, benDir, catDir] = [freshDir(), freshDir(), freshDir()];
    const ann = startSharer(bed, 1, 'ann@n1', group, port, annDir);
    const ben = startSharer(bed, 2, 'ben@n2', group, port, benDir);
    const cat = startSharer(bed, 3, 'cat@n3', group, port, catDir);
    await waitFor(`all three see each other\n${describeMembers(members)}`, () => members.every((m) => members.every((o) => o === m || sees(m, o.name))), 90_000);

    const bytes = randomBytes(50 * 1024 * 1024);
    const src = join(freshDir(), 'lossy.bin');
    writeFileSync(src, bytes);
    ann.say(src);
    const done = (m: Member): Record<string, unknown> | undefined => m.events.find((e) => e['event'] === 'done');
    await waitFor(`everyone done\n${describeMembers(members)}`, () => members.every((m) => done(m) !== undefined), 480_000);
    const lost = bed.framesLost();
    console.log(`lossy share: ${lost} frames dropped`);
    expect(lost).toBeGreaterThan(100);
    expect(done(ann)).toMatchObject({ direction: 'out', state: 'sent', bytes: bytes.length });
    for (const [m, dir] of [[ben, benDir], [cat, catDir]] as const) {
      expect(done(m), m.name).toMatchObject({ direction: 'in', state: 'received', peer: 'ann@n1', bytes: bytes.length });
      expect(readdirSync(dir), m.name).toEqual(['lossy.bin']);
      expect(sha256(readFileSync(join(dir, 'lossy.bin'))), m.name).toBe(sha256(bytes));
    }
    expect(readdirSync(annDir)).toEqual([]);
  }, 600_000);
});

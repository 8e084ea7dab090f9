import { afterAll, describe, expect, it } from 'vitest';
import { canLoseFrames, canRunTestbed, startTestbed, type Testbed } from '../support/testbed.js';
import { waitFor } from '../support/wait.js';
import { describeMembers, sees, startMember, texts, type Member } from './testbed-members.js';

/*
 * Issue 10 over real sockets: three hosts on a bridge that drops 10 % of the
 * frames each host sends, independently per receiver. The members join with
 * the default (fast) timers, chat, and every line reaches everyone exactly
 * once and in order, recovered by repairs; nobody is declared failed on the
 * lossy link (the learned silence limit), with the default failure timeout.
 */

let testbed: Testbed | undefined;
const members: Member[] = [];

afterAll(() => {
  for (const m of members) m.child.kill('SIGKILL');
  testbed?.down();
});

function start(bed: Testbed, host: number, name: string, group: string, port: number): Member {
  return startMember(bed, host, name, { group, port, failureTimeoutMs: 30_000 }, members);
}

const describeAll = (): string => describeMembers(members);

describe.skipIf(!canRunTestbed() || !canLoseFrames())('a bridge of three hosts losing 10 % of frames (real processes, namespaces)', () => {
  it('members join, chat, and every line reaches everyone once and in order; nobody is declared failed', async () => {
    const bed = startTestbed(3);
    testbed = bed;
    for (const host of [1, 2, 3]) bed.loseFrom(host, 10);
    const group = '239.255.71.78';
    const port = 20_000 + ((process.pid + 7) % 20_000);
    start(bed, 1, 'ann@n1', group, port);
    start(bed, 2, 'ben@n2', group, port);
    start(bed, 3, 'cat@n3', group, port);
    const everyoneSeesEveryone = (): boolean => members.every((m) => members.every((o) => o === m || sees(m, o.name)));
    await waitFor(`all three see each other\n${describeAll()}`, everyoneSeesEveryone, 90_000);

    const count = 40;
    const said = new Map<string, string[]>(members.map((m) => [m.name, []]));
    for (let i = 1; i <= count; i++) {
      for (const m of members) {
        const text = `${m.name.split('@')[0]}-${i}`;
        m.say(text);
        said.get(m.name)!.push(text);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const expectedFrom = (m: Member, sender: Member): string[] => said.get(sender.name)!;
    await waitFor(
      `every line everywhere\n${members.map((m) => `${m.name} has ${texts(m).length}`).join('\n')}\n${describeAll()}`,
      () => members.every((m) => texts(m).length >= 2 * count),
      120_000,
    );
    // Ten more seconds of quiet on the lossy link: nobody is declared failed.
    await new Promise((r) => setTimeout(r, 10_000));
    const lost = bed.framesLost();
    console.log(`lossy bridge: ${lost} frames dropped`);
    expect(lost).toBeGreaterThan(20);
    for (const m of members) {
      for (const sender of members) {
        if (sender === m) continue;
        const prefix = `${sender.name.split('@')[0]}-`;
        expect(texts(m).filter((t) => t.startsWith(prefix)), `${m.name} from ${sender.name}`).toEqual(expectedFrom(m, sender));
      }
      expect(texts(m), m.name).toHaveLength(2 * count);
      expect(m.events.filter((e) => e['event'] === 'member-left'), m.name).toEqual([]);
      expect(m.events.filter((e) => e['event'] === 'send-failed'), m.name).toEqual([]);
    }
  }, 300_000);
});

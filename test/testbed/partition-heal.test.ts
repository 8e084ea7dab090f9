import { afterAll, describe, expect, it } from 'vitest';
import { canRunTestbed, startTestbed, type Testbed } from '../support/testbed.js';
import { waitFor } from '../support/wait.js';
import { describeMembers, received, sees, startMember, texts, type Member } from './testbed-members.js';

/*
 * No silent loss across a partition (issue 15): three hosts on a bridge, one
 * cut off long enough to be declared failed on both sides, everyone talking
 * all the while; after the heal every line said on either side reaches
 * everyone, exactly once. Real processes, real UDP multicast over veth, in
 * network namespaces of this test's own (needs root, as CI has).
 */

const FAILURE_TIMEOUT_MS = 4_000;
let testbed: Testbed | undefined;
const members: Member[] = [];

afterAll(() => {
  for (const m of members) m.child.kill('SIGKILL');
  testbed?.down();
});

function start(bed: Testbed, host: number, name: string, group: string, port: number): Member {
  return startMember(bed, host, name, { group, port, failureTimeoutMs: FAILURE_TIMEOUT_MS }, members);
}

const describeAll = (): string => describeMembers(members);

async function sayAll(prefix: string, count: number): Promise<string[]> {
  const said: string[] = [];
  for (let i = 1; i <= count; i++) {
    for (const m of members) {
      const text = `${m.name.split('@')[0]}-${prefix}-${i}`;
      m.say(text);
      said.push(text);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  return said;
}

describe.skipIf(!canRunTestbed())('partition and heal on a bridge of three hosts (real processes, namespaces)', () => {
  it('every line said on both sides of a partition reaches everyone after the heal, exactly once', async () => {
    const bed = startTestbed(3);
    testbed = bed;
    const group = '239.255.71.77';
    const port = 20_000 + (process.pid % 20_000);
    const [a, b, c] = [start(bed, 1, 'ann@n1', group, port), start(bed, 2, 'ben@n2', group, port), start(bed, 3, 'cat@n3', group, port)] as [Member, Member, Member];
    const everyoneSeesEveryone = (): boolean => members.every((m) => members.every((o) => o === m || sees(m, o.name)));
    await waitFor(`all three see each other\n${describeAll()}`, everyoneSeesEveryone, 90_000);

    const said: string[] = [];
    said.push(...(await sayAll('before', 2)));
    await waitFor(`the first lines everywhere\n${describeAll()}`, () => members.every((m) => said.filter((t) => !t.startsWith(m.name.split('@')[0]!)).every((t) => texts(m).includes(t))), 60_000);

    // The cut: cat hears nobody and nobody hears cat. Lines said now are lost to the other side until the heal.
    bed.cut(3);
    said.push(...(await sayAll('cut', 3)));
    await waitFor(
      `both sides declare the other lost\n${describeAll()}`,
      () => !sees(a, c.name) && !sees(b, c.name) && !sees(c, a.name) && !sees(c, b.name),
      90_000,
    );
    said.push(...(await sayAll('apart', 2)));

    bed.uncut(3);
    await waitFor(`the room heals\n${describeAll()}`, everyoneSeesEveryone, 120_000);
    const expectedAt = (m: Member): string[] => said.filter((t) => !t.startsWith(`${m.name.split('@')[0]}-`)).sort();
    await waitFor(
      `every line everywhere after the heal\n${members.map((m) => `${m.name} misses ${JSON.stringify(expectedAt(m).filter((t) => !texts(m).includes(t)))}`).join('\n')}\n${describeAll()}`,
      () => members.every((m) => expectedAt(m).every((t) => texts(m).includes(t))),
      120_000,
    );
    for (const m of members) {
      // Exactly once: by text (each text is unique) and by id.
      expect([...texts(m)].sort(), m.name).toEqual(expectedAt(m));
      const ids = received(m).map((e) => `${String(e['sender'])} ${String(e['id'])}`);
      expect(new Set(ids).size, m.name).toBe(ids.length);
    }
    // What crossed the partition late came as lines sent again (XEP-0203), and nobody's send failed.
    expect(received(c).some((e) => e['delayed'] === true)).toBe(true);
    expect(members.flatMap((m) => m.events.filter((e) => e['event'] === 'send-failed'))).toEqual([]);
  }, 420_000);
});

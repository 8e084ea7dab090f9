import { afterEach, describe, expect, it } from 'vitest';
import { cleanUp, person, run, servicePid } from './service-people.js';

/**
 * `clique contacts` and `clique rooms` as clients of the person's service
 * (real processes, run inside `unshare -n`): they list what the service sees;
 * a service started by the command first browses for --timeout.
 */
afterEach(cleanUp, 60_000);

describe('contacts and rooms through the service', () => {
  it('list the people and rooms the service sees', async () => {
    const alice = person('disc-a');
    const bob = person('disc-b');
    expect((await run(bob, ['up', '--daemon', '--nick', 'Bob'])).code).toBe(0);
    const room = `Lair${process.pid}`;
    const created = await run(bob, ['send', room, 'anyone?', '--create']);
    expect(created.code).toBe(0);

    // Starts alice's service, which browses --timeout first.
    const first = await run(alice, ['contacts', '--json', '--timeout', '3000']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(servicePid(alice)).toBeDefined();
    const bobEntry = (JSON.parse(first.stdout) as Array<{ name: string; alias: string | null }>).find((c) => c.alias === 'Bob');
    expect(bobEntry).toBeDefined();
    // The service is running now: the list comes at once and holds the same person.
    const again = await run(alice, ['contacts']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`${bobEntry!.name} (Bob)  avail`);

    const rooms = await run(alice, ['rooms', '--json']);
    expect(rooms.stderr).toBe('');
    expect(rooms.code).toBe(0);
    expect(JSON.parse(rooms.stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ name: room, address: expect.stringMatching(/^239\./) as unknown as string })]));
  }, 120_000);
});

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { LinkLocalPresence } from '../../src/linklocal/presence-service.js';
import { RoomDirectory } from '../../src/linklocal/room-directory.js';
import { waitFor } from '../support/wait.js';
import { repoRoot, runClique, type CliRun } from '../support/cli-runner.js';


function clique(...args: string[]): Promise<CliRun> {
  return runClique(args);
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const id = (): string => randomBytes(4).toString('hex');

describe('clique rooms / clique contacts over loopback mDNS', () => {
  it('clique rooms --json lists a room a test responder advertises', async () => {
    const rooms = await RoomDirectory.open({ interface: '127.0.0.1' });
    cleanups.push(() => rooms.close());
    const room = { name: `cli-room-${id()}`, address: '239.255.71.42', port: 40400 };
    expect(await rooms.advertise(room)).toBe('advertised');
    const run = await clique('rooms', '--no-service', '--json', '--interface', '127.0.0.1', '--timeout', '3000');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const listed = JSON.parse(run.stdout) as unknown[];
    expect(listed).toContainEqual(room);
  });

  it('clique contacts --json lists a published presence with status, alias and message', async () => {
    const user = `cli${id()}`;
    const presence = await LinkLocalPresence.start({ interface: '127.0.0.1', user, host: 'clihost', port: 5300, info: { nick: 'Cli', status: 'away', message: 'brb' } });
    cleanups.push(() => presence.stop());
    const run = await clique('contacts', '--no-service', '--json', '-i', '127.0.0.1', '--timeout', '3000');
    expect(run.code).toBe(0);
    const listed = JSON.parse(run.stdout) as Array<Record<string, unknown>>;
    expect(listed.find((c) => c['name'] === presence.name)).toMatchObject({
      alias: 'Cli',
      status: 'away',
      message: 'brb',
      addresses: ['127.0.0.1'],
      port: 5300,
    });
  });

  it('clique contacts --watch --json follows a contact arriving, changing and leaving', async () => {
    const user = `watch${id()}`;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'contacts', '--no-service', '--watch', '--json', '-i', '127.0.0.1', '--timeout', '60000'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const events: Array<{ event: string; contact: { name: string; status: string; message: string | null } }> = [];
    createInterface({ input: child.stdout }).on('line', (line) => events.push(JSON.parse(line) as (typeof events)[number]));
    const mine = (): typeof events => events.filter((e) => e.contact.name === `${user}@clihost`);
    const seen = (): string => `\nevents: ${JSON.stringify(mine())}\nstderr: ${stderr}`;

    const presence = await LinkLocalPresence.start({ interface: '127.0.0.1', user, host: 'clihost', port: 5301 });
    // Whether the CLI browses before or after our announcement, it reports us as added.
    await waitFor(() => `added${seen()}`, () => mine().length === 1);
    presence.setStatus('dnd', 'coding');
    await waitFor(() => `updated${seen()}`, () => mine().length === 2);
    await presence.stop();
    await waitFor(() => `removed${seen()}`, () => mine().length === 3);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toBe('');
    expect(mine().map((e) => e.event)).toEqual(['contact-added', 'contact-updated', 'contact-removed']);
    expect(mine()[0]?.contact).toMatchObject({ status: 'avail', message: null });
    expect(mine()[1]?.contact).toMatchObject({ status: 'dnd', message: 'coding' });
  });

  it('a bad --interface is a one-line usage error (exit 2)', async () => {
    const run = await clique('rooms', '--no-service', '--interface', '192.0.2.123', '--timeout', '100');
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toEqual(['clique: --interface: no local IPv4 interface has address 192.0.2.123']);
  });
});

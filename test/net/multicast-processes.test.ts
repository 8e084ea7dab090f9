import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { LOOPBACK, testGroup } from '../support/multicast-helpers.js';
import { waitFor } from '../support/wait.js';

/**
 * Three `clique node NAME --group G --port P --interface 127.0.0.1` processes
 * chat over real loopback multicast; one leaves with /quit, one is SIGKILLed
 * and the survivor reports it lost after the (shortened) failure timeout.
 */
interface ChatProcess {
  name: string;
  child: ChildProcessWithoutNullStreams;
  lines: string[];
  stderr: string;
  exitCode: number | null | undefined;
}

const processes: ChatProcess[] = [];

function startChat(name: string, where: { group: string; port: number }, failureTimeoutMs = 4000, env: NodeJS.ProcessEnv = process.env): ChatProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'node', name, '--group', where.group, '--port', String(where.port), '--interface', LOOPBACK, '--failure-timeout-ms', String(failureTimeoutMs)],
    { cwd: process.cwd(), env },
  );
  const chat: ChatProcess = { name, child, lines: [], stderr: '', exitCode: undefined };
  createInterface({ input: child.stdout }).on('line', (line) => chat.lines.push(line));
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (chat.stderr += chunk));
  child.on('exit', (code) => (chat.exitCode = code));
  processes.push(chat);
  return chat;
}

const has = (chat: ChatProcess, line: string) => (): boolean => chat.lines.includes(line);

afterEach(async () => {
  await Promise.all(
    processes.splice(0).map(
      (p) =>
        new Promise<void>((resolve) => {
          if (p.exitCode !== undefined) return resolve();
          p.child.once('exit', () => resolve());
          p.child.kill('SIGKILL');
        }),
    ),
  );
});

describe('clique node over UDP multicast, three processes', () => {
  it('join, chat, a graceful leave and a killed process', async () => {
    const where = testGroup();
    const alice = startChat('alice', where);
    await waitFor('alice to connect', has(alice, '* connected'));
    const bob = startChat('bob', where);
    const carol = startChat('carol', where);
    const all = [alice, bob, carol];
    await waitFor(
      'everybody to see everybody join',
      () => all.every((p) => all.every((q) => q === p || p.lines.includes(`* ${q.name} joined`))),
      60_000,
    );

    alice.child.stdin.write('hello from alice\n');
    bob.child.stdin.write('and bob\n');
    await waitFor('alice’s line at bob and carol', () => has(bob, 'alice: hello from alice')() && has(carol, 'alice: hello from alice')());
    await waitFor('bob’s line at alice and carol', () => has(alice, 'bob: and bob')() && has(carol, 'bob: and bob')());
    expect(alice.lines.some((l) => l.startsWith('alice:'))).toBe(false);

    carol.child.stdin.write('/quit\n');
    await waitFor('carol to exit', () => carol.exitCode !== undefined);
    expect(carol.exitCode).toBe(0);
    expect(carol.lines[carol.lines.length - 1]).toBe('* left');
    await waitFor('carol’s leave at alice and bob', () => has(alice, '* carol left')() && has(bob, '* carol left')());

    bob.child.kill('SIGKILL');
    // Lost by silence, not by BYE: shown as timed out (the graceful leave above is a plain "left").
    await waitFor('alice to report the killed bob lost', has(alice, '* bob left (timed out)'), 60_000);
    alice.child.stdin.write('anyone?\n');
    alice.child.stdin.end(); // EOF: leave and exit
    await waitFor('alice to exit', () => alice.exitCode !== undefined);
    expect(alice.exitCode).toBe(0);
    for (const p of [alice, carol]) expect(p.stderr, `${p.name} stderr`).toBe('');
  });

  it('joins take the short way (gathering settled) and a SIGKILLed process is noticed by its SESSION cadence, long before a 300 s failure timeout', async () => {
    const where = testGroup();
    const env = { ...process.env, CLIQUE_LOG: 'debug' };
    const alice = startChat('alice', where, 300_000, env);
    await waitFor('alice to connect', has(alice, '* connected'));
    const bob = startChat('bob', where, 300_000, env);
    const carol = startChat('carol', where, 300_000, env);
    const all = [alice, bob, carol];
    await waitFor(
      'everybody to see everybody join',
      () => all.every((p) => all.every((q) => q === p || p.lines.includes(`* ${q.name} joined`))),
      60_000,
    );
    // The view came from a settled gathering, not the original's 5 s quiet.
    expect(all.some((p) => p.stderr.includes('gathering settled: join phase'))).toBe(true);
    // Let the survivors hear a dozen of carol's SESSIONs (about one a second) to learn her cadence.
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    carol.child.kill('SIGKILL');
    // Only the learned limit (seconds) can report her within this wait; the failure timeout is 300 s.
    await waitFor('alice and bob to report the killed carol', () => has(alice, '* carol left (timed out)')() && has(bob, '* carol left (timed out)')(), 60_000);
    // The first survivor to notice it found it silent; the other may follow its FAILURE.
    expect([alice, bob].some((p) => /sender failed.*"name":"carol".*"reason":"silent"/.test(p.stderr))).toBe(true);
  });

  it('refuses to run without a group and port', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'node', 'nobody'], { cwd: process.cwd() });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(/--group and --port are required/);
  });
});

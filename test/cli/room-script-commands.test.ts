import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { HistoryStore } from '../../src/rooms/history-store.js';
import { testGroup } from '../support/multicast-helpers.js';

/** `clique send` and `clique listen`: usage errors (exit 2), help, and a send nobody hears (exit 1). */
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function clique(args: string[], input?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { cwd: repoRoot, timeout: 60_000, env: { ...process.env, NO_COLOR: '1', CLIQUE_LOG: 'error' } },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') return reject(error);
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
    child.stdin?.end(input ?? '');
  });
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('clique send / clique listen', () => {
  it.each([
    [['send', '', 'hi', '--no-history-file', '--interface', '127.0.0.1'], /room name must not be empty/],
    [['send', 'x'.repeat(64), 'hi', '--no-history-file', '--interface', '127.0.0.1'], /longer than 63 bytes/],
    [['send', 'lunch', 'hi', '--address', '239.255.71.5'], /--address and --port go together/],
    [['send', 'lunch', 'hi', '--address', '10.1.2.3', '--port', '4000'], /not an IPv4 multicast address/],
    [['send', 'lunch', 'hi', '--port', '70000', '--address', '239.255.71.5'], /not a port number/],
    [['send', 'lunch', 'hi', '--me', '--notice'], /exclude each other/],
    [['send', 'lunch', '   '], /the message is empty/],
    [['send', 'lunch', 'hi', '--failure-timeout-ms', '100'], /--failure-timeout-ms/],
    [['send', 'lunch', 'hi', '--wait-members', 'many'], /--wait-members/],
    [['send', 'lunch'], /missing required argument/],
    [['listen'], /missing required argument/],
    [['listen', 'lunch', '--history', '-3'], /--history/],
    [['listen', 'lunch', '--interface', '203.0.113.77', '--no-history-file'], /--interface/],
  ])('%j is a usage error (exit 2)', async (args, message) => {
    const run = await clique(args);
    expect(run.stderr).toMatch(message);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
  });

  it('--help describes both commands (exit 0)', async () => {
    const send = await clique(['send', '--help']);
    expect(send.code).toBe(0);
    expect(send.stdout).toContain('--wait-members');
    expect(send.stdout).toContain('--interface');
    const listen = await clique(['listen', '--help']);
    expect(listen.code).toBe(0);
    expect(listen.stdout).toContain('--history <n>');
    expect(listen.stdout).toContain('--json');
  });

  it('a send nobody joins in time is still sent and stored, but exits 1 with a readable message', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clique-send-'));
    dirs.push(dir);
    const { group, port } = testGroup();
    const historyFile = join(dir, 'h.sqlite');
    const args = ['send', 'empty-room', '-', '--no-service', '--address', group, '--port', String(port), '--interface', '127.0.0.1', '--json', '--timeout', '1500', '--history-file', historyFile];
    const run = await clique(args, 'is anybody\nthere?\n');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/1 of the 1 awaited members did not join within 1500 ms \(sent anyway\)/);
    const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l['event'], l['text'], l['members']])).toEqual([
      ['sent', 'is anybody', []],
      ['sent', 'there?', []],
    ]);
    expect(lines[0]).toMatchObject({ room: 'empty-room', address: group, port });
    const store = HistoryStore.open({ path: historyFile });
    try {
      expect(store.recent('empty-room').map((e) => [e.text, e.outgoing])).toEqual([
        ['is anybody', true],
        ['there?', true],
      ]);
    } finally {
      store.close();
    }
  });
});

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HistoryStore } from '../../src/rooms/history-store.js';
import { LOOPBACK, runId } from './room-test-kit.js';
import { waitFor } from '../support/wait.js';
import { followJsonLines, type JsonLinesProcess } from '../support/json-lines-process.js';

/**
 * Three separate processes on one host over real UDP multicast and mDNS on
 * loopback, with the protocol's default timers (only the failure timeout is
 * shortened): `clique listen --json`, an answering member (echo-peer.ts, on
 * the library) and `clique send`.
 */
type Proc = JsonLinesProcess;

const procs: Proc[] = [];
const dirs: string[] = [];
const FAILURE_TIMEOUT_MS = '4000';

function start(label: string, args: string[], stdin?: string): Proc {
  const proc = followJsonLines(label, spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: process.cwd() }));
  if (stdin !== undefined) proc.child.stdin.end(stdin);
  procs.push(proc);
  return proc;
}

const cli = (...args: string[]): string[] => ['src/cli/main.ts', ...args, '--interface', LOOPBACK, '--failure-timeout-ms', FAILURE_TIMEOUT_MS, '--no-service'];
const echoPeer = (name: string, room: string): string[] => ['test/rooms/echo-peer.ts', name, room, FAILURE_TIMEOUT_MS];

const has = (p: Proc, match: Record<string, unknown>) => (): boolean =>
  p.events.some((e) => Object.entries(match).every(([k, v]) => e[k] === v));
const messages = (p: Proc, sender?: string): string[] =>
  p.events.filter((e) => e['event'] === 'message' && (sender === undefined || e['sender'] === sender)).map((e) => String(e['text']));
const describeProc = (p: Proc): string => `${p.label}: ${JSON.stringify(p.events)} ${p.stderr}`;

afterEach(async () => {
  await Promise.all(
    procs.splice(0).map(
      (p) =>
        new Promise<void>((resolve) => {
          if (p.exit !== undefined) return resolve();
          p.child.once('exit', () => resolve());
          p.child.kill('SIGKILL');
        }),
    ),
  );
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('three processes in one room over UDP multicast', () => {
  it('see each other, get every message exactly once in causal order, notice a killed member, see it rejoin, and a late joiner gets no old traffic', async () => {
    const id = runId();
    const room = `proc-${id}`;
    const [a, b, c] = [`a-${id}@test`, `b-${id}@test`, `c-${id}@test`];
    const dir = mkdtempSync(join(tmpdir(), 'clique-rooms-'));
    dirs.push(dir);
    const historyFile = join(dir, 'a.sqlite');

    const listener = start('listen', cli('listen', room, '--json', '--name', a, '--history-file', historyFile));
    await waitFor('the listener in its new room', has(listener, { event: 'ready' }), 60_000);
    const joined = listener.events.find((e) => e['event'] === 'joined')!;
    expect(joined).toMatchObject({ room, self: a, creator: true });

    const peer = start('echo-peer', echoPeer(b, room));
    await waitFor('the peer found the room on mDNS', has(peer, { event: 'joined' }), 60_000);
    expect(peer.events[0]).toMatchObject({ address: joined['address'], port: joined['port'], creator: false });
    await waitFor('listener and peer together', () => has(listener, { event: 'member-joined', member: b })() && has(peer, { event: 'ready' })(), 60_000);

    const sender = start('send', cli('send', room, '-', '--json', '--name', c, '--wait-members', '2', '--no-history-file'), 'one\ntwo\nthree\n');
    await waitFor('send to finish', () => sender.exit !== undefined, 90_000);
    expect(sender.exit, describeProc(sender)).toBe(0);
    expect(sender.events.map((e) => [e['event'], e['text']])).toEqual([
      ['sent', 'one'],
      ['sent', 'two'],
      ['sent', 'three'],
    ]);
    expect((sender.events[0]!['members'] as string[]).sort()).toEqual([a, b].sort()); // the sender saw both

    const expectedAtListener = ['one', 'two', 'three', 're: one', 're: two', 're: three'];
    await waitFor('all six messages at the listener', () => messages(listener).length >= 6, 60_000);
    await waitFor('the sender gone at the listener', has(listener, { event: 'member-left', member: c }), 60_000);
    // Everyone saw everyone.
    expect(has(listener, { event: 'member-joined', member: c })()).toBe(true);
    expect(has(peer, { event: 'member-joined', member: c })()).toBe(true);
    expect(peer.events.some((e) => e['event'] === 'ready' && (e['members'] as string[]).includes(a))).toBe(true);
    // Exactly once, FIFO per sender, and every answer after its question.
    const seen = messages(listener);
    expect([...seen].sort()).toEqual([...expectedAtListener].sort());
    expect(messages(listener, c)).toEqual(['one', 'two', 'three']);
    expect(messages(listener, b)).toEqual(['re: one', 're: two', 're: three']);
    for (const text of ['one', 'two', 'three']) expect(seen.indexOf(text)).toBeLessThan(seen.indexOf(`re: ${text}`));
    expect(messages(peer)).toEqual(['one', 'two', 'three']);
    // Answers are replies (XEP-0461) to the sender's ids.
    const ids = new Map(listener.events.filter((e) => e['event'] === 'message').map((e) => [e['text'], e]));
    expect(ids.get('re: one')?.['replyTo']).toBe(ids.get('one')?.['id']);

    // SIGKILL the peer: the listener reports it gone (silence, then the failure round).
    peer.child.kill('SIGKILL');
    await waitFor('the killed peer reported gone', has(listener, { event: 'member-left', member: b }), 60_000);

    // It comes back under the same name: seen again, and it gets nothing of the old traffic.
    const again = start('echo-peer again', echoPeer(b, room));
    await waitFor('the peer rejoined', () => listener.events.filter((e) => e['event'] === 'member-joined' && e['member'] === b).length === 2, 60_000);
    await waitFor('the rejoined peer sees the listener', () => again.events.some((e) => (e['event'] === 'ready' && (e['members'] as string[]).includes(a)) || (e['event'] === 'member-joined' && e['member'] === a)), 60_000);

    const late = start('send again', cli('send', room, 'four', '--json', '--name', c, '--wait-members', '2', '--no-history-file'));
    await waitFor('second send to finish', () => late.exit !== undefined, 90_000);
    expect(late.exit, describeProc(late)).toBe(0);
    await waitFor('four and its answer at the listener', () => messages(listener).includes('re: four'), 60_000);
    expect(messages(again)).toEqual(['four']); // no duplicate of anything older
    expect(messages(listener).filter((t) => t === 'four')).toHaveLength(1);
    expect(messages(listener).filter((t) => t === 're: four')).toHaveLength(1);

    // Ctrl-C: BYE and a clean exit.
    listener.child.kill('SIGINT');
    await waitFor('the listener to exit', () => listener.exit !== undefined, 30_000);
    expect(listener.exit, describeProc(listener)).toBe(0);
    expect(listener.events[listener.events.length - 1]).toEqual({ event: 'left', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) as unknown, reason: 'left' });
    await waitFor('the rejoined peer sees the listener leave', has(again, { event: 'member-left', member: a }), 60_000);

    // The listener's local history kept each message once.
    const store = HistoryStore.open({ path: historyFile });
    try {
      const texts = store.recent(room, 100).map((e) => e.text);
      expect([...texts].sort()).toEqual([...expectedAtListener, 'four', 're: four'].sort());
    } finally {
      store.close();
    }
  }, 300_000);
});

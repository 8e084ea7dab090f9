import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

/**
 * Drives `clique join` like a person: two terminals (tmux panes on a private
 * tmux server), typing with send-keys and reading the screen with
 * capture-pane. Everything on 127.0.0.1.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
if (!hasTmux) console.log('join-chat: tmux not installed; skipping the terminal session test');

const socket = `clique-test-${process.pid}-${Date.now()}`;
const dirs: string[] = [];

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
}

function screen(session: string): string {
  return tmux('capture-pane', '-p', '-J', '-S', '-200', '-t', session);
}

async function waitForScreen(session: string, pattern: RegExp, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = screen(session);
    if (pattern.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`${session}: ${pattern} did not appear; the screen shows:\n${text}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function startChat(session: string, room: string, nick: string, dir: string): void {
  const command = [
    'env', 'CLIQUE_INTERFACE=127.0.0.1', process.execPath, '--import', 'tsx', 'src/cli/main.ts',
    'join', room, '--nick', nick, '--history-file', join(dir, `${nick}.sqlite`), '--failure-timeout-ms', '5000',
  ].map((a) => `'${a}'`).join(' ');
  // Keep the pane after the program exits so its last words can be read.
  tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '40', '-c', ROOT, `${command}; echo "[exited $?]"; sleep 600`);
}

afterEach(() => {
  if (hasTmux) spawnSync('tmux', ['-L', socket, 'kill-server']);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('clique join in a terminal', () => {
  it.skipIf(!hasTmux)('two people chat: join, message, reply, action, topic, who, leave', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clique-join-'));
    dirs.push(dir);
    const room = `Tea${process.pid}${Math.floor(Math.random() * 1e6)}`;
    startChat('alice', room, 'alice', dir);
    await waitForScreen('alice', /you are alone here for now/);
    startChat('bob', room, 'bob', dir);
    await waitForScreen('bob', /members: alice/);
    await waitForScreen('alice', /\* bob \(.*\) joined/);

    tmux('send-keys', '-t', 'alice', 'hello bob, fancy some tea?', 'Enter');
    await waitForScreen('bob', /<alice> hello bob, fancy some tea\?/);
    tmux('send-keys', '-t', 'bob', 'yes please', 'Enter');
    await waitForScreen('alice', /<bob> yes please/);
    tmux('send-keys', '-t', 'bob', '/me puts the kettle on', 'Enter');
    await waitForScreen('alice', /\* bob puts the kettle on/);
    tmux('send-keys', '-t', 'alice', '/topic tea time', 'Enter');
    await waitForScreen('bob', /\* alice set the topic: tea time/);
    tmux('send-keys', '-t', 'alice', '/who', 'Enter');
    const who = await waitForScreen('alice', /\* 2 members:/);
    expect(who).toMatch(/alice .*\(you\)/);

    tmux('send-keys', '-t', 'bob', '/quit', 'Enter');
    await waitForScreen('bob', /\[exited 0\]/);
    await waitForScreen('alice', /\* bob \(.*\) left/);

    // Each message shows once on each screen (the typed line is replaced by the formatted one).
    const aliceScreen = screen('alice');
    expect(aliceScreen.match(/<bob> yes please/g)).toHaveLength(1);
    expect(aliceScreen.match(/hello bob, fancy some tea\?/g)).toHaveLength(1);

    // Rejoining shows what the local history kept.
    startChat('bob2', room, 'bob', dir);
    await waitForScreen('bob2', /earlier messages? \(local history\)/);
    await waitForScreen('bob2', /local history\) ---\n\d\d:\d\d <[^>]+> hello bob, fancy some tea\?\n\d\d:\d\d <[^>]+> yes please/);
    tmux('send-keys', '-t', 'alice', '/quit', 'Enter');
    await waitForScreen('alice', /\[exited 0\]/);
  }, 180_000);
});

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, expect, it } from 'vitest';
import { Clique } from '../../src/rooms/index.js';
import { LinkLocalService } from '../../src/linklocal/link-local-service.js';
import { FileTransfers } from '../../src/files/file-transfers.js';
import { openMulticastNode } from '../../src/net/multicast-node.js';
import { repoRoot } from './cli-runner.js';
import { waitFor } from './wait.js';

/**
 * The README's Library examples (its ```ts blocks), and the peers a test plays
 * for each: run as written, with `from 'clique'` resolved either to src or to
 * the package installed from its tarball in an empty project (what
 * test/cli/package-install.test.ts does). An example
 * that hangs, throws or misses its peer fails. Run inside `unshare -n` (the
 * examples use 127.0.0.1 and fixed names and groups).
 */
const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const library = readme.slice(readme.indexOf('## Library\n'), readme.indexOf('That is the whole public face'));
export const README_EXAMPLES = [...library.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

interface ExampleRun {
  stdout: string;
  stderr: string;
  exited: Promise<number | null>;
}

/** Where `from 'clique'` comes from: the sources, or a project with the package installed. */
export type CliqueSource = { kind: 'src' } | { kind: 'installed'; project: string };

/** Registers one `it` per README example, each running it against its peer. */
export function readmeExampleTests(source: () => CliqueSource): void {
  const dir = mkdtempSync(join(tmpdir(), 'clique-readme-run-'));
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const block = (entry: string): string => {
    const found = README_EXAMPLES.find((b) => b.includes(entry));
    if (found === undefined) throw new Error(`no README example uses ${entry}`);
    return found;
  };

  /** Runs one example as a module of its own (top-level await). */
  const runExample = (code: string, name: string, cwd: string = repoRoot): ExampleRun => {
    const from = source();
    // Installed: the file sits in the project, so `clique` resolves from its node_modules as for a user.
    const file = from.kind === 'src' ? join(dir, `${name}.mts`) : join(from.project, `${name}.mts`);
    const text = from.kind === 'src' ? code.replace(/from 'clique';/g, `from ${JSON.stringify(pathToFileURL(join(repoRoot, 'src/index.ts')).href)};`) : code;
    writeFileSync(file, text);
    // tsx by path, so an example may run in a directory of its own (relative file names).
    const tsx = pathToFileURL(join(repoRoot, 'node_modules/tsx/dist/loader.mjs')).href;
    const child = spawn(process.execPath, ['--import', tsx, file], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CLIQUE_LOG: 'warn' } });
    const run: ExampleRun = { stdout: '', stderr: '', exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))) };
    child.stdout.setEncoding('utf8').on('data', (d: string) => (run.stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (run.stderr += d));
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    return run;
  };

  it('files: sends notes.txt to bob@desk, then takes the file bob offers back', async () => {
    const bob = await LinkLocalService.start({ name: 'bob@desk', interface: '127.0.0.1' });
    cleanups.push(() => bob.stop());
    const inbox = mkdtempSync(join(tmpdir(), 'clique-readme-bob-'));
    const files = await FileTransfers.start(bob, { autoAcceptDir: inbox });
    cleanups.push(() => files.close());
    const work = mkdtempSync(join(tmpdir(), 'clique-readme-files-'));
    writeFileSync(join(work, 'notes.txt'), 'my notes\n');
    writeFileSync(join(inbox, 'reply.txt'), 'thanks\n');
    files.on('done', (t) => {
      // Once alice's file is in, offer her one back (from the inbox, so bob's copy is not the one received).
      if (t.direction === 'in' && t.state === 'received') void files.offer(t.from, join(inbox, 'reply.txt'));
    });
    const example = runExample(block('FileTransfers.start'), 'files', work);
    const code = await Promise.race([example.exited, new Promise((r) => setTimeout(() => r('timeout'), 40_000))]);
    expect(code, `${example.stdout}\n${example.stderr}`).toBe(0);
    expect(example.stdout).toContain('accepted');
    expect(readFileSync(join(inbox, 'notes.txt'), 'utf8')).toBe('my notes\n');
    expect(example.stdout).toMatch(/saved .*reply\.txt/);
    expect(readFileSync(join(work, 'reply.txt'), 'utf8')).toBe('thanks\n');
    rmSync(inbox, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }, 120_000);

  it('rooms: joins Witchcraft, says hello, prints lines until bye, leaves', async () => {
    const peer = await Clique.start({ name: `bob${process.pid}@desk`, nick: 'bob', interface: '127.0.0.1', presence: false, history: false });
    cleanups.push(() => peer.stop());
    const room = await peer.join('Witchcraft');
    room.on('message', (m) => {
      if (m.text === 'hello') void room.send('bye');
    });
    const example = runExample(block('Clique.start'), 'rooms');
    expect(await example.exited, example.stderr).toBe(0);
    expect(example.stdout).toContain('bob: bye');
  }, 120_000);

  it('people: finds bob@desk and sends him a 1-1 message', async () => {
    const bob = await LinkLocalService.start({ name: 'bob@desk', interface: '127.0.0.1' });
    cleanups.push(() => bob.stop());
    const texts: string[] = [];
    bob.on('message', (m) => texts.push(m.text));
    const example = runExample(block('LinkLocalService.start'), 'people');
    expect(await example.exited, example.stderr).toBe(0);
    await waitFor(() => `bob gets lunch? (has ${JSON.stringify(texts)})`, () => texts.includes('lunch?'), 30_000);
  }, 120_000);

  it('bare group: a member already in the group gets the hello (sent on members-joined) and its bye ends the loop', async () => {
    const peer = await openMulticastNode({ name: 'bob@desk', group: '239.255.71.9', port: 41999, interface: '127.0.0.1' });
    cleanups.push(() => peer.leave());
    await new Promise<void>((resolve) => peer.once('connected', () => resolve()));
    const heard: string[] = [];
    peer.on('message', (m) => {
      const text = new TextDecoder().decode(m.data);
      heard.push(text);
      if (text.startsWith('hello')) peer.send(0, new TextEncoder().encode('bye'));
    });
    const example = runExample(block('openMulticastNode('), 'node');
    expect(await example.exited, example.stderr).toBe(0);
    expect(heard).toEqual(['hello bob@desk']);
    expect(example.stdout).toContain('bob@desk on stream 0: bye');
  }, 120_000);

  it('engine: two engines back to back on a simulated clock exchange a message', async () => {
    const example = runExample(block('new RMulticastEngine('), 'engine');
    expect(await example.exited, example.stderr).toBe(0);
    expect(example.stdout.trim()).toBe('alice@laptop: hello');
  }, 60_000);
}

/**
 * Interop with a XEP-0066 peer that is not ours (test/files/oob-peer.py:
 * python's http.server and urllib over a raw XML stream, written from the
 * spec, behaving as salut and iChat do). Run inside a private network namespace.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import type { TransferInfo } from '../../src/files/index.js';
import { waitFor } from '../support/wait.js';
import { FileKit, sha256 } from './file-kit.js';

const SCRIPT = join(import.meta.dirname, 'oob-peer.py');
const PY_NAME = 'py@oob';
const PY_ADDRESS = '127.0.0.3';

let kit = new FileKit();
const children: ChildProcessWithoutNullStreams[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  await kit.close();
  kit = new FileKit();
});

function python(args: string[]): { lines: Array<Record<string, unknown>>; stderr: () => string } {
  const child = spawn('/usr/bin/python3', [SCRIPT, ...args]);
  children.push(child);
  const lines: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  createInterface({ input: child.stdout }).on('line', (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
  return { lines, stderr: () => stderr };
}

describe('XEP-0066 interop with a peer that is not ours (python)', () => {
  it('receives a file the python peer offers as salut does (leading newline in the URL), and answers result', async () => {
    const dir = kit.dir();
    const bob = await kit.side('bob@desk', '127.0.0.2', { autoAcceptDir: dir });
    kit.directory.add(PY_NAME, PY_ADDRESS, 1);
    const src = kit.file('from python.txt', 300_000);
    const done: TransferInfo[] = [];
    bob.files.on('done', (t) => done.push(t));
    const py = python(['send', PY_NAME, PY_ADDRESS, 'bob@desk', '127.0.0.2', String(bob.peer.port), src.path]);
    await waitFor(() => `python's answer (stderr ${py.stderr()})`, () => py.lines.length === 1);
    expect(py.lines[0]).toMatchObject({ answer: 'result' });
    expect(done).toMatchObject([{ direction: 'in', from: PY_NAME, name: 'from python.txt', desc: 'from python', state: 'received' }]);
    expect(sha256(readFileSync(join(dir, 'from python.txt')))).toBe(src.sha256);
  });

  it('sends a file the python peer fetches as iChat does (AppleSingle), and reads its result as accepted', async () => {
    const alice = await kit.side('alice@laptop', '127.0.0.1');
    const out = join(kit.dir(), 'got.bin');
    const py = python(['receive', PY_NAME, PY_ADDRESS, out]);
    await waitFor(() => `python's port (stderr ${py.stderr()})`, () => py.lines.length === 1);
    kit.directory.add(PY_NAME, PY_ADDRESS, py.lines[0]!['port'] as number);
    const src = kit.file('to python.bin', 1_000_000);
    const sent = await alice.files.offer(PY_NAME, src.path);
    expect(await sent.done).toEqual({ state: 'accepted' });
    await waitFor(() => `python's report (stderr ${py.stderr()})`, () => py.lines.length === 2);
    expect(py.lines[1]).toMatchObject({ received: 1_000_000, sha256: src.sha256, appleSingle: true });
    expect(readFileSync(out)).toEqual(src.bytes);
  });

  it('reads an iChat-style decline (406 in the error type) as declined', async () => {
    const alice = await kit.side('alice@laptop', '127.0.0.1');
    const py = python(['receive', PY_NAME, PY_ADDRESS, join(kit.dir(), 'x'), 'decline']);
    await waitFor(() => `python's port (stderr ${py.stderr()})`, () => py.lines.length === 1);
    kit.directory.add(PY_NAME, PY_ADDRESS, py.lines[0]!['port'] as number);
    const sent = await alice.files.offer(PY_NAME, kit.file('no.bin', 10).path);
    expect(await sent.done).toEqual({ state: 'declined' });
  });
});

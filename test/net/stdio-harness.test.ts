import { afterEach, describe, expect, it } from 'vitest';
import { StdioMesh, type MeshNode } from '../support/stdio-mesh.js';
import { waitFor } from '../support/wait.js';

/**
 * `clique node --stdio NAME` speaks the original harness protocol: three real
 * processes, wired together by a mesh.py-like router in this test.
 */
let mesh: StdioMesh | undefined;

afterEach(async () => {
  await mesh?.close();
  mesh = undefined;
});

const peers = (node: MeshNode): string[] => [...node.peers].sort();

describe('clique node --stdio (harness line protocol)', () => {
  it('joins, chats, survives bad lines, fails a member on request, and leaves', async () => {
    mesh = new StdioMesh();
    const a = mesh.spawn('alice');
    const b = mesh.spawn('bob');
    const c = mesh.spawn('carol');
    const all = [a, b, c];

    await waitFor('the first line of every process', () => all.every((n) => n.lines.length > 0));
    for (const node of all) expect(node.lines[0]).toBe(`Starting process ${node.child.pid} for ${node.name}`);

    await waitFor('every node to list the two others', () => all.every((n) => n.peers.size === 2), 40_000);
    expect(peers(a)).toEqual(['bob', 'carol']);
    expect(peers(b)).toEqual(['alice', 'carol']);
    for (const node of all) {
      const connected = node.lines.indexOf('CONNECTED:');
      expect(connected, `${node.name} printed CONNECTED:`).toBeGreaterThan(0);
      expect(node.lines.filter((l) => l === 'CONNECTED:')).toHaveLength(1);
      const membership = node.lines.filter((l) => l.startsWith('NEWNODES:'));
      expect(node.lines.findIndex((l) => l.startsWith('NEWNODES:'))).toBeGreaterThan(connected);
      for (const line of membership) expect(line).toMatch(/^NEWNODES:(\S+ )+$/); // space-separated, trailing space
    }

    mesh.input('alice', 'hello from alice');
    await waitFor('alice’s message at bob and carol', () => b.outputs.length === 1 && c.outputs.length === 1);
    expect(b.outputs[0]).toEqual({ sender: 'alice', text: 'hello from alice' });
    expect(c.outputs[0]).toEqual({ sender: 'alice', text: 'hello from alice' });
    expect(a.outputs).toEqual([]); // never our own

    // The original aborts on these; we complain on stderr and carry on.
    for (const bad of ['GARBAGE', 'RECV:***', 'INPUT:not base64!', 'FAIL:', 'RECV:' + Buffer.from('Clique junk').toString('base64')]) mesh.write('bob', bad);
    mesh.input('bob', 'still here');
    await waitFor('bob’s message after the bad lines', () => a.outputs.length === 1 && c.outputs.length === 2);
    expect(a.outputs[0]).toEqual({ sender: 'bob', text: 'still here' });
    expect(b.stderr).toMatch(/ignoring unknown line "GARBAGE"/);
    expect(b.stderr).toMatch(/ignoring RECV line with invalid base64/);
    expect(b.stderr).toMatch(/ignoring INPUT line with invalid base64/);
    expect(b.stderr).toMatch(/ignoring FAIL line without a name/);
    expect(b.exitCode).toBeUndefined();

    mesh.write('carol', 'DISCONNECT');
    await waitFor('carol to exit', () => c.exitCode !== undefined);
    expect(c.exitCode).toBe(0);
    expect(c.lines[c.lines.length - 1]).toBe('DISCONNECTED:');
    await waitFor('LOSTNODES:carol at alice and bob', () => a.lines.includes('LOSTNODES:carol ') && b.lines.includes('LOSTNODES:carol '));

    // FAIL:<name>: alice declares bob failed; bob resets and comes back under a new id.
    mesh.write('alice', 'FAIL:bob');
    await waitFor('alice to report bob lost', () => a.lines.includes('LOSTNODES:bob '));
    await waitFor('bob to rejoin alice', () => a.peers.has('bob') && b.peers.has('alice'), 40_000);
    expect(b.lines.filter((l) => l === 'CONNECTED:')).toHaveLength(1);
  });

  it('exits quietly when its input ends', async () => {
    mesh = new StdioMesh();
    const a = mesh.spawn('lonely');
    await waitFor('CONNECTED:', () => a.lines.includes('CONNECTED:'));
    a.child.stdin.end();
    await waitFor('the process to exit', () => a.exitCode !== undefined);
    expect(a.exitCode).toBe(0);
  });
});

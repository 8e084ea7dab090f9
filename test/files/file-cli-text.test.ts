import { describe, expect, it } from 'vitest';
import { parseChatInput } from '../../src/cli/chat/chat-commands.js';
import { formatBytes, progressLine, transferTable } from '../../src/cli/commands/files.js';

describe('the file commands in words', () => {
  it('/accept and /decline in join: an id and a directory, or the latest offer', () => {
    expect(parseChatInput('/accept')).toEqual({ kind: 'accept', id: undefined, dir: undefined });
    expect(parseChatInput('/accept 3')).toEqual({ kind: 'accept', id: '3', dir: undefined });
    expect(parseChatInput('/accept 3 ~/My Downloads')).toEqual({ kind: 'accept', id: '3', dir: '~/My Downloads' });
    expect(parseChatInput('/decline')).toEqual({ kind: 'decline', id: undefined });
    expect(parseChatInput('/decline 4')).toEqual({ kind: 'decline', id: '4' });
    expect(parseChatInput('/decline 4 5')).toMatchObject({ kind: 'error' });
  });

  it('the progress line shows bytes, percent, rate and ETA', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(50 * 1024 * 1024)).toBe('50.0 MiB');
    expect(progressLine('a.bin', 10 * 1024 * 1024, 50 * 1024 * 1024, 2)).toBe('a.bin  10.0 MiB / 50.0 MiB  20%  5.0 MiB/s  ETA 8s');
    expect(progressLine('a.bin', 1024, null, 0)).toBe('a.bin  1.0 KiB');
  });

  it('the table of transfers: one line each, peers and names made printable', () => {
    expect(transferTable([])).toBe('no file transfers\n');
    const line = transferTable([
      { direction: 'in', id: '7', peer: 'bob@desk', room: null, name: 'x\u001b[2J.txt', size: 2048, sha256: null, desc: 'hi', state: 'offered', bytes: 0, path: null, error: null },
    ]);
    expect(line).toContain('7  in   x');
    expect(line).toContain('2.0 KiB  from bob@desk  offered  "hi"');
    expect(line).not.toContain('\u001b');
  });
});

import { describe, expect, it } from 'vitest';
import { formatHistory, formatMoved } from '../../src/cli/chat/chat-format.js';

/** How `clique join` renders lines (pure formatting, no network). */
describe('chat lines', () => {
  it('formatHistory falls back to the display-name lookup (then the identity) for entries stored without a name', () => {
    const time = new Date(2024, 0, 1, 9, 5);
    const lookup = (name: string): string => (name === 'root-2@vm' ? 'Morgana now' : name);
    expect(formatHistory({ room: 'r', id: '1', sender: 'root-2@vm', kind: 'normal', text: 'old', time, outgoing: false }, lookup)).toBe('09:05 <Morgana now> old');
    expect(formatHistory({ room: 'r', id: '2', sender: 'gone@vm', kind: 'action', text: 'waves', time, outgoing: false }, lookup)).toBe('09:05 * gone@vm waves');
    expect(formatHistory({ room: 'r', id: '3', sender: 'gone@vm', senderName: 'Nimue', kind: 'topic', text: '', time, outgoing: false }, lookup)).toBe(
      '09:05 * Nimue cleared the topic',
    );
    // A stored name is terminal-safe like everything else shown.
    expect(formatHistory({ room: 'r', id: '4', sender: 'x@vm', senderName: 'evil\u001b[2J', kind: 'normal', text: 'hi', time, outgoing: false }, lookup)).not.toContain('\u001b');
  });

  it('formatMoved names the group we joined and the one we left', () => {
    expect(formatMoved({ name: 'Witchcraft', address: '239.255.71.5', port: 40000 }, { name: 'Witchcraft', address: '239.255.71.9', port: 1234 })).toBe(
      '* joined the existing room at 239.255.71.5:40000 (ours at 239.255.71.9:1234 had nobody else)',
    );
  });
});

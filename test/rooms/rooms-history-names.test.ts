import { afterEach, describe, expect, it } from 'vitest';
import { formatHistory } from '../../src/cli/chat/chat-format.js';
import { record, runId, startClique, stopAll } from './room-test-kit.js';
import { waitFor } from '../support/wait.js';

/** The local history keeps the nick each author had when a message came, over real loopback multicast. */
afterEach(stopAll);

describe('nicks in the room history', () => {
  it('stores the display name of the time for sent and received messages and topics; a later nick change does not rewrite them', async () => {
    const room = `names-${runId()}`;
    const alice = await startClique('root-2@vm', { nick: 'Morgana' });
    const bob = await startClique('root-3@vm');
    const atAlice = await alice.join(room);
    const atBob = await bob.join(room, { address: atAlice.address, port: atAlice.port });
    const bobLog = record(atBob);
    await waitFor('alice and bob together', () => atAlice.members.length === 2 && atBob.members.length === 2);
    await waitFor('alice’s nick at bob', () => atBob.member('root-2@vm')?.displayName === 'Morgana');

    await atAlice.setTopic('brooms');
    await atAlice.send('hello');
    await waitFor('topic and hello at bob', () => bobLog.messages.length === 1 && atBob.topic?.topic === 'brooms');
    await atBob.send('hi Morgana'); // bob has no nick: his identity is his name
    await atAlice.setNick('Viviane');
    await waitFor('the new nick at bob', () => atBob.member('root-2@vm')?.displayName === 'Viviane');
    await atAlice.send('renamed');
    await waitFor('renamed at bob', () => bobLog.messages.length === 2);

    const names = (entries: ReturnType<typeof atBob.history>): Array<[string, string, string | undefined]> =>
      entries.map((e) => [e.text, e.sender, e.senderName]);
    expect(names(atBob.history())).toEqual([
      ['brooms', 'root-2@vm', 'Morgana'],
      ['hello', 'root-2@vm', 'Morgana'],
      ['hi Morgana', 'root-3@vm', 'root-3@vm'],
      ['renamed', 'root-2@vm', 'Viviane'],
    ]);
    await waitFor('bob’s message at alice', () => atAlice.history().some((e) => e.text === 'hi Morgana'));
    expect(names(atAlice.history()).filter(([text]) => text !== 'hi Morgana')).toEqual([
      ['brooms', 'root-2@vm', 'Morgana'],
      ['hello', 'root-2@vm', 'Morgana'],
      ['renamed', 'root-2@vm', 'Viviane'],
    ]);
    // The chat shows old lines under the name of the time, not today's nick nor the identity.
    const today = (name: string): string => atBob.member(name)?.displayName ?? name;
    expect(atBob.history().map((e) => formatHistory(e, today).replace(/^\d\d:\d\d /, ''))).toEqual([
      '* Morgana set the topic: brooms',
      '<Morgana> hello',
      '<root-3@vm> hi Morgana',
      '<Viviane> renamed',
    ]);
  });
});

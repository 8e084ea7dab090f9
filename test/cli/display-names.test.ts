import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatLeft, formatMessage } from '../../src/cli/chat/chat-format.js';
import { parseChatInput } from '../../src/cli/chat/chat-commands.js';
import { memberNameInRoom, nameInRoom, nickChangeLine, ownNickLine, showOwnNick, shownName, type NamedMember } from '../../src/cli/chat/display-names.js';
import { assertProperty, propertySeed } from '../support/fast-check-seed.js';

/**
 * Names people see in `clique join` and `clique listen` (pure, no network):
 * a nick alone while it is unique in the room, `nick (user@host)` while two
 * members share it, so their lines can be told apart.
 */
const seed = propertySeed();
const time = new Date(2024, 0, 1, 9, 5);
const FSI = '\u2068';
const PDI = '\u2069';

describe(`names in a room (seed ${seed}; replay with CLIQUE_SEED=${seed})`, () => {
  const alice: NamedMember = { name: 'alice@a', nick: 'alice' };
  const bob: NamedMember = { name: 'bob@b', nick: 'bob' };
  const otherAlice: NamedMember = { name: 'mallory@m', nick: 'alice' };

  it('a nick nobody else has shows alone; a member without a nick shows as its identity', () => {
    expect(nameInRoom('alice@a', 'alice', [alice, bob])).toBe('alice');
    expect(nameInRoom('carol@c', undefined, [alice, bob, { name: 'carol@c', nick: null }])).toBe('carol@c');
    expect(nameInRoom('carol@c', null, [alice])).toBe('carol@c');
    expect(nameInRoom('carol@c', '', [alice])).toBe('carol@c');
  });

  it('two members that share a nick both show with their identity', () => {
    const room = [alice, bob, otherAlice];
    expect(memberNameInRoom('alice@a', room)).toBe('alice (alice@a)');
    expect(memberNameInRoom('mallory@m', room)).toBe('alice (mallory@m)');
    expect(memberNameInRoom('bob@b', room)).toBe('bob');
    // Once one of them is gone, the other shows as the nick alone again.
    expect(memberNameInRoom('alice@a', [alice, bob])).toBe('alice');
  });

  it('nicks that only differ in case, width or outer spaces count as the same', () => {
    expect(nameInRoom('alice@a', 'alice', [alice, { name: 'x@x', nick: 'ALICE' }])).toBe('alice (alice@a)');
    expect(nameInRoom('alice@a', 'alice', [alice, { name: 'x@x', nick: ' alice ' }])).toBe('alice (alice@a)');
    expect(nameInRoom('alice@a', 'alice', [alice, { name: 'x@x', nick: 'ａｌｉｃｅ' }])).toBe('alice (alice@a)'); // fullwidth
    expect(nameInRoom('alice@a', 'alice', [alice, { name: 'x@x', nick: 'alicia' }])).toBe('alice');
  });

  it("a nick that is another member's identity shows with the real identity", () => {
    const room = [{ name: 'alice@a', nick: null }, { name: 'mallory@m', nick: 'alice@a' }];
    expect(memberNameInRoom('mallory@m', room)).toBe('alice@a (mallory@m)');
    // The real alice@a has no nick: her identity is hers alone.
    expect(memberNameInRoom('alice@a', room)).toBe('alice@a');
  });

  it('a member not (or no longer) in the room shows under its identity', () => {
    expect(memberNameInRoom('gone@g', [alice, bob])).toBe('gone@g');
  });

  it('property: the name shown tells members apart whenever their nicks collide', () => {
    const nick = fc.constantFrom('al', 'AL', 'bo', ' al', null);
    const rooms = fc.uniqueArray(fc.record({ name: fc.constantFrom('a@x', 'b@x', 'c@x', 'd@x', 'e@x'), nick }), { selector: (m) => m.name, minLength: 1, maxLength: 5 });
    assertProperty(
      fc.property(rooms, (room) => {
        const shown = room.map((m) => memberNameInRoom(m.name, room));
        // Everyone shows differently, compared the way a reader would confuse them.
        const folded = shown.map((s) => s.normalize('NFKC').trim().toLowerCase());
        expect(new Set(folded).size).toBe(room.length);
        // And a nick only gains the identity when someone else goes by it.
        for (const [i, m] of room.entries()) {
          const clash = room.some((o) => o !== m && m.nick !== null && (o.nick ?? o.name).trim().toLowerCase() === m.nick.trim().toLowerCase());
          expect(shown[i]).toBe(m.nick === null ? m.name : clash ? `${m.nick} (${m.name})` : m.nick);
        }
      }),
      seed,
    );
  });

  it('shownName makes each part terminal-safe on its own', () => {
    const room = [{ name: 'dan@lab', nick: 'דן' }, { name: 'eve@lab', nick: 'דן' }];
    expect(shownName('dan@lab', 'דן', room)).toBe(`${FSI}דן${PDI} (dan@lab)`);
    expect(shownName('x\u001b@lab', 'evil\u202e', [])).toBe('evil\ufffd');
    expect(shownName('x\u001b@lab', undefined, [])).toBe('x\ufffd@lab');
  });
});

describe('lines that use them', () => {
  const room: NamedMember[] = [
    { name: 'alice@a', nick: 'alice' },
    { name: 'mallory@m', nick: 'alice' },
    { name: 'bob@b', nick: 'bob' },
  ];

  it('message lines: the shared nick gains the identity, a unique one does not', () => {
    expect(formatMessage({ time, sender: 'mallory@m', senderName: 'alice', kind: 'normal', text: 'send me your password' }, room)).toBe(
      '09:05 <alice (mallory@m)> send me your password',
    );
    expect(formatMessage({ time, sender: 'alice@a', senderName: 'alice', kind: 'action', text: 'waves' }, room)).toBe('09:05 * alice (alice@a) waves');
    expect(formatMessage({ time, sender: 'bob@b', senderName: 'bob', kind: 'notice', text: 'hi' }, room)).toBe('09:05 -bob- hi');
    expect(formatMessage({ time, sender: 'carol@c', senderName: 'carol@c', kind: 'normal', text: 'hi' }, room)).toBe('09:05 <carol@c> hi');
    // Without a roster (nobody to confuse it with), the name it came with.
    expect(formatMessage({ time, sender: 'alice@a', senderName: 'alice', kind: 'normal', text: 'hi' })).toBe('09:05 <alice> hi');
  });

  it('a clean leave and a member lost by silence read differently', () => {
    expect(formatLeft('bob (bob@b)', 'left')).toBe('* bob (bob@b) left');
    expect(formatLeft('bob (bob@b)', 'timed-out')).toBe('* bob (bob@b) left (timed out)');
  });

  it('nick changes: each side as the room showed it', () => {
    const before = [{ name: 'alice@a', nick: 'alice' }, { name: 'bob@b', nick: 'bob' }];
    const after = [{ name: 'alice@a', nick: 'Alice_W' }, { name: 'bob@b', nick: 'bob' }];
    expect(nickChangeLine(shownName('alice@a', 'alice', before), shownName('alice@a', 'Alice_W', after))).toBe('* alice is now known as Alice_W');
    // Taking a nick somebody has: the new name shows the identity.
    const taken = [{ name: 'alice@a', nick: 'bob' }, { name: 'bob@b', nick: 'bob' }];
    expect(nickChangeLine(shownName('alice@a', 'alice', before), shownName('alice@a', 'bob', taken))).toBe('* alice is now known as bob (alice@a)');
  });

  it('/nick alone shows ours; /nick name sets it; /nick --clear removes it', () => {
    expect(parseChatInput('/nick')).toEqual({ kind: 'show-nick' });
    expect(parseChatInput('/nick   ')).toEqual({ kind: 'show-nick' });
    expect(parseChatInput('/nick Alice_W')).toEqual({ kind: 'nick', nick: 'Alice_W' });
    expect(parseChatInput('/nick --clear')).toEqual({ kind: 'nick', nick: undefined });
    expect(showOwnNick('alice@a', 'alice', [{ name: 'bob@b', nick: 'bob' }])).toBe('* your nick here is alice (you are alice@a)');
    expect(showOwnNick('alice@a', null, [])).toBe('* you have no nick here: you show as alice@a (/nick <name> sets one)');
    expect(showOwnNick('alice@a', 'bob', [{ name: 'bob@b', nick: 'Bob' }])).toBe(
      '* your nick here is bob (you are alice@a); someone else here goes by it too, so your lines show as bob (alice@a)',
    );
    expect(ownNickLine('alice@a', 'Alice_W', [])).toBe('* you are now Alice_W');
    expect(ownNickLine('alice@a', undefined, [])).toBe('* nick cleared: you show as alice@a');
  });
});

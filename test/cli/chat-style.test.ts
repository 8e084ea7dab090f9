import { describe, expect, it } from 'vitest';
import { chatStyleFor, COLOUR_STYLE, mentions, nickColourCode, PLAIN_STYLE } from '../../src/cli/chat/chat-style.js';
import { DayLines, dayText } from '../../src/cli/chat/day-lines.js';
import { completeChatLine } from '../../src/cli/chat/tab-completion.js';
import { formatShownText } from '../../src/cli/chat/chat-format.js';

describe('nick colours', () => {
  it('are stable per identity, from a readable palette, and spread over it', () => {
    expect(nickColourCode('alice@laptop')).toBe(nickColourCode('alice@laptop'));
    const codes = new Set(Array.from({ length: 200 }, (_, i) => nickColourCode(`user${i}@host`)));
    expect([...codes].every((c) => (c >= 31 && c <= 36) || (c >= 91 && c <= 96))).toBe(true);
    expect(codes.size).toBe(12);
  });

  it('are off without a terminal, with NO_COLOR, or on a dumb terminal', () => {
    expect(chatStyleFor({ isTTY: true }, {})).toBe(COLOUR_STYLE);
    expect(chatStyleFor({ isTTY: false }, {})).toBe(PLAIN_STYLE);
    expect(chatStyleFor({ isTTY: true }, { NO_COLOR: '1' })).toBe(PLAIN_STYLE);
    expect(chatStyleFor({ isTTY: true }, { TERM: 'dumb' })).toBe(PLAIN_STYLE);
    expect(COLOUR_STYLE.name('bob', 'bob@desk')).toBe(`\x1b[${nickColourCode('bob@desk')}mbob\x1b[39m`);
  });
});

describe('mentions', () => {
  it('match our nick or user name as a whole word, any case', () => {
    expect(mentions('hey Bob, look', 'robert@desk', 'bob')).toBe(true);
    expect(mentions('bob: tea?', 'robert@desk', 'bob')).toBe(true);
    expect(mentions('@robert see this', 'robert@desk', 'bob')).toBe(true);
    expect(mentions('ask robert@desk', 'robert@desk', undefined)).toBe(true);
    expect(mentions('kebobs are good', 'robert@desk', 'bob')).toBe(false);
    expect(mentions('bobby is here', 'robert@desk', 'bob')).toBe(false);
    expect(mentions('nothing here', 'robert@desk', null)).toBe(false);
    // One-letter names would ring on every "a": too short to count.
    expect(mentions('a b c', 'a@desk', 'b')).toBe(false);
  });
});

describe('day lines', () => {
  it('come before the first line and at each change of local day, not between lines of one day', () => {
    const days = new DayLines();
    const morning = new Date(2026, 10, 28, 9, 0);
    expect(days.before(morning)).toBe(`--- ${dayText(morning)} ---`);
    expect(days.before(new Date(2026, 10, 28, 23, 59))).toBeUndefined();
    const next = new Date(2026, 10, 29, 0, 1);
    expect(days.before(next)).toBe('--- Sunday 29 November 2026 ---');
    expect(days.before(next)).toBeUndefined();
  });
});

describe('Tab completion', () => {
  const sources = { nicks: ['alice', 'alan@box', 'bob'], rooms: ['lunch', 'lounge'] };
  it('completes commands, nicks (with ": " first on the line) and rooms', () => {
    expect(completeChatLine('/to', sources)).toEqual([['/topic'], '/to']);
    expect(completeChatLine('/q', sources)).toEqual([['/query', '/quit'], '/q']);
    expect(completeChatLine('bo', sources)).toEqual([['bob: '], 'bo']);
    expect(completeChatLine('hi bo', sources)).toEqual([['bob'], 'bo']);
    expect(completeChatLine('al', sources)).toEqual([['alan@box', 'alice'], 'al']);
    expect(completeChatLine('see you in lu', sources)).toEqual([['lunch'], 'lu']);
    expect(completeChatLine('', sources)).toEqual([[], '']);
    expect(completeChatLine('zz', sources)).toEqual([[], 'zz']);
  });
});

describe('multi-line messages', () => {
  it('show as rows under the first, each row made printable on its own', () => {
    const time = new Date(2026, 10, 28, 12, 3);
    expect(formatShownText(time, 'bob', 'normal', 'one\ntwo\x1b[31m')).toBe('12:03 <bob> one\n      two\ufffd[31m');
  });
});

import { describe, expect, it } from 'vitest';
import { mentions, parseComposer, shown } from '../../src/web/page/format.js';

/** The page's pure helpers: what counts as a mention, and what the composer line asks for. */
describe('the page: mentions', () => {
  it('finds a name as a whole word, in any case, and not inside another word', () => {
    expect(mentions('hi Alice, lunch?', ['alice'])).toBe(true);
    expect(mentions('ALICE!', ['Alice'])).toBe(true);
    expect(mentions('@alice', ['alice'])).toBe(true);
    expect(mentions('malice aforethought', ['alice'])).toBe(false);
    expect(mentions('alicex', ['alice'])).toBe(false);
    expect(mentions('then alice2 and alice', ['alice'])).toBe(true);
    expect(mentions('élise est là', ['lise'])).toBe(false);
    // No names, or one-letter ones, never match everything.
    expect(mentions('a b c', [null, undefined, 'a'])).toBe(false);
  });
});

describe('the page: the composer line', () => {
  it('tells lines, actions and commands apart', () => {
    expect(parseComposer('hello')).toEqual({ kind: 'say', text: 'hello' });
    expect(parseComposer('/me waves')).toEqual({ kind: 'action', text: 'waves' });
    expect(parseComposer('/ME waves')).toEqual({ kind: 'action', text: 'waves' });
    expect(parseComposer('/topic tea & <cake>')).toEqual({ kind: 'topic', text: 'tea & <cake>' });
    expect(parseComposer('/topic')).toEqual({ kind: 'topic', text: '' });
    expect(parseComposer('/nick  Bobby ')).toEqual({ kind: 'nick', text: 'Bobby' });
    expect(parseComposer('/join den')).toEqual({ kind: 'join', room: 'den' });
    expect(parseComposer('/leave')).toEqual({ kind: 'leave' });
    expect(parseComposer('//etc/passwd is a path')).toEqual({ kind: 'say', text: '/etc/passwd is a path' });
    expect(parseComposer('/frobnicate x')).toEqual({ kind: 'unknown', command: 'frobnicate' });
  });

  it('shows a nick when there is one, else the name', () => {
    expect(shown('bob@host', 'Bob')).toBe('Bob');
    expect(shown('bob@host', null)).toBe('bob@host');
    expect(shown('bob@host', '')).toBe('bob@host');
  });
});

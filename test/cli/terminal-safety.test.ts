import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatLogLine, Logger, type LogRecord } from '../../src/base/logger.js';
import { escapeUnsafeChars, safeJsonStringify } from '../../src/base/safe-text.js';
import { memberLabel } from '../../src/cli/chat/chat-format.js';
import { printable } from '../../src/cli/terminal-text.js';
import { assertProperty, propertySeed } from '../support/fast-check-seed.js';

/**
 * Peers choose nicks, names and texts: none of their control characters (C0,
 * C1) or bidi controls may reach a terminal, a JSON consumer or a log raw.
 */
const seed = propertySeed();

// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const BIDI_CONTROL = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const SEPARATOR = /[\u2028\u2029]/;
const FSI = '\u2068';
const PDI = '\u2069';

/** Strings rich in the characters that matter, mixed with anything else. */
const hostileChar = fc.constantFrom(
  '\u0000', '\u0007', '\u0008', '\t', '\n', '\r', '\u001b', '\u007f', '\u0080', '\u0085', '\u008d', '\u009b', '\u009d', '\u009f',
  '\u061c', '\u200e', '\u200f', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\u2028', '\u2029',
  'א', 'ש', 'ب', 'ع', '\ufb50', '\u{10800}', '1', 'a', '<', '"', '\\', '\ud800', '\udfff',
);
const hostileString = fc.oneof(
  fc.array(fc.oneof(hostileChar, fc.string({ unit: 'binary', maxLength: 3 })), { maxLength: 30 }).map((parts) => parts.join('')),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

describe('JSON output (safeJsonStringify)', () => {
  it('never holds a raw C0/C1/bidi control or separator, and parses back to the same value', () => {
    assertProperty(
      fc.property(hostileString, hostileString, (key, text) => {
        const value = { [key]: text, list: [text, { nested: text }], n: 1 };
        for (const json of [safeJsonStringify(value), safeJsonStringify(value, undefined, 2).replace(/\n/g, '')]) {
          expect(json).not.toMatch(RAW_CONTROL);
          expect(json).not.toMatch(BIDI_CONTROL);
          expect(json).not.toMatch(SEPARATOR);
          expect(JSON.parse(json)).toEqual(value);
        }
      }),
      seed,
      { numRuns: 2000 },
    );
  });

  it('escapes as \\u00XX', () => {
    expect(safeJsonStringify({ nick: 'a\u0085b\u202ec\u009b' })).toBe('{"nick":"a\\u0085b\\u202ec\\u009b"}');
  });
});

describe('log lines (the stderr sink)', () => {
  it('escape controls everywhere: message, scope and fields', () => {
    assertProperty(
      fc.property(hostileString, hostileString, (message, text) => {
        const record: LogRecord = { level: 'warn', scope: `x${text}`, message, fields: { from: text, nested: { text } } };
        const line = formatLogLine(record);
        expect(line).not.toMatch(RAW_CONTROL);
        expect(line).not.toMatch(BIDI_CONTROL);
        expect(line).not.toMatch(SEPARATOR);
        const json = line.slice(line.indexOf(' {"from"') + 1);
        expect(JSON.parse(json)).toEqual({ from: text, nested: { text } });
      }),
      seed,
      { numRuns: 1000 },
    );
    expect(escapeUnsafeChars('a\u001b[2Jb\u202e')).toBe('a\\u001b[2Jb\\u202e');
  });

  it('the default sink writes such a line to stderr', () => {
    const written: string[] = [];
    const original = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      new Logger({ level: 'debug' }).warn('stanza received', { from: 'eve\u202e@lab', text: '\u009b31m' });
    } finally {
      process.stderr.write = original;
    }
    expect(written).toEqual(['WARN [clique] stanza received {"from":"eve\\u202e@lab","text":"\\u009b31m"}\n']);
  });
});

describe('terminal text (printable)', () => {
  it('leaves no control, bidi control or separator inside; right-to-left text is isolated in one closed FSI…PDI', () => {
    assertProperty(
      fc.property(hostileString, (text) => {
        const shown = printable(text);
        const isolated = shown.startsWith(FSI) && shown.endsWith(PDI) && shown.length >= 2;
        const inner = isolated ? shown.slice(1, -1) : shown;
        expect(inner.replace(/\t/g, '')).not.toMatch(RAW_CONTROL);
        expect(inner).not.toMatch(BIDI_CONTROL);
        expect(inner).not.toMatch(SEPARATOR);
        // Isolated exactly when right-to-left letters are present (and then only once).
        expect(isolated).toBe(/[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc\u{10800}-\u{10fff}\u{1e800}-\u{1efff}]/u.test(inner));
        expect(printable(shown)).toBe(shown); // idempotent
        // Nothing but the controls changed: same length, same other characters.
        expect(inner.length).toBe(text.length);
      }),
      seed,
      { numRuns: 2000 },
    );
  });

  it('examples', () => {
    expect(printable('bob')).toBe('bob');
    expect(printable('tab\there')).toBe('tab\there');
    expect(printable('evil\u202eman')).toBe('evil\ufffdman');
    expect(printable('\u001b]0;title\u0007x\u009b2J')).toBe('\ufffd]0;title\ufffdx\ufffd2J');
    expect(printable('שלום')).toBe(`${FSI}שלום${PDI}`);
    expect(printable('\u2067שלום')).toBe(`${FSI}\ufffdשלום${PDI}`);
    expect(printable(`${FSI}abc${PDI}`)).toBe('\ufffdabc\ufffd'); // a peer's own isolate around nothing right-to-left
    expect(printable(printable('a שלום b'))).toBe(`${FSI}a שלום b${PDI}`);
  });

  it('a member label isolates each peer-supplied part on its own', () => {
    const label = memberLabel({ name: 'dan@lab', displayName: 'דן\u202e', self: false, status: 'away', statusMessage: 'lunch' } as Parameters<typeof memberLabel>[0]);
    expect(label).toBe(`${FSI}דן\ufffd${PDI} (dan@lab) [away: lunch]`);
  });
});

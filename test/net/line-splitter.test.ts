import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../src/net/line-splitter.js';
import { cutAt } from '../support/byte-chunks.js';
import { assertProperty, propertySeed } from '../support/fast-check-seed.js';

const seed = propertySeed();

function split(chunks: Buffer[], max: number): { lines: string[]; oversized: number[] } {
  const lines: string[] = [];
  const oversized: number[] = [];
  const splitter = new LineSplitter(max, (l) => lines.push(l), (n) => oversized.push(n));
  for (const chunk of chunks) splitter.push(chunk);
  splitter.end();
  return { lines, oversized };
}

describe(`LineSplitter (seed ${seed}; replay with CLIQUE_SEED=${seed})`, () => {
  it('finds the same lines however the input is chunked, CR LF included', () => {
    const line = fc.string({ unit: fc.constantFrom('a', 'b', 'é', '\r', ':', '='), maxLength: 20 });
    assertProperty(
      fc.property(fc.array(line, { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 10 }), (lines, offsets) => {
        const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(''));
        const expected = lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
        expect(split(cutAt(bytes, offsets), 1000).lines).toEqual(expected);
      }),
      seed,
      { numRuns: 500 },
    );
  });

  it('discards lines above the limit without buffering them, and keeps the rest', () => {
    assertProperty(
      fc.property(fc.array(fc.nat({ max: 40 }), { maxLength: 15 }), fc.array(fc.nat(), { maxLength: 10 }), (lengths, offsets) => {
        const bytes = Buffer.from(lengths.map((n) => `${'x'.repeat(n)}\n`).join(''));
        const { lines, oversized } = split(cutAt(bytes, offsets), 20);
        expect(lines).toEqual(lengths.filter((n) => n <= 20).map((n) => 'x'.repeat(n)));
        expect(oversized).toEqual(lengths.filter((n) => n > 20));
      }),
      seed,
      { numRuns: 500 },
    );
  });

  it('treats a last line without a newline as a line', () => {
    expect(split([Buffer.from('one\ntwo')], 100).lines).toEqual(['one', 'two']);
    expect(split([Buffer.from('')], 100).lines).toEqual([]);
  });
});

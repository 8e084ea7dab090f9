import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tubeDBusName } from '../../src/tubes/tube-dbus-name.js';
import { TubeStreamIds } from '../../src/tubes/tube-stream-ids.js';
import { assertProperty, propertySeed } from '../support/fast-check-seed.js';

const seed = propertySeed();

describe('tube-local D-Bus unique names (§7.4)', () => {
  it('bob@desk is :2.Ym9iQGRlc2sA, the dbus-name of the spec example (§7.2)', () => {
    expect(tubeDBusName('bob@desk')).toBe(':2.Ym9iQGRlc2sA');
  });

  // Golden values computed independently (Python base64 + hashlib) from the rule in §7.4.
  it('replaces + / = with _ - A', () => {
    expect(tubeDBusName('alice@laptop')).toBe(':2.YWxpY2VAbGFwdG9w');
    expect(tubeDBusName('~~~>>>?')).toBe(':2.fn5_Pj4_PwAA');
  });

  it('encodes a name of 186 bytes whole (251 characters)', () => {
    const name = tubeDBusName('a'.repeat(186));
    expect(name).toBe(':2.' + 'YWFh'.repeat(62));
    expect(name).toHaveLength(251);
  });

  it('replaces a name above 186 bytes by its first 169 bytes and its SHA-1 (255 characters, the D-Bus limit)', () => {
    expect(tubeDBusName('a'.repeat(187))).toBe(':2.' + 'YWFh'.repeat(56) + 'YTV5gRd5comYlgt-rqxIWNz5IvHJ');
    // Bytes, not characters: 100 × 'é' is 200 UTF-8 bytes, and the cut falls inside a character.
    expect(tubeDBusName('é'.repeat(100))).toBe(':2.' + 'w6nDqcOp'.repeat(28) + 'w9NplvhIcTMV7GfL4dPun6IGdAXe');
    expect(tubeDBusName('a'.repeat(254))).toHaveLength(255);
  });

  it('gives distinct long names distinct unique names (the hash covers the whole name)', () => {
    const prefix = 'x'.repeat(200);
    expect(tubeDBusName(prefix + 'a')).not.toBe(tubeDBusName(prefix + 'b'));
  });

  it(`is always a valid D-Bus unique name (seed ${seed})`, () => {
    assertProperty(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 120 }), (member) => {
        const name = tubeDBusName(member);
        expect(name).toMatch(/^:2\.[A-Za-z0-9_-]+$/);
        expect(name.length).toBeLessThanOrEqual(255);
      }),
      seed,
    );
  });
});

describe('D-Bus tube stream ids (§7.4)', () => {
  it('hands out 1, 2, 3 and never 0', () => {
    const ids = new TubeStreamIds();
    expect([ids.allocate(), ids.allocate(), ids.allocate()]).toEqual([1, 2, 3]);
  });

  it('takes the id after the last one handed out, not the lowest free one', () => {
    const ids = new TubeStreamIds();
    ids.allocate();
    ids.allocate();
    expect(ids.release(1)).toBe(true);
    expect(ids.allocate()).toBe(3);
    expect(ids.has(1)).toBe(false);
    expect(ids.release(1)).toBe(false);
  });

  it('wraps 65535 → 1, skipping ids in use', () => {
    const ids = new TubeStreamIds();
    for (let i = 1; i <= 65535; i++) expect(ids.allocate()).toBe(i);
    expect(ids.allocate()).toBeUndefined(); // all in use
    ids.release(3);
    ids.release(65535);
    ids.release(1);
    // last was 65535: the next is 65535 + 1 → 1, which is free.
    expect(ids.allocate()).toBe(1);
    expect(ids.allocate()).toBe(3);
    expect(ids.allocate()).toBe(65535);
    expect(ids.allocate()).toBeUndefined();
    expect(ids.size).toBe(65535);
  });

  it(`matches a model of "last + 1, wrapping, skipping used" over any allocate/release sequence (seed ${seed})`, () => {
    const op = fc.oneof(fc.constant<'allocate'>('allocate'), fc.integer({ min: 0, max: 70000 }));
    assertProperty(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const ids = new TubeStreamIds();
        const used = new Set<number>();
        let last = 0;
        for (const o of ops) {
          if (o === 'allocate') {
            let next = last;
            do next = next === 65535 ? 1 : next + 1;
            while (used.has(next));
            expect(ids.allocate()).toBe(next);
            used.add(next);
            last = next;
          } else {
            expect(ids.release(o)).toBe(used.delete(o));
          }
          expect(ids.size).toBe(used.size);
        }
      }),
      seed,
    );
  });
});

import { describe, expect, it } from 'vitest';
import { seqDiff } from '../../src/wire/sequence.js';

// Vectors from spec rmulticast.md §1, verified there against the original.
const VECTORS: Array<[number, number, number]> = [
  [0, 0, 0],
  [5, 10, 5],
  [10, 5, -5],
  [0xfffffff5, 10, 21],
  [0xffffffff, 0, 1],
  [0, 0xffffffff, -1],
  [0xffffffff, 10, 11],
  [10, 0xffffffff, -11],
  [0x7fffffff, 0xffffffff, 2147483647],
  [0xffffffff, 0x7fffffff, -2147483647],
  [0x7ffffffe, 0xffffffff, 2147483647],
  [0xffffffff, 0x7ffffffe, -2147483647],
  [0xfffffffa, 5, 11],
  [5, 0xfffffffa, -11],
  [0xffff0000, 5, -2147483647],
  [0xffff0001, 5, 65540],
  [0xfffffff0, 0xfffe, 65550],
  [0xfffffff0, 0xffff, -2147483647],
  [0x80000000, 0x00010000, -2147418112],
];

describe('seqDiff', () => {
  it.each(VECTORS)('diff(%i, %i) = %i', (from, to, expected) => {
    expect(seqDiff(from, to)).toBe(expected);
  });
});

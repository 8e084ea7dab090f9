import { InvalidArgumentError } from 'commander';

/** A commander parser for a whole number from 0 to `max` (counts such as `--history N`). */
export function wholeNumberParser(max: number): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n > max) throw new InvalidArgumentError(`must be a whole number from 0 to ${max}`);
    return n;
  };
}

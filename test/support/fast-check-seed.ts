import fc from 'fast-check';

/**
 * One seed per test file: from env CLIQUE_SEED (to replay a failure) or random.
 * Every failure message carries it, so any red run can be reproduced.
 */
export function propertySeed(): number {
  const fromEnv = process.env.CLIQUE_SEED;
  if (fromEnv !== undefined && fromEnv !== '') {
    const seed = Number(fromEnv);
    if (!Number.isSafeInteger(seed)) throw new Error(`CLIQUE_SEED must be an integer, got ${JSON.stringify(fromEnv)}`);
    return seed | 0;
  }
  return (Math.random() * 0x1_0000_0000) | 0;
}

/** fc.assert with the file's seed; rethrows with a replay hint. */
export function assertProperty<Ts>(
  property: fc.IProperty<Ts>,
  seed: number,
  params: Omit<fc.Parameters<Ts>, 'seed'> = {},
): void {
  try {
    fc.assert(property, { ...params, seed });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message}\nreplay with CLIQUE_SEED=${seed}`, { cause: error });
  }
}

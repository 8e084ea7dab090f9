import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { ServiceError } from './service-error.js';

/**
 * A pid lock: one service per login and interface. Taken atomically with
 * link(2) from a private temporary file, so two services starting at the same
 * moment cannot both win. A lock whose process is gone (a crash, SIGKILL) is
 * stale and taken over. Returns the function that releases it.
 */
export function acquireServiceLock(path: string): () => void {
  for (let attempt = 0; attempt < 5; attempt++) {
    const temp = `${path}.${process.pid}.tmp`;
    writeFileSync(temp, `${process.pid}\n`, { mode: 0o600 });
    try {
      linkSync(temp, path);
      return () => releaseIfOurs(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      unlinkQuietly(temp);
    }
    const holder = readHolder(path);
    if (holder !== undefined && holder !== process.pid && isAlive(holder)) {
      throw new ServiceError('already-running', `a clique service (pid ${holder}) already runs for this login and interface (lock ${path})`);
    }
    // Stale: its process is gone. Remove it only if it still names that process.
    if (readHolder(path) === holder) unlinkQuietly(path);
  }
  throw new ServiceError('already-running', `could not take the service lock ${path}`);
}

/** The pid in a lock file, if it holds one. */
export function readHolder(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a process of this pid exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function releaseIfOurs(path: string): void {
  if (readHolder(path) === process.pid) unlinkQuietly(path);
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { dirname, parse } from 'node:path';
import { CliqueError } from './clique-error.js';

export type DiskErrorCode =
  | 'disk-read-only' // EROFS: the file system is mounted read-only
  | 'disk-permission-denied' // EACCES/EPERM: we may not write there
  | 'disk-full' // ENOSPC/EDQUOT, SQLite's SQLITE_FULL: no space (or quota) left
  | 'disk-path-missing'; // ENOENT/ENOTDIR: a directory on the way is missing or is a file

/**
 * A file or directory clique needs could not be created or written, for a
 * reason the user can act on. `path` is where; `errno` the system's code.
 */
export class DiskError extends CliqueError {
  declare readonly code: DiskErrorCode;

  constructor(
    code: DiskErrorCode,
    message: string,
    readonly path: string,
    readonly errno: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

const REASONS: Record<DiskErrorCode, string> = {
  'disk-read-only': 'the file system is read-only',
  'disk-permission-denied': 'permission denied',
  'disk-full': 'the disk is full (or the quota is used up)',
  'disk-path-missing': 'a directory on the way is missing or is not a directory',
};

const BY_ERRNO: Record<string, DiskErrorCode> = {
  EROFS: 'disk-read-only',
  EACCES: 'disk-permission-denied',
  EPERM: 'disk-permission-denied',
  ENOSPC: 'disk-full',
  EDQUOT: 'disk-full',
  SQLITE_FULL: 'disk-full',
  ENOENT: 'disk-path-missing',
  ENOTDIR: 'disk-path-missing',
};

/** `{ code: 'EROFS' }` → 'disk-read-only'; undefined for errors that are not about the disk. */
export function diskErrorCode(error: unknown): DiskErrorCode | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? BY_ERRNO[code] : undefined;
}

/**
 * The DiskError for `error` met while doing `action` (e.g. "create the
 * history directory") on `path`, or undefined if it is not a disk problem.
 */
export function diskErrorFrom(error: unknown, action: string, path: string): DiskError | undefined {
  const code = diskErrorCode(error);
  if (code === undefined) return undefined;
  const errno = String((error as { code: string }).code);
  return new DiskError(code, `cannot ${action} ${path}: ${REASONS[code]} (${errno})`, path, errno, { cause: error });
}

/**
 * mkdir -p that reports the real reason. Node's recursive mkdir says ENOENT
 * when a missing parent cannot be created on a read-only file system; we
 * create one level at a time, so the error names the directory that failed
 * and the system's actual reason (EROFS, EACCES, ENOSPC...).
 * Throws DiskError, or the original error if it is not a disk problem.
 */
export function makeDirectories(path: string, mode: number, action = 'create the directory'): void {
  const missing: string[] = [];
  const root = parse(path).root;
  for (let dir = path; dir !== root && !exists(dir); dir = dirname(dir)) missing.unshift(dir);
  for (const dir of missing) {
    try {
      mkdirSync(dir, { mode });
    } catch (error) {
      if ((error as { code?: unknown }).code === 'EEXIST') continue; // made by someone else meanwhile
      throw diskErrorFrom(error, action, dir) ?? error;
    }
  }
}

/**
 * After a failure that does not say why (SQLite's "unable to open database
 * file"): the reason the directory or file is not writable, if there is one.
 */
export function diagnoseWrite(path: string, action: string): DiskError | undefined {
  for (const target of [path, dirname(path)]) {
    if (!exists(target)) continue;
    try {
      accessSync(target, constants.W_OK);
    } catch (error) {
      return diskErrorFrom(error, action, target);
    }
  }
  return undefined;
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

import { chmodSync, lstatSync, type Stats } from 'node:fs';
import { DiskError, makeDirectories } from '../base/disk-error.js';
import { errorText } from '../base/error-text.js';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ServiceError } from './service-error.js';

/** Where one service (login + interface) keeps its socket, lock and log. */
export interface ServicePaths {
  /** Private 0700 directory of the control socket and lock. */
  controlDir: string;
  socket: string;
  lock: string;
  /** Private 0700 data directory (the history database and the daemon's log live here). */
  dataDir: string;
  log: string;
}

/** Unix socket paths are limited to 107 bytes on Linux. */
const MAX_SOCKET_PATH_BYTES = 107;

/**
 * The paths of the service for `interface` (undefined: the default
 * interface). The socket lives in `$XDG_RUNTIME_DIR/clique/`, or else in
 * `/tmp/clique-<uid>/`; the name encodes the interface so one login may run
 * one service per interface: `service.sock`, `service-127.0.0.1.sock`.
 */
export function servicePaths(iface: string | undefined, env: NodeJS.ProcessEnv = process.env): ServicePaths {
  const runtime = env['XDG_RUNTIME_DIR'];
  const controlDir =
    runtime !== undefined && runtime.startsWith('/') ? join(runtime, 'clique') : join('/tmp', `clique-${process.getuid?.() ?? 'user'}`);
  const xdgData = env['XDG_DATA_HOME'];
  const dataDir = join(xdgData !== undefined && xdgData.startsWith('/') ? xdgData : join(env['HOME'] ?? homedir(), '.local', 'share'), 'clique');
  const suffix = iface === undefined || iface === '' ? '' : `-${iface.replace(/[^A-Za-z0-9.:_-]/g, '_')}`;
  const socket = join(controlDir, `service${suffix}.sock`);
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH_BYTES) {
    throw new ServiceError('unsafe-directory', `the control socket path ${socket} is longer than ${MAX_SOCKET_PATH_BYTES} bytes; set XDG_RUNTIME_DIR to a shorter directory`);
  }
  return { controlDir, socket, lock: join(controlDir, `service${suffix}.lock`), dataDir, log: join(dataDir, `service${suffix}.log`) };
}

/**
 * Creates `dir` (mode 0700) if missing and checks it is safe to hold a
 * private socket: a real directory (not a symlink), owned by us, with no
 * group or world permissions. Throws ServiceError 'unsafe-directory' instead
 * of repairing a directory that someone else set up (`tighten`: a directory
 * of ours with a looser mode is set to 0700 first).
 */
export function ensurePrivateDir(dir: string, { tighten = false, purpose = 'directory' }: { tighten?: boolean; purpose?: string } = {}): void {
  try {
    // A read-only or full disk is reported as such (DiskError), not as Node's ENOENT from a recursive mkdir.
    makeDirectories(dir, 0o700, `create the ${purpose}`);
  } catch (error) {
    if (error instanceof DiskError) throw error;
    throw new ServiceError('unsafe-directory', `cannot create ${dir}: ${errorText(error)}`, { cause: error });
  }
  let stats: Stats;
  try {
    stats = lstatSync(dir);
  } catch (error) {
    throw new ServiceError('unsafe-directory', `cannot inspect ${dir}: ${(error as Error).message}`, { cause: error });
  }
  // Our own data directory, made before the service existed with a looser mode: ours to fix.
  if (tighten && stats.isDirectory() && !stats.isSymbolicLink() && stats.uid === process.getuid?.() && (stats.mode & 0o077) !== 0) {
    chmodSync(dir, 0o700);
    stats = lstatSync(dir);
  }
  checkPrivateDirStats(dir, stats);
}

/** The checks of ensurePrivateDir, on stats already taken (exported for tests). */
export function checkPrivateDirStats(dir: string, stats: Pick<Stats, 'isDirectory' | 'isSymbolicLink' | 'uid' | 'mode'>): void {
  if (stats.isSymbolicLink() || !stats.isDirectory()) throw new ServiceError('unsafe-directory', `${dir} is not a directory`);
  const uid = process.getuid?.();
  if (uid !== undefined && stats.uid !== uid) throw new ServiceError('unsafe-directory', `${dir} belongs to uid ${stats.uid}, not to us (uid ${uid})`);
  if ((stats.mode & 0o077) !== 0) {
    throw new ServiceError('unsafe-directory', `${dir} is accessible to others (mode ${(stats.mode & 0o777).toString(8)}); it must be 0700`);
  }
}

/** chmod 0600 and verify it took (a socket others could connect to would let them act as us). */
export function makeOwnerOnly(path: string): void {
  chmodSync(path, 0o600);
  const mode = lstatSync(path).mode & 0o777;
  if (mode !== 0o600) throw new ServiceError('unsafe-socket', `${path} has mode ${mode.toString(8)} after chmod 0600`);
}

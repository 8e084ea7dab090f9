import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { FileTransferJson } from '../../service/control-protocol.js';
import type { ServiceClient } from '../../service/service-client.js';
import { ServiceError } from '../../service/service-error.js';
import { interfaceOption } from '../interface-option.js';
import { writeJsonDocument } from '../json-output.js';
import { connectService, serviceUsageError } from '../service-session.js';
import { printable } from '../terminal-text.js';

interface FilesCliOptions {
  interface?: string;
  json?: boolean;
  dir?: string;
  desc?: string;
}

/**
 * The file commands (issue 12, spec §8), all through the clique service:
 * `send-file CONTACT FILE…` offers files and shows each one's progress and
 * outcome; `share ROOM FILE…` sends files once to a whole room; `files` lists offers and transfers; `accept-file ID` receives one
 * offer; `decline-file ID` refuses it.
 */
export function registerFilesCommands(program: Command): void {
  program
    .command('send-file')
    .description('offer files to a contact (XEP-0066, as salut and iChat do); shows progress and how each ended (exit 1 unless all were accepted)')
    .argument('<contact>', 'the contact (user@host)')
    .argument('<files...>', 'files to send, one after the other')
    .option('--desc <text>', 'a description sent with each offer')
    .addOption(interfaceOption())
    .action(async (contact: string, paths: string[], options: FilesCliOptions) => {
      const { client } = await connectService(options);
      await client.request('files.subscribe', {});
      await sendEach(client, paths, 'accepted', (path) => client.request('files.offer', { contact, path, ...(options.desc !== undefined ? { desc: options.desc } : {}) }), (t) =>
        `offered ${printable(t.name)} (${formatBytes(t.size ?? 0)}) to ${printable(contact)}; waiting for an answer…`,
      );
    });

  program
    .command('share')
    .description('share files once to every member of a room, over the room\'s reliable multicast (our extension; members that accept write it, salut members ignore it); shows progress (exit 1 unless all were sent)')
    .argument('<room>', 'a room (the service joins it if it is not in it, and stays a while after)')
    .argument('<files...>', 'files to share, one after the other')
    .addOption(interfaceOption())
    .action(async (room: string, paths: string[], options: FilesCliOptions) => {
      const { client } = await connectService(options);
      try {
        await client.request('rooms.join', { room, hold: 'client', create: false });
        await client.request('files.subscribe', {});
      } catch (error) {
        client.close();
        throw serviceUsageError(error);
      }
      await sendEach(client, paths, 'sent', (path) => client.request('files.share', { room, path }), (t) => `sharing ${printable(t.name)} (${formatBytes(t.size ?? 0)}) in ${printable(room)}…`);
    });

  program
    .command('files')
    .description('list file offers to us and from us, and transfers under way or finished (exit 1 if no service runs)')
    .option('--json', 'print a JSON array: {direction, id, peer, name, size, sha256, desc, state, bytes, path, error}')
    .addOption(interfaceOption())
    .action(async (options: FilesCliOptions) => {
      const client = await existingService(options);
      if (client === undefined) return;
      let transfers: FileTransferJson[];
      try {
        transfers = (await client.request('files.list', {})).transfers;
      } finally {
        client.close();
      }
      if (options.json) writeJsonDocument(transfers);
      else process.stdout.write(transferTable(transfers));
    });

  program
    .command('accept-file')
    .description('receive a file offered to us (see `clique files`) into a directory; shows progress (exit 1 if it fails)')
    .argument('<id>', 'the offer id')
    .option('--dir <dir>', 'where to save it (default: the current directory); never overwrites: a clash takes "name (1).ext"')
    .addOption(interfaceOption())
    .action(async (id: string, options: FilesCliOptions) => {
      const client = await existingService(options);
      if (client === undefined) return;
      const watcher = new TransferWatcher(client);
      const interrupt = (): void => void client.request('files.cancel', { id }).catch(() => undefined);
      process.once('SIGINT', interrupt);
      try {
        await client.request('files.subscribe', {});
        const offer = await client.request('files.accept', { id, dir: resolve(options.dir ?? '.') });
        const done = await watcher.done('in', id, progressBar(offer.name));
        if (done.state === 'received') process.stdout.write(`received ${printable(done.name)} from ${printable(done.peer)}: ${printable(done.path ?? '')}\n`);
        else {
          process.stdout.write(`${printable(done.name)}: ${outcomeText(done)}\n`);
          process.exitCode = 1;
        }
      } catch (error) {
        throw serviceUsageError(error);
      } finally {
        process.off('SIGINT', interrupt);
        client.close();
      }
    });

  program
    .command('decline-file')
    .description('decline a file offered to us (the sender sees "declined")')
    .argument('<id>', 'the offer id')
    .addOption(interfaceOption())
    .action(async (id: string, options: FilesCliOptions) => {
      const client = await existingService(options);
      if (client === undefined) return;
      try {
        const declined = await client.request('files.decline', { id });
        process.stdout.write(`declined ${printable(declined.name)} from ${printable(declined.peer)}\n`);
      } catch (error) {
        throw serviceUsageError(error);
      } finally {
        client.close();
      }
    });
}

/** Offers live in the service: without one there is nothing to list or take. */
async function existingService(options: FilesCliOptions): Promise<ServiceClient | undefined> {
  try {
    return (await connectService(options, { start: false })).client;
  } catch (error) {
    if (!(error instanceof ServiceError && error.code === 'not-running')) throw error;
    process.stderr.write('clique: no clique service is running, so there are no file offers (clique up, or clique online)\n');
    process.exitCode = 1;
    return undefined;
  }
}

/** Collects file.progress/file.done events, so an outcome that arrives before anyone waits is not lost. */
class TransferWatcher {
  private readonly finished = new Map<string, FileTransferJson>();
  private readonly waiting = new Map<string, { resolve: (t: FileTransferJson) => void; progress: (t: FileTransferJson) => void }>();

  constructor(client: ServiceClient) {
    client.on('event', (e) => {
      if (e.event !== 'file.progress' && e.event !== 'file.done') return;
      const key = `${e.params.direction}:${e.params.id}`;
      const waiter = this.waiting.get(key);
      if (e.event === 'file.progress') {
        waiter?.progress(e.params);
        return;
      }
      if (waiter !== undefined) {
        this.waiting.delete(key);
        waiter.progress(e.params);
        waiter.resolve(e.params);
      } else this.finished.set(key, e.params);
    });
    client.once('close', () => {
      for (const [key, waiter] of this.waiting) {
        const [direction, id] = key.split(':') as ['in' | 'out', string];
        waiter.resolve({ direction, id, peer: '', room: null, name: id, size: null, sha256: null, desc: null, state: 'failed', bytes: 0, path: null, error: 'the clique service went away' });
      }
      this.waiting.clear();
    });
  }

  done(direction: 'in' | 'out', id: string, progress: (t: FileTransferJson) => void): Promise<FileTransferJson> {
    const key = `${direction}:${id}`;
    const already = this.finished.get(key);
    if (already !== undefined) return Promise.resolve(already);
    return new Promise((resolve) => this.waiting.set(key, { resolve, progress }));
  }
}

/** On a terminal: one line redrawn with bytes, rate and ETA; elsewhere nothing (the outcome line follows). */
function progressBar(name: string): (t: FileTransferJson) => void {
  if (process.stderr.isTTY !== true) return () => undefined;
  const started = Date.now();
  let drawn = false;
  return (t) => {
    if (t.state !== 'offered' && t.state !== 'receiving' && t.state !== 'sending' && drawn) {
      process.stderr.write('\r\u001b[2K');
      return;
    }
    if (t.bytes === 0) return;
    drawn = true;
    process.stderr.write(`\r\u001b[2K${progressLine(printable(name), t.bytes, t.size, (Date.now() - started) / 1000)}`);
  };
}

/** `name  12.0 MiB / 50.0 MiB  24%  8.0 MiB/s  ETA 5s`. */
export function progressLine(name: string, bytes: number, total: number | null, seconds: number): string {
  const rate = seconds > 0 ? bytes / seconds : 0;
  const parts = [name, total !== null ? `${formatBytes(bytes)} / ${formatBytes(total)}` : formatBytes(bytes)];
  if (total !== null && total > 0) parts.push(`${Math.floor((bytes / total) * 100)}%`);
  if (rate > 0) parts.push(`${formatBytes(rate)}/s`);
  if (total !== null && rate > 0 && bytes < total) parts.push(`ETA ${formatDuration((total - bytes) / rate)}`);
  return parts.join('  ');
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${units[unit]}`;
}

function formatDuration(seconds: number): string {
  const s = Math.ceil(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function outcomeText(t: FileTransferJson): string {
  switch (t.state) {
    case 'accepted':
      return `accepted by ${printable(t.peer)}`;
    case 'sent':
      return `sent to ${printable(t.peer)}`;
    case 'received':
      return `received from ${printable(t.peer)}`;
    case 'declined':
      return t.direction === 'out' ? `declined by ${printable(t.peer)}` : 'declined';
    case 'cancelled':
      return 'cancelled';
    default:
      return `failed${t.error !== null ? `: ${printable(t.error)}` : ''}`;
  }
}

/** One line per transfer, newest last; 'no file transfers' when empty. */
export function transferTable(transfers: FileTransferJson[]): string {
  if (transfers.length === 0) return 'no file transfers\n';
  return `${transfers
    .map((t) => {
      const arrow = (t.direction === 'in' ? `from ${printable(t.peer)}` : `to ${printable(t.peer)}`) + (t.room !== null && t.direction === 'in' ? ` in ${printable(t.room)}` : '');
      const size = t.size !== null ? formatBytes(t.size) : 'size unknown';
      const desc = t.desc !== null ? `  "${printable(t.desc)}"` : '';
      const where = t.path !== null ? `  -> ${printable(t.path)}` : '';
      const error = t.error !== null ? `  (${printable(t.error)})` : '';
      return `${t.id}  ${t.direction === 'in' ? 'in ' : 'out'}  ${printable(t.name)}  ${size}  ${arrow}  ${t.state}${desc}${where}${error}`;
    })
    .join('\n')}\n`;
}

/**
 * Offers (or shares) files one after the other with a progress bar each, one
 * outcome line each on stdout; Ctrl-C cancels the current one. Exit status 1
 * unless every one ended in `success`. Closes the client.
 */
async function sendEach(
  client: ServiceClient,
  paths: string[],
  success: FileTransferJson['state'],
  start: (path: string) => Promise<FileTransferJson>,
  startedText: (transfer: FileTransferJson) => string,
): Promise<void> {
  const watcher = new TransferWatcher(client);
  let current: string | undefined;
  const interrupt = (): void => {
    if (current !== undefined) void client.request('files.cancel', { id: current }).catch(() => undefined);
    else process.exit(130);
  };
  process.once('SIGINT', interrupt);
  let failures = 0;
  try {
    for (const path of paths) {
      let started: FileTransferJson;
      try {
        started = await start(resolve(path));
      } catch (error) {
        failures += 1;
        process.stderr.write(`clique: ${printable(path)}: ${printable(error instanceof Error ? error.message : String(error))}\n`);
        continue;
      }
      current = started.id;
      process.stderr.write(`${startedText(started)}\n`);
      const done = await watcher.done('out', started.id, progressBar(started.name));
      current = undefined;
      if (done.state !== success) failures += 1;
      process.stdout.write(`${printable(done.name)}: ${outcomeText(done)}\n`);
    }
  } catch (error) {
    throw serviceUsageError(error);
  } finally {
    process.off('SIGINT', interrupt);
    client.close();
  }
  if (failures > 0) process.exitCode = 1;
}

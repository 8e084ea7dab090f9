import Database from 'better-sqlite3';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { diagnoseWrite, diskErrorFrom, DiskError, makeDirectories } from '../base/disk-error.js';
import { silentLogger, type Logger } from '../base/logger.js';
import type { TextMessageKind } from '../xml/stanzas.js';
import { RoomError } from './room-error.js';

/**
 * Local history of the rooms we joined, in an embedded SQLite database
 * (better-sqlite3). Nothing here is ever sent to anyone: a member sees only
 * what it received (or sent) while it was in the room.
 *
 *   const store = HistoryStore.open({ path: ':memory:', maxPerRoom: 1000 });
 *   store.add({ room: 'lunch', id: 'a1', sender: 'bob@desk', kind: 'normal', text: 'hi', time: new Date(), outgoing: false });
 *   store.recent('lunch', 50);     // oldest first
 *   store.close();
 */

export type HistoryKind = TextMessageKind | 'topic';

export interface HistoryEntry {
  room: string;
  /** The sender's message id, or one we made up for messages without (salut's). */
  id: string;
  /** rMulticast name of the author (us for outgoing entries). */
  sender: string;
  /**
   * The author's display name (nick) when the entry was stored, for showing
   * old messages as people saw them. Absent when unknown, e.g. in entries
   * stored before history kept names (schema 1).
   */
  senderName?: string;
  kind: HistoryKind;
  /** Message text; for 'topic', the new topic ('' = cleared). */
  text: string;
  /** When we sent or received it (the protocol carries no timestamps). */
  time: Date;
  /** True for what we sent ourselves. */
  outgoing: boolean;
  /** Id of the message this one replies to (XEP-0461). */
  replyTo?: string;
}

export interface HistoryStoreOptions {
  /** Database file, or ':memory:'. Default: `defaultHistoryPath()`. */
  path?: string;
  /** Entries kept per room; older ones are deleted as new ones arrive. Default 10 000. */
  maxPerRoom?: number;
  logger?: Logger;
}

export const DEFAULT_HISTORY_PER_ROOM = 10_000;
/** 1: the first schema. 2: adds the nullable `sender_name` column (entries of schema 1 read with no name). */
const SCHEMA_VERSION = 2;
/** How long a write waits for another process holding the database (ms); it blocks the event loop meanwhile. */
const BUSY_TIMEOUT_MS = 2000;

/** `$XDG_DATA_HOME/clique/history.sqlite`, else `~/.local/share/clique/history.sqlite`. */
export function defaultHistoryPath(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env['XDG_DATA_HOME'];
  const base = xdg !== undefined && xdg.startsWith('/') ? xdg : join(homedir(), '.local', 'share');
  return join(base, 'clique', 'history.sqlite');
}

interface Row {
  room: string;
  id: string;
  sender: string;
  sender_name: string | null;
  kind: HistoryKind;
  text: string;
  time: number;
  outgoing: number;
  reply_to: string | null;
}

export class HistoryStore {
  readonly path: string;
  readonly maxPerRoom: number;
  private readonly db: Database.Database;
  private readonly logger: Logger;
  private readonly insert: Database.Statement<[Omit<Row, 'outgoing'> & { outgoing: number }]>;
  private readonly prune: Database.Statement<[string, string, number]>;
  private readonly selectRecent: Database.Statement<[string, number], Row>;
  private readonly selectTopic: Database.Statement<[string], Row>;
  private readonly selectRooms: Database.Statement<[], { room: string }>;
  private readonly addAndPrune: (row: Row) => boolean;

  private constructor(db: Database.Database, path: string, maxPerRoom: number, logger: Logger) {
    this.db = db;
    this.path = path;
    this.maxPerRoom = maxPerRoom;
    this.logger = logger;
    this.insert = db.prepare(
      `INSERT OR IGNORE INTO messages (room, id, sender, sender_name, kind, text, time, outgoing, reply_to)
       VALUES (@room, @id, @sender, @sender_name, @kind, @text, @time, @outgoing, @reply_to)`,
    );
    // Deletes the (max+1)-th newest entry of the room and everything older.
    this.prune = db.prepare(
      `DELETE FROM messages WHERE room = ? AND seq <= (SELECT seq FROM messages WHERE room = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)`,
    );
    this.selectRecent = db.prepare(
      `SELECT * FROM (SELECT seq, room, id, sender, sender_name, kind, text, time, outgoing, reply_to FROM messages WHERE room = ? ORDER BY seq DESC LIMIT ?) ORDER BY seq ASC`,
    );
    this.selectTopic = db.prepare(`SELECT room, id, sender, sender_name, kind, text, time, outgoing, reply_to FROM messages WHERE room = ? AND kind = 'topic' ORDER BY seq DESC LIMIT 1`);
    this.selectRooms = db.prepare(`SELECT DISTINCT room FROM messages ORDER BY room`);
    this.addAndPrune = db.transaction((row: Row): boolean => {
      const inserted = this.insert.run(row).changes > 0;
      if (inserted) this.prune.run(row.room, row.room, this.maxPerRoom);
      return inserted;
    });
  }

  /**
   * Opens (creating file, directory and schema as needed). Throws RoomError
   * 'history-failed'; when the disk is the reason (read-only, full, not ours)
   * its `cause` is a DiskError naming the path and the reason.
   */
  static open(options: HistoryStoreOptions = {}): HistoryStore {
    const path = options.path ?? defaultHistoryPath();
    const maxPerRoom = options.maxPerRoom ?? DEFAULT_HISTORY_PER_ROOM;
    if (!Number.isSafeInteger(maxPerRoom) || maxPerRoom < 1) throw new RoomError('bad-argument', `maxPerRoom must be a positive integer, got ${maxPerRoom}`);
    const logger = (options.logger ?? silentLogger).child('history');
    let db: Database.Database | undefined;
    try {
      if (path !== ':memory:' && path !== '') makeDirectories(dirname(path), 0o700, 'create the history directory');
      db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
      if (!db.memory) db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) {
        throw new RoomError('history-failed', `${path} has history schema ${version}, newer than this program's ${SCHEMA_VERSION}`);
      }
      if (version < SCHEMA_VERSION) migrate(db, logger);
      const store = new HistoryStore(db, path, maxPerRoom, logger);
      logger.debug('opened', { path, maxPerRoom });
      return store;
    } catch (error) {
      db?.close();
      if (error instanceof RoomError) throw error;
      const disk = error instanceof DiskError ? error : diskProblem(error, 'open the history database', path);
      if (disk !== undefined) throw new RoomError('history-failed', `${disk.message}; ${diskAdvice(disk)}`, { cause: disk });
      throw new RoomError('history-failed', `cannot open history database ${path}: ${errorText(error)}`, { cause: error });
    }
  }

  /**
   * Stores an entry unless one with the same room, sender and id is there
   * already (de-duplication). Returns true if it was new. Throws RoomError
   * 'history-failed'.
   */
  add(entry: HistoryEntry): boolean {
    try {
      return this.addAndPrune({
        room: entry.room,
        id: entry.id,
        sender: entry.sender,
        sender_name: entry.senderName ?? null,
        kind: entry.kind,
        text: entry.text,
        time: entry.time.getTime(),
        outgoing: entry.outgoing ? 1 : 0,
        reply_to: entry.replyTo ?? null,
      });
    } catch (error) {
      const disk = diskProblem(error, 'write to the history database', this.path);
      if (disk !== undefined) throw new RoomError('history-failed', `cannot store a message of room ${JSON.stringify(entry.room)}: ${disk.message}; ${diskAdvice(disk)}`, { cause: disk });
      throw new RoomError('history-failed', `cannot store a message of room ${JSON.stringify(entry.room)}: ${errorText(error)}`, { cause: error });
    }
  }

  /**
   * The last `limit` entries of a room, oldest first. With `reader` (a member
   * name), `outgoing` says whether that member wrote the entry.
   */
  recent(room: string, limit = 50, reader?: string): HistoryEntry[] {
    if (!Number.isSafeInteger(limit) || limit < 0) throw new RoomError('bad-argument', `history limit must be a non-negative integer, got ${limit}`);
    try {
      const entries = this.selectRecent.all(room, limit).map(fromRow);
      // One file may serve several members of one login (--no-service processes): "ours" is the reader's, not the writer's.
      return reader === undefined ? entries : entries.map((e) => ({ ...e, outgoing: e.sender === reader }));
    } catch (error) {
      throw new RoomError('history-failed', `cannot read history of ${JSON.stringify(room)}: ${errorText(error)}`, { cause: error });
    }
  }

  /** The last topic change stored for a room. */
  lastTopic(room: string): HistoryEntry | undefined {
    try {
      const row = this.selectTopic.get(room);
      return row === undefined ? undefined : fromRow(row);
    } catch (error) {
      throw new RoomError('history-failed', `cannot read history of ${JSON.stringify(room)}: ${errorText(error)}`, { cause: error });
    }
  }

  /** Rooms with stored history. */
  rooms(): string[] {
    return this.selectRooms.all().map((r) => r.room);
  }

  /** Deletes the history of one room, or of all rooms. */
  clear(room?: string): void {
    if (room === undefined) this.db.prepare('DELETE FROM messages').run();
    else this.db.prepare('DELETE FROM messages WHERE room = ?').run(room);
  }

  close(): void {
    if (!this.db.open) return;
    this.db.close();
    this.logger.debug('closed', { path: this.path });
  }
}

const DISK_FIX: Record<DiskError['code'], string> = {
  'disk-read-only': 'remount it writable',
  'disk-permission-denied': 'fix its permissions',
  'disk-full': 'free some space',
  'disk-path-missing': 'create the missing directory',
};

/** What to do about it, after the reason. */
function diskAdvice(disk: DiskError): string {
  return `${DISK_FIX[disk.code]}, keep the history elsewhere, or turn it off`;
}

/**
 * The disk-level reason behind a file-system or SQLite error, if any. SQLite
 * reports a read-only or forbidden directory only as "unable to open database
 * file" (or read-only / I/O errors), so those are diagnosed by asking the
 * file system whether the file and its directory are writable.
 */
function diskProblem(error: unknown, action: string, path: string): DiskError | undefined {
  const direct = diskErrorFrom(error, action, path);
  if (direct !== undefined) return direct;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !/^SQLITE_(CANTOPEN|READONLY|IOERR)/.test(code) || path === ':memory:' || path === '') return undefined;
  return diagnoseWrite(path, action);
}

function fromRow(row: Row): HistoryEntry {
  const entry: HistoryEntry = {
    room: row.room,
    id: row.id,
    sender: row.sender,
    kind: row.kind,
    text: row.text,
    time: new Date(row.time),
    outgoing: row.outgoing !== 0,
  };
  if (row.sender_name !== null) entry.senderName = row.sender_name;
  if (row.reply_to !== null) entry.replyTo = row.reply_to;
  return entry;
}

/**
 * Creates the schema, or brings an older one up to date, in one write
 * transaction: two processes opening the same old file at once must not
 * both add the column (the second sees the first's work once it gets the lock).
 */
function migrate(db: Database.Database, logger: Logger): void {
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version >= SCHEMA_VERSION) return;
    db.exec(`
      CREATE TABLE IF NOT EXISTS messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        room TEXT NOT NULL,
        id TEXT NOT NULL,
        sender TEXT NOT NULL,
        sender_name TEXT,
        kind TEXT NOT NULL CHECK (kind IN ('normal', 'action', 'notice', 'topic')),
        text TEXT NOT NULL,
        time INTEGER NOT NULL,
        outgoing INTEGER NOT NULL DEFAULT 0,
        reply_to TEXT,
        UNIQUE (room, sender, id)
      );
      CREATE INDEX IF NOT EXISTS messages_by_room ON messages (room, seq);
    `);
    // A schema-1 table (created above only if missing) lacks the name column; its rows read with no name.
    const columns = db.pragma('table_info(messages)') as Array<{ name: string }>;
    if (!columns.some((c) => c.name === 'sender_name')) {
      db.exec('ALTER TABLE messages ADD COLUMN sender_name TEXT');
      logger.info('history upgraded: sender names are kept from now on', { from: version, to: SCHEMA_VERSION });
    }
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

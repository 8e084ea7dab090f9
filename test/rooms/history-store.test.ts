import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultHistoryPath, HistoryStore, type HistoryEntry } from '../../src/rooms/history-store.js';
import { RoomError } from '../../src/rooms/room-error.js';

const dirs: string[] = [];
const stores: HistoryStore[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'clique-history-'));
  dirs.push(dir);
  return dir;
}

function open(path: string, maxPerRoom?: number): HistoryStore {
  const store = HistoryStore.open({ path, ...(maxPerRoom !== undefined ? { maxPerRoom } : {}) });
  stores.push(store);
  return store;
}

afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

let clock = 1_700_000_000_000;
function entry(room: string, id: string, overrides: Partial<HistoryEntry> = {}): HistoryEntry {
  return { room, id, sender: 'bob@desk', kind: 'normal', text: `text ${id}`, time: new Date(clock++), outgoing: false, ...overrides };
}

describe('HistoryStore (better-sqlite3)', () => {
  it('stores messages and topic changes per room and returns the last N oldest first', () => {
    const store = open(':memory:');
    store.add(entry('lunch', 'a'));
    store.add(entry('dinner', 'x'));
    store.add(entry('lunch', 't', { kind: 'topic', text: 'pizza', sender: 'alice@laptop' }));
    store.add(entry('lunch', 'b', { kind: 'action', text: 'waves', replyTo: 'a' }));
    store.add(entry('lunch', 'c', { kind: 'notice', outgoing: true, sender: 'me@here' }));
    expect(store.recent('lunch', 10).map((e) => [e.id, e.kind, e.text])).toEqual([
      ['a', 'normal', 'text a'],
      ['t', 'topic', 'pizza'],
      ['b', 'action', 'waves'],
      ['c', 'notice', 'text c'],
    ]);
    expect(store.recent('lunch', 2).map((e) => e.id)).toEqual(['b', 'c']);
    expect(store.recent('lunch', 0)).toEqual([]);
    const [b, c] = store.recent('lunch', 2);
    expect(b).toMatchObject({ room: 'lunch', sender: 'bob@desk', outgoing: false, replyTo: 'a' });
    expect(b?.time).toBeInstanceOf(Date);
    expect(c).toMatchObject({ outgoing: true, sender: 'me@here' });
    expect(c?.replyTo).toBeUndefined();
    expect(store.lastTopic('lunch')).toMatchObject({ text: 'pizza', sender: 'alice@laptop' });
    expect(store.lastTopic('dinner')).toBeUndefined();
    expect(store.rooms()).toEqual(['dinner', 'lunch']);
    expect(store.recent('nowhere')).toEqual([]);
  });

  it('de-duplicates by room, sender and message id', () => {
    const store = open(':memory:');
    expect(store.add(entry('lunch', 'm1'))).toBe(true);
    expect(store.add(entry('lunch', 'm1', { text: 'again' }))).toBe(false);
    expect(store.add(entry('lunch', 'm1', { sender: 'carol@x' }))).toBe(true); // another author's id space
    expect(store.add(entry('dinner', 'm1'))).toBe(true);
    expect(store.recent('lunch').map((e) => [e.sender, e.text])).toEqual([
      ['bob@desk', 'text m1'],
      ['carol@x', 'text m1'],
    ]);
  });

  it('one file shared by several members of one login: "outgoing" is the reader\'s, not the first writer\'s', () => {
    const path = join(tempDir(), 'history.sqlite');
    const first = open(path);
    const second = open(path);
    // root@vm stores its own line first (outgoing); root-2@vm, another process of the login, stores the same line as received.
    first.add(entry('lunch', 'a1', { sender: 'root@vm', outgoing: true }));
    second.add(entry('lunch', 'a1', { sender: 'root@vm', outgoing: false }));
    second.add(entry('lunch', 'b1', { sender: 'root-2@vm', outgoing: true }));
    expect(second.recent('lunch', 10, 'root-2@vm').map((e) => [e.id, e.outgoing])).toEqual([
      ['a1', false],
      ['b1', true],
    ]);
    expect(first.recent('lunch', 10, 'root@vm').map((e) => [e.id, e.outgoing])).toEqual([
      ['a1', true],
      ['b1', false],
    ]);
    // Without a reader, what the writer stored.
    expect(second.recent('lunch', 10).map((e) => e.outgoing)).toEqual([true, true]);
  });

  it('keeps at most maxPerRoom entries per room, dropping the oldest', () => {
    const store = open(':memory:', 5);
    for (let i = 0; i < 12; i++) store.add(entry('lunch', `m${i}`));
    store.add(entry('dinner', 'only'));
    expect(store.recent('lunch', 100).map((e) => e.id)).toEqual(['m7', 'm8', 'm9', 'm10', 'm11']);
    expect(store.recent('dinner', 100).map((e) => e.id)).toEqual(['only']);
  });

  it('persists across reopen in a file, creating the directory', () => {
    const path = join(tempDir(), 'nested', 'dir', 'history.sqlite');
    const first = HistoryStore.open({ path });
    first.add(entry('lunch', 'kept', { text: 'héllo ✓ 🍕' }));
    first.close();
    expect(statSync(path).isFile()).toBe(true);
    const second = open(path);
    expect(second.recent('lunch').map((e) => e.text)).toEqual(['héllo ✓ 🍕']);
    expect(second.add(entry('lunch', 'kept'))).toBe(false);
  });

  it('two stores on one file (two processes of one user) both write', () => {
    const path = join(tempDir(), 'h.sqlite');
    const a = open(path);
    const b = open(path);
    a.add(entry('lunch', 'from-a'));
    b.add(entry('lunch', 'from-b'));
    expect(a.recent('lunch').map((e) => e.id)).toEqual(['from-a', 'from-b']);
  });

  it('clear() forgets one room or all', () => {
    const store = open(':memory:');
    store.add(entry('lunch', 'a'));
    store.add(entry('dinner', 'b'));
    store.clear('lunch');
    expect(store.rooms()).toEqual(['dinner']);
    store.clear();
    expect(store.rooms()).toEqual([]);
  });

  it('refuses a database written by a newer schema, and an unusable path, with RoomError history-failed', () => {
    const path = join(tempDir(), 'future.sqlite');
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
    expect(() => HistoryStore.open({ path })).toThrow(RoomError);
    try {
      HistoryStore.open({ path });
    } catch (error) {
      expect((error as RoomError).code).toBe('history-failed');
    }
    const notADirectory = join(tempDir(), 'file');
    new Database(notADirectory).close();
    expect(() => HistoryStore.open({ path: join(notADirectory, 'x.sqlite') })).toThrow(expect.objectContaining({ code: 'history-failed' }));
    expect(() => HistoryStore.open({ path: ':memory:', maxPerRoom: 0 })).toThrow(expect.objectContaining({ code: 'bad-argument' }));
  });

  it('keeps the sender’s display name of the time when given, and reads none when not', () => {
    const store = open(':memory:');
    store.add(entry('lunch', 'named', { sender: 'root-2@vm', senderName: 'Alice' }));
    store.add(entry('lunch', 'anonymous', { sender: 'root-3@vm' }));
    store.add(entry('lunch', 'topic', { kind: 'topic', text: 'pizza', sender: 'root-2@vm', senderName: 'Alice' }));
    const [named, anonymous] = store.recent('lunch');
    expect(named).toMatchObject({ sender: 'root-2@vm', senderName: 'Alice' });
    expect(anonymous?.sender).toBe('root-3@vm');
    expect(anonymous !== undefined && 'senderName' in anonymous).toBe(false);
    expect(store.lastTopic('lunch')).toMatchObject({ text: 'pizza', senderName: 'Alice' });
  });

  it('opens a database written by the schema-1 code: old rows read with no name, new rows keep theirs, the file is upgraded once', () => {
    const path = join(tempDir(), 'v1.sqlite');
    // The table exactly as the schema-1 store created it (no sender_name column), with two entries.
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    old.exec(`
      CREATE TABLE messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        room TEXT NOT NULL,
        id TEXT NOT NULL,
        sender TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('normal', 'action', 'notice', 'topic')),
        text TEXT NOT NULL,
        time INTEGER NOT NULL,
        outgoing INTEGER NOT NULL DEFAULT 0,
        reply_to TEXT,
        UNIQUE (room, sender, id)
      );
      CREATE INDEX messages_by_room ON messages (room, seq);
      PRAGMA user_version = 1;
    `);
    const insert = old.prepare('INSERT INTO messages (room, id, sender, kind, text, time, outgoing, reply_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    insert.run('Witchcraft', 'old-1', 'root-2@vm', 'normal', 'from before', 1_600_000_000_000, 0, null);
    insert.run('Witchcraft', 'old-2', 'me@here', 'topic', 'brooms', 1_600_000_001_000, 1, null);
    old.close();

    const store = open(path);
    const before = store.recent('Witchcraft');
    expect(before.map((e) => [e.id, e.sender, e.text, e.senderName])).toEqual([
      ['old-1', 'root-2@vm', 'from before', undefined],
      ['old-2', 'me@here', 'brooms', undefined],
    ]);
    expect(before[1]).toMatchObject({ kind: 'topic', outgoing: true });
    expect(store.add(entry('Witchcraft', 'old-1', { sender: 'root-2@vm' }))).toBe(false); // de-duplication still holds across the upgrade
    expect(store.add(entry('Witchcraft', 'new-1', { sender: 'root-2@vm', senderName: 'Morgana' }))).toBe(true);
    store.close();

    const check = new Database(path, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(2);
    expect((check.pragma('table_info(messages)') as Array<{ name: string }>).filter((c) => c.name === 'sender_name')).toHaveLength(1);
    check.close();
    // Reopening the upgraded file neither migrates again nor loses anything.
    const again = open(path);
    expect(again.recent('Witchcraft').map((e) => [e.id, e.senderName])).toEqual([
      ['old-1', undefined],
      ['old-2', undefined],
      ['new-1', 'Morgana'],
    ]);
  });

  it('two stores opening the same schema-1 file both work (the upgrade happens once)', () => {
    const path = join(tempDir(), 'v1-shared.sqlite');
    const old = new Database(path);
    old.exec(`CREATE TABLE messages (seq INTEGER PRIMARY KEY AUTOINCREMENT, room TEXT NOT NULL, id TEXT NOT NULL, sender TEXT NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('normal', 'action', 'notice', 'topic')), text TEXT NOT NULL, time INTEGER NOT NULL,
      outgoing INTEGER NOT NULL DEFAULT 0, reply_to TEXT, UNIQUE (room, sender, id)); PRAGMA user_version = 1;`);
    old.close();
    const a = open(path);
    const b = open(path);
    a.add(entry('lunch', 'a', { senderName: 'A' }));
    b.add(entry('lunch', 'b', { senderName: 'B' }));
    expect(b.recent('lunch').map((e) => e.senderName)).toEqual(['A', 'B']);
  });

  it('defaults to $XDG_DATA_HOME/clique/history.sqlite, else ~/.local/share/clique/', () => {
    expect(defaultHistoryPath({ XDG_DATA_HOME: '/data/me' })).toBe('/data/me/clique/history.sqlite');
    expect(defaultHistoryPath({})).toBe(join(homedir(), '.local', 'share', 'clique', 'history.sqlite'));
    // The XDG spec ignores relative paths.
    expect(defaultHistoryPath({ XDG_DATA_HOME: 'relative' })).toBe(join(homedir(), '.local', 'share', 'clique', 'history.sqlite'));
  });
});

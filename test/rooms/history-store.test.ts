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

  it('defaults to $XDG_DATA_HOME/clique/history.sqlite, else ~/.local/share/clique/', () => {
    expect(defaultHistoryPath({ XDG_DATA_HOME: '/data/me' })).toBe('/data/me/clique/history.sqlite');
    expect(defaultHistoryPath({})).toBe(join(homedir(), '.local', 'share', 'clique', 'history.sqlite'));
    // The XDG spec ignores relative paths.
    expect(defaultHistoryPath({ XDG_DATA_HOME: 'relative' })).toBe(join(homedir(), '.local', 'share', 'clique', 'history.sqlite'));
  });
});

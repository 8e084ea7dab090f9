import type { XmlElement } from '../xml/xml-element.js';

/**
 * Our own recent text lines, kept so that a member who was lost (a failure,
 * a partition, our own reset) and comes back gets what it may have missed.
 * Bounded by count, bytes and age; time comes from the caller.
 */
export const MAX_SENT_LINES = 256;
export const MAX_SENT_LINE_BYTES = 1024 * 1024;
export const MAX_SENT_LINE_AGE_MS = 10 * 60_000;

export interface SentLine {
  id: string;
  stanza: XmlElement;
  bytes: number;
  /** When we said it (epoch ms). */
  at: number;
}

export class SentLines {
  private lines: SentLine[] = [];
  private totalBytes = 0;
  /** The newest line dropped for the bounds: a heal reaching back past it cannot be complete. */
  private lastDroppedAt = -Infinity;

  get size(): number {
    return this.lines.length;
  }

  add(line: SentLine, now: number): void {
    this.lines.push(line);
    this.totalBytes += line.bytes;
    this.trim(now);
  }

  /** The lines said at or after `since`, oldest first, and whether some of that time was already dropped. */
  since(since: number, now: number): { lines: SentLine[]; incomplete: boolean } {
    this.trim(now);
    return { lines: this.lines.filter((line) => line.at >= since), incomplete: this.lastDroppedAt >= since };
  }

  clear(): void {
    this.lines = [];
    this.totalBytes = 0;
  }

  private trim(now: number): void {
    for (;;) {
      const oldest = this.lines[0];
      if (oldest === undefined) return;
      const tooOld = oldest.at < now - MAX_SENT_LINE_AGE_MS;
      if (!tooOld && this.lines.length <= MAX_SENT_LINES && this.totalBytes <= MAX_SENT_LINE_BYTES) return;
      this.lines.shift();
      this.totalBytes -= oldest.bytes;
      // Lines older than the age bound are not owed to anyone: only a line dropped for room counts as lost.
      if (!tooOld) this.lastDroppedAt = Math.max(this.lastDroppedAt, oldest.at);
    }
  }
}

/** Members lost without BYE whom we remember, to send them our lines if they come back. */
const MAX_LOST_REMEMBERED = 1024;

/** What a member's return asks us to send again. */
export interface Replay {
  /** The members that came back. */
  members: string[];
  /** Our lines said since (epoch ms) go out again. */
  since: number;
  lines: SentLine[];
  /** Some lines of that time were already dropped for the bounds. */
  incomplete: boolean;
}

/**
 * Our recent lines and the members lost without BYE (a failure, a
 * partition, our reset): when one of them comes back, the lines said since
 * shortly before its loss (`lossWindowMs`: it may have stopped hearing us
 * that long before the group noticed) are what it may have missed.
 */
export class LineReplay {
  readonly lines = new SentLines();
  private readonly lostAt = new Map<string, number>();

  constructor(private readonly lossWindowMs: number) {}

  lost(name: string, now: number): void {
    this.lostAt.delete(name);
    this.lostAt.set(name, now);
    // Bounded like the lines themselves: nobody is owed lines older than those.
    for (const [oldest, at] of this.lostAt) {
      if (this.lostAt.size <= MAX_LOST_REMEMBERED && at >= now - MAX_SENT_LINE_AGE_MS) break;
      this.lostAt.delete(oldest);
    }
  }

  /** `names` joined: undefined unless some of them were lost without BYE. */
  back(names: string[], now: number): Replay | undefined {
    const members = names.filter((name) => this.lostAt.has(name));
    if (members.length === 0) return undefined;
    const since = Math.min(...members.map((name) => this.lostAt.get(name) ?? now)) - this.lossWindowMs;
    for (const name of members) this.lostAt.delete(name);
    return { members, since, ...this.lines.since(since, now) };
  }

  clear(): void {
    this.lines.clear();
    this.lostAt.clear();
  }
}

/**
 * Messages we sent while alone in a group reached nobody; on a move they are
 * sent again in the group we join (the ids let receivers and histories drop
 * copies). At most this many, and only recent ones: an old line re-sent into
 * a conversation would be out of place.
 */
export const MAX_UNHEARD = 50;
export const MAX_UNHEARD_BYTES = 1024 * 1024;
export const MAX_UNHEARD_AGE_MS = 60_000;

/** A text message sent while we were alone in the group. */
export interface UnheardLine {
  bytes: Uint8Array;
  at: number;
  /** Set when a move sent it again in the new group. */
  resent?: Promise<void>;
}

/** The lines said while alone, bounded by count, bytes and age; time comes from the caller. */
export class UnheardLines {
  private lines: UnheardLine[] = [];

  get size(): number {
    return this.lines.length;
  }

  /** Notes a line said alone at `now`. */
  note(bytes: Uint8Array, now: number): UnheardLine {
    const line: UnheardLine = { bytes, at: now };
    this.lines.push(line);
    this.trim(now);
    return line;
  }

  /** Someone heard us (or the room closed): nothing said before needs saying again. */
  clear(): void {
    this.lines = [];
  }

  /** The lines still worth re-sending at `now`, oldest first; the list is emptied. */
  take(now: number): UnheardLine[] {
    this.trim(now);
    return this.lines.splice(0);
  }

  private trim(now: number): void {
    let bytes = 0;
    for (const line of this.lines) bytes += line.bytes.length;
    for (;;) {
      const oldest = this.lines[0];
      if (oldest === undefined) return;
      if (this.lines.length <= MAX_UNHEARD && bytes <= MAX_UNHEARD_BYTES && oldest.at >= now - MAX_UNHEARD_AGE_MS) return;
      this.lines.shift();
      bytes -= oldest.bytes.length;
    }
  }
}

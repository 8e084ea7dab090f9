/**
 * Splits a byte stream into lines ("\n", an optional "\r" before it is
 * dropped) without unbounded buffering: a line longer than `maxLineBytes` is
 * discarded up to its newline and reported once through `onOversized`.
 */
export class LineSplitter {
  private chunks: Buffer[] = [];
  private length = 0;
  private discarding = false;

  constructor(
    private readonly maxLineBytes: number,
    private readonly onLine: (line: string) => void,
    private readonly onOversized: (bytes: number) => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      if (newline === -1) {
        this.append(chunk.subarray(start));
        return;
      }
      this.append(chunk.subarray(start, newline));
      this.endLine();
      start = newline + 1;
    }
  }

  /** End of input: a last line without a newline still counts. */
  end(): void {
    if (this.length > 0 || this.discarding) this.endLine();
  }

  private append(part: Buffer): void {
    if (part.length === 0) return;
    if (this.discarding) {
      this.length += part.length;
      return;
    }
    if (this.length + part.length > this.maxLineBytes) {
      this.discarding = true;
      this.chunks = [];
      this.length += part.length;
      return;
    }
    this.chunks.push(part);
    this.length += part.length;
  }

  private endLine(): void {
    if (this.discarding) {
      this.onOversized(this.length);
    } else {
      let line = Buffer.concat(this.chunks, this.length).toString('utf8');
      if (line.endsWith('\r')) line = line.slice(0, -1);
      this.onLine(line);
    }
    this.chunks = [];
    this.length = 0;
    this.discarding = false;
  }
}

import { createInterface, type Interface } from 'node:readline';
import { CHAT_HELP, type ChatInput } from './chat-commands.js';

export type TypingState = 'composing' | 'paused' | 'active';

export interface ChatScreenOptions {
  /** Tab completion of the line (readline's completer). */
  complete?: (line: string) => [string[], string];
  /**
   * Our typing, for chat states (XEP-0085): `composing` when the line gets
   * text, `paused` after PAUSED_AFTER_MS without a key, `active` when the
   * line is emptied without being sent. Sending a line says nothing (the
   * line itself tells the others we stopped). TTY only.
   */
  onTyping?: (state: TypingState) => void;
  /**
   * Several lines arriving at once on a terminal (a paste): given together
   * instead of one onLine each, so the chat can ask before sending them.
   * `continued`: more of the same paste (it came in several reads). Scripts
   * piping lines (no TTY) always get onLine.
   */
  onPaste?: (lines: string[], continued: boolean) => void;
}

/**
 * A paste is several lines in one read of the terminal (readline hands them
 * over in one turn of the event loop; typed lines come one read each). A
 * paste too big for one read goes on in reads that follow within this
 * window of the last.
 */
export const PASTE_WINDOW_MS = 10;
export const PAUSED_AFTER_MS = 5000;

/**
 * The terminal side of `clique join`: a readline line editor (history with the
 * arrow keys, Tab completion, the terminal's own scrollback) with incoming
 * lines printed above the prompt without disturbing what is being typed,
 * however many rows the prompt and the half-typed line take. Without a TTY
 * (a script piping lines in) there is no prompt and lines are simply written.
 */
export class ChatScreen {
  private readonly rl: Interface;
  private readonly tty: boolean;
  private closed = false;
  private typing: TypingState = 'active';
  private pausedTimer: ReturnType<typeof setTimeout> | undefined;
  private pasted: string[] = [];
  private flushQueued = false;
  private lastPasteAt = -Infinity;

  constructor(
    input: NodeJS.ReadableStream,
    private readonly output: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
    prompt: string,
    private readonly onLine: (line: string) => void,
    onClose: () => void,
    private readonly options: ChatScreenOptions = {},
  ) {
    this.tty = (input as { isTTY?: boolean }).isTTY === true && output.isTTY === true;
    this.rl = createInterface({
      input,
      output,
      prompt,
      terminal: this.tty,
      historySize: 200,
      ...(this.tty && options.complete !== undefined ? { completer: options.complete } : {}),
    });
    this.rl.on('line', (line) => {
      if (!this.tty) return onLine(line);
      // The line as typed (all its rows) is replaced by how the chat shows it (or by nothing).
      this.output.write(`\x1b[${this.rowsOf(this.promptText().length + line.length)}A\r\x1b[J`);
      this.typedLineSent();
      this.collect(line);
    });
    this.rl.on('close', () => {
      // Whatever was left half-typed goes with the prompt: the next line starts clean.
      if (this.tty) this.eraseInput();
      this.closed = true;
      clearTimeout(this.pausedTimer);
      this.flushPaste();
      onClose();
    });
    // Ctrl-C leaves like /quit instead of killing the process mid-BYE.
    this.rl.on('SIGINT', () => this.rl.close());
    if (this.tty && options.onTyping !== undefined) {
      input.on('keypress', () => setImmediate(() => this.keyTyped()));
    }
  }

  /** Print a line above the prompt, keeping the half-typed input. */
  print(line: string): void {
    if (this.tty && !this.closed) {
      this.eraseInput();
      this.output.write(line + '\n');
      this.rl.prompt(true);
    } else {
      this.output.write(line + '\n');
    }
  }

  /** Ring the terminal bell (a mention). */
  bell(): void {
    if (this.tty && !this.closed) this.output.write('\x07');
  }

  prompt(): void {
    if (this.tty && !this.closed) this.rl.prompt(true);
  }

  setPrompt(prompt: string): void {
    if (prompt === this.rl.getPrompt()) return;
    if (this.tty && !this.closed) this.eraseInput();
    this.rl.setPrompt(prompt);
    this.prompt();
  }

  close(): void {
    if (!this.closed) this.rl.close();
  }

  /** Moves to the prompt's first row and clears it and every row below (a wrapped line leaves no stale row). */
  private eraseInput(): void {
    const { rows } = this.rl.getCursorPos();
    this.output.write(`${rows > 0 ? `\x1b[${rows}A` : ''}\r\x1b[J`);
    // readline redraws by first going up as many rows as its cursor was down the input (its `prevRows`):
    // we already went up, so it must not (else each redraw eats lines above, the stale-row bug of issue 14).
    (this.rl as unknown as { prevRows?: number }).prevRows = 0;
  }

  private promptText(): string {
    // Colour codes take no room on the screen.
    return this.rl.getPrompt().replace(/\x1b\[[0-9;]*m/g, '');
  }

  /** Rows a text of `columns` characters took once entered (the cursor then sits on the row below it). */
  private rowsOf(length: number): number {
    const width = this.output.columns ?? 80;
    return Math.max(1, Math.ceil(length / width) || 1);
  }

  private collect(line: string): void {
    if (this.options.onPaste === undefined) return this.onLine(line);
    this.pasted.push(line);
    if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(() => this.flushPaste());
    }
  }

  private flushPaste(): void {
    this.flushQueued = false;
    const lines = this.pasted;
    this.pasted = [];
    if (lines.length === 0) return;
    const continued = performance.now() - this.lastPasteAt < PASTE_WINDOW_MS;
    if (lines.length === 1 && !continued) return this.onLine(lines[0]!);
    this.lastPasteAt = performance.now();
    this.options.onPaste?.(lines, continued);
  }

  private keyTyped(): void {
    if (this.closed) return;
    clearTimeout(this.pausedTimer);
    if (this.rl.line.length === 0) {
      if (this.typing !== 'active') this.changeTyping('active');
      return;
    }
    if (this.typing !== 'composing') this.changeTyping('composing');
    this.pausedTimer = setTimeout(() => this.changeTyping('paused'), PAUSED_AFTER_MS);
    this.pausedTimer.unref?.();
  }

  private typedLineSent(): void {
    clearTimeout(this.pausedTimer);
    this.typing = 'active';
  }

  private changeTyping(state: TypingState): void {
    this.typing = state;
    this.options.onTyping?.(state);
  }
}

/**
 * The inputs every chat window answers the same way, whoever carries the
 * lines (the service or this process): empty lines, /help, /quit and input
 * errors. True when `input` was one of them.
 */
export function handleScreenInput(screen: ChatScreen, input: ChatInput): boolean {
  switch (input.kind) {
    case 'empty':
      screen.prompt();
      return true;
    case 'help':
      for (const line of CHAT_HELP) screen.print(`* ${line}`);
      return true;
    case 'quit':
      screen.close();
      return true;
    case 'error':
      screen.print(`! ${input.message}`);
      return true;
    default:
      return false;
  }
}

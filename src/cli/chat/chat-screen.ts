import { createInterface, type Interface } from 'node:readline';
import { CHAT_HELP, type ChatInput } from './chat-commands.js';

/**
 * The terminal side of `clique join`: a readline line editor (history with the
 * arrow keys, the terminal's own scrollback) with incoming lines printed above
 * the prompt without disturbing what is being typed. Without a TTY (a script
 * piping lines in) there is no prompt and lines are simply written.
 */
export class ChatScreen {
  private readonly rl: Interface;
  private readonly tty: boolean;
  private closed = false;

  constructor(
    input: NodeJS.ReadableStream,
    private readonly output: NodeJS.WritableStream & { isTTY?: boolean },
    prompt: string,
    onLine: (line: string) => void,
    onClose: () => void,
  ) {
    this.tty = (input as { isTTY?: boolean }).isTTY === true && output.isTTY === true;
    this.rl = createInterface({ input, output, prompt, terminal: this.tty, historySize: 200 });
    this.rl.on('line', (line) => {
      // The line as typed is replaced by how the chat shows it (or by nothing).
      if (this.tty) this.output.write('\x1b[1A\r\x1b[K');
      onLine(line);
    });
    this.rl.on('close', () => {
      this.closed = true;
      onClose();
    });
    // Ctrl-C leaves like /quit instead of killing the process mid-BYE.
    this.rl.on('SIGINT', () => this.rl.close());
  }

  /** Print a line above the prompt, keeping the half-typed input. */
  print(line: string): void {
    if (this.tty && !this.closed) {
      this.output.write('\r\x1b[K' + line + '\n');
      this.rl.prompt(true);
    } else {
      this.output.write(line + '\n');
    }
  }

  prompt(): void {
    if (this.tty && !this.closed) this.rl.prompt(true);
  }

  setPrompt(prompt: string): void {
    this.rl.setPrompt(prompt);
    this.prompt();
  }

  close(): void {
    if (!this.closed) this.rl.close();
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

import type { Command } from 'commander';
import { parseTimeoutMs } from '../discovery-options.js';
import { interfaceOption } from '../interface-option.js';
import { startCliService, writeLine } from '../link-local-session.js';
import { writeEvent } from '../json-output.js';
import { connectService, noServiceOption } from '../service-session.js';
import { UsageError } from '../usage-error.js';
import { parseSelfName } from '../name-options.js';

const DEFAULT_WAIT_MS = 5000;

interface SayOptions {
  interface?: string;
  name?: string;
  nick?: string;
  me?: boolean;
  timeout?: number;
  json?: boolean;
  /** False with --no-service. */
  service: boolean;
}

/**
 * `clique say CONTACT TEXT...`: sends one 1-1 message through the person's
 * service (started on demand), which stays present, so replies reach the
 * person. `--no-service` comes online just long enough instead: the peer
 * only accepts streams from contacts it can see, so we publish our presence
 * first, wait until the contact is seen, send, and go offline again (closing
 * the stream before the goodbye).
 */
export function registerSayCommand(program: Command): void {
  program
    .command('say')
    .description('send a 1-1 message to a contact on the local network, through the clique service (--no-service: comes online briefly)')
    .argument('<contact>', "the contact's name, user@host (see: clique contacts)")
    .argument('<text...>', 'the message (words are joined with spaces)')
    .option('--me', 'send it as an action (/me TEXT)')
    .option('-n, --nick <nick>', 'nickname to publish while online')
    .option('--name <user@host>', 'our name on the network, exactly (exit 1 if it is in use); default <login>@<host>, or <login>-2@<host>… if that is taken', parseSelfName)
    .option('-t, --timeout <ms>', `how long to wait for the contact to appear (default ${DEFAULT_WAIT_MS})`, parseTimeoutMs)
    .option('--json', 'print the result as one JSON object')
    .addOption(interfaceOption())
    .addOption(noServiceOption())
    .action(async (contact: string, words: string[], options: SayOptions) => {
      const text = words.join(' ');
      if (text.trim() === '') throw new UsageError('the message is empty');
      const kind = options.me ? 'action' : 'normal';
      if (options.service) {
        const { client } = await connectService(options);
        try {
          await client.request('chat.send', { contact, text, kind, timeoutMs: options.timeout ?? DEFAULT_WAIT_MS });
        } finally {
          client.close();
        }
        if (options.json) writeEvent({ event: 'sent', from: client.identity.name, to: contact, kind, text });
        else writeLine(`sent to ${contact}`);
        return;
      }
      // Any free port: a brief visit should not take 5298 from a long-running client.
      const service = await startCliService({ ...options, tcpPort: 0 });
      const from = service.name;
      try {
        await service.waitForContact(contact, { timeoutMs: options.timeout ?? DEFAULT_WAIT_MS });
        await service.sendMessage(contact, text, { kind });
      } finally {
        await service.stop();
      }
      if (options.json) writeEvent({ event: 'sent', from, to: contact, kind, text });
      else writeLine(`sent to ${contact}`);
    });
}

import { Option, type Command } from 'commander';
import type { Contact } from '../../linklocal/contact.js';
import type { ChatMessageEvent, InvitationEvent } from '../../linklocal/link-local-messenger.js';
import { interfaceOption } from '../interface-option.js';
import { contactJson, contactLine, hostPort, parseTcpPort, startCliService, writeJson, writeLine, type PresenceCliOptions } from '../link-local-session.js';
import { printable } from '../terminal-text.js';

interface OnlineOptions extends PresenceCliOptions {
  json?: boolean;
}

/**
 * `clique online`: be on the network until Ctrl-C, printing 1-1 messages,
 * invitations and contacts coming, changing and going. The receiving side of
 * `clique say` and `clique invite`.
 */
export function registerOnlineCommand(program: Command): void {
  program
    .command('online')
    .description('stay online until Ctrl-C, printing messages, invitations and contacts')
    .option('--nick <nick>', 'nickname to publish')
    .addOption(new Option('--status <status>', 'presence to publish').choices(['avail', 'away', 'dnd']).default('avail'))
    .option('--message <text>', 'status message to publish')
    .option('--name <user@host>', 'our name on the network (default: login@hostname)')
    .option('--tcp-port <port>', 'TCP port for incoming chats (default 5298, else 5299, else any; 0 = any)', parseTcpPort)
    .option('--json', 'print one JSON object per line')
    .addOption(interfaceOption())
    .action(async (options: OnlineOptions) => {
      const service = await startCliService(options);
      const out = options.json ? jsonPrinter() : textPrinter();
      out.online(service.name, service.interfaceAddress, service.port);
      // Contacts found while we were probing our name came before we listened.
      for (const contact of service.contacts.list()) out.contact('added', contact);
      service.on('contact-added', (c) => out.contact('added', c));
      service.on('contact-updated', (c) => out.contact('updated', c));
      service.on('contact-removed', (c) => out.contact('removed', c));
      service.on('message', (m) => out.message(m));
      service.on('invitation', (i) => out.invitation(i));
      service.on('name-changed', (name, previous) => out.renamed(name, previous));
      service.on('error', (error) => process.stderr.write(`clique: ${printable(error.message)} (${error.code})\n`));

      let outputClosed = false;
      await new Promise<void>((resolve) => {
        const leave = (): void => {
          // A second Ctrl-C while saying goodbye means "now".
          process.off('SIGINT', leave);
          process.off('SIGTERM', leave);
          process.once('SIGINT', () => process.exit(130));
          resolve();
        };
        process.once('SIGINT', leave);
        process.once('SIGTERM', leave);
        // Output closed (`clique online | head`): go offline politely rather than die on EPIPE.
        process.stdout.on('error', () => {
          if (outputClosed) return;
          outputClosed = true;
          leave();
        });
      });
      const name = service.name;
      await service.stop();
      if (!outputClosed) out.offline(name);
    });
}

type ContactChange = 'added' | 'updated' | 'removed';

interface Printer {
  online(name: string, address: string, port: number): void;
  contact(change: ContactChange, contact: Contact): void;
  message(m: ChatMessageEvent): void;
  invitation(i: InvitationEvent): void;
  renamed(name: string, previous: string): void;
  offline(name: string): void;
}

function jsonPrinter(): Printer {
  return {
    online: (name, address, port) => writeJson({ event: 'online', name, address, port }),
    contact: (change, contact) => writeJson({ event: `contact-${change}`, contact: contactJson(contact) }),
    message: (m) => writeJson({ event: 'message', from: m.from, kind: m.kind, text: m.text }),
    invitation: ({ from, invitation: i }) => writeJson({ event: 'invitation', from, room: i.room, address: i.address, port: i.port, reason: i.reason }),
    renamed: (name, previous) => writeJson({ event: 'name-changed', name, previous }),
    offline: (name) => writeJson({ event: 'offline', name }),
  };
}

function textPrinter(): Printer {
  const signs: Record<ContactChange, string> = { added: '+', updated: '~', removed: '-' };
  return {
    online: (name, address, port) => writeLine(`* online as ${printable(name)} (${hostPort(address, port)}); Ctrl-C to go offline`),
    contact: (change, contact) => writeLine(`${signs[change]} ${contactLine(contact)}`),
    message: (m) => {
      const from = printable(m.from);
      const lines = m.text.split(/\r?\n/).map(printable);
      for (const line of lines) writeLine(m.kind === 'action' ? `* ${from} ${line}` : `${from}: ${line}`);
    },
    invitation: ({ from: sender, invitation: i }) => {
      const from = printable(sender);
      const reason = i.reason === '' ? '' : `: ${printable(i.reason)}`;
      writeLine(`${from} invites you to ${printable(i.room)} (${hostPort(i.address, i.port)})${reason}`);
    },
    renamed: (name, previous) => writeLine(`* ${printable(previous)} is taken by someone else; now online as ${printable(name)}`),
    offline: (name) => writeLine(`* ${printable(name)} is offline`),
  };
}

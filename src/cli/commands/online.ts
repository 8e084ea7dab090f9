import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { FileTransfers } from '../../files/file-transfers.js';
import type { Contact } from '../../linklocal/contact.js';
import type { ChatMessageEvent, InvitationEvent } from '../../linklocal/link-local-messenger.js';
import { interfaceOption } from '../interface-option.js';
import { contactJson, contactLine, hostPort, parseTcpPort, startCliService, writeLine, type PresenceCliOptions } from '../link-local-session.js';
import { writeEvent } from '../json-output.js';
import { printable } from '../terminal-text.js';
import type { ContactJson } from '../../service/control-protocol.js';
import { connectService, noServiceOption } from '../service-session.js';
import { parseSelfName } from '../name-options.js';
import { acceptCommand } from '../invitation-command.js';

interface OnlineOptions extends PresenceCliOptions {
  json?: boolean;
  /** Receive every file offered to us into this directory while we are online. */
  acceptFiles?: string;
  /** False with --no-service. */
  service: boolean;
}

/**
 * `clique online`: be on the network until Ctrl-C, printing 1-1 messages,
 * invitations and contacts coming, changing and going. The receiving side of
 * `clique say` and `clique invite`.
 */
export function registerOnlineCommand(program: Command): void {
  program
    .command('online')
    .description('print 1-1 messages, invitations and contacts until Ctrl-C; through the clique service, which stays online after (--no-service: online only while it runs)')
    .option('-n, --nick <nick>', 'nickname to publish')
    .addOption(new Option('--status <status>', 'presence to publish (default avail)').choices(['avail', 'away', 'dnd']))
    .option('--message <text>', 'status message to publish')
    .option('--name <user@host>', 'our name on the network, exactly (exit 1 if it is in use); default <login>@<host>, or <login>-2@<host>… if that is taken', parseSelfName)
    .option('--tcp-port <port>', 'TCP port for incoming chats with --no-service (default 5298, else 5299, else any; 0 = any); the service keeps the port it started with', parseTcpPort)
    .option('--json', 'print one JSON object per line')
    .option('--accept-files <dir>', 'receive every file offered to us into this directory while this runs')
    .addOption(interfaceOption())
    .addOption(noServiceOption())
    .action(async (options: OnlineOptions) => {
      if (options.service) return await serviceOnline(options);
      const service = await startCliService(options);
      const files = options.acceptFiles !== undefined ? await FileTransfers.start(service, { autoAcceptDir: resolve(options.acceptFiles) }) : undefined;
      files?.on('done', (t) => {
        if (t.direction !== 'in') return;
        if (options.json) writeEvent({ event: 'file', from: t.from, name: t.name, state: t.state, path: t.path ?? null, error: t.error ?? null });
        else writeLine(t.state === 'received' ? `* received ${printable(t.name)} from ${printable(t.from)}: ${printable(t.path ?? '')}` : `* file ${printable(t.name)} from ${printable(t.from)}: ${t.state}${t.error !== undefined ? ` (${printable(t.error)})` : ''}`);
      });
      const out = options.json ? jsonPrinter(options.interface) : textPrinter(options.interface);
      out.online(service.name, service.interfaceAddress, service.port);
      // Contacts found while we were probing our name came before we listened.
      for (const contact of service.contacts.list()) out.contact('added', contact);
      service.on('contact-added', (c) => out.contact('added', c));
      service.on('contact-updated', (c) => out.contact('updated', c));
      service.on('contact-removed', (c) => out.contact('removed', c));
      service.on('message', (m) => out.message(m));
      service.on('invitation', (i) => out.invitation(i));
      service.on('name-changed', (name, previous) => out.renamed(name, previous));
      service.on('name-contested', (name, from) => warnContested(name, from));
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
      await files?.close();
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

function jsonPrinter(interfaceAddress: string | undefined): Printer {
  return {
    online: (name, address, port) => writeEvent({ event: 'online', name, address, port }),
    contact: (change, contact) => writeEvent({ event: `contact-${change}`, contact: contactJson(contact) }),
    message: (m) => writeEvent({ event: 'message', from: m.from, kind: m.kind, text: m.text }),
    invitation: ({ from, invitation: i }) => writeEvent({ event: 'invitation', from, room: i.room, address: i.address, port: i.port, reason: i.reason, accept: acceptCommand(i, interfaceAddress) ?? null }),
    renamed: (name, previous) => writeEvent({ event: 'name-changed', name, previous }),
    offline: (name) => writeEvent({ event: 'offline', name }),
  };
}

function textPrinter(interfaceAddress: string | undefined): Printer {
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
      writeAcceptLine(i, interfaceAddress);
    },
    renamed: (name, previous) => writeLine(`* ${printable(previous)} is taken by someone else; now online as ${printable(name)}`),
    offline: (name) => writeLine(`* ${printable(name)} is offline`),
  };
}

/**
 * `online` through the person's service: the service holds the presence (and
 * keeps it after we exit); we print what it receives until Ctrl-C. --status,
 * --message and --nick are published on the service's presence; --tcp-port
 * applies only with --no-service (the service keeps its port).
 */
async function serviceOnline(options: OnlineOptions): Promise<void> {
  const { client } = await connectService(options);
  const json = options.json === true;
  const signs: Record<ContactChange, string> = { added: '+', updated: '~', removed: '-' };
  const contact = (change: ContactChange, c: ContactJson): void => {
    if (json) writeEvent({ event: `contact-${change}`, contact: c });
    else writeLine(`${signs[change]} ${contactLine({ name: c.name, status: c.status as Contact['status'], addresses: c.addresses, port: c.port, ...(c.alias !== null ? { alias: c.alias } : {}), ...(c.message !== null ? { message: c.message } : {}) })}`);
  };
  client.on('event', (e) => {
    switch (e.event) {
      case 'contact.added':
      case 'contact.updated':
      case 'contact.removed':
        return contact(e.event.slice('contact.'.length) as ContactChange, e.params);
      case 'chat.message': {
        const m = e.params;
        if (json) return writeEvent({ event: 'message', from: m.from, kind: m.kind, text: m.text });
        const from = printable(m.from);
        for (const line of m.text.split(/\r?\n/).map(printable)) writeLine(m.kind === 'action' ? `* ${from} ${line}` : `${from}: ${line}`);
        return;
      }
      case 'chat.invitation': {
        const i = e.params;
        if (json) return writeEvent({ event: 'invitation', from: i.from, room: i.room, address: i.address, port: i.port, reason: i.reason, accept: acceptCommand(i, options.interface) ?? null });
        const reason = i.reason === '' ? '' : `: ${printable(i.reason)}`;
        writeLine(`${printable(i.from)} invites you to ${printable(i.room)} (${hostPort(i.address, i.port)})${reason}`);
        return writeAcceptLine(i, options.interface);
      }
      case 'file.done': {
        const t = e.params;
        if (t.direction !== 'in') return;
        if (json) return writeEvent({ event: 'file', from: t.peer, name: t.name, state: t.state, path: t.path, error: t.error });
        return writeLine(t.state === 'received' ? `* received ${printable(t.name)} from ${printable(t.peer)}: ${printable(t.path ?? '')}` : `* file ${printable(t.name)} from ${printable(t.peer)}: ${t.state}${t.error !== null ? ` (${printable(t.error)})` : ''}`);
      }
      case 'file.offered':
        if (json) return writeEvent({ event: 'file-offered', id: e.params.id, from: e.params.peer, name: e.params.name, size: e.params.size });
        return writeLine(`* ${printable(e.params.peer)} offers ${printable(e.params.name)} (clique accept-file ${e.params.id})`);
      case 'presence.name-contested':
        return warnContested(e.params.name, e.params.from);
      case 'presence.name-changed':
        if (json) return writeEvent({ event: 'name-changed', name: e.params.name, previous: e.params.previous });
        return writeLine(`* our name ${printable(e.params.previous)} was taken; we are now ${printable(e.params.name)}`);
      default:
        return;
    }
  });
  if (options.tcpPort !== undefined) {
    process.stderr.write('clique: --tcp-port applies only with --no-service (the service chose its port when it started)\n');
  }
  if (options.status !== undefined || options.message !== undefined || options.nick !== undefined) {
    // The service is the person's one presence: what this command asks for is published there, for everyone.
    await client.request('presence.set', {
      ...(options.status !== undefined ? { status: options.status } : {}),
      ...(options.message !== undefined ? { message: options.message } : {}),
      ...(options.nick !== undefined ? { nick: options.nick } : {}),
    });
  }
  const name = client.identity.name;
  if (json) writeEvent({ event: 'online', name, service: client.identity.pid });
  else writeLine(`* online as ${printable(name)} (the clique service, pid ${client.identity.pid}); Ctrl-C stops watching, the service stays online (clique down)`);
  await client.request('chat.subscribe', {});
  await client.request('files.subscribe', {});
  if (options.acceptFiles !== undefined) await client.request('files.auto-accept', { dir: resolve(options.acceptFiles), hold: 'client' });
  const { contacts } = await client.request('contacts.subscribe', {});
  for (const c of contacts) contact('added', c);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
    process.stdout.on('error', () => resolve());
    client.once('close', () => resolve());
  });
  client.close();
}

/** Under an invitation, the command that accepts it (indented: not a line of its own kind). */
function writeAcceptLine(invitation: { room: string; address: string; port: number }, interfaceAddress: string | undefined): void {
  const command = acceptCommand(invitation, interfaceAddress);
  writeLine(command === undefined ? '  (clique join cannot take this invitation: an IPv6 group, or a room name it refuses)' : `  to accept: ${printable(command)}`);
}

/** Someone announced our name: said on stderr, whatever the output format, since it may be an attack. */
function warnContested(name: string, from: string): void {
  process.stderr.write(`clique: warning: ${printable(from)} announced our name ${printable(name)}; defending it (RFC 6762 §9)\n`);
}

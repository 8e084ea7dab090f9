import type { Command } from 'commander';
import type { Contact } from '../../linklocal/contact.js';
import { PresenceBrowser } from '../../linklocal/presence-browser.js';
import { openCliResponder, parseTimeoutMs, untilTimeoutOrSignal } from '../discovery-options.js';
import { interfaceOption } from '../interface-option.js';
// One rendering of a contact for every command, sanitised for the terminal.
import { contactJson, contactLine } from '../link-local-session.js';
import { writeEvent, writeJsonDocument } from '../json-output.js';
import type { ContactJson } from '../../service/control-protocol.js';
import { connectService, noServiceOption } from '../service-session.js';

const DEFAULT_BROWSE_MS = 3000;

type ContactChange = 'added' | 'updated' | 'removed';
const SIGNS: Record<ContactChange, string> = { added: '+', updated: '~', removed: '-' };

interface ContactsOptions {
  interface?: string;
  json?: boolean;
  watch?: boolean;
  timeout?: number;
  /** False with --no-service. */
  service: boolean;
}

/**
 * `clique contacts`: who is on the LAN (XEP-0174 `_presence._tcp`), after a
 * short browse; `--watch` follows arrivals, changes and departures.
 */
export function registerContactsCommand(program: Command): void {
  program
    .command('contacts')
    .description('list people on the local network (XEP-0174 link-local presence), as the clique service sees them (--no-service: browse on its own)')
    .addOption(interfaceOption())
    .option('--json', 'print JSON (with --watch: one event object per line)')
    .option('-w, --watch', 'keep running and print contacts as they appear, change and leave')
    .option('-t, --timeout <ms>', `how long to browse (default ${DEFAULT_BROWSE_MS}; with --watch: stop after this long); through a running service the list is at once`, parseTimeoutMs)
    .addOption(noServiceOption())
    .action(async (options: ContactsOptions) => {
      if (options.service) return await serviceContacts(options);
      const responder = await openCliResponder(options.interface);
      const browser = new PresenceBrowser(responder);
      try {
        if (options.watch) {
          const print = (change: ContactChange, c: Contact): void => {
            if (options.json) writeEvent({ event: `contact-${change}`, contact: contactJson(c) });
            else process.stdout.write(`${SIGNS[change]} ${contactLine(c)}\n`);
          };
          browser.on('contact-added', (c) => print('added', c));
          browser.on('contact-updated', (c) => print('updated', c));
          browser.on('contact-removed', (c) => print('removed', c));
          await untilTimeoutOrSignal(options.timeout);
          return;
        }
        await untilTimeoutOrSignal(options.timeout ?? DEFAULT_BROWSE_MS);
        const contacts = browser.list().sort((a, b) => a.name.localeCompare(b.name));
        if (options.json) writeJsonDocument(contacts.map(contactJson));
        else if (contacts.length === 0) process.stdout.write('nobody found\n');
        else for (const c of contacts) process.stdout.write(`${contactLine(c)}\n`);
      } finally {
        browser.close();
        await responder.close();
      }
    });
}

/** The people the person's service sees (it browses all the time); a service started just now first browses --timeout. */
async function serviceContacts(options: ContactsOptions): Promise<void> {
  const { client, started } = await connectService(options);
  try {
    if (options.watch) {
      const print = (change: ContactChange, c: ContactJson): void => {
        if (options.json) writeEvent({ event: `contact-${change}`, contact: c });
        else process.stdout.write(`${SIGNS[change]} ${contactLine(fromJson(c))}\n`);
      };
      client.on('event', (e) => {
        if (e.event === 'contact.added' || e.event === 'contact.updated' || e.event === 'contact.removed') print(e.event.slice('contact.'.length) as ContactChange, e.params);
      });
      const { contacts } = await client.request('contacts.subscribe', {});
      for (const c of contacts) print('added', c);
      await untilTimeoutOrSignal(options.timeout);
      return;
    }
    if (started) await untilTimeoutOrSignal(options.timeout ?? DEFAULT_BROWSE_MS);
    const contacts = (await client.request('contacts.list', {})).contacts.sort((a, b) => a.name.localeCompare(b.name));
    if (options.json) writeJsonDocument(contacts);
    else if (contacts.length === 0) process.stdout.write('nobody found\n');
    else for (const c of contacts) process.stdout.write(`${contactLine(fromJson(c))}\n`);
  } finally {
    client.close();
  }
}

function fromJson(c: ContactJson): Parameters<typeof contactLine>[0] {
  return { name: c.name, status: c.status as Contact['status'], addresses: c.addresses, port: c.port, ...(c.alias !== null ? { alias: c.alias } : {}), ...(c.message !== null ? { message: c.message } : {}) };
}

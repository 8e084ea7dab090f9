import type { FileTransferJson } from '../../service/control-protocol.js';
import type { Connection } from './connection.js';
import { button, el, isolated, replaceChildren } from './dom.js';

/**
 * Files in the page (1-1, XEP-0066 through the service): a "Send a file"
 * picker and a drop zone for the open contact chat, and every transfer with
 * its progress bar, Accept and Decline for offers to us. The file goes up to
 * the page server (POST /upload, same token and Origin rules as the rest),
 * which keeps it in a private directory; the service offers it from there. A
 * received file lands in the downloads directory `clique web` was given.
 */
export interface FilesPanel {
  /** A file.* event from the service. */
  onEvent(transfer: FileTransferJson): void;
  /** The service connection is (re)made: subscribe and show what it holds. */
  connected(connection: Connection): Promise<void>;
  /** The open conversation changed (the picker works for a contact chat only). */
  setContact(contact: string | undefined): void;
}

export function buildFilesPanel(note: (text: string) => void): FilesPanel {
  const transfers = new Map<string, FileTransferJson>();
  let connection: Connection | null = null;
  let contact: string | undefined;

  const input = el('input', { id: 'file-input', type: 'file' });
  input.multiple = true;
  const label = el('label', { for: 'file-input', id: 'file-label' }, 'Send a file');
  const list = el('ul', { id: 'transfers' });
  const section = el('section', { 'aria-labelledby': 'files-title' }, el('h2', { id: 'files-title' }, 'Files'), label, input, list);
  document.getElementById('sidebar')?.append(section);
  const key = (t: FileTransferJson): string => `${t.direction}:${t.id}`;

  const send = async (files: Iterable<File>): Promise<void> => {
    const to = contact;
    if (to === undefined || connection === null) return note('open a chat with a person to send a file');
    for (const file of files) {
      // Streamed up as is; the server checks token, Host and Origin as for every request.
      const response = await fetch('/upload', { method: 'POST', headers: { 'X-File-Name': encodeURIComponent(file.name) }, body: file });
      if (!response.ok) {
        note(`cannot send ${file.name}: ${(await response.text()).trim()}`);
        continue;
      }
      const { path } = (await response.json()) as { path: string };
      const offered = await connection.request('files.offer', { contact: to, path });
      transfers.set(key(offered), offered);
      render();
    }
  };
  input.addEventListener('change', () => {
    const chosen = [...(input.files ?? [])];
    input.value = '';
    void send(chosen).catch((error: unknown) => note(error instanceof Error ? error.message : String(error)));
  });
  const log = document.getElementById('log');
  log?.addEventListener('dragover', (e) => {
    if (contact !== undefined) e.preventDefault();
  });
  log?.addEventListener('drop', (e) => {
    e.preventDefault();
    const dropped = [...(e.dataTransfer?.files ?? [])];
    void send(dropped).catch((error: unknown) => note(error instanceof Error ? error.message : String(error)));
  });

  const act = (what: 'files.accept' | 'files.decline', id: string): void => {
    if (connection === null) return;
    // The page server puts the downloads directory in; what the page says there does not count.
    const request = what === 'files.accept' ? connection.request('files.accept', { id, dir: '' }) : connection.request('files.decline', { id });
    void request.then(
      (t) => {
        transfers.set(key(t), t);
        render();
      },
      (error: unknown) => note(error instanceof Error ? error.message : String(error)),
    );
  };

  const render = (): void => {
    label.textContent = contact === undefined ? 'Send a file (open a chat with a person first)' : `Send a file to ${contact}`;
    input.disabled = contact === undefined;
    const rows = [...transfers.values()].slice(-20).reverse();
    replaceChildren(
      list,
      ...rows.map((t) => {
        const who = t.direction === 'in' ? 'from' : 'to';
        const progress = t.size !== null && t.size > 0 && (t.state === 'receiving' || t.state === 'offered' || t.state === 'accepted') ? el('progress', { 'aria-label': `${t.name} progress` }) : null;
        if (progress !== null) {
          progress.max = t.size ?? 0;
          progress.value = t.bytes;
        }
        const offeredToUs = t.direction === 'in' && t.state === 'offered';
        return el(
          'li',
          { class: 'transfer', 'data-transfer': key(t), 'data-state': t.state },
          isolated(t.name, 'file-name'),
          ` ${who} `,
          isolated(t.peer, 'file-peer'),
          el('span', { class: 'file-state' }, ` ${t.state}${t.error !== null ? `: ${t.error}` : ''}`),
          progress,
          offeredToUs ? button(`Accept ${t.name}`, () => act('files.accept', t.id), { class: 'accept' }) : null,
          offeredToUs ? button(`Decline ${t.name}`, () => act('files.decline', t.id), { class: 'decline' }) : null,
        );
      }),
    );
  };
  render();

  return {
    onEvent(transfer) {
      transfers.set(key(transfer), transfer);
      render();
    },
    async connected(c) {
      connection = c;
      const { transfers: held } = await c.request('files.subscribe', {});
      for (const t of held) transfers.set(key(t), t);
      render();
    },
    setContact(name) {
      contact = name;
      render();
    },
  };
}

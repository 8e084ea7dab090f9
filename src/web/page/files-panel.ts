import type { FileTransferJson } from '../../service/control-protocol.js';
import type { Connection } from './connection.js';
import { button, el, isolated, replaceChildren } from './dom.js';

/**
 * Files in the page (through the service): a "Send a file" picker and a drop
 * zone for the open conversation — 1-1 (XEP-0066) to a contact, or shared
 * once over rMulticast to everyone in a room — and every transfer with
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
  /** The open conversation changed: files go to that contact (1-1) or that room (shared once to every member). */
  setTarget(target: { kind: 'room' | 'chat'; name: string } | undefined): void;
}

export function buildFilesPanel(note: (text: string) => void): FilesPanel {
  const transfers = new Map<string, FileTransferJson>();
  let connection: Connection | null = null;
  let target: { kind: 'room' | 'chat'; name: string } | undefined;

  const input = el('input', { id: 'file-input', type: 'file' });
  input.multiple = true;
  const label = el('label', { for: 'file-input', id: 'file-label' }, 'Send a file');
  const list = el('ul', { id: 'transfers' });
  const section = el('section', { 'aria-labelledby': 'files-title' }, el('h2', { id: 'files-title' }, 'Files'), label, input, list);
  document.getElementById('sidebar')?.append(section);
  const key = (t: FileTransferJson): string => `${t.direction}:${t.id}`;

  const send = async (files: Iterable<File>): Promise<void> => {
    const to = target;
    if (to === undefined || connection === null) return note('open a room or a chat with a person to send a file');
    for (const file of files) {
      // Streamed up as is; the server checks token, Host and Origin as for every request.
      const response = await fetch('/upload', { method: 'POST', headers: { 'X-File-Name': encodeURIComponent(file.name) }, body: file });
      if (!response.ok) {
        note(`cannot send ${file.name}: ${(await response.text()).trim()}`);
        continue;
      }
      const { path } = (await response.json()) as { path: string };
      const offered = to.kind === 'chat' ? await connection.request('files.offer', { contact: to.name, path }) : await connection.request('files.share', { room: to.name, path });
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
    if (target !== undefined) e.preventDefault();
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
    label.textContent = target === undefined ? 'Send a file (open a room or a chat first)' : `Send a file to ${target.kind === 'room' ? 'everyone in ' : ''}${target.name}`;
    input.disabled = target === undefined;
    // A room share accepted late is fetched 1-1 from its sender (the service's fallback): one file, shown once, as the share.
    const shares = new Set([...transfers.values()].filter((t) => t.room !== null && t.sha256 !== null).map((t) => `${t.peer}\n${t.sha256}`));
    const rows = [...transfers.values()]
      .filter((t) => !(t.direction === 'in' && t.room === null && t.sha256 !== null && shares.has(`${t.peer}\n${t.sha256}`)))
      .slice(-20)
      .reverse();
    replaceChildren(
      list,
      ...rows.map((t) => {
        const who = t.direction === 'in' ? 'from' : 'to';
        const peer = t.room !== null && t.room !== undefined ? (t.direction === 'in' ? `${t.peer} in ${t.room}` : `everyone in ${t.room}`) : t.peer;
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
          isolated(peer, 'file-peer'),
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
    setTarget(next) {
      target = next;
      render();
    },
  };
}

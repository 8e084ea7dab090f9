import type { WebSocket } from 'ws';
import type { Logger } from '../base/logger.js';
import { errorText } from '../base/error-text.js';
import type { ControlMethod, ServiceIdentity } from '../service/control-protocol.js';
import type { JsonValue, RpcParams } from '../service/json-rpc.js';
import type { ServiceClient, ServiceEvent } from '../service/service-client.js';
import { ServiceRequestError } from '../service/service-request-error.js';
import { ServiceError } from '../service/service-error.js';
import { isUploaded, type WebFiles } from './web-uploads.js';

/**
 * What the page may ask the service. Everything a chat window needs, and
 * nothing that would stop the service (`shutdown`) or redo the handshake.
 */
export const PAGE_METHODS: readonly ControlMethod[] = [
  'status',
  'rooms.list',
  'rooms.join',
  'rooms.leave',
  'rooms.send',
  'rooms.subscribe',
  'rooms.unsubscribe',
  'rooms.topic',
  'rooms.nick',
  'rooms.history',
  'rooms.typing',
  'contacts.list',
  'contacts.subscribe',
  'chat.send',
  'chat.subscribe',
  'presence.set',
  'invite',
  // Files: only what the page uploaded may be offered, and accepted files land in the downloads directory (see policy below).
  'files.offer',
  'files.share',
  'files.list',
  'files.accept',
  'files.decline',
  'files.cancel',
  'files.subscribe',
];

/** Frames to the page: answers to its requests, and the service's events as they are. */
export type PageFrame =
  | { id: number; result: JsonValue }
  | { id: number | null; error: { code: string; message: string } }
  | ServiceEvent
  | { event: 'web.hello'; params: { service: ServiceIdentity } };

/** The page is gone or too slow to read: past this many unsent bytes we drop it (it reconnects and reloads). */
const MAX_BUFFERED_BYTES = 32 * 1024 * 1024;

/**
 * Relays one browser WebSocket and one service client connection: requests
 * from the page go to the service (allowed methods only), answers and events
 * come back. The web server keeps no chat state of its own, so the page and
 * the CLI never disagree. Either side closing closes the other.
 */
export function relay(socket: WebSocket, client: ServiceClient, logger: Logger, files?: WebFiles): void {
  const send = (frame: PageFrame): void => {
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      logger.warn('the page reads too slowly; closing its connection');
      socket.close(1008, 'too slow');
      return;
    }
    socket.send(JSON.stringify(frame));
  };
  const onEvent = (event: ServiceEvent): void => send(event);
  client.on('event', onEvent);
  client.once('close', () => socket.close(1011, 'the service closed the connection'));
  socket.on('close', () => {
    client.off('event', onEvent);
    client.close();
  });
  socket.on('error', (error) => logger.debug('page socket error', { error: errorText(error) }));
  socket.on('message', (data, isBinary) => {
    if (isBinary) return send({ id: null, error: { code: 'bad-frame', message: 'frames are JSON text' } });
    void answer(String(data));
  });
  send({ event: 'web.hello', params: { service: client.identity } });

  async function answer(text: string): Promise<void> {
    const frame = parseFrame(text);
    if (typeof frame === 'string') return send({ id: null, error: { code: 'bad-frame', message: frame } });
    const { id, method, params } = frame;
    if (!(PAGE_METHODS as readonly string[]).includes(method)) {
      return send({ id, error: { code: 'method-not-allowed', message: `the page may not call ${JSON.stringify(method.slice(0, 40))}` } });
    }
    const allowed = filePolicy(method, params, files);
    if (typeof allowed === 'string') return send({ id, error: { code: 'forbidden', message: allowed } });
    try {
      const request = client.request as (method: ControlMethod, params: RpcParams) => Promise<JsonValue>;
      send({ id, result: await request.call(client, method as ControlMethod, allowed) });
    } catch (error) {
      const code = error instanceof ServiceRequestError || error instanceof ServiceError ? error.code : 'internal-error';
      send({ id, error: { code, message: errorText(error) } });
    }
  }
}

/**
 * What the page may do with files: offer only a file it uploaded (never any
 * path of this machine: a page is not a shell), and accept only into the
 * downloads directory. Returns the params to pass on, or why not.
 */
function filePolicy(method: string, params: RpcParams, files: WebFiles | undefined): RpcParams | string {
  if (!method.startsWith('files.')) return params;
  if (files === undefined) return 'this page server takes no files';
  const object = params as { [key: string]: JsonValue };
  if (method === 'files.offer' || method === 'files.share') {
    return typeof object['path'] === 'string' && isUploaded(object['path'], files) ? params : 'the page may offer only files it sent up';
  }
  if (method === 'files.accept') return { ...object, dir: files.downloadDir };
  return params;
}

function parseFrame(text: string): { id: number; method: string; params: RpcParams } | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'a frame is an object';
  const { id, method, params } = value as Record<string, unknown>;
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) return 'id must be an integer';
  if (typeof method !== 'string') return 'method must be a string';
  if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params))) return 'params must be an object';
  return { id, method, params: (params ?? {}) as RpcParams };
}

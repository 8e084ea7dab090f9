import { randomBytes } from 'node:crypto';
import type { Logger } from '../base/logger.js';
import { errorText } from '../base/error-text.js';
import type { XmlElement } from '../xml/xml-element.js';
import { NS_STANZA_ERRORS } from '../xml/namespaces.js';
import { IqErrorAnswer } from './iq-error-answer.js';
import { LinkError } from './link-error.js';

export { IqErrorAnswer };

/**
 * What an iq handler answers: a reply now, a promise of one (sent when it
 * settles: the OOB file offer is answered only once the download ends), or
 * undefined to pass the request to the next handler.
 */
export type IqAnswer = XmlElement | Promise<XmlElement | undefined> | undefined;

/** Handles iq get/set requests it recognises; `from` is the stream's identified peer. */
export type IqHandler = (request: XmlElement, from: string) => IqAnswer;

export interface IqRequestOptions {
  /** How long to wait for the answer (default 30 s); the request fails with 'iq-timeout'. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

interface PendingRequest {
  contact: string;
  resolve: (answer: XmlElement) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
  cleanup: () => void;
}

/** Outstanding requests of ours at once; beyond this a request fails at once rather than growing a map without bound. */
export const MAX_PENDING_IQ_REQUESTS = 1024;
const DEFAULT_IQ_TIMEOUT_MS = 30_000;

/**
 * Routes iq stanzas of the XEP-0174 link: requests to the first handler that
 * takes them, answers to the request of ours they complete. An answer counts
 * only from the contact we asked (ids are random, but a forged answer from a
 * third peer must not complete someone else's request).
 */
export class IqRouter {
  private readonly handlers: IqHandler[] = [];
  private readonly pending = new Map<string, PendingRequest>();

  constructor(private readonly logger: Logger) {}

  /** Adds a handler; returns the function that removes it. */
  addHandler(handler: IqHandler): () => void {
    this.handlers.push(handler);
    return () => {
      const index = this.handlers.indexOf(handler);
      if (index >= 0) this.handlers.splice(index, 1);
    };
  }

  /**
   * Asks each handler in turn. Resolves with the reply (undefined: nobody
   * took it). A handler that throws or rejects answers nothing, and the
   * caller sends the default error.
   */
  async answer(request: XmlElement, from: string): Promise<XmlElement | undefined> {
    for (const handler of [...this.handlers]) {
      let answer: IqAnswer;
      try {
        answer = handler(request, from);
      } catch (error) {
        this.logger.warn('iq handler failed', { from, error: errorText(error) });
        return undefined;
      }
      if (answer === undefined) continue;
      try {
        return await answer;
      } catch (error) {
        this.logger.warn('iq handler failed', { from, error: errorText(error) });
        return undefined;
      }
    }
    return undefined;
  }

  /** A fresh request id (unguessable, so a peer cannot answer requests it never saw). */
  newId(): string {
    return `clique-${randomBytes(9).toString('base64url')}`;
  }

  /** Registers a request to `contact` with id `id`; the promise settles on its answer, a timeout or an abort. */
  expect(contact: string, id: string, options: IqRequestOptions = {}): Promise<XmlElement> {
    if (this.pending.size >= MAX_PENDING_IQ_REQUESTS) {
      return Promise.reject(new LinkError('queue-full', `${MAX_PENDING_IQ_REQUESTS} iq requests are already waiting for answers`));
    }
    if (this.pending.has(id)) return Promise.reject(new LinkError('invalid-argument', `an iq request with id ${id} is already waiting`));
    return new Promise<XmlElement>((resolve, reject) => {
      const signal = options.signal;
      const onAbort = (): void => this.settle(id, undefined, new LinkError('iq-aborted', 'the iq request was abandoned'));
      const timer = setTimeout(
        () => this.settle(id, undefined, new LinkError('iq-timeout', `no answer from ${contact} within ${options.timeoutMs ?? DEFAULT_IQ_TIMEOUT_MS} ms`)),
        options.timeoutMs ?? DEFAULT_IQ_TIMEOUT_MS,
      );
      timer.unref?.();
      this.pending.set(id, { contact, resolve, reject, timer, cleanup: () => signal?.removeEventListener('abort', onAbort) });
      if (signal?.aborted === true) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Fails a registered request (e.g. its send failed). */
  fail(id: string, error: Error): void {
    this.settle(id, undefined, error);
  }

  /**
   * Takes an iq result or error if it answers one of our requests from that
   * contact; returns false for anything else (the caller passes it on).
   */
  takeAnswer(stanza: XmlElement, from: string): boolean {
    const id = stanza.getAttr('id');
    if (id === undefined) return false;
    const request = this.pending.get(id);
    if (request === undefined) return false;
    if (request.contact !== from) {
      this.logger.debug('dropping iq answer from a contact we did not ask', { id, from, asked: request.contact });
      return true;
    }
    if (stanza.getAttr('type') === 'error') this.settle(id, undefined, new IqErrorAnswer(stanza, errorCondition(stanza)));
    else this.settle(id, stanza, undefined);
    return true;
  }

  /** Rejects every waiting request (the messenger stopped). */
  close(error: Error): void {
    for (const id of [...this.pending.keys()]) this.settle(id, undefined, error);
  }

  private settle(id: string, answer: XmlElement | undefined, error: Error | undefined): void {
    const request = this.pending.get(id);
    if (request === undefined) return;
    this.pending.delete(id);
    clearTimeout(request.timer);
    request.cleanup();
    if (error !== undefined) request.reject(error);
    else if (answer !== undefined) request.resolve(answer);
  }
}

/** The defined condition of an iq error (`<error><not-acceptable xmlns=…stanzas/></error>` → 'not-acceptable'). */
export function errorCondition(stanza: XmlElement): string | undefined {
  return stanza.getChild('error')?.getChildren(undefined, NS_STANZA_ERRORS)[0]?.name;
}

import { StanzaTreeBuilder } from './stanza-tree-builder.js';
import type { XmlElement } from './xml-element.js';
import { XmlError } from './xml-error.js';
import { resolveLimits, type XmlLimits } from './xml-limits.js';

export type XmppStreamEvent =
  /** The `<stream:stream ...>` start tag; `attrs` are its no-namespace attributes (to, from, version, id). */
  | { type: 'open'; attrs: Record<string, string>; root: XmlElement }
  /** One top-level element inside the stream (a stanza, `<stream:features/>`, `<stream:error>`...). */
  | { type: 'stanza'; element: XmlElement }
  /** `</stream:stream>`; anything after it is ignored. */
  | { type: 'close' }
  /** The input was refused; always the last event. The stream is unusable: drop the connection. */
  | { type: 'error'; error: XmlError };

/**
 * Incremental parser for one XMPP stream over TCP. Feed it the bytes as they
 * arrive, in any chunking (UTF-8 sequences may be split); it returns the events
 * completed by that chunk. It never throws: hostile or broken input ends the
 * returned list with an `error` event (stanzas completed before the bad bytes
 * are still returned ahead of it), and every later call returns that error
 * again, so the caller must drop the connection. Memory held is bounded by the
 * stanza limit plus one chunk.
 */
export class XmppStreamParser {
  private readonly builder: StanzaTreeBuilder;
  private pending: XmppStreamEvent[] = [];

  constructor(limits: Partial<XmlLimits> = {}) {
    this.builder = new StanzaTreeBuilder('stream', resolveLimits(limits), {
      onStreamOpen: (root) => this.pending.push({ type: 'open', attrs: { ...root.attrs }, root }),
      onStanza: (element) => this.pending.push({ type: 'stanza', element }),
      onStreamClose: () => this.pending.push({ type: 'close' }),
    });
  }

  push(chunk: Uint8Array): XmppStreamEvent[] {
    return this.run(() => this.builder.push(chunk));
  }

  /**
   * The connection ended (EOF): an error event ('truncated', 'invalid-utf8')
   * if it ended inside a stanza or before the stream header was complete.
   */
  end(): XmppStreamEvent[] {
    return this.run(() => this.builder.finish());
  }

  /** True while a stanza has started arriving but is not complete (for progress timeouts). */
  get inStanza(): boolean {
    return this.builder.inStanza;
  }

  get closed(): boolean {
    return this.builder.isStreamClosed;
  }

  /** The error that made this parser unusable, if any. */
  get error(): XmlError | undefined {
    return this.builder.failed;
  }

  private run(step: () => void): XmppStreamEvent[] {
    try {
      step();
    } catch (error) {
      const refused = error instanceof XmlError ? error : new XmlError('malformed', String(error), { cause: error });
      this.pending.push({ type: 'error', error: refused });
    }
    return this.take();
  }

  private take(): XmppStreamEvent[] {
    const events = this.pending;
    this.pending = [];
    return events;
  }
}

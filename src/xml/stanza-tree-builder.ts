import { SaxesParser, type SaxesTagNS, type SaxesStartTagNS, type SaxesAttributeNS, type XMLDecl } from 'saxes';
import { errorText } from '../base/error-text.js';
import { XmlElement } from './xml-element.js';
import { XmlError, type XmlErrorCode } from './xml-error.js';
import type { XmlLimits } from './xml-limits.js';
import { NS_STREAM, NS_XMLNS } from './namespaces.js';

export interface TreeBuilderHooks {
  /** Stream mode: the `<stream:stream>` start tag is complete (the element has attributes, no children). */
  onStreamOpen?(root: XmlElement): void;
  /** A complete stanza: the document root (document mode) or a child of the stream root (stream mode). */
  onStanza(stanza: XmlElement): void;
  /** Stream mode: `</stream:stream>`. */
  onStreamClose?(): void;
}

/** Thrown out of saxes handlers to stop parsing at `</stream:stream>`; never escapes the builder. */
const STOP = Symbol('stop');

/** Decoded text is handed to saxes in pieces of at most this many code units, so limits are checked often. */
const PIECE = 16 * 1024;

/**
 * Wraps saxes: decodes UTF-8 strictly and incrementally, builds elements, and
 * enforces the limits as the bytes arrive. Any problem throws an XmlError out
 * of `push`/`finish`; after that the builder is poisoned and rethrows the same
 * error, because saxes' state is no longer trustworthy.
 *
 * Byte accounting: a "unit" is the header (stream mode) or one stanza plus the
 * whitespace before it. Bytes of the current unit are counted piece by piece
 * and checked after every piece, so an oversized unit is refused after at most
 * `limit + PIECE * 3` bytes, without waiting for it to end.
 */
export class StanzaTreeBuilder {
  private readonly parser: SaxesParser<{ xmlns: true }>;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private readonly stanzaLevel: number;
  private failure: XmlError | undefined;
  private readonly stack: XmlElement[] = [];
  private elementsInStanza = 0;
  private attributesOnTag = 0;
  private headerDone: boolean;
  private streamClosed = false;
  private deferred: (() => void) | undefined;
  // byte accounting (see class comment)
  private writtenUnits = 0; // UTF-16 code units handed to saxes so far
  private piece = '';
  private pieceStart = 0;
  private boundaryInPiece = 0;
  private unitBytesBeforePiece = 0;
  private unitHasContent = false;

  constructor(
    private readonly mode: 'document' | 'stream',
    private readonly limits: XmlLimits,
    private readonly hooks: TreeBuilderHooks,
  ) {
    this.stanzaLevel = mode === 'stream' ? 1 : 0;
    this.headerDone = mode === 'document';
    this.parser = new SaxesParser({ xmlns: true, position: false, forceXMLVersion: true, defaultXMLVersion: '1.0' });
    this.parser.on('error', (error) => this.onSaxesError(error.message));
    this.parser.on('doctype', () => {
      this.flush();
      this.fail('dtd-forbidden', 'DOCTYPE declarations are not accepted');
    });
    this.parser.on('xmldecl', (decl) => this.onXmlDecl(decl));
    this.parser.on('opentagstart', (tag) => this.onOpenTagStart(tag));
    this.parser.on('attribute', (attribute) => this.onAttribute(attribute));
    this.parser.on('opentag', (tag) => this.onOpenTag(tag));
    this.parser.on('closetag', () => this.onCloseTag());
    this.parser.on('text', (text) => this.onText(text));
    this.parser.on('cdata', (text) => this.onText(text));
    this.parser.on('comment', () => this.flush());
    this.parser.on('processinginstruction', () => this.flush());
    // Comments and processing instructions are dropped: they carry nothing for us.
  }

  /** True while part of a stanza (or of garbage) has arrived but the stanza is not complete. */
  get inStanza(): boolean {
    return this.stack.length > this.stanzaLevel || this.unitHasContent;
  }

  get isStreamClosed(): boolean {
    return this.streamClosed;
  }

  get failed(): XmlError | undefined {
    return this.failure;
  }

  push(bytes: Uint8Array): void {
    if (this.failure) throw this.failure;
    if (this.streamClosed) return; // anything after </stream:stream> is ignored; the caller is closing
    let text: string;
    try {
      text = this.decoder.decode(bytes, { stream: true });
    } catch (cause) {
      this.fail('invalid-utf8', 'input is not valid UTF-8', cause);
    }
    this.writeText(text);
  }

  /** End of input: checks that nothing is left half-done. */
  finish(): void {
    if (this.failure) throw this.failure;
    if (this.streamClosed) return;
    let rest: string;
    try {
      rest = this.decoder.decode();
    } catch (cause) {
      this.fail('invalid-utf8', 'input ends inside a UTF-8 sequence', cause);
    }
    this.writeText(rest);
    if (this.streamClosed) return;
    this.guard(() => {
      this.parser.close();
      this.flush();
    });
  }

  private writeText(text: string): void {
    for (let offset = 0; offset < text.length; offset += PIECE) {
      const piece = text.slice(offset, offset + PIECE);
      this.piece = piece;
      this.pieceStart = this.writtenUnits;
      this.boundaryInPiece = 0;
      this.guard(() => {
        this.parser.write(piece);
        this.flush();
      });
      this.writtenUnits += piece.length;
      if (this.streamClosed) return;
      const tail = utf8Length(piece, this.boundaryInPiece, piece.length);
      if (!this.unitHasContent && /[^ \t\r\n]/.test(piece.slice(this.boundaryInPiece))) this.unitHasContent = true;
      this.unitBytesBeforePiece += tail;
      this.checkUnitSize(this.unitBytesBeforePiece);
    }
  }

  private guard(action: () => void): void {
    try {
      action();
    } catch (error) {
      if (error === STOP) return;
      if (error instanceof XmlError) {
        this.failure ??= error;
        throw this.failure;
      }
      // saxes itself should never throw; if it does, the input was still the cause.
      this.fail('malformed', `parser failure: ${errorText(error)}`, error);
    }
  }

  /**
   * saxes calls the close-tag handler *before* checking that the end tag's
   * name matches, and reports a mismatch right after. So a completed element
   * is only delivered at the next parser event (or the end of the chunk), and
   * dropped if that event is the mismatch error.
   */
  private flush(): void {
    const deferred = this.deferred;
    if (deferred === undefined) return;
    this.deferred = undefined;
    deferred();
    if (this.streamClosed) throw STOP;
  }

  private onSaxesError(message: string): void {
    if (this.deferred !== undefined && /unexpected close tag|unmatched closing tag/i.test(message)) {
      this.deferred = undefined;
    } else {
      this.flush(); // may end the stream: errors after </stream:stream> are then moot
    }
    this.fail(codeForSaxesMessage(message), message);
  }

  private fail(code: XmlErrorCode, message: string, cause?: unknown): never {
    this.deferred = undefined;
    this.failure ??= new XmlError(code, message, cause === undefined ? undefined : { cause });
    throw this.failure;
  }

  private checkUnitSize(bytes: number): void {
    if (!this.headerDone) {
      if (bytes > this.limits.maxHeaderBytes) this.fail('too-large', `stream header exceeds ${this.limits.maxHeaderBytes} bytes`);
    } else if (bytes > this.limits.maxStanzaBytes) {
      this.fail('too-large', `stanza exceeds ${this.limits.maxStanzaBytes} bytes`);
    }
  }

  /** Closes the current unit at the parser's position; returns its size in bytes after checking it. */
  private endUnit(): void {
    const at = Math.min(Math.max(this.parser.position - this.pieceStart, this.boundaryInPiece), this.piece.length);
    this.checkUnitSize(this.unitBytesBeforePiece + utf8Length(this.piece, this.boundaryInPiece, at));
    this.boundaryInPiece = at;
    this.unitBytesBeforePiece = 0;
    this.unitHasContent = false;
  }

  private onXmlDecl(decl: XMLDecl): void {
    this.flush();
    const encoding = decl.encoding;
    if (encoding !== undefined && !/^utf-?8$/i.test(encoding)) {
      this.fail('unsupported-encoding', `declared encoding ${JSON.stringify(encoding)} is not UTF-8`);
    }
  }

  private onOpenTagStart(tag: SaxesStartTagNS): void {
    this.flush();
    if (tag.name.length > this.limits.maxNameLength) this.fail('name-too-long', `element name longer than ${this.limits.maxNameLength}`);
    this.attributesOnTag = 0;
    if (this.stack.length === this.stanzaLevel) {
      if (this.mode === 'document' && this.stack.length === 0 && this.elementsInStanza > 0) {
        this.fail('multiple-roots', 'a stanza document has exactly one root element');
      }
      this.elementsInStanza = 0;
    }
    if (this.stack.length < this.stanzaLevel) return; // the stream root
    this.elementsInStanza += 1;
    if (this.elementsInStanza > this.limits.maxElements) this.fail('too-many-elements', `stanza has more than ${this.limits.maxElements} elements`);
    const depth = this.stack.length - this.stanzaLevel + 1;
    if (depth > this.limits.maxDepth) this.fail('too-deep', `stanza nesting deeper than ${this.limits.maxDepth}`);
  }

  private onAttribute(attribute: SaxesAttributeNS | { name: string }): void {
    this.flush();
    this.attributesOnTag += 1;
    if (this.attributesOnTag > this.limits.maxAttributes) this.fail('too-many-attributes', `element has more than ${this.limits.maxAttributes} attributes`);
    if (attribute.name.length > this.limits.maxNameLength) this.fail('name-too-long', `attribute name longer than ${this.limits.maxNameLength}`);
  }

  private onOpenTag(tag: SaxesTagNS): void {
    this.flush();
    const element = new XmlElement(tag.local, tag.uri);
    for (const attribute of Object.values(tag.attributes)) {
      if (attribute.uri === NS_XMLNS) continue; // namespace declarations are already resolved into names
      if (attribute.uri === '') element.attrs[attribute.local] = attribute.value;
      else element.nsAttrs.push({ name: attribute.local, namespace: attribute.uri, value: attribute.value, prefix: attribute.prefix });
    }
    if (this.mode === 'stream' && this.stack.length === 0) {
      if (element.name !== 'stream' || element.namespace !== NS_STREAM) {
        this.fail('bad-stream', `stream root is {${element.namespace}}${element.name}, not {${NS_STREAM}}stream`);
      }
      this.stack.push(element);
      this.endUnit();
      this.headerDone = true;
      this.hooks.onStreamOpen?.(element);
      return;
    }
    const parent = this.stack.length > this.stanzaLevel ? this.stack[this.stack.length - 1] : undefined;
    parent?.children.push(element);
    this.stack.push(element);
  }

  private onCloseTag(): void {
    this.flush();
    const element = this.stack.pop();
    if (element === undefined) return;
    if (this.stack.length === this.stanzaLevel - 1) {
      this.deferred = () => {
        this.streamClosed = true;
        this.hooks.onStreamClose?.();
      };
      return;
    }
    if (this.stack.length === this.stanzaLevel) {
      this.endUnit();
      this.deferred = () => this.hooks.onStanza(element);
    }
  }

  private onText(text: string): void {
    this.flush();
    const top = this.stack[this.stack.length - 1];
    if (this.stack.length > this.stanzaLevel && top !== undefined) {
      const last = top.children.length - 1;
      const previous = top.children[last];
      if (typeof previous === 'string') top.children[last] = previous + text;
      else top.children.push(text);
      return;
    }
    // Between stanzas only whitespace (keepalives) is allowed; saxes checks the document case itself.
    if (this.mode === 'stream' && this.stack.length > 0 && /[^ \t\r\n]/.test(text)) {
      this.fail('bad-stream', 'text between stanzas');
    }
  }
}

function codeForSaxesMessage(message: string): XmlErrorCode {
  if (/doctype/i.test(message)) return 'dtd-forbidden';
  if (/undefined entity/i.test(message)) return 'entity-forbidden';
  if (/only one root/i.test(message)) return 'multiple-roots';
  if (/must contain a root/i.test(message)) return 'empty';
  if (/unclosed tag|unexpected end/i.test(message)) return 'truncated';
  return 'malformed';
}

/** UTF-8 byte length of s[from, to) (lone surrogates count 3, as U+FFFD would). */
export function utf8Length(s: string, from: number, to: number): number {
  let bytes = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < to) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

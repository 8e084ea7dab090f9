/**
 * Pure building and reading of XEP-0066 out-of-band file offers as salut and
 * iChat exchange them (spec clique-muc.md §8): the `jabber:iq:oob` set iq, its
 * metadata forms, and the three answers (result, 406 decline, 404 failure).
 * No I/O: the transfers module decides what an offer leads to.
 */
import { NS_CLIENT, NS_STANZA_ERRORS } from '../xml/namespaces.js';
import { el, type XmlElement } from '../xml/xml-element.js';

export const NS_IQ_OOB = 'jabber:iq:oob';
export const NS_X_DATA = 'jabber:x:data';
/** XEP-0300 hash element: our SHA-256 rides in the offer here; salut and iChat ignore it. */
export const NS_HASHES = 'urn:xmpp:hashes:2';
export const FORM_TYPE_SERVICE = 'http://telepathy.freedesktop.org/xmpp/file-transfer-service';
export const FORM_TYPE_METADATA = 'http://telepathy.freedesktop.org/xmpp/file-transfer-metadata';

/** Limits on what a reader accepts from a peer (a bigger offer is refused as bad-request). */
const MAX_URL_LENGTH = 4096;
const MAX_DESC_LENGTH = 4096;
const MAX_METADATA_FIELDS = 64;
const MAX_METADATA_VALUES = 64;
const MAX_METADATA_TEXT = 1024;

export interface OobOffer {
  /** The http URL to GET. */
  url: string;
  /** The file name the sender meant: the URL's last path segment, decoded (not yet sanitised). */
  name: string;
  /** Declared size in bytes; undefined when absent (salut omits 0). */
  size?: number;
  mimeType?: string;
  desc?: string;
  /** Hex SHA-256 of the file, when the sender gave one (our XEP-0300 element). */
  sha256?: string;
  /** The ServiceName of the file-transfer-service form. */
  serviceName?: string;
  /** The file-transfer-metadata form's fields (multi-valued). */
  metadata: Record<string, string[]>;
}

export interface OfferToBuild {
  url: string;
  size: number;
  mimeType?: string;
  desc?: string;
  sha256?: string;
  serviceName?: string;
  metadata?: Record<string, string[]>;
}

/** Why we refuse an offer: a directory (iChat's `type="directory"`), or an offer we cannot read. */
export type OfferRefusal = 'directory' | 'bad-request';

export type OfferReadResult = { ok: true; offer: OobOffer } | { ok: false; refusal: OfferRefusal };

/** How the receiver's error answer reads to the sender (§8.2). */
export type OfferErrorMeaning = 'declined' | 'remote-error';

/** The offer iq (§8.1); `id`, `from` and `to` are the link's to stamp. `size` 0 is omitted, as salut does. */
export function buildOobOffer(offer: OfferToBuild): XmlElement {
  const query = el('query', NS_IQ_OOB);
  query.child('url', NS_IQ_OOB, { type: 'file', mimeType: offer.mimeType, size: offer.size > 0 ? String(offer.size) : undefined }, offer.url);
  if (offer.desc !== undefined) query.child('desc', NS_IQ_OOB, {}, offer.desc);
  if (offer.sha256 !== undefined) query.child('hash', NS_HASHES, { algo: 'sha-256' }, Buffer.from(offer.sha256, 'hex').toString('base64'));
  if (offer.serviceName !== undefined) query.append(buildForm(FORM_TYPE_SERVICE, { ServiceName: [offer.serviceName] }));
  if (offer.metadata !== undefined && Object.keys(offer.metadata).length > 0) query.append(buildForm(FORM_TYPE_METADATA, offer.metadata));
  return el('iq', NS_CLIENT, { type: 'set' }, query);
}

function buildForm(formType: string, fields: Record<string, string[]>): XmlElement {
  const form = el('x', NS_X_DATA, { type: 'result' });
  form.child('field', NS_X_DATA, { var: 'FORM_TYPE', type: 'hidden' }).child('value', NS_X_DATA, {}, formType);
  for (const [name, values] of Object.entries(fields)) {
    const field = form.child('field', NS_X_DATA, { var: name });
    for (const value of values) field.child('value', NS_X_DATA, {}, value);
  }
  return form;
}

/** True for a set iq carrying a `jabber:iq:oob` query (whether or not it is usable). */
export function isOobOffer(iq: XmlElement): boolean {
  const query = iq.getChild('query', NS_IQ_OOB);
  // A query with a `sid` is a stream tube's connection (spec §7.5), not a file: the tubes' handler takes it.
  return iq.name === 'iq' && iq.getAttr('type') === 'set' && query !== undefined && query.getAttr('sid') === undefined;
}

/**
 * Reads an offer. The URL's leading newline (iChat) and surrounding blanks
 * are stripped; only absolute http URLs with a host are taken; a size must be
 * a plain decimal; a directory is refused (§8.3).
 */
export function readOobOffer(iq: XmlElement): OfferReadResult {
  const bad = { ok: false, refusal: 'bad-request' } as const;
  const query = iq.getChild('query', NS_IQ_OOB);
  const urlElement = query?.getChild('url', NS_IQ_OOB);
  if (query === undefined || urlElement === undefined) return bad;
  if (urlElement.getAttr('type') === 'directory') return { ok: false, refusal: 'directory' };
  const text = urlElement.text().trim();
  if (text.length === 0 || text.length > MAX_URL_LENGTH) return bad;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return bad;
  }
  if (url.protocol !== 'http:' || url.hostname === '' || url.username !== '' || url.password !== '') return bad;
  const sizeText = urlElement.getAttr('size');
  let size: number | undefined;
  if (sizeText !== undefined) {
    if (!/^[0-9]{1,16}$/.test(sizeText)) return bad;
    size = Number(sizeText);
    if (!Number.isSafeInteger(size)) return bad;
    if (size === 0) size = undefined;
  }
  const offer: OobOffer = { url: url.href, name: lastSegment(url), metadata: Object.create(null) as Record<string, string[]> };
  if (size !== undefined) offer.size = size;
  const mimeType = urlElement.getAttr('mimeType');
  if (mimeType !== undefined && mimeType !== '' && mimeType.length <= 255) offer.mimeType = mimeType;
  const desc = query.getChildText('desc', NS_IQ_OOB);
  if (desc !== undefined && desc !== '') offer.desc = desc.slice(0, MAX_DESC_LENGTH);
  const hash = query.getChildren('hash', NS_HASHES).find((h) => h.getAttr('algo') === 'sha-256');
  if (hash !== undefined) {
    const bytes = /^[A-Za-z0-9+/]{43}=$/.test(hash.text().trim()) ? Buffer.from(hash.text().trim(), 'base64') : undefined;
    if (bytes === undefined || bytes.length !== 32) return bad;
    offer.sha256 = bytes.toString('hex');
  }
  for (const form of query.getChildren('x', NS_X_DATA)) {
    const fields = readForm(form);
    if (fields === undefined) continue;
    if (fields.formType === FORM_TYPE_SERVICE) {
      const name = fields.values['ServiceName']?.[0];
      if (name !== undefined) offer.serviceName = name;
    } else if (fields.formType === FORM_TYPE_METADATA) {
      Object.assign(offer.metadata, fields.values);
    }
  }
  return { ok: true, offer };
}

function lastSegment(url: URL): string {
  const segment = url.pathname.split('/').pop() ?? '';
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function readForm(form: XmlElement): { formType: string; values: Record<string, string[]> } | undefined {
  let formType: string | undefined;
  const values = Object.create(null) as Record<string, string[]>;
  let count = 0;
  for (const field of form.getChildren('field', NS_X_DATA)) {
    const name = field.getAttr('var');
    if (name === undefined) continue;
    const fieldValues = field
      .getChildren('value', NS_X_DATA)
      .slice(0, MAX_METADATA_VALUES)
      .map((v) => v.text().slice(0, MAX_METADATA_TEXT));
    if (name === 'FORM_TYPE') {
      formType = fieldValues[0];
      continue;
    }
    if (count >= MAX_METADATA_FIELDS || name.length > MAX_METADATA_TEXT) continue;
    count += 1;
    values[name] = fieldValues;
  }
  return formType === undefined ? undefined : { formType, values };
}

/** The receiver's answer once the download succeeded (§8.2). */
export function buildOobResult(request: XmlElement): XmlElement {
  return el('iq', NS_CLIENT, { type: 'result', id: request.getAttr('id') });
}

/** The receiver declines: the query (with its url) echoed, code 406 type modify, not-acceptable (§8.2). */
export function buildOobDecline(request: XmlElement): XmlElement {
  return buildOobError(request, '406', 'modify', 'not-acceptable');
}

/** The download failed: code 404 type cancel, item-not-found (§8.2). */
export function buildOobFetchFailed(request: XmlElement): XmlElement {
  return buildOobError(request, '404', 'cancel', 'item-not-found');
}

/** A directory offer (which we do not take, §8.3) or an unreadable one. */
export function buildOobRefusal(request: XmlElement, refusal: OfferRefusal): XmlElement {
  return refusal === 'directory'
    ? buildOobError(request, '501', 'cancel', 'feature-not-implemented')
    : buildOobError(request, '400', 'modify', 'bad-request');
}

function buildOobError(request: XmlElement, code: string, type: string, condition: string): XmlElement {
  const reply = el('iq', NS_CLIENT, { type: 'error', id: request.getAttr('id') });
  const url = request.getChild('query', NS_IQ_OOB)?.getChild('url', NS_IQ_OOB);
  reply.append(el('query', NS_IQ_OOB, {}, el('url', NS_IQ_OOB, {}, url?.text() ?? '')));
  reply.child('error', NS_CLIENT, { code, type }).child(condition, NS_STANZA_ERRORS);
  return reply;
}

/**
 * What an error answer to our offer means: 406 in `code`, or in `type` as
 * iChat writes it, or the not-acceptable condition, is a decline; anything
 * else a remote error (§8.2).
 */
export function readOfferError(answer: XmlElement): OfferErrorMeaning {
  const error = answer.getChild('error');
  if (error === undefined) return 'remote-error';
  if (error.getAttr('code') === '406' || error.getAttr('type') === '406') return 'declined';
  return error.getChild('not-acceptable', NS_STANZA_ERRORS) !== undefined ? 'declined' : 'remote-error';
}

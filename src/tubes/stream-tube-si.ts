/**
 * Pure building and reading of the SI request, SI result and OOB iq that set up
 * one connection of a room stream tube (spec clique-muc.md §7.5). No I/O here:
 * the service layer decides what to do with a refusal.
 */
import { NS_CLIENT, NS_STANZA_ERRORS, NS_TUBES } from '../xml/namespaces.js';
import { el, type XmlElement } from '../xml/xml-element.js';

export const NS_SI = 'http://jabber.org/protocol/si';
export const NS_FEATURE_NEG = 'http://jabber.org/protocol/feature-neg';
export const NS_X_DATA = 'jabber:x:data';
export const NS_IQ_OOB = 'jabber:iq:oob';

export interface SiRequest {
  from: string;
  to: string;
  iqId: string;
  siId: string;
  room: string;
  tubeId: number;
}

/** Why an SI request is refused, named after the error salut answers with. */
export type SiRefusal = 'bad-request' | 'no-valid-streams' | 'bad-profile';

export type SiReadResult = { ok: true; request: SiRequest } | { ok: false; refusal: SiRefusal };

export function buildSiRequest(r: SiRequest): XmlElement {
  return el('iq', NS_CLIENT, { type: 'set', from: r.from, to: r.to, id: r.iqId },
    el('si', NS_SI, { id: r.siId, profile: NS_TUBES, 'mime-type': 'application/octet-stream' },
      el('feature', NS_FEATURE_NEG, {},
        el('x', NS_X_DATA, { type: 'form' },
          el('field', NS_X_DATA, { var: 'stream-method', type: 'list-single' },
            el('option', NS_X_DATA, {}, el('value', NS_X_DATA, {}, NS_IQ_OOB))))),
      el('muc-stream', NS_TUBES, { muc: r.room, tube: String(r.tubeId) })));
}

function parseTubeId(text: string | undefined): number | undefined {
  if (text === undefined || !/^[0-9]{1,10}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= 4294967295 ? n : undefined;
}

/** Reads an SI set iq in salut's order of checks (§7.5 step 4). Whether the tube exists is the caller's check. */
export function readSiRequest(iq: XmlElement): SiReadResult {
  const bad = { ok: false, refusal: 'bad-request' } as const;
  const from = iq.getAttr('from');
  const si = iq.getChild('si', NS_SI);
  const siId = si?.getAttr('id');
  const profile = si?.getAttr('profile');
  if (from === undefined || si === undefined || siId === undefined || profile === undefined) return bad;
  const field = si.getChild('feature', NS_FEATURE_NEG)?.getChild('x', NS_X_DATA)
    ?.elements().find((f) => f.is('field', NS_X_DATA) && f.getAttr('var') === 'stream-method');
  if (field === undefined || field.getAttr('type') !== 'list-single') return bad;
  const methods = field.elements().filter((o) => o.is('option', NS_X_DATA)).map((o) => o.getChild('value', NS_X_DATA)?.text() ?? '');
  if (methods.length === 0) return bad;
  if (!methods.includes(NS_IQ_OOB)) return { ok: false, refusal: 'no-valid-streams' };
  if (profile !== NS_TUBES) return { ok: false, refusal: 'bad-profile' };
  const muc = si.getChild('muc-stream', NS_TUBES);
  const room = muc?.getAttr('muc');
  const tubeId = parseTubeId(muc?.getAttr('tube'));
  if (room === undefined || room === '' || tubeId === undefined) return bad;
  return { ok: true, request: { from, to: iq.getAttr('to') ?? '', iqId: iq.getAttr('id') ?? '', siId, room, tubeId } };
}

export function buildSiResult(from: string, to: string, iqId: string): XmlElement {
  return el('iq', NS_CLIENT, { type: 'result', from, to, id: iqId },
    el('si', NS_SI, {},
      el('feature', NS_FEATURE_NEG, {},
        el('x', NS_X_DATA, { type: 'submit' },
          el('field', NS_X_DATA, { var: 'stream-method' }, el('value', NS_X_DATA, {}, NS_IQ_OOB)))),
      el('tube', NS_TUBES)));
}

export function buildOobIq(from: string, to: string, iqId: string, siId: string, host: string, port: number): XmlElement {
  return el('iq', NS_CLIENT, { type: 'set', from, to, id: iqId },
    el('query', NS_IQ_OOB, { sid: siId }, el('url', NS_IQ_OOB, {}, `x-tcp://${host}:${port}`)));
}

/**
 * Reads an OOB iq for the SI `expectedSid`: only the port is returned, because
 * the initiator connects to the address of the existing XML stream and ignores
 * the URL's host (§7.5 step 7).
 */
export function readOobPort(iq: XmlElement, expectedSid: string): number | undefined {
  const query = iq.getChild('query', NS_IQ_OOB);
  if (query === undefined || query.getAttr('sid') !== expectedSid) return undefined;
  const match = /^x-tcp:\/\/[^\s]*:([0-9]{1,5})$/.exec(query.getChildText('url', NS_IQ_OOB) ?? '');
  if (match === null) return undefined;
  const port = Number(match[1]);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/**
 * Why we refuse an SI request: the reader's refusals, or ours after reading —
 * `declined` (no such tube of ours, or a requester outside the room),
 * `busy` (the tube's connection budget is spent), `unreachable` (the shared
 * service refused the connection).
 */
export type SiAnswerRefusal = SiRefusal | 'declined' | 'busy' | 'unreachable';

const SI_REFUSALS: Record<SiAnswerRefusal, { type: string; condition: string; si?: string; text?: string }> = {
  // XEP-0095 §3.3's conditions, the ones salut answers with (§7.5 step 4).
  'bad-request': { type: 'modify', condition: 'bad-request' },
  'no-valid-streams': { type: 'cancel', condition: 'bad-request', si: 'no-valid-streams' },
  'bad-profile': { type: 'modify', condition: 'bad-request', si: 'bad-profile' },
  declined: { type: 'cancel', condition: 'forbidden', text: 'Offer declined' },
  busy: { type: 'wait', condition: 'resource-constraint', text: 'Too many connections to this tube' },
  unreachable: { type: 'cancel', condition: 'service-unavailable', text: 'The shared service does not answer' },
};

/** The `<iq type="error">` answering an SI request we refuse (same id, back to its sender). */
export function buildSiError(request: XmlElement, refusal: SiAnswerRefusal, from: string): XmlElement {
  const how = SI_REFUSALS[refusal];
  const error = el('error', NS_CLIENT, { type: how.type }, el(how.condition, NS_STANZA_ERRORS));
  if (how.si !== undefined) error.append(el(how.si, NS_SI));
  if (how.text !== undefined) error.append(el('text', NS_STANZA_ERRORS, {}, how.text));
  return el('iq', NS_CLIENT, { type: 'error', from, to: request.getAttr('from'), id: request.getAttr('id') }, error);
}

/** The OOB iq of a stream tube connection (a `jabber:iq:oob` query with a `sid`), not a file offer (§8.1 has no sid). */
export function oobSid(iq: XmlElement): string | undefined {
  return iq.getChild('query', NS_IQ_OOB)?.getAttr('sid');
}

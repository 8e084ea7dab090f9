/**
 * Pure building and reading of the 1-1 stream tube iqs (spec clique-muc.md
 * §7.6, the documented experimental form): the offer with the initiator's
 * port, and the close. Accepting is an empty `result`; refusing an error.
 */
import { NS_CLIENT, NS_TUBES } from '../xml/namespaces.js';
import { el, type XmlElement } from '../xml/xml-element.js';
import { buildParametersElement, readParameters } from './tube-parameters.js';
import { resolveTubeListLimits } from './tube-list.js';
import type { TubeListLimits, TubeParameters } from './tube-types.js';

export interface ContactTubeOffer {
  /** 1..4294967295, the initiator's choice. */
  id: number;
  service: string;
  /** Where the initiator listens for the recipient's connections (at the address of its XML stream). */
  port: number;
  parameters: TubeParameters;
}

export type ContactTubeIq = { kind: 'offer'; offer: ContactTubeOffer } | { kind: 'close'; id: number } | { kind: 'bad-request'; why: string };

/**
 * The offer. `<parameters>` goes inside `<tube>`, where salut's reader looks
 * (the documented example shows it as a sibling; our reader takes both).
 */
export function buildContactTubeOffer(offer: ContactTubeOffer): XmlElement {
  return el('iq', NS_CLIENT, { type: 'set' },
    el('tube', NS_TUBES, { type: 'stream', service: offer.service, id: String(offer.id) },
      buildParametersElement(offer.parameters),
      el('transport', NS_TUBES, { port: String(offer.port) })));
}

export function buildContactTubeClose(id: number): XmlElement {
  return el('iq', NS_CLIENT, { type: 'set' }, el('close', NS_TUBES, { id: String(id) }));
}

/** Whether an iq request is one of ours to read (a `<tube>` or `<close>` in the tubes namespace). */
export function isContactTubeIq(iq: XmlElement): boolean {
  return iq.getChild('tube', NS_TUBES) !== undefined || iq.getChild('close', NS_TUBES) !== undefined;
}

function readId(text: string | undefined): number | undefined {
  if (text === undefined || !/^[0-9]{1,10}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= 4_294_967_295 ? n : undefined;
}

/** Reads an offer or a close; anything malformed is `bad-request`, as salut answers (§7.6). */
export function readContactTubeIq(iq: XmlElement, limits: Partial<TubeListLimits> = {}): ContactTubeIq {
  const close = iq.getChild('close', NS_TUBES);
  if (close !== undefined) {
    const id = readId(close.getAttr('id'));
    return id === undefined ? { kind: 'bad-request', why: 'close without a valid id' } : { kind: 'close', id };
  }
  const tube = iq.getChild('tube', NS_TUBES);
  if (tube === undefined) return { kind: 'bad-request', why: 'no tube element' };
  if (tube.getAttr('type') !== 'stream') return { kind: 'bad-request', why: `tube type ${JSON.stringify(tube.getAttr('type'))} is not stream` };
  const id = readId(tube.getAttr('id'));
  if (id === undefined) return { kind: 'bad-request', why: 'tube without a valid id' };
  const bounds = resolveTubeListLimits(limits);
  const service = tube.getAttr('service');
  if (service === undefined || service === '' || service.length > bounds.maxServiceLength) return { kind: 'bad-request', why: 'tube without a usable service' };
  const port = readId(tube.getChild('transport', NS_TUBES)?.getAttr('port'));
  if (port === undefined || port > 65535) return { kind: 'bad-request', why: 'tube without a valid transport port' };
  const parametersElement = tube.getChild('parameters', NS_TUBES) ?? iq.getChild('parameters', NS_TUBES);
  const parameters = readParameters(parametersElement, bounds, () => undefined);
  return { kind: 'offer', offer: { id, service, port, parameters } };
}

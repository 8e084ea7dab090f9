import { escapeAttribute } from '../xml/xml-serialize.js';

/**
 * The fixed texts of a XEP-0174 stream (spec §6.4). Quote styles follow
 * wocky: single quotes for the declaration and the namespace declarations,
 * double quotes for to/from/version. Parsers do not care; peers' tests might.
 */
export const STREAM_DECLARATION = "<?xml version='1.0' encoding='UTF-8'?>";
const STREAM_OPEN = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'";
export const STREAM_FEATURES = '<stream:features/>';
export const STREAM_CLOSE = '</stream:stream>';

/** What the connecting side sends first: declaration and header with to, from and version 1.0. */
export function initiatorHeader(to: string, from: string): string {
  return `${STREAM_DECLARATION}${STREAM_OPEN} to="${escapeAttribute(to)}" from="${escapeAttribute(from)}" version="1.0">`;
}

/**
 * The answering side's header: `to` is the initiator's `from` when it sent
 * one (omitted otherwise, as for iChat); `from` is our own name (salut sends
 * an empty string here; a name is more useful and parsers accept either).
 */
export function responderHeader(to: string | undefined, from: string): string {
  const toAttribute = to === undefined ? '' : ` to="${escapeAttribute(to)}"`;
  return `${STREAM_DECLARATION}${STREAM_OPEN}${toAttribute} from="${escapeAttribute(from)}" version="1.0">`;
}

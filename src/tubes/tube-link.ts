import type net from 'node:net';
import type { ContactDirectory } from '../linklocal/contact.js';
import type { IqHandler, IqRequestOptions } from '../linklocal/iq-router.js';
import { connectTcp } from '../linklocal/tcp-connect.js';
import type { XmlElement } from '../xml/xml-element.js';

/**
 * What stream tubes need of the XEP-0174 link (a LinkLocalService has it
 * all): our name, iq requests and handlers, the contacts' advertised
 * addresses, and the addresses of the XML stream with a contact.
 */
export interface TubeLink {
  readonly name: string;
  readonly contacts: ContactDirectory;
  requestIq(contact: string, request: XmlElement, options?: IqRequestOptions): Promise<XmlElement>;
  handleIq(handler: IqHandler): () => void;
  streamAddresses(contact: string): { local: string; remote: string } | undefined;
  /** Keeps the XML stream with a contact open until the returned function is called (1-1 tubes connect at its address). */
  holdStream?(contact: string): () => void;
}

/**
 * Connects with half-close allowed (see TcpRelay), failing after `timeoutMs`
 * or when `signal` aborts. `localAddress`: the address to connect from — for
 * a contact, our end of the XML stream with it, so that the connection comes
 * from an address the contact knows us by (it checks, §7.5 step 7).
 */
export function connectHalfOpen(host: string, port: number, timeoutMs: number, options: { localAddress?: string; signal?: AbortSignal } = {}): Promise<net.Socket> {
  return connectTcp(host, port, { timeoutMs, allowHalfOpen: true, ...options });
}

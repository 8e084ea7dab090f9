import type { ContactDirectory, Contact } from '../linklocal/contact.js';
import type { IqHandler, IqRequestOptions } from '../linklocal/iq-router.js';
import type { XmlElement } from '../xml/xml-element.js';
import type { FileTransferError } from './file-transfer-error.js';

/**
 * What file transfer needs of the XEP-0174 link: `LinkLocalService` has it
 * all; tests may hand a messenger with a small adapter.
 */
export interface FileLink {
  readonly name: string;
  readonly contacts: ContactDirectory;
  /** The interface address: our HTTP server listens there, and the URL host when no stream is open yet. */
  readonly interfaceAddress: string;
  requestIq(contact: string | Contact, request: XmlElement, options?: IqRequestOptions): Promise<XmlElement>;
  handleIq(handler: IqHandler): () => void;
  streamAddresses(contact: string | Contact): { local: string; remote: string } | undefined;
  holdStream(contact: string | Contact): () => void;
}

/** How a transfer ended. */
export type TransferOutcome =
  | { state: 'accepted' }
  | { state: 'declined' }
  | { state: 'cancelled' }
  | { state: 'failed'; error: FileTransferError };

/** How an incoming transfer ended: `path` is where the file now is. */
export type ReceiveOutcome =
  | { state: 'received'; path: string }
  | { state: 'cancelled' }
  | { state: 'failed'; error: FileTransferError };

/** An offer someone made us, as the API and the service show it. */
export interface IncomingOfferInfo {
  /** Our short id for it (what `accept`/`decline` take). */
  id: string;
  from: string;
  /** The sanitised name it will be saved under (before clash renaming). */
  name: string;
  size?: number;
  mimeType?: string;
  desc?: string;
  sha256?: string;
  /** 'offered' until accepted or declined; then the transfer's state. */
  state: 'offered' | 'receiving' | 'received' | 'declined' | 'failed' | 'cancelled';
  /** Set once received. */
  path?: string;
  /** Set when failed. */
  error?: string;
  /** Bytes received so far. */
  received: number;
}

/** An offer we made, as the API and the service show it. */
export interface OutgoingOfferInfo {
  id: string;
  to: string;
  name: string;
  size: number;
  sha256: string;
  state: 'offered' | 'accepted' | 'declined' | 'failed' | 'cancelled';
  /** Bytes the receiver has fetched so far. */
  sent: number;
  error?: string;
}

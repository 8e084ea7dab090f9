import { errorText } from '../base/error-text.js';
import { silentLogger, type Logger } from '../base/logger.js';
import { buildIq, buildIqErrorReply } from '../xml/stanzas.js';
import { el, type XmlElement } from '../xml/xml-element.js';
import { FileTransferError } from './file-transfer-error.js';
import type { FileTransfers, TransferInfo } from './file-transfers.js';
import type { FileLink, IncomingOfferInfo } from './file-transfer-types.js';
import { NS_CLIQUE_FILES } from './room-share.js';
import type { MissedShare, RoomShares } from './room-shares.js';

/** How long the 1-1 offer that answers a fetch may take to arrive. */
const OFFER_WAIT_MS = 30_000;

/**
 * A room share fetched 1-1 by a member that missed its start (joined late,
 * or accepted too late): it asks the sender over XEP-0174 with
 * `<iq type="set"><fetch xmlns="urn:x-clique:files:0" room id/></iq>`; the
 * sender, if it sent that share completely into that room and the asker is a
 * member there now, answers `result` and makes an ordinary XEP-0066 OOB offer
 * of the file, which the asker takes into the directory it chose (SafeReceiver,
 * SHA-256 checked). Anything else is answered item-not-found.
 */
export class ShareFetch {
  private readonly removeHandler: () => void;
  private readonly logger: Logger;

  constructor(
    private readonly link: FileLink,
    private readonly files: FileTransfers,
    private readonly shares: () => RoomShares,
    options: { logger?: Logger } = {},
  ) {
    this.logger = options.logger ?? silentLogger;
    this.removeHandler = link.handleIq((request, from) => this.onIq(request, from));
  }

  /** Asks `share.sender` for the file and receives its 1-1 offer into `dir`; resolves with the file's path. */
  async fetch(share: MissedShare, dir: string): Promise<string> {
    let offered: ((info: IncomingOfferInfo) => void) | undefined;
    const offer = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.files.off('offer', onOffer);
        reject(new FileTransferError('file-short', `${share.sender} did not offer ${share.name} 1-1`));
      }, OFFER_WAIT_MS);
      const onOffer = (info: IncomingOfferInfo): void => {
        if (info.from !== share.sender || info.sha256 !== share.sha256) return;
        clearTimeout(timer);
        this.files.off('offer', onOffer);
        resolve(info.id);
      };
      offered = onOffer;
      this.files.on('offer', onOffer);
    });
    offer.catch(() => undefined);
    try {
      await this.link.requestIq(share.sender, buildIq({ type: 'set' }, el('fetch', NS_CLIQUE_FILES, { room: share.room, id: share.offerId })));
    } catch (error) {
      if (offered !== undefined) this.files.off('offer', offered);
      throw new FileTransferError('file-remote-error', `${share.sender} would not send ${share.name} 1-1: ${errorText(error)}`, { cause: error });
    }
    const id = await offer;
    const outcome = await this.files.accept(id, { dir }).catch(async (error: unknown) => {
      // Auto-accept may have taken it already: wait for that download instead.
      if (!(error instanceof FileTransferError && error.code === 'file-not-found')) throw error;
      return this.doneOf(id);
    });
    if (outcome.state !== 'received') throw outcome.state === 'failed' ? outcome.error : new FileTransferError('file-cancelled', `the 1-1 fetch of ${share.name} was ${outcome.state}`);
    return outcome.path;
  }

  close(): void {
    this.removeHandler();
  }

  private doneOf(id: string): Promise<{ state: 'received'; path: string } | { state: 'failed'; error: FileTransferError }> {
    return new Promise((resolve) => {
      const onDone = (info: TransferInfo): void => {
        if (info.direction !== 'in' || info.id !== id) return;
        this.files.off('done', onDone);
        if (info.state === 'received' && info.path !== undefined) resolve({ state: 'received', path: info.path });
        else resolve({ state: 'failed', error: new FileTransferError('file-short', info.error ?? `the 1-1 fetch ended ${info.state}`) });
      };
      this.files.on('done', onDone);
    });
  }

  private onIq(request: XmlElement, from: string): XmlElement | undefined {
    const fetch = request.getChild('fetch', NS_CLIQUE_FILES);
    if (fetch === undefined || request.getAttr('type') !== 'set') return undefined;
    const room = fetch.getAttr('room') ?? '';
    const id = fetch.getAttr('id') ?? '';
    const path = this.shares().sharedFile(room, id, from);
    if (path === undefined) {
      this.logger.debug('refusing a share fetch', { from, room, id });
      return buildIqErrorReply(request, { condition: 'item-not-found', to: from });
    }
    this.logger.info('share fetched 1-1', { from, room, id });
    void this.files.offer(from, path).then(
      (transfer) => transfer.done.catch(() => undefined),
      (error: unknown) => this.logger.warn('share fetch: the 1-1 offer failed', { from, error: errorText(error) }),
    );
    return buildIq({ type: 'result', id: request.getAttr('id'), to: from });
  }
}

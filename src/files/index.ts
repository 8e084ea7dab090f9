/** The files layer: 1-1 file transfer over XEP-0066 OOB (spec §8) with safe receiving. */
export { FileTransfers, OutgoingTransfer, type FileTransfersEvents, type FileTransfersOptions, type OfferOptions, type TransferInfo } from './file-transfers.js';
export type { FileLink, IncomingOfferInfo, OutgoingOfferInfo, ReceiveOutcome, TransferOutcome } from './file-transfer-types.js';
export { FileTransferError, type FileTransferErrorCode } from './file-transfer-error.js';
export { sanitizeFileName } from './file-name.js';
export { RoomShares, type RoomShareInfo, type RoomSharesEvents, type RoomSharesOptions, type ShareRoom, type ShareStreamPool } from './room-shares.js';

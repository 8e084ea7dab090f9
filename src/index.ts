/**
 * The public face of the clique library. Keep it small: three faces
 * (`Clique`/`Room` for rooms, `LinkLocalService` for people and 1-1 chat,
 * `RMulticastEngine` with `openMulticastNode` for bare reliable multicast,
 * and the tubes on top of rooms and 1-1 streams),
 * the errors they throw, the logger, and the types their signatures name.
 * Nothing internal: test/architecture/public-face.test.ts pins this list, so
 * a new export is a deliberate change.
 */

// People, 1-1 chat and invitations over XEP-0174.
export { LinkLocalService, type LinkLocalServiceOptions, type LinkLocalServiceEvents, type InvitationRequest } from './linklocal/link-local-service.js';
export type { WaitOptions } from './base/wait-for.js';
export type { Contact, ContactDirectory, PresenceStatus } from './linklocal/contact.js';
export type { ChatMessageEvent, InvitationEvent } from './linklocal/link-local-messenger.js';
export type { PresenceInfo } from './linklocal/presence-txt.js';
export type { TextMessageKind } from './xml/stanzas.js';
export type { CliqueInvitation } from './xml/invitation.js';
export type { RoomDirectory, RoomDirectoryEvents } from './linklocal/room-directory.js';
export type { RoomAddress, AdvertiseResult } from './linklocal/room-advertiser.js';

// 1-1 file transfer over the XEP-0174 link (XEP-0066 OOB, as salut and iChat).
export {
  FileTransfers,
  OutgoingTransfer,
  type FileTransfersOptions,
  type FileTransfersEvents,
  type OfferOptions,
  type TransferInfo,
  type FileLink,
  type IncomingOfferInfo,
  type OutgoingOfferInfo,
  type ReceiveOutcome,
  type TransferOutcome,
} from './files/index.js';

// Rooms: join, chat, topic, members, invitations, local history.
export {
  Clique,
  Room,
  HistoryStore,
  type CliqueOptions,
  type CliqueEvents,
  type JoinOptions,
  type RoomInvitation,
  type SendOptions,
  type RoomEvents,
  type RoomMember,
  type RoomMessage,
  type RoomState,
  type LeaveReason,
  type MemberLeftReason,
  type TopicChange,
  type RoomWarning,
  type TypingEvent,
  type ChatState,
  type ReplyReference,
  type HistoryEntry,
  type HistoryKind,
  type HistoryStoreOptions,
} from './rooms/index.js';

// Reliable multicast.
export { RMulticastEngine, type EngineStats } from './rmcast/rmulticast-engine.js';
export { CryptoRandom, type RandomSource } from './base/random.js';
export type { EngineOptions, EngineTiming, EngineState, EngineEvent, EngineOutput, MembersLostReason, MulticastEngine, ResetReason } from './rmcast/engine-types.js';
export { openMulticastNode, type MulticastNodeOptions } from './net/multicast-node.js';
export type { EngineDriver, EngineDriverEvents, DriverMessage } from './net/engine-driver.js';

// Tubes (spec §7): a room's tube table, D-Bus tubes on rMulticast streams, stream tubes over XEP-0174 (room and 1-1).
export {
  RoomTubes,
  openRoomDBusTube,
  DBusTube,
  StreamTubeHost,
  StreamTubeAcceptor,
  ContactStreamTubes,
  type RoomTubesOptions,
  type RoomTubesEvents,
  type RoomTubeInfo,
  type TubeOffer,
  type TubeParameter,
  type TubeParameters,
  type DBusTubeEvents,
  type DBusTubeMethodCall,
  type DBusTubeSignal,
  type DBusMethodCallSpec,
  type DBusSignalSpec,
  type DBusValue,
  type StreamTubeTarget,
  type StreamTubeHostOptions,
  type StreamTubeAcceptorOptions,
  type TubeLink,
  type ContactTubeInfo,
  type ContactTubeInvite,
  type ContactStreamTubesEvents,
  type ContactStreamTubesOptions,
} from './tubes/index.js';

// The person's clique service (one per login and interface): its typed control client.
export {
  ServiceClient,
  ensureService,
  PROTOCOL_VERSION,
  type ServiceClientOptions,
  type ServiceClientEvents,
  type ServiceEvent,
  type EnsureServiceOptions,
  type ControlMethods,
  type ControlEvents,
} from './service/index.js';

// Errors: branch on `code`.
export { CliqueError } from './base/clique-error.js';
export { RoomError, type RoomErrorCode } from './rooms/room-error.js';
export { LinkLocalServiceError, type LinkLocalServiceErrorCode } from './linklocal/link-local-service-error.js';
export { LinkError, type LinkErrorCode } from './linklocal/link-error.js';
export { MdnsError, type MdnsErrorCode } from './mdns/mdns-error.js';
export { XmlError, type XmlErrorCode } from './xml/xml-error.js';
export { EngineError, type EngineErrorCode } from './rmcast/engine-error.js';
export { DriverError, type DriverErrorCode } from './net/driver-error.js';
export { TransportError, type TransportErrorCode } from './net/transport-error.js';
export { DiskError, type DiskErrorCode } from './base/disk-error.js';
export { RoomTubesError, DBusTubeError, DBusError, type RoomTubesErrorCode, type DBusTubeErrorCode, type DBusErrorCode } from './tubes/index.js';
export { IqErrorAnswer } from './linklocal/iq-error-answer.js';
export { FileTransferError, type FileTransferErrorCode } from './files/file-transfer-error.js';
export { ServiceError, ServiceRequestError, type ServiceErrorCode, type RemoteErrorCode } from './service/index.js';

// Logging.
export { Logger, type LogLevel, type LogRecord, type LogSink } from './base/logger.js';

/**
 * The public face of the clique library. Keep it small: what an application
 * needs to be on the link (people, 1-1 chat, invitations, rooms) and the
 * multicast layer underneath; everything else stays internal.
 */

// People, 1-1 chat and invitations over XEP-0174.
export {
  LinkLocalService,
  defaultSelfName,
  type LinkLocalServiceOptions,
  type LinkLocalServiceEvents,
  type InvitationRequest,
  type WaitOptions,
} from './linklocal/link-local-service.js';
export type { Contact, ContactDirectory, PresenceStatus } from './linklocal/contact.js';
export type { ChatMessageEvent, InvitationEvent } from './linklocal/link-local-messenger.js';
export type { PresenceInfo } from './linklocal/presence-txt.js';
export type { TextMessageKind } from './xml/stanzas.js';
export type { CliqueInvitation } from './xml/invitation.js';
export { RoomDirectory, type RoomDirectoryEvents } from './linklocal/room-directory.js';
export type { RoomAddress, AdvertiseResult } from './linklocal/room-advertiser.js';

// Rooms: join, chat, topic, members, invitations, local history.
export {
  Clique,
  Room,
  HistoryStore,
  defaultHistoryPath,
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
  type TopicChange,
  type TypingEvent,
  type ChatState,
  type ReplyReference,
  type HistoryEntry,
  type HistoryKind,
  type HistoryStoreOptions,
} from './rooms/index.js';

// Reliable multicast.
export { RMulticastEngine, type EngineStats } from './rmcast/rmulticast-engine.js';
export { SEND_WINDOW } from './rmcast/engine-defaults.js';
export { CryptoRandom, SeededRandom, type RandomSource } from './base/random.js';
export type { EngineOptions, EngineTiming, EngineState, EngineEvent, EngineOutput, MulticastEngine } from './rmcast/engine-types.js';
export { openMulticastNode, type MulticastNodeOptions } from './net/multicast-node.js';
export type { EngineDriver, EngineDriverEvents, DriverMessage } from './net/engine-driver.js';

// Errors: branch on `code`.
export { CliqueError } from './base/clique-error.js';
export { RoomError, type RoomErrorCode } from './rooms/room-error.js';
export { LinkLocalServiceError, type LinkLocalServiceErrorCode } from './linklocal/link-local-service-error.js';
export { LinkError, type LinkErrorCode } from './linklocal/link-error.js';
export { MdnsError, type MdnsErrorCode } from './linklocal/mdns-error.js';
export { XmlError, type XmlErrorCode } from './xml/xml-error.js';
export { EngineError, type EngineErrorCode } from './rmcast/engine-error.js';
export { DriverError, type DriverErrorCode } from './net/engine-driver.js';
export { TransportError, type TransportErrorCode } from './net/datagram-transport.js';
export { PacketError, type PacketErrorCode } from './wire/packet-error.js';

// Logging.
export { Logger, type LogLevel, type LogRecord, type LogSink } from './base/logger.js';

/** The rooms layer: Clique rooms over rMulticast + mDNS, stream-0 XML, and the local history store. */
export { Clique, checkRoomName, MIN_FAILURE_TIMEOUT_MS, type CliqueEvents, type CliqueOptions, type JoinOptions, type RoomInvitation } from './clique.js';
export { Room, type SendOptions } from './room.js';
export type { WaitOptions } from '../base/wait-for.js';
export type { LeaveReason, MemberLeftReason, RoomEvents, RoomMember, RoomMessage, RoomState, RoomExtensionStanza, RoomStreamData, RoomTubesStanza, RoomWarning, TopicChange, TypingEvent } from './room-types.js';
export { RoomError, type RoomErrorCode } from './room-error.js';
export { HistoryStore, defaultHistoryPath, DEFAULT_HISTORY_PER_ROOM, type HistoryEntry, type HistoryKind, type HistoryStoreOptions } from './history-store.js';
export type { ChatState, ReplyReference } from './room-stanzas.js';

import type { CliqueError } from '../base/clique-error.js';
import type { AdvertiseResult, RoomAddress } from '../linklocal/room-advertiser.js';
import type { HistoryEntry } from './history-store.js';
import type { RoomError } from './room-error.js';
import type { LeaveReason, RoomEvents, RoomMessage, TopicChange } from './room-types.js';

/** A group the room is in or was in, numbered by the core (the shell keeps the socket behind each). */
export type GroupId = number;

/** An event for the room's listeners, as the core hands it to the shell. */
export type RoomEventOutput = { [K in keyof RoomEvents]: { type: 'event'; name: K; args: RoomEvents[K] } }[keyof RoomEvents];

/** What a finished send gives its caller. */
export type SendResult = RoomMessage | TopicChange | undefined;

/**
 * What the room core asks its shell to do, in order (`RoomCore.drain()`).
 * Each effect that takes time comes back as an input: 'transmit' as
 * `transmitted`/`transmitFailed`, 'advertise' as `advertiseSettled`,
 * 'withdraw' as `withdrawn`, 'open-group' as `groupOpened`/`groupOpenFailed`,
 * 'leave-group' with `bye` as `groupLeft`.
 */
export type RoomOutput =
  | RoomEventOutput
  /** Hand these bytes to the group on `streamId` (0: XML; 1..65535: tube data), behind the flow-control window. */
  | { type: 'transmit'; group: GroupId; ticket: number; streamId: number; bytes: Uint8Array }
  /** A send the application waits for is over. */
  | { type: 'settled'; ticket: number; result: SendResult; error: RoomError | undefined }
  | { type: 'advertise'; group: GroupId; room: RoomAddress }
  | { type: 'withdraw'; group: GroupId; name: string }
  /** Join another group of this room (a move); `group` is the number it will have. */
  | { type: 'open-group'; group: GroupId; address: string; port: number }
  /**
   * Be gone from a group: with `bye`, leave it properly (and report
   * `groupLeft`); without, close it at once. Sends the group still holds fail.
   */
  | { type: 'leave-group'; group: GroupId; bye: boolean }
  /** Into the history; with `unlessLastTopic`, only if the stored topic differs. */
  | { type: 'store'; entry: Omit<HistoryEntry, 'room'>; unlessLastTopic?: string }
  /** rMulticast chose our sender id in the room's first group. */
  | { type: 'connected' }
  /** An operational problem: for 'error' listeners, if there are any. */
  | { type: 'error'; error: CliqueError }
  /** The room is gone; 'left' follows as an event. */
  | { type: 'closed'; reason: LeaveReason };

export type { AdvertiseResult };

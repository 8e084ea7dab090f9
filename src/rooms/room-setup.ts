import type { Logger } from '../base/logger.js';
import type { ContactDirectory, Contact, PresenceStatus } from '../linklocal/contact.js';
import type { AdvertiseResult, RoomAddress } from '../linklocal/room-advertiser.js';
import type { RoomDirectory } from '../linklocal/room-directory.js';
import type { TextMessageKind } from '../xml/stanzas.js';
import type { GroupLink } from './group-link.js';
import type { HistoryStore } from './history-store.js';
import type { RoomClock } from './room-clock.js';
import type { OpenedGroup } from './room-group.js';
import type { ReplyReference } from './room-stanzas.js';
import type { LeaveReason, RoomMessage } from './room-types.js';

/* What a Room is made of and what its maker may do to it (Clique assembles rooms; simulations too). */

/** What a Room needs to advertise itself (a RoomDirectory, or the LinkLocalService's). */
export interface RoomAdvertising {
  advertise(room: RoomAddress): Promise<AdvertiseResult>;
  withdraw(name: string): Promise<void>;
}

/** The room list as a Room reads it (Clique passes on its changes: `listingChanged`, `advertisementLost`). */
export type RoomListing = Pick<RoomDirectory, 'get'>;

/** Sends an invitation over XEP-0174 (the LinkLocalService's `sendInvitation`). */
export type InvitationSender = (contact: string, invitation: { room: string; address: string; port: number; reason?: string }) => Promise<void>;

/** Tunables of one room, resolved by Clique from JoinOptions. */
export interface RoomSettings {
  nick: string | undefined;
  status: PresenceStatus;
  statusMessage: string | undefined;
  /** A joiner becomes a member after this long even if nobody else shows up (salut: 60 s). */
  joinWaitMs: number;
  /** Stream-0 stanzas above this are refused, ours included. */
  maxStanzaBytes: number;
  maxQueuedSends: number;
  /** Bytes that may wait for the flow-control window (all streams); default DEFAULT_MAX_QUEUED_BYTES. */
  maxQueuedBytes?: number;
  /** Largest tube-data message (streams 1..65535) we send; default DEFAULT_MAX_STREAM_MESSAGE_BYTES. */
  maxStreamMessageBytes?: number;
  /** Per messages() reader. */
  maxBufferedMessages: number;
  /**
   * How long before a member is declared lost it may already have stopped
   * hearing us (the failure detection time): a member who comes back gets
   * our lines from that far back (sent-lines.ts).
   */
  lossWindowMs: number;
}

/** Everything a Room is made of; Clique assembles it. */
export interface RoomSetup {
  name: string;
  selfName: string;
  address: string;
  port: number;
  /** We created the group (a random one): we are a member as soon as we are connected (§3.2). */
  creator: boolean;
  /** The room's group (engine-group-link.ts for an rMulticast node). */
  group: GroupLink;
  /** Undefined: the room is not advertised. */
  advertising: RoomAdvertising | undefined;
  /**
   * Joined by name (not by address or invitation): while alone in its group,
   * the room may move to another group listed under its name (room-merge.ts).
   */
  byName?: boolean;
  /** The room list; without it the room never moves. */
  listing?: RoomListing | undefined;
  /** Opens another group of this room under our name, for a move; without it the room never moves. */
  openGroup?: ((address: string, port: number) => Promise<OpenedGroup>) | undefined;
  contacts: ContactDirectory | undefined;
  history: HistoryStore | undefined;
  invite: InvitationSender | undefined;
  settings: RoomSettings;
  logger: Logger;
  /** Time and ids; the system's unless a simulation brings its own. */
  clock?: RoomClock;
  /** The room is gone (its maker forgets it). */
  onClosed: (room: { readonly name: string }) => void;
}

export interface SendOptions {
  /** Default 'normal'. 'action' goes out as `/me TEXT`, 'notice' as type="normal" (§4.2). */
  kind?: TextMessageKind;
  /** Mark the message as a reply (XEP-0461) to a message of this room. */
  replyTo?: RoomMessage | ReplyReference;
}

/** What only the Clique that made a room may do to it (kept off Room's public surface). */
export interface RoomControl {
  /** Clique's stop() and a failed join. */
  close(reason: LeaveReason): Promise<void>;
  /** The room list changed under this room's name. */
  listingChanged(): void;
  /** Our advertisement of `room` was refused: another host holds the name with other data. */
  advertisementLost(room: RoomAddress): void;
  /** A contact's link-local presence changed. */
  contactChanged(name: string, previous: Contact | undefined): void;
}


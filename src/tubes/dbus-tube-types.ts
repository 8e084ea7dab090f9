import type { Logger } from '../base/logger.js';
import type { DBusEndian, DBusMessage, DBusValue } from './dbus-message.js';

/**
 * The public shapes of a D-Bus tube (spec §7.4) as one member sees it: what
 * the room side gives it, what the application sends and receives, and why
 * received bytes are dropped.
 */

/** How the tube sends: one call per D-Bus message, on our own rMulticast stream for this tube. */
export interface DBusTubeLink {
  send(bytes: Uint8Array): void;
}

export interface DBusTubeOptions {
  /** Our member (instance) name in the room; our tube-local unique name derives from it. */
  selfName: string;
  link: DBusTubeLink;
  logger?: Logger;
  /** Byte order of what we marshal; default little-endian (any order is read). */
  endian?: DBusEndian;
  /** Method calls awaiting a reply at once; default 1024. */
  maxPendingCalls?: number;
  /** Bytes of incoming messages kept until the application attaches; default 4 MiB (§0). */
  maxQueuedBytes?: number;
  /** Largest message read; default 4 MiB, never above D-Bus's 128 MiB. */
  maxMessageBytes?: number;
  /** Messages an async iterator may fall behind before it is cut off; default 1024. */
  maxReaderBacklog?: number;
}

/** What a received message carries besides its type-specific fields. */
export interface DBusTubeIncomingBase {
  /** The member's instance name in the room (ourselves for local delivery). */
  sender: string;
  /** The member's tube-local unique name (the message's SENDER field). */
  uniqueName: string;
  /** Absent for a broadcast; otherwise our own unique name. */
  destination?: string;
  serial: number;
  /** DBUS_FLAG_* bits as received. */
  flags: number;
  /** The body's signature ('' for an empty body). */
  signature: string;
  body: DBusValue[];
  /** Size of the marshalled message. */
  bytes: number;
  /** The whole decoded message, for fields this view leaves out. */
  message: DBusMessage;
}

export interface DBusTubeMethodCall extends DBusTubeIncomingBase {
  kind: 'method-call';
  path: string;
  interface?: string;
  member: string;
  /** The caller set NO_REPLY_EXPECTED: reply() and replyError() then send nothing. */
  noReplyExpected: boolean;
}

export interface DBusTubeSignal extends DBusTubeIncomingBase {
  kind: 'signal';
  path: string;
  interface: string;
  member: string;
}

export type DBusTubeIncoming = DBusTubeMethodCall | DBusTubeSignal;

/** The answer to callMethod: a METHOD_RETURN or a D-Bus ERROR from the callee. */
export type DBusTubeReply =
  | (DBusTubeIncomingBase & { kind: 'return' })
  | (DBusTubeIncomingBase & {
      kind: 'error';
      errorName: string;
      /** The body's first value when it is a string (D-Bus convention), else ''. */
      errorMessage: string;
    });

export interface DBusMethodCallSpec {
  /** The callee's tube-local unique name (ours included). */
  destination: string;
  path: string;
  interface?: string;
  member: string;
  /** Signature of `body`; default ''. */
  signature?: string;
  body?: DBusValue[];
  /** Stops waiting for the reply; the promise rejects with the signal's reason. Timeouts are the caller's business. */
  signal?: AbortSignal;
}

export interface DBusSignalSpec {
  path: string;
  interface: string;
  member: string;
  /** Absent: every member of the tube (and ourselves); else one unique name. */
  destination?: string;
  signature?: string;
  body?: DBusValue[];
}

export interface DBusReplySpec {
  signature?: string;
  body?: DBusValue[];
}

/** Why received bytes did not reach the application. */
export type DBusTubeDropReason =
  /** Bytes from a member with no name recorded in this tube (it never joined it, or left). */
  | 'unknown-member'
  /** Not a valid D-Bus message (truncated, bad header, bad values). */
  | 'malformed'
  /** Beyond the size limits (the message's own claim or an array's). */
  | 'too-large'
  /** SENDER absent or not the name recorded for the member that sent it. */
  | 'forged-sender'
  /** DESTINATION is someone else's name. */
  | 'wrong-destination'
  /** A METHOD_RETURN/ERROR no call of ours awaits from that member. */
  | 'unexpected-reply'
  /** The application had not attached and the queue held its maximum. */
  | 'queue-full'
  /** Received after the tube was closed. */
  | 'closed';

export const DBUS_TUBE_DROP_REASONS: readonly DBusTubeDropReason[] = [
  'unknown-member',
  'malformed',
  'too-large',
  'forged-sender',
  'wrong-destination',
  'unexpected-reply',
  'queue-full',
  'closed',
];

export interface DBusTubeDrop {
  reason: DBusTubeDropReason;
  /** The member whose bytes were dropped (ourselves for local delivery). */
  member: string;
  bytes: number;
  detail: string;
}

export interface DBusTubeEvents {
  'method-call': [call: DBusTubeMethodCall];
  signal: [signal: DBusTubeSignal];
  /** Received bytes that were dropped; counted in `dropped` whether anyone listens or not. */
  dropped: [drop: DBusTubeDrop];
  closed: [];
}

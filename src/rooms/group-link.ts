import type { CliqueError } from '../base/clique-error.js';

/** What a room hears from its group. */
export interface GroupLinkEvents {
  /** Our sender id is chosen: we can send. */
  connected: [];
  'members-joined': [names: string[]];
  /** 'left': they said BYE; 'failed': lost by silence or a failure round; 'reset': we start over (see EngineEvent). */
  'members-lost': [names: string[], reason: 'left' | 'failed' | 'reset'];
  message: [message: GroupMessage];
  disconnected: [];
  error: [error: CliqueError];
  /** The group layer started over under a new sender id ('declared-failed' by the others, 'join-blocked', or an 'internal-error': ResetReason). */
  reset: [reason: string, detail: string];
  /** Someone sends packets under another member's id (same packet id, different bytes). */
  'spoof-suspected': [suspect: { senderId: number; sender: string | undefined; packetId: number }];
}

export interface GroupMessage {
  sender: string;
  streamId: number;
  data: Uint8Array;
}

export type GroupLinkState = 'idle' | 'connecting' | 'connected' | 'leaving' | 'closed';

/**
 * The little a room needs of its reliable multicast group: send on a stream,
 * hear members and messages, flow-control figures, leave. The rMulticast
 * engine behind a socket is one (engine-group-link.ts); tests use fakes.
 */
export interface GroupLink {
  readonly state: GroupLinkState;
  /** Our packets the members have not all acknowledged yet. */
  readonly unacknowledged: number;
  /** Hands a message to the group; throws when the group refuses it. */
  send(streamId: number, data: Uint8Array): void;
  /** Resolves once at most `limit` of our packets are unacknowledged, or the group is gone. */
  whenUnacknowledgedAtMost(limit: number): Promise<void>;
  /** BYE, then gone; resolves once disconnected. */
  leave(): Promise<void>;
  /** Gone at once, without BYE. */
  close(): Promise<void>;
  on<K extends keyof GroupLinkEvents>(event: K, listener: (...args: GroupLinkEvents[K]) => void): unknown;
}

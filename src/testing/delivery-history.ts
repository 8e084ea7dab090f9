/**
 * What a group of nodes sent, delivered and saw of membership: the input of
 * the delivery checker. Filled by the simulator, and by anything else that can
 * observe every node (a benchmark over real sockets).
 *
 * A node is identified by name plus incarnation (0 for the first process, +1
 * per restart): a restarted process is a new sender even if it keeps its name.
 */
export interface HistorySend {
  node: string;
  incarnation: number;
  time: number;
  /** Global record order (ties in `time` are broken by it). */
  seq: number;
  streamId: number;
  data: Uint8Array;
  /**
   * How many messages this incarnation had delivered when it sent this one:
   * those happened-before this message (with everything they depend on).
   */
  deliveredBefore: number;
}

export interface HistoryDelivery {
  node: string;
  incarnation: number;
  time: number;
  seq: number;
  /** Sender name as reported by the engine. */
  sender: string;
  streamId: number;
  data: Uint8Array;
}

export interface HistoryViewChange {
  node: string;
  incarnation: number;
  time: number;
  seq: number;
  change: 'joined' | 'lost';
  names: string[];
}

export interface HistoryNode {
  name: string;
  /** Latest incarnation. */
  incarnation: number;
  /** Still running at the end (not crashed, not left). */
  live: boolean;
  /** The engine's member list at the end. */
  members: string[];
}

export interface History {
  /** Printed with every failure so the run can be replayed. */
  seed: number | string;
  endTime: number;
  sends: HistorySend[];
  deliveries: HistoryDelivery[];
  viewChanges: HistoryViewChange[];
  finalNodes: HistoryNode[];
}

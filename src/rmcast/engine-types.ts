import type { Logger } from '../base/logger.js';
import type { RandomSource } from '../base/random.js';

/**
 * Contract of the sans-IO rMulticast engine. The engine never touches a socket,
 * a clock or a timer: a driver feeds it datagrams and the current time (ms, any
 * monotonic origin), then drains what it produced and arms one timer for
 * `nextDeadline()`.
 *
 *   engine.start(now)                      -> probe for a sender id
 *   engine.receive(datagram, now)          -> a datagram arrived
 *   engine.send(streamId, payload, now)    -> originate a message
 *   engine.tick(now)                       -> a timer deadline passed
 *   engine.leave(now)                      -> graceful leave (BYE x3), then 'disconnected'
 *   const { datagrams, events } = engine.drain()
 *   const deadline = engine.nextDeadline() // absolute ms, or undefined
 */

export interface EngineOptions {
  /** Our name (XEP-0174 instance name, `user@host`), bound to our id by WHOIS. < 255 UTF-8 bytes, no NUL. */
  name: string;
  random: RandomSource;
  /** Largest datagram we send (and fragment size): 1440 on UDP (default), 1500 in the original harness. */
  maxDatagramSize?: number;
  /** Largest message we send or reassemble; bigger incoming ones fail their sender. Default 16 MiB. */
  maxMessageSize?: number;
  /**
   * Whether the transport hands our own datagrams back to us (multicast loopback).
   * Id probing counts probes for our candidate; without loopback the engine counts
   * its own probes itself. Default true (UDP multicast loops back).
   */
  loopback?: boolean;
  /**
   * Behave like the original C implementation where ours deliberately differs,
   * for tests and interop checks (a simulated "original" member): no NO_DATA
   * acknowledgement after deliveries (acks ride only on its reliable packets
   * and the 180 s keepalive), SESSIONs list every sender and are postponed
   * when another member's SESSION said the same (spec §5.5). Everything else
   * (silence timeout, repair suppression, limits) stays ours. Default false.
   */
  imitateOriginal?: boolean;
  /** Override protocol timers (tests shorten failure detection); defaults are the original's. */
  timing?: Partial<EngineTiming>;
  logger?: Logger;
}

/** Timer values in ms; ranges are [low, high) drawn uniformly. Defaults: spec rmulticast.md §0.1. */
export interface EngineTiming {
  probeListen: number; // 500
  probeInterval: number; // 250
  probeCount: number; // 3
  whoisFirstRequest: [number, number]; // [50, 200)
  whoisRepeatRequest: [number, number]; // [400, 600)
  whoisReplyDelay: [number, number]; // [50, 200)
  nameDiscoveryDeadline: number; // 10 000
  repairFirstRequest: [number, number]; // [150, 250)
  repairRepeatRequest: [number, number]; // [500, 800)
  repairAnswerDelay: [number, number]; // [50, 100); also the repeat interval of a repeating ATTEMPT_JOIN
  sessionInterval: [number, number]; // [1500, 3000)
  keepalive: number; // 180 000
  progressWatchdog: number; // 300 000
  /**
   * Ours, not the original's: a member from which nothing at all (not even a
   * SESSION, sent every 0.7-1.3 s by us, 1.5-3 s by the original) arrives for
   * this long is reported failed; one heard regularly sooner (quickSilenceTimeout).
   * Finds a crashed peer in seconds instead of the 5-minute watchdog, with no
   * change on the wire. 0 disables it. Default 30 000.
   */
  silenceTimeout: number;
  /**
   * Ours: the shortest silence limit a member can earn by sending its
   * SESSIONs regularly (silence-rule.ts); 0 keeps `silenceTimeout` for all.
   * Default 6 000.
   */
  quickSilenceTimeout: number;
  byeCount: number; // 3
  byeInterval: number; // 500
  attemptJoinDelay: [number, number]; // [100, 400)
  gatheringQuiet: [number, number]; // [4800, 5200)
  /**
   * Ours: the quiet that ends a gathering once every position is exchanged
   * (see Membership.armSettledCheck); [0, 0] keeps the original's behaviour.
   */
  gatheringSettledQuiet: [number, number];
  joinTimeout: number; // 30 000
  failureTimeout: number; // 60 000
}

/** Why members left our view (see EngineEvent 'members-lost'). */
export type MembersLostReason = 'left' | 'failed' | 'reset';

/** Why the engine started over under a new sender id (EngineEvent 'reset'). */
export type ResetReason = 'declared-failed' | 'join-blocked' | 'internal-error';
/** The resets membership asks for (an 'internal-error' is the engine's own). */
export type MembershipResetReason = Exclude<ResetReason, 'internal-error'>;

export type EngineEvent =
  /** A sender id was chosen; from now on `send` works (delivery starts once a view is shared). */
  | { type: 'connected'; senderId: number }
  /** A whole message from a member, delivered once, in causal order. */
  | { type: 'message'; sender: string; senderId: number; streamId: number; data: Uint8Array }
  /** Members that entered our view (names, never our own). */
  | { type: 'members-joined'; names: string[] }
  /**
   * Members that left our view. `reason`: 'left' when they said BYE;
   * 'failed' when they were declared failed (silence, a failure round, or
   * replaced by a new incarnation); 'reset' when the group declared *us*
   * failed and we are rejoining under a new id (the original reports nothing
   * in that case). One view change that loses members for both of the first
   * two reasons gives two events.
   */
  | { type: 'members-lost'; names: string[]; reason: MembersLostReason }
  /**
   * We start over under a new sender id: the group declared us failed
   * ('declared-failed'), our join phase timed out behind packets of members we
   * still hear, which we could not process ('join-blocked'), or the engine hit an internal error and reset itself
   * to a clean state rather than go on half-updated ('internal-error'). A
   * 'members-lost' with reason 'reset' precedes it when we had members;
   * 'connected' follows once the new id is chosen. Messages sent before it may
   * not have reached everybody.
   */
  | { type: 'reset'; reason: ResetReason; detail: string }
  /**
   * Two different packets arrived under one sender id and packet id (repairs
   * are byte-for-byte copies): somebody on the network forges that sender. The
   * second was dropped. `sender` is the name we know for the id, if any; our
   * own id means somebody impersonates us. Reported at most once per sender
   * per SPOOF_REPORT_INTERVAL_MS; EngineStats.spoofSuspected counts them all.
   */
  | { type: 'spoof-suspected'; senderId: number; sender: string | undefined; packetId: number }
  /** The leave finished (three BYEs sent); the engine is inert afterwards. */
  | { type: 'disconnected' };

export interface EngineOutput {
  /** Datagrams to multicast to the group, in order. */
  datagrams: Uint8Array[];
  events: EngineEvent[];
}

export type EngineState = 'idle' | 'connecting' | 'connected' | 'leaving' | 'closed';

/** What drivers (UDP, simulator, stdio) need from an engine. */
export interface MulticastEngine {
  readonly state: EngineState;
  /** Our sender id once connected (changes after a reset). */
  readonly senderId: number | undefined;
  readonly name: string;
  /** Names of the members in our current view (without ourselves). */
  readonly members: readonly string[];
  /**
   * Our own packets that some member has not yet told us it has: neither its
   * depends (processed) nor its SESSION (received) cover them. Flow control:
   * keep it under SEND_WINDOW (engine-defaults.ts) so receivers never fall out
   * of their window. It also reaches SEND_WINDOW when our repair cache reaches
   * its bound (flow-progress.ts OWN_CACHE_LIMIT).
   */
  readonly unacknowledgedPackets: number;
  start(now: number): void;
  receive(datagram: Uint8Array, now: number): void;
  /** Throws EngineError 'not-connected' or 'message-too-large'. */
  send(streamId: number, payload: Uint8Array, now: number): void;
  tick(now: number): void;
  leave(now: number): void;
  /** Test hook (harness `FAIL:<name>`): act as if the named sender had failed. */
  failMember(name: string, now: number): void;
  drain(): EngineOutput;
  nextDeadline(): number | undefined;
}

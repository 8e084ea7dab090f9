import { EventEmitter } from 'node:events';
import type { MdnsTimer } from './mdns-clock.js';
import { MdnsError } from './mdns-error.js';
import { recordKey, type MdnsRecord } from './records.js';
import type { MdnsEndpoint } from './transport.js';

/**
 * One record set published through the responder (a presence, a room) and
 * where it stands: probing, established, lost to a conflict, or withdrawn.
 * The responder drives it; applications listen to its events.
 */
export interface PublishedRecord {
  record: MdnsRecord;
  /** Unique RRset (probed, cache-flush bit, conflicts detected) vs shared (PTRs, room A records). */
  unique: boolean;
}

export type RegistrationState = 'probing' | 'established' | 'conflict' | 'withdrawn';

export interface RegistrationEvents {
  established: [];
  /** Withdrawn (by us, or because the responder closed) before or after being established. */
  withdrawn: [];
  /** Another host claims one of our unique RRsets with different data. The registration is dead. */
  conflict: [theirs: MdnsRecord];
  /**
   * Someone announced different data for one of our established unique
   * RRsets. We probe again (RFC 6762 §9) and keep the name unless the rival
   * answers our probes; a 'conflict' follows only then.
   */
  contested: [theirs: MdnsRecord, from: MdnsEndpoint];
}

/** What a registration asks of the responder that drives it (kept narrow so neither file imports the other). */
export interface RegistrationOwner {
  updateRegistration(registration: MdnsRegistration, records: PublishedRecord[]): void;
  withdrawRegistration(registration: MdnsRegistration, goodbye: boolean): Promise<void>;
}

export class MdnsRegistration extends EventEmitter<RegistrationEvents> {
  state: RegistrationState = 'probing';
  /** @internal */ probesSent = 0;
  /** @internal Announced at least once: others may cache it, so withdrawing says goodbye. */
  announced = false;
  /** @internal */ timer: MdnsTimer | undefined;
  /** @internal */ readonly superseded = new Map<string, number>();
  /** @internal While re-probing a name we owned (§9): after which of our probes a rival answered. */
  defence: Set<number> | undefined;
  private readonly settled: Promise<void>;

  constructor(
    private readonly owner: RegistrationOwner,
    /** @internal */ public records: PublishedRecord[],
    readonly probe: boolean,
  ) {
    super();
    this.settled = new Promise<void>((resolve, reject) => {
      this.once('established', resolve);
      this.once('conflict', (theirs) =>
        reject(new MdnsError('mdns-conflict', `${theirs.name} (${theirs.type}) is already in use on the network`)),
      );
      this.once('withdrawn', () => reject(new MdnsError('mdns-closed', 'withdrawn before it was established')));
    });
    // Callers that never await must not see an unhandled rejection.
    this.settled.catch(() => undefined);
  }

  /** Resolves when probing succeeded and the records were announced; rejects on conflict. */
  established(): Promise<void> {
    return this.settled;
  }

  /** Unique records' data we published before an update; ignored as conflicts for a while. */
  /** @internal */ isSuperseded(record: MdnsRecord, now: number): boolean {
    const until = this.superseded.get(recordKey(record));
    return until !== undefined && until > now;
  }

  /**
   * Replaces the record set (e.g. a new TXT after a status change) without
   * probing again, announces the new data and says goodbye to records that
   * are gone.
   */
  update(records: PublishedRecord[]): void {
    this.owner.updateRegistration(this, records);
  }

  /** Sends goodbyes (TTL 0) for our records and stops answering for them. */
  withdraw(options: { goodbye?: boolean } = {}): Promise<void> {
    return this.owner.withdrawRegistration(this, options.goodbye ?? true);
  }
}

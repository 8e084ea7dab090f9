/**
 * Who may hold an incoming XEP-0174 connection. One host opening streams
 * without ever finishing them must not starve everyone else, so connections
 * are counted per source address and in total, and part of the total is kept
 * for sources some contact advertises ("known" sources): a flood from
 * addresses nobody advertises cannot take the slots our contacts need.
 */
export interface AdmissionLimits {
  /** Incoming connections at once, in any state (default 64). */
  maxIncoming: number;
  /** Of those, kept for known sources: unknown ones get at most maxIncoming - reservedForKnown (default 16). */
  reservedForKnown: number;
  /** Connections at once from one address a contact advertises (several contacts may share a host; default 16). */
  perKnownSource: number;
  /** Connections at once from one address no contact advertises (default 4). */
  perUnknownSource: number;
}

export const DEFAULT_ADMISSION_LIMITS: Readonly<AdmissionLimits> = Object.freeze({
  maxIncoming: 64,
  reservedForKnown: 16,
  perKnownSource: 16,
  perUnknownSource: 4,
});

export interface Admission {
  readonly source: string;
  known: boolean;
}

/** Counts admitted connections; `admit` says yes (an Admission to release later) or why not. */
export class StreamAdmission {
  private readonly perSource = new Map<string, number>();
  private total = 0;
  private unknown = 0;

  constructor(readonly limits: AdmissionLimits) {
    if (!(limits.reservedForKnown >= 0 && limits.reservedForKnown < limits.maxIncoming)) {
      throw new RangeError(`reservedForKnown (${limits.reservedForKnown}) must be in 0..maxIncoming-1 (${limits.maxIncoming - 1})`);
    }
  }

  admit(source: string, known: boolean): Admission | string {
    const fromSource = this.perSource.get(source) ?? 0;
    const perSource = known ? this.limits.perKnownSource : this.limits.perUnknownSource;
    if (fromSource >= perSource) return `${fromSource} connections from this ${known ? 'known' : 'unknown'} address already`;
    if (this.total >= this.limits.maxIncoming) return `${this.total} incoming connections already`;
    if (!known && this.unknown >= this.limits.maxIncoming - this.limits.reservedForKnown) {
      return `${this.unknown} connections from unknown addresses already (the rest is kept for contacts)`;
    }
    this.perSource.set(source, fromSource + 1);
    this.total += 1;
    if (!known) this.unknown += 1;
    return { source, known };
  }

  /** The source turned out to be a contact's (it was identified): its slot no longer counts as unknown. */
  promote(admission: Admission): void {
    if (admission.known) return;
    admission.known = true;
    this.unknown -= 1;
  }

  release(admission: Admission): void {
    const left = (this.perSource.get(admission.source) ?? 1) - 1;
    if (left <= 0) this.perSource.delete(admission.source);
    else this.perSource.set(admission.source, left);
    this.total -= 1;
    if (!admission.known) this.unknown -= 1;
  }

  /** For tests and diagnostics. */
  counts(): { total: number; unknown: number; sources: number } {
    return { total: this.total, unknown: this.unknown, sources: this.perSource.size };
  }
}

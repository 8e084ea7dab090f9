import { encodePacket } from '../wire/codec.js';
import { deadlineIn, type EngineContext } from './engine-context.js';
import { RATE_LIMIT_KEYS, RATE_LIMITS } from './engine-defaults.js';
import { KeyedRateLimiter } from './rate-limit.js';
import type { SenderRecord } from './sender-record.js';
import type { SenderTableCore } from './sender-table-core.js';

/**
 * WHOIS timers (spec §4.3): asking the name of an unnamed sender and
 * answering for a named one, both rate-limited. Part of the sender table;
 * split out of it for size.
 */
export class SenderNaming {
  private readonly whoisRequestLimit: KeyedRateLimiter;
  private readonly whoisReplyLimit: KeyedRateLimiter;

  constructor(
    private readonly ctx: EngineContext,
    private readonly table: SenderTableCore,
  ) {
    this.whoisRequestLimit = new KeyedRateLimiter(RATE_LIMITS.whoisRequest.perKey, RATE_LIMITS.whoisRequest.shared, RATE_LIMIT_KEYS, ctx.now());
    this.whoisReplyLimit = new KeyedRateLimiter(RATE_LIMITS.whoisReply.perKey, RATE_LIMITS.whoisReply.shared, RATE_LIMIT_KEYS, ctx.now());
  }

  scheduleWhoisRequest(record: SenderRecord, range: readonly [number, number]): void {
    this.ctx.timers.cancel(record.whoisTimer);
    record.whoisTimerIsReply = false;
    record.whoisTimer = this.ctx.timers.schedule(deadlineIn(this.ctx, range), () => {
      record.whoisTimer = undefined;
      if (record.name !== undefined || this.table.leaving || this.table.records.get(record.id) !== record) return;
      if (this.whoisRequestLimit.allow(record.id, this.ctx.now())) {
        this.ctx.transmit(encodePacket({ type: 'whois-request', sender: this.table.ownId, queriedId: record.id }));
      } else {
        this.table.suppressed.whoisRequests++;
      }
      this.scheduleWhoisRequest(record, this.ctx.timing.whoisRepeatRequest);
    });
  }

  scheduleWhoisReply(record: SenderRecord): void {
    this.ctx.timers.cancel(record.whoisTimer);
    record.whoisTimerIsReply = true;
    record.whoisTimer = this.ctx.timers.schedule(deadlineIn(this.ctx, this.ctx.timing.whoisReplyDelay), () => {
      record.whoisTimer = undefined;
      if (record.name === undefined) return;
      if (!this.whoisReplyLimit.allow(record.id, this.ctx.now())) {
        this.table.suppressed.whoisReplies++;
        return;
      }
      this.ctx.transmit(encodePacket({ type: 'whois-reply', sender: record.id, name: record.name }));
    });
  }

  cancelWhois(record: SenderRecord): void {
    this.ctx.timers.cancel(record.whoisTimer);
    record.whoisTimer = undefined;
  }
}

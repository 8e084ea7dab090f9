import type { EngineDriver } from '../net/engine-driver.js';
import type { GroupLink, GroupLinkEvents } from './group-link.js';

/** An rMulticast node (engine + socket) seen as a room's group. */
export function engineGroupLink(driver: EngineDriver): GroupLink {
  return {
    get state() {
      return driver.state;
    },
    get unacknowledged() {
      return driver.engine.unacknowledgedPackets ?? 0;
    },
    send: (streamId, data) => driver.send(streamId, data),
    whenUnacknowledgedAtMost: (limit) => driver.whenUnacknowledgedAtMost(limit),
    leave: () => driver.leave(),
    close: () => driver.close(),
    on<K extends keyof GroupLinkEvents>(event: K, listener: (...args: GroupLinkEvents[K]) => void) {
      // The driver's events carry what the room's do (and more: 'connected' has the sender id, which rooms ignore).
      driver.on(event, listener as never);
      return this;
    },
  };
}

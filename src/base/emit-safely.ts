import type { EventEmitter } from 'node:events';
import { errorText } from './error-text.js';
import type { Logger } from './logger.js';

/**
 * The one rule for application listeners: each listener runs on its own, and
 * one that throws is logged and costs neither the other listeners nor the
 * caller (often a socket callback). An 'error' event that nobody listens to is
 * logged instead of thrown, so a library object never crashes the process.
 */
export function emitSafely(emitter: EventEmitter, logger: Logger, event: string | symbol, ...args: unknown[]): void {
  const listeners = emitter.rawListeners(event);
  if (listeners.length === 0) {
    if (event === 'error') logger.error('unhandled error event', { error: errorText(args[0]) });
    return;
  }
  for (const listener of listeners) {
    try {
      Reflect.apply(listener, emitter, args);
    } catch (error) {
      logger.error(`a '${String(event)}' listener threw`, { error: errorText(error) });
    }
  }
}

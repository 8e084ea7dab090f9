import { escapeUnsafeChars, safeJsonStringify } from './safe-text.js';

/**
 * The one logger of the project. Levels are ordered; a logger prints records at
 * or above its threshold. Modules take a `Logger` (usually a child with a
 * `scope`) instead of writing to the console, so tests can silence or capture
 * output and the CLI can route it to stderr.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface LogRecord {
  level: Exclude<LogLevel, 'silent'>;
  scope: string;
  message: string;
  fields?: Record<string, unknown>;
}

export type LogSink = (record: LogRecord) => void;

export class Logger {
  readonly scope: string;
  private readonly threshold: number;
  private readonly sink: LogSink;

  constructor(options: { level?: LogLevel; scope?: string; sink?: LogSink } = {}) {
    this.scope = options.scope ?? 'clique';
    this.threshold = LEVEL_RANK[options.level ?? 'warn'];
    this.sink = options.sink ?? stderrSink;
  }

  /** A logger for a sub-component; shares level and sink. */
  child(scope: string): Logger {
    const child = Object.create(Logger.prototype) as Logger;
    Object.assign(child, { scope: `${this.scope}:${scope}`, threshold: this.threshold, sink: this.sink });
    return child;
  }

  isEnabled(level: Exclude<LogLevel, 'silent'>): boolean {
    return LEVEL_RANK[level] >= this.threshold;
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.log('debug', message, fields);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.log('info', message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.log('warn', message, fields);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.log('error', message, fields);
  }

  private log(level: Exclude<LogLevel, 'silent'>, message: string, fields?: Record<string, unknown>): void {
    if (LEVEL_RANK[level] < this.threshold) return;
    this.sink(fields === undefined ? { level, scope: this.scope, message } : { level, scope: this.scope, message, fields });
  }
}

function stderrSink(record: LogRecord): void {
  process.stderr.write(`${formatLogLine(record)}\n`);
}

/**
 * A record as one line of text: `LEVEL [scope] message {fields}`. Fields often
 * hold what peers sent (names, addresses, texts): no control or bidi
 * character reaches the terminal raw, in the fields (JSON with \uXXXX
 * escapes) or in the message and scope (the same escapes).
 */
export function formatLogLine(record: LogRecord): string {
  const extra = record.fields ? ' ' + safeJsonStringify(record.fields, jsonSafe) : '';
  return `${record.level.toUpperCase()} [${escapeUnsafeChars(record.scope)}] ${escapeUnsafeChars(record.message)}${extra}`;
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** A logger that drops everything: the default for library objects nobody configured. */
export const silentLogger = new Logger({ level: 'silent' });

/** Level from the environment (`CLIQUE_LOG=debug`), for CLI entry points. */
export function levelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const value = env['CLIQUE_LOG'];
  return value === 'debug' || value === 'info' || value === 'warn' || value === 'error' || value === 'silent'
    ? value
    : 'warn';
}

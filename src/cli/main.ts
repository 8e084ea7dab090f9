#!/usr/bin/env node
import { CommanderError } from 'commander';
import { CliqueError } from '../base/clique-error.js';
import { DiskError } from '../base/disk-error.js';
import { endQuietlyWhenOutputCloses } from './closed-output.js';
import { buildProgram } from './program.js';
import { printable } from './terminal-text.js';
import { UsageError } from './usage-error.js';

/**
 * `clique` entry point. Each command lives in its own file under ./commands and
 * is registered in ./commands/index.ts (the tree is built in ./program.ts).
 * Errors that reach here are printed as one line; exit status 2 means bad
 * input, 1 means a runtime failure.
 */
async function main(argv: string[]): Promise<void> {
  endQuietlyWhenOutputCloses(process.stdout);
  endQuietlyWhenOutputCloses(process.stderr);
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed its message; help/version exit 0.
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      return;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`clique: ${printable(error.message)}\n`);
      process.exitCode = 2;
      return;
    }
    if (error instanceof CliqueError) {
      process.stderr.write(`clique: ${printable(error.message)} (${error.code})\n`);
      const hint = hintFor(error);
      if (hint !== undefined) process.stderr.write(`clique: ${hint}\n`);
      process.exitCode = 1;
      return;
    }
    process.stderr.write(`clique: unexpected error: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}

/** What the user can do about a failure, in terms of this CLI's options. */
function hintFor(error: CliqueError): string | undefined {
  if (error.code === 'mdns-name-in-use') {
    return 'choose another --name, or leave --name out to get a free one (<login>-2@<host> when <login>@<host> is taken)';
  }
  if (error.code === 'history-failed' && error.cause instanceof DiskError) {
    return 'run with --no-history-file to keep no history, or --history-file PATH (or XDG_DATA_HOME) to keep it on a writable disk';
  }
  if (error instanceof DiskError) {
    // The service keeps its log and history in the data directory: without a writable one, run on your own.
    return 'set XDG_DATA_HOME to a writable directory, or run with --no-service --no-history-file';
  }
  return undefined;
}

await main(process.argv);

import { Command } from 'commander';
import { registerCommands } from './commands/index.js';

/**
 * The `clique` command tree, without running it: main.ts parses argv with
 * it, and tests (help texts, shell completion) read it in-process.
 */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('clique')
    .description('Serverless link-local chat rooms (telepathy-salut Clique protocol)')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    // Before registering: subcommands inherit it only when created afterwards.
    .exitOverride();
  registerCommands(program);
  return program;
}

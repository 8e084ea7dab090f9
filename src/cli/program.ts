import { Command } from 'commander';
import { registerCommands } from './commands/index.js';
import { applyConfig, readConfigFile } from './config-file.js';

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
  program.addHelpText('after', '\nHelp topics: clique help rooms|contacts|json|config|completion');
  // Defaults from $XDG_CONFIG_HOME/clique/config.json, read only when a command runs (not for --help).
  program.hook('preAction', (_root, actionCommand) => {
    // Help must work with a broken config file: it is where one reads how to fix it.
    if (actionCommand.name() === 'help' || actionCommand.name() === 'completion') return;
    const config = readConfigFile();
    if (config !== undefined) applyConfig(actionCommand, config, program);
  });
  return program;
}

import type { Command } from 'commander';
import { HELP_TOPICS } from '../help-topics.js';
import { UsageError } from '../usage-error.js';

/**
 * `clique help [topic|command]`: a topic (rooms, contacts, json, config,
 * completion), or a command's --help, or the list of both. Replaces
 * commander's own help command, which knows only commands.
 */
export function registerHelpCommand(program: Command): void {
  program.helpCommand(false);
  program
    .command('help')
    .description('help on a topic (rooms, contacts, json, config, completion) or a command')
    .argument('[topic]', 'a topic or a command name')
    .action((topic: string | undefined) => {
      if (topic === undefined) {
        program.outputHelp();
        return void process.stdout.write(`\n${topicList()}`);
      }
      const entry = HELP_TOPICS[topic];
      if (entry !== undefined) return void process.stdout.write(entry.text);
      const command = program.commands.find((c) => c.name() === topic || c.aliases().includes(topic));
      // outputHelp, unlike helpInformation, includes the command's added text (examples).
      if (command !== undefined && command.name() !== 'help') return command.outputHelp();
      process.stderr.write(topicList());
      throw new UsageError(`no help topic or command "${topic}" (the topics and commands are listed above)`);
    });
}

function topicList(): string {
  const width = Math.max(...Object.keys(HELP_TOPICS).map((t) => t.length));
  return `Help topics (clique help TOPIC):\n${Object.entries(HELP_TOPICS)
    .map(([name, t]) => `  ${name.padEnd(width)}  ${t.summary}`)
    .join('\n')}\n`;
}

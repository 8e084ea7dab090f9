import type { Command } from 'commander';
import { registerPacketCommand } from './packet.js';

/** One line per command file; keep alphabetical to avoid merge conflicts. */
export function registerCommands(program: Command): void {
  registerPacketCommand(program);
}

import type { Command } from 'commander';
import { registerContactsCommand } from './contacts.js';
import { registerNodeCommand } from './node.js';
import { registerPacketCommand } from './packet.js';
import { registerRoomsCommand } from './rooms.js';

/** One line per command file; keep alphabetical to avoid merge conflicts. */
export function registerCommands(program: Command): void {
  registerContactsCommand(program);
  registerNodeCommand(program);
  registerPacketCommand(program);
  registerRoomsCommand(program);
}

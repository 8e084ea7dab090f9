import type { Command } from 'commander';
import { registerContactsCommand } from './contacts.js';
import { registerDownCommand } from './down.js';
import { registerInviteCommand } from './invite.js';
import { registerJoinCommand } from './join.js';
import { registerListenCommand } from './listen.js';
import { registerNodeCommand } from './node.js';
import { registerOnlineCommand } from './online.js';
import { registerPacketCommand } from './packet.js';
import { registerRoomsCommand } from './rooms.js';
import { registerSayCommand } from './say.js';
import { registerSendCommand } from './send.js';
import { registerStatusCommand } from './status.js';
import { registerTubesCommand } from './tubes.js';
import { registerUpCommand } from './up.js';
import { registerWebCommand } from './web.js';

/** One line per command file; keep alphabetical to avoid merge conflicts. */
export function registerCommands(program: Command): void {
  registerContactsCommand(program);
  registerDownCommand(program);
  registerInviteCommand(program);
  registerJoinCommand(program);
  registerListenCommand(program);
  registerNodeCommand(program);
  registerOnlineCommand(program);
  registerPacketCommand(program);
  registerRoomsCommand(program);
  registerSayCommand(program);
  registerSendCommand(program);
  registerStatusCommand(program);
  registerTubesCommand(program);
  registerUpCommand(program);
  registerWebCommand(program);
}

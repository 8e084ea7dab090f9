import type { Command } from 'commander';
import { registerCompletionCommand } from './completion.js';
import { registerContactsCommand } from './contacts.js';
import { registerDownCommand } from './down.js';
import { registerHelpCommand } from './help.js';
import { registerFilesCommands } from './files.js';
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
import { registerTubeCommand } from './tube.js';
import { registerTubesCommand } from './tubes.js';
import { registerUpCommand } from './up.js';
import { registerWebCommand } from './web.js';

/** One line per command file; keep alphabetical to avoid merge conflicts. */
export function registerCommands(program: Command): void {
  registerCompletionCommand(program);
  registerContactsCommand(program);
  registerDownCommand(program);
  registerHelpCommand(program);
  registerFilesCommands(program);
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
  registerTubeCommand(program);
  registerTubesCommand(program);
  registerUpCommand(program);
  registerWebCommand(program);
}

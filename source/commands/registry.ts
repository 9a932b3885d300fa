import type { Command } from './command.js';
import { agentCommands } from './agents.js';
import { backlogCommands } from './backlog.js';
import { consoleCmd } from './console.js';
import { demo } from './demo.js';
import { doctor } from './doctor.js';
import { logsCommands } from './logs.js';
import { messageCommands } from './messages.js';
import { missionCommands } from './mission.js';
import { statusCommands } from './status.js';
import { taskCommands } from './tasks.js';
import { townCommands } from './town.js';
import { worktreeCommands } from './worktrees.js';

/** Every verb, in the order `tt --help` lists them. */
export const COMMANDS: Command[] = [
  consoleCmd,
  ...townCommands,
  demo,
  doctor,
  ...agentCommands,
  ...taskCommands,
  ...backlogCommands,
  ...messageCommands,
  ...missionCommands,
  ...statusCommands,
  ...logsCommands,
  ...worktreeCommands,
];

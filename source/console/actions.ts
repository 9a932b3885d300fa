import type { HelpPrompt } from '../services/console.js';
import type { SpawnRequest } from '../services/spawn.js';

/**
 * What the console can do to the town: every operator verb, each one a services call (the CLI
 * runs the same ones), so the console needs no Redis of its own.
 */
export interface ConsoleActions {
  pauseMission(id: string): Promise<string>;
  resumeMission(id: string): Promise<string>;
  noteMission(id: string, text: string): Promise<string>;
  stopMission(id: string, force: boolean): Promise<string>;
  redirectItem(mission: string, item: string, agent: string): Promise<string>;
  interruptAgent(id: string): Promise<string>;
  resumeAgent(id: string): Promise<string>;
  killAgent(id: string): Promise<string>;
  /** Brings a stopped agent back and starts its worker, as `tt restart` does. */
  restartAgent(id: string): Promise<string>;
  sendMessage(agent: string, text: string, urgent: boolean): Promise<string>;
  assignTask(agent: string, text: string): Promise<string>;
  retryTask(id: string): Promise<string>;
  cancelTask(id: string): Promise<string>;
  reassignTask(id: string, agent: string): Promise<string>;
  /** Spawns an agent as `tt spawn` does (the request read from spawn's own flags). */
  spawnAgent(request: SpawnRequest): Promise<string>;
  answerHelp(prompt: HelpPrompt, text: string): Promise<string>;
}

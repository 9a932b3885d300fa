import type { HelpPrompt } from '../services/console.js';
import type { SpawnRequest } from '../services/spawn.js';

/** Which attempt's log to show: of an agent or a task (a reference tt logs takes). */
export interface LogRequest {
  ref: string;
  /** tt logs --attempt: the task's n-th attempt or the agent's round n; the latest when absent. */
  attempt?: number;
  /** The CLI's raw log file instead of the normalized events. */
  raw: boolean;
}

/** The attempt a log view shows. */
export interface LogAttempt {
  /** The agent's label. */
  agent: string;
  /** The task, when the reference named one (full id). */
  task?: string;
  /** The task's attempt number, or the agent's round. */
  number: number;
  /** How many attempts the task has, or the agent's latest round. */
  of: number;
  round: number;
  /** The numbers of the attempts before and after it, when there are. */
  prev?: number;
  next?: number;
  /** The raw log's path, relative to the town. */
  file?: string;
}

/** Where a followed log goes: the attempt first, then its lines (display-safe), in order. */
export interface LogSink {
  attempt(a: LogAttempt): void;
  lines(lines: string[]): void;
}

/** Why a log stopped: the attempt finished, the signal came, or there is no attempt (why). */
export type LogEnd = 'finished' | 'stopped' | { none: string };

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
  /**
   * An attempt's log (tt logs): what is stored, then each new line as it is written, until the
   * attempt finishes or the signal; with `raw`, the CLI's raw log file the same way.
   */
  watchLog(request: LogRequest, sink: LogSink, signal: AbortSignal): Promise<LogEnd>;
}

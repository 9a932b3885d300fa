import type { Agent } from '../model/agent.js';
import type { MessageBody } from '../model/message.js';
import type { InboxEntry } from '../store/messages.js';
import type { ClaimedTask } from '../store/worker.js';
import type { PromptSetting } from './prompt.js';

/** One round of work handed to whatever does it: a CLI process, or the simulated agent. */
export interface RoundWork {
  round: number;
  agent: Agent;
  messages: InboxEntry[];
  tasks: ClaimedTask[];
  /**
   * The prompt for a CLI (built on demand; the simulator does not need it), with what only the
   * executor knows once it has prepared the round: the tt path, the workspace, the report folder.
   */
  prompt(setting?: PromptSetting): Promise<string>;
  /** Where this round's output goes. */
  logFile: string;
  /** The environment a CLI runs with. */
  env: Record<string, string>;
  /** Aborted when the worker must stop now. */
  signal: AbortSignal;
  /** Sends a message as this agent (`to` is a reference: a name, id or "supervisor"). */
  send(to: string, body: MessageBody): Promise<void>;
  /** Writes a line to the worker's log (stamped with the time and the agent's name). */
  log?(line: string): void;
}

export type TaskResult = { ok: boolean; text: string };

export interface RoundResult {
  /** By task id. A task missing here failed with "no result". */
  results: Map<string, TaskResult>;
  /** One line for the agent's activity log. */
  summary: string;
}

export type Executor = (work: RoundWork) => Promise<RoundResult>;

import type { AgentState } from './agent.js';
import type { MissionState, WorkStatus } from './mission.js';
import type { TaskState } from './task.js';

/** ASCII glyphs, so states read on any terminal and never by colour alone. */
export const AGENT_GLYPH: Record<AgentState, string> = {
  cold: '_',
  starting: '^',
  idle: 'o',
  working: '*',
  paused: '=',
  quarantined: '#',
  draining: 'v',
  stopped: 'x',
  error: '!',
};

export const TASK_GLYPH: Record<TaskState, string> = {
  pending: '.',
  assigned: '>',
  running: '~',
  completed: 'v',
  failed: '!',
  cancelled: '-',
};

export const MISSION_GLYPH: Record<MissionState, string> = {
  planning: '.',
  running: '>',
  blocked: '=',
  completed: 'v',
  failed: '!',
};
export const ITEM_GLYPH: Record<WorkStatus, string> = {
  pending: '.',
  ready: 'o',
  assigned: '>',
  running: '~',
  blocked: '=',
  done: 'v',
};

import { isTerminalMission, type Mission } from './mission.js';

/**
 * Help escalation (tinytown 5.6 step 5): after a dispatcher tick, does a mission need the
 * operator, and is it time to say so (again)? Times are epoch milliseconds.
 */

export interface HelpSnapshot {
  mission: Pick<Mission, 'id' | 'state' | 'lastProgressAt' | 'blockedReason'>;
  readyCount: number;
  idleAgents: number;
  /** Watches of the mission that are active or snoozed. */
  watchesActive: number;
  /** The first non-terminal task of the mission, if any. */
  staleTask?: { id: string; updatedAt: number };
  now: number;
  tickMs: number;
}

/** How long without progress before a mission counts as stalled: max(6 ticks, 180 s). */
export const stallMs = (tickMs: number): number => Math.max(6 * tickMs, 180_000);

/** No progress for stallMs (a mission with no progress yet counts as 2 ticks old). */
export const isStalled = (lastProgressAt: number | undefined, now: number, tickMs: number): boolean =>
  (lastProgressAt !== undefined ? now - lastProgressAt : 2 * tickMs) >= stallMs(tickMs);

/**
 * Why the mission needs help, or undefined. In order: ready items but no idle agent; stalled
 * (no progress for stallMs; a mission with no progress yet counts as 2 ticks old) with a task
 * that has not changed for as long; stalled and blocked with no active watch to wait for.
 */
export const assessHelp = (s: HelpSnapshot): string | undefined => {
  const m = s.mission;
  if (isTerminalMission(m.state)) return undefined;
  if (s.readyCount > 0 && s.idleAgents === 0) {
    return `Mission ${m.id} has ${s.readyCount} ready work item(s) but no idle agents are available`;
  }
  if (!isStalled(m.lastProgressAt, s.now, s.tickMs)) return undefined;
  const limit = stallMs(s.tickMs);
  if (s.staleTask && s.now - s.staleTask.updatedAt >= limit) {
    return `Mission ${m.id} appears stuck; task ${s.staleTask.id} has not changed since ${new Date(s.staleTask.updatedAt).toISOString()}`;
  }
  if (m.blockedReason && s.watchesActive === 0) return `Mission ${m.id} is still blocked: ${m.blockedReason}`;
  return undefined;
};

export interface HelpConfig {
  /** Base repeat interval for the same reason (1800). */
  repeatSecs: number;
  /** Cap on the backoff multiplier (8). */
  backoffCap: number;
}
export const DEFAULT_HELP_CONFIG: HelpConfig = { repeatSecs: 1800, backoffCap: 8 };

type HelpState = Pick<Mission, 'helpAt' | 'helpReason' | 'helpAttempts'>;

/** How long after the last request the same reason may be sent again. */
export const helpRepeatMs = (attempts: number, cfg: HelpConfig = DEFAULT_HELP_CONFIG): number =>
  cfg.repeatSecs * 1000 * Math.min(2 ** Math.max(0, attempts), cfg.backoffCap);

/**
 * A first request or a changed reason goes out at once; the same reason again only after
 * repeatSecs x min(2^attempts, cap): 1 h, 2 h, 4 h, 4 h ... with the defaults.
 */
export const shouldSendHelp = (
  mission: HelpState,
  reason: string,
  now: number,
  cfg: HelpConfig = DEFAULT_HELP_CONFIG,
): boolean => {
  if (mission.helpAt === undefined || mission.helpReason !== reason) return true;
  return now - mission.helpAt >= helpRepeatMs(mission.helpAttempts, cfg);
};

/** The help fields after sending: attempts 1 for a new reason, one more for a repeat. */
export const nextHelpState = (mission: HelpState, reason: string, now: number): Required<HelpState> => ({
  helpAt: now,
  helpReason: reason,
  helpAttempts: mission.helpAt !== undefined && mission.helpReason === reason ? mission.helpAttempts + 1 : 1,
});

/** The body of the help query to the supervisor. */
export const helpMessage = (missionId: string, reason: string): string =>
  `[Mission Help Needed] Mission ${missionId}\n${reason}\nReply with: tt mission note ${missionId} "<resume | pause | redirect [<item>] to <agent> | text>"`;

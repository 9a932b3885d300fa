/**
 * How long each Lua call ran inside Redis, from SLOWLOG: the threshold goes to 0 around a
 * measured window so every command is logged with its execution time (µs, as Redis measures it,
 * without network or queueing), then the script calls are read back and named by their SHA.
 *
 * Redis 7 also logs each command a script runs (under the script client's name, not the
 * caller's), so a logged script pays for one log entry per inner command: about a fifth more
 * script time on a write-heavy script (measured on mission_assign). Script durations from a
 * logged window are therefore upper bounds; time wall clocks in windows without the log.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { scriptSources } from '../../source/store/scripts.js';

export interface ScriptCall {
  /** The tt script's name (mission_assign, lease, ...), or the SHA / "eval" when unknown. */
  script: string;
  /** Execution time inside Redis (ms). */
  ms: number;
  /** Arguments after the key count as Redis logged them (at most 32, long ones cut). */
  argc: number;
}

export interface SlowlogWindow {
  /** Every EVALSHA / EVAL / FCALL of the window, in the order they ran. */
  scripts: ScriptCall[];
  /** Commands logged in the window (all of them, when the log did not overflow). */
  logged: number;
  /** Whether the log held every command of the window (slowlog-max-len was large enough). */
  complete: boolean;
  /** Commands of the watched clients: count, summed execution time (ms), and both per command. */
  commands: number;
  totalMs: number;
  byCommand: Map<string, { calls: number; ms: number }>;
}

const SCRIPT_CMDS = new Set(['evalsha', 'eval', 'evalsha_ro', 'eval_ro', 'fcall', 'fcall_ro']);

let names: Map<string, string> | undefined;

/** SHA1 of each built tt script (prelude included, as the store registers it) to its name. */
export const scriptNamesBySha = (): Map<string, string> => {
  if (names) return names;
  names = new Map();
  for (const [name, lua] of scriptSources()) names.set(createHash('sha1').update(lua).digest('hex'), name);
  return names;
};

/** Starts logging every command; `maxLen` must exceed the commands the window will run. */
export const slowlogStart = async (admin: Redis, maxLen: number): Promise<void> => {
  await admin.config('SET', 'slowlog-max-len', String(maxLen));
  await admin.config('SET', 'slowlog-log-slower-than', '0');
  await admin.slowlog('RESET');
};

/**
 * Stops logging (back to Redis' default threshold) and returns the window's commands from
 * clients whose name starts with `clientPrefix` (tt's connections are named tt-<role>), so the
 * benchmark's own admin commands are left out. Commands run inside a script are not logged:
 * a script's entry is its whole execution.
 */
export const slowlogStop = async (
  admin: Redis,
  maxLen: number,
  clientPrefix: string,
): Promise<SlowlogWindow> => {
  await admin.config('SET', 'slowlog-log-slower-than', '-1');
  const raw = (await admin.slowlog('GET', maxLen)) as unknown[][];
  await admin.config('SET', 'slowlog-log-slower-than', '10000');
  const byShaName = scriptNamesBySha();
  const scripts: ScriptCall[] = [];
  const byCommand = new Map<string, { calls: number; ms: number }>();
  let commands = 0;
  let totalMs = 0;
  // SLOWLOG GET lists newest first: id, unix time, duration µs, argv, client address, client name.
  for (const entry of [...raw].reverse()) {
    if (!String(entry[5] ?? '').startsWith(clientPrefix)) continue;
    const argv = (entry[3] as unknown[]).map(String);
    const cmd = (argv[0] ?? '').toLowerCase();
    const ms = Number(entry[2]) / 1000;
    commands++;
    totalMs += ms;
    const c = byCommand.get(cmd) ?? { calls: 0, ms: 0 };
    c.calls++;
    c.ms += ms;
    byCommand.set(cmd, c);
    if (!SCRIPT_CMDS.has(cmd)) continue;
    const script = cmd.startsWith('evalsha')
      ? (byShaName.get(argv[1] ?? '') ?? (argv[1] ?? '?').slice(0, 12))
      : cmd;
    scripts.push({ script, ms, argc: argv.length });
  }
  return { scripts, logged: raw.length, complete: raw.length < maxLen, commands, totalMs, byCommand };
};

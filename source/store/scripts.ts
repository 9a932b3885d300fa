import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/**
 * The Lua scripts, kept as .lua files beside this module and registered with defineCommand so
 * they run by EVALSHA (ioredis falls back to EVAL after a NOSCRIPT). Every script starts with
 * prelude.lua.
 */
const NAMES = [
  'agent_register',
  'agent_transition',
  'agent_delete',
  'message_send',
  'task_create',
  'task_transition',
  'task_delete',
  'backlog_claim',
  'inbox_reclaim',
  'inbox_claim',
  'task_finish',
  'worker_boot',
  'worker_begin',
  'worker_end',
  'reap',
] as const;
export type ScriptName = (typeof NAMES)[number];

const read = (name: string) => readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8');
let sources: Map<ScriptName, string> | undefined;
const load = () => {
  if (!sources) {
    const prelude = read('prelude');
    sources = new Map(NAMES.map((n) => [n, `${prelude}\n${read(n)}`]));
  }
  return sources;
};

const DEFINED = Symbol('tt.scripts');

export const defineScripts = (redis: Redis): void => {
  const r = redis as Redis & { [DEFINED]?: boolean };
  if (r[DEFINED]) return;
  for (const [name, lua] of load()) redis.defineCommand(`tt_${name}`, { numberOfKeys: 1, lua });
  r[DEFINED] = true;
};

export type ScriptReply = [string, ...string[]];

/** Runs a script with the town prefix as its one key and (now, ...args) as ARGV. */
export const runScript = async (redis: Redis, name: ScriptName, prefix: string, now: number, args: (string | number)[]): Promise<ScriptReply> => {
  defineScripts(redis);
  const fn = (redis as unknown as Record<string, (...a: (string | number)[]) => Promise<unknown>>)[`tt_${name}`]!;
  const reply = await fn.call(redis, prefix, now, ...args);
  return (Array.isArray(reply) ? reply.map(String) : [String(reply)]) as ScriptReply;
};

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
  'lease',
  'mission_create',
  'mission_items_add',
  'mission_assign',
  'mission_item',
  'mission_set',
  'mission_watch',
  'mission_note',
  'mission_completions',
  'mission_touched',
  // Read only: what a dispatcher tick reads in short calls.
  'mission_pool',
  'mission_active',
  'mission_ready',
] as const;
export type ScriptName = (typeof NAMES)[number];

const read = (name: string) => readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8');

interface Block {
  name?: string;
  text: string;
}

/**
 * A top-level definition of the prelude: `local function f`, `local X =`, or an entry of the key
 * table (`function K.agent(id)`, `K.seq =`).
 */
const DEFINITION =
  /^(?:local (?:function )?([A-Za-z_]\w*)|function ([A-Za-z_]\w*\.[A-Za-z_]\w*)\(|([A-Za-z_]\w*\.[A-Za-z_]\w*) =)/;

/**
 * Splits the prelude into its top-level definitions, each with the comments above it; the first
 * block (P, NOW) has no name and is always kept.
 */
const preludeBlocks = (prelude: string): Block[] => {
  const blocks: Block[] = [{ text: '' }];
  let comments = '';
  for (const line of prelude.split('\n')) {
    if (line.startsWith('--')) {
      comments += `${line}\n`;
      continue;
    }
    const def = DEFINITION.exec(line);
    const name = def && (def[1] ?? def[2] ?? def[3]);
    if (name && name !== 'P' && name !== 'NOW') blocks.push({ name, text: `${comments}${line}\n` });
    else blocks.at(-1)!.text += `${comments}${line}\n`;
    comments = '';
  }
  return blocks;
};

/** Lua text without its comments: a name a comment mentions is not a use. */
const code = (lua: string) => lua.replace(/--.*$/gm, '');

/**
 * A script with the prelude definitions it uses (directly or through other definitions), in
 * prelude order: of the key table, only the entries it uses. Defining every helper on every
 * call costs several microseconds of Redis time.
 */
export const withPrelude = (prelude: string, body: string): string => {
  const blocks = preludeBlocks(prelude);
  const used = new Set<number>([0]);
  const uses = (text: string, name: string) => new RegExp(`\\b${name.replace('.', '\\.')}\\b`).test(text);
  let grew = true;
  while (grew) {
    grew = false;
    const text = code([body, ...[...used].map((i) => blocks[i]!.text)].join('\n'));
    blocks.forEach((b, i) => {
      if (!used.has(i) && b.name && uses(text, b.name)) {
        used.add(i);
        grew = true;
      }
    });
  }
  return `${blocks
    .filter((_, i) => used.has(i))
    .map((b) => b.text)
    .join('')}\n${body}`;
};

/** The prelude as written (before withPrelude keeps what a script uses). */
export const preludeSource = (): string => read('prelude');

let sources: Map<ScriptName, string> | undefined;
const load = () => {
  if (!sources) {
    const prelude = preludeSource();
    sources = new Map(NAMES.map((n) => [n, withPrelude(prelude, read(n))]));
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

/** Runs a script with the town prefix as its one key and (now, ...args) as ARGV; the reply as Redis sent it. */
export const runScriptRaw = async (
  redis: Redis,
  name: ScriptName,
  prefix: string,
  now: number,
  args: (string | number)[],
): Promise<unknown> => {
  defineScripts(redis);
  const fn = (redis as unknown as Record<string, (...a: (string | number)[]) => Promise<unknown>>)[
    `tt_${name}`
  ]!;
  return fn.call(redis, prefix, now, ...args);
};

/** Runs a script whose reply is a flat list, as strings. */
export const runScript = async (
  redis: Redis,
  name: ScriptName,
  prefix: string,
  now: number,
  args: (string | number)[],
): Promise<ScriptReply> => {
  const reply = await runScriptRaw(redis, name, prefix, now, args);
  return (Array.isArray(reply) ? reply.map(String) : [String(reply)]) as ScriptReply;
};

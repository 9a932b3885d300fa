import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/**
 * The Lua scripts, kept as .lua files beside this module and registered with defineCommand so
 * they run by EVALSHA (ioredis falls back to EVAL after a NOSCRIPT). Every script starts with
 * the parts of the prelude (lua/prelude/*.lua) it uses.
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

/**
 * What begin_round (prelude/agents.lua) reads from the options of worker_begin, and of worker_end
 * when it chains into the next round.
 */
export type RoundOptions = {
  maxMsgs: number;
  maxTasks: number;
  autoClaim: boolean;
  skills: string;
  generalist: boolean;
  tokenBase: string;
  backlogScan: number;
  retryGraceMs: number;
};

/**
 * The options of each script that reads them with the prelude's options() instead of positional
 * ARGV (each script's header says what they mean). Flags travel as '1' / '0'.
 */
export interface ScriptOptions {
  task_create: {
    id: string;
    assignTo: string;
    from: string;
    backlog: boolean;
    eventText: string;
    state: string;
    priority: string;
    createdAt: number;
  };
  task_transition: {
    id: string;
    to: string;
    allowedFrom: string;
    set: string;
    del: string;
    assignTo: string;
    from: string;
    backlog: '' | 'add' | 'remove';
    eventType: string;
    eventText: string;
    expectedAssignee: string;
  };
  task_delete: { id: string; allowed: string; eventType: string; eventText: string };
  backlog_claim: { agent: string; taskId: string; max: number; from: string };
  agent_register: { id: string; name: string; fields: string; hbTtlMs: number };
  agent_transition: {
    id: string;
    to: string;
    allowedFrom: string;
    set: string;
    del: string;
    stop: '' | 'set' | 'clear';
    stopTtlSecs: number;
    eventType: string;
    eventText: string;
  };
  message_send: { to: string; message: string; band: number; eventText: string };
  inbox_reclaim: { from: string; member: string; to: string; newTaskId: string; newTaskFields: string };
  task_finish: {
    id: string;
    token: string;
    outcome: 'completed' | 'failed';
    text: string;
    delays: string;
    expectedAssignee: string;
  };
  worker_boot: { agent: string; pid: number; hbTtlMs: number; delays: string; revive: boolean };
  worker_begin: { agent: string } & RoundOptions;
  // begin_round's options only with chain: without it they are not read, so not sent.
  worker_end: {
    agent: string;
    acks: string;
    delays: string;
    activity: string;
    activityTtlSecs: number;
    activityMax: number;
    streak: 'reset' | 'add' | 'keep';
    quarantineAfter: number;
    quarantineWhy: string;
  } & ({ chain: false } | ({ chain: true } & RoundOptions));
  lease: { mission: string; token: string; ttlMs: number; release: boolean };
  mission_set: {
    mission: string;
    token: string;
    state: string;
    del: string;
    eventType: string;
    eventText: string;
    help: string;
    retire: boolean;
  };
  mission_item: {
    mission: string;
    token: string;
    item: string;
    status: string;
    del: string;
    eventType: string;
    eventText: string;
  };
  mission_watch: {
    mission: string;
    token: string;
    watch: string;
    due: number | '+inf';
    eventType: string;
    eventText: string;
  };
  mission_note: { mission: string; note: string; json: string; token: string; tick: number; effect: string };
  mission_completions: { mission: string; token: string; max: number; done: boolean };
  mission_ready: { mission: string; from: number; to: number; max: number; ties: boolean };
}

/**
 * ARGV after now for a script that reads options(): how many there are, then each as name, value
 * (true / false as '1' / '0'), then the script's list, if it takes one.
 */
export const optionArgs = (
  options: { readonly [name: string]: string | number | boolean },
  list: readonly (string | number)[] = [],
): (string | number)[] => {
  const names = Object.keys(options);
  const args: (string | number)[] = [names.length];
  for (const name of names) {
    const v = options[name]!;
    args.push(name, v === true ? '1' : v === false ? '0' : v);
  }
  for (const v of list) args.push(v);
  return args;
};

/**
 * The prelude's files, one concern each, in the order they are laid down: each uses only the
 * files before it (keys: P, NOW and the key table K; util: small helpers; events: emit; queues:
 * sequence, scores, push_message; tasks: state moves, backlog, attempts, requeues; agents: who may
 * get work, held messages, begin_round; missions: the lease and the item indexes).
 */
const PRELUDE = ['keys', 'util', 'events', 'queues', 'tasks', 'agents', 'missions'] as const;

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
 * Splits the prelude's files into their top-level definitions, each with the comments above it.
 * The first block (the first file's opening: P, NOW) has no name and is always kept; the opening
 * comment of every other file describes the file and is left out.
 */
const preludeBlocks = (files: readonly string[]): Block[] => {
  const blocks: Block[] = [{ text: '' }];
  const names = new Set<string>();
  files.forEach((file, n) => {
    let opening = n > 0;
    let comments = '';
    for (const line of file.split('\n')) {
      if (line.startsWith('--')) {
        comments += `${line}\n`;
        continue;
      }
      const def = DEFINITION.exec(line);
      const name = def && (def[1] ?? def[2] ?? def[3]);
      if (name && name !== 'P' && name !== 'NOW') {
        // A second definition would shadow the first for some scripts and not others.
        if (names.has(name)) throw new Error(`prelude: ${name} is defined twice`);
        names.add(name);
        blocks.push({ name, text: `${comments}${line}\n` });
        opening = false;
      } else if (!opening) blocks.at(-1)!.text += `${comments}${line}\n`;
      else if (line.trim() !== '') throw new Error(`prelude: code before the first definition: ${line}`);
      comments = '';
    }
  });
  return blocks;
};

/** A key kind of the key table: its parameters (none for a fixed name) and the parts joined by `..`. */
interface KeyKind {
  params: string[];
  parts: string[];
}

/**
 * The key table K of the prelude: `K.seq = P .. 'seq'` and `function K.agent(id) return P ..
 * 'agent:' .. id end`, each a concatenation of P, quoted text and its parameters.
 */
const keyKinds = (prelude: readonly string[]): Map<string, KeyKind> => {
  const kinds = new Map<string, KeyKind>();
  for (const line of prelude.join('\n').split('\n')) {
    const m =
      /^function K\.(\w+)\(([\w, ]*)\) return (.+) end$/.exec(line) ??
      /^K\.(\w+) = ()(.+)$/.exec(line) ??
      undefined;
    if (!m) continue;
    const params = m[2]!
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    const parts = m[3]!.split(' .. ');
    const odd = parts.find((p) => p !== 'P' && !/^'[^']*'$/.test(p) && !params.includes(p));
    if (odd !== undefined)
      throw new Error(`prelude: K.${m[1]} is not built from P, text and its parameters: ${odd}`);
    if (kinds.has(m[1]!)) throw new Error(`prelude: K.${m[1]} is defined twice`);
    kinds.set(m[1]!, { params, parts });
  }
  return kinds;
};

/** Where a key may be used as written: as a value in a list, a call, an assignment or a concatenation. */
const BEFORE_KEY = /(?:^|[(,={[]|\.\.|\b(?:return|and|or)\b)\s*$/;
const AFTER_KEY = /^\s*(?:$|--|[,)}\]]|\.\.|==|~=|(?:and|or|then)\b)/;

/**
 * A line of Lua with each use of the key table (outside comments and quoted text) replaced by the
 * concatenation it stands for: `K.agent(id)` becomes `P .. 'agent:' .. id`, as the scripts spelled
 * it before the table existed, so the table costs nothing per call (defining it in every script
 * run cost about 2 µs). A use of an unknown key kind, or one with the wrong arguments, fails here,
 * when the scripts are loaded.
 */
const expandKeys = (line: string, kinds: Map<string, KeyKind>): string => {
  let out = '';
  let i = 0;
  let quote = '';
  while (i < line.length) {
    const c = line[i]!;
    if (quote) {
      out += c;
      if (c === '\\') out += line[++i] ?? '';
      else if (c === quote) quote = '';
      i++;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    if (c === '-' && line[i + 1] === '-') return out + line.slice(i);
    const use = c === 'K' && !/\w/.test(line[i - 1] ?? '') ? /^K\.(\w+)/.exec(line.slice(i)) : null;
    if (!use) {
      out += c;
      i++;
      continue;
    }
    const kind = kinds.get(use[1]!);
    if (!kind) throw new Error(`Lua: ${use[0]} is not in the key table: ${line.trim()}`);
    let j = i + use[0].length;
    const args: string[] = [];
    if (kind.params.length) {
      if (line[j] !== '(')
        throw new Error(`Lua: ${use[0]} needs (${kind.params.join(', ')}): ${line.trim()}`);
      // The arguments, split at top-level commas (brackets and quoted text are skipped whole).
      let depth = 0;
      let q = '';
      let arg = '';
      for (j++; j < line.length; j++) {
        const d = line[j]!;
        if (q) {
          if (d === '\\') arg += d + (line[++j] ?? '');
          else {
            if (d === q) q = '';
            arg += d;
          }
          continue;
        }
        if (d === "'" || d === '"') q = d;
        else if ('([{'.includes(d)) depth++;
        else if (')]}'.includes(d) && depth > 0) depth--;
        else if (d === ')') break;
        else if (d === ',' && depth === 0) {
          args.push(arg.trim());
          arg = '';
          continue;
        }
        arg += d;
      }
      args.push(arg.trim());
      j++;
      if (args.length !== kind.params.length)
        throw new Error(`Lua: ${use[0]} takes (${kind.params.join(', ')}): ${line.trim()}`);
    } else if (line[j] === '(') throw new Error(`Lua: ${use[0]} is a name, not a function: ${line.trim()}`);
    if (!BEFORE_KEY.test(out) || !AFTER_KEY.test(line.slice(j)))
      throw new Error(`Lua: ${use[0]} used where its expansion would not stand alone: ${line.trim()}`);
    out += kind.parts
      .map((p) => {
        const k = kind.params.indexOf(p);
        if (k < 0) return p;
        const a = expandKeys(args[k]!, kinds);
        return /^[A-Za-z_][\w.]*(?:\[[\w']+\])?$/.test(a) ? a : `(${a})`;
      })
      .join(' .. ');
    i = j;
  }
  return out;
};

const expandAll = (lua: string, kinds: Map<string, KeyKind>) =>
  lua
    .split('\n')
    .map((line) => expandKeys(line, kinds))
    .join('\n');

/** Lua text without its comments: a name a comment mentions is not a use. */
const code = (lua: string) => lua.replace(/--.*$/gm, '');

/**
 * A script with the prelude definitions it uses (directly or through other definitions), in
 * prelude order, and its uses of the key table expanded (so the table itself is left out).
 * Defining every helper on every call costs several microseconds of Redis time.
 */
export const withPrelude = (prelude: readonly string[], body: string): string => {
  const kinds = keyKinds(prelude);
  const blocks = preludeBlocks(prelude).map((b) =>
    b.name === 'K' || b.name?.startsWith('K.') ? b : { ...b, text: expandAll(b.text, kinds) },
  );
  const script = expandAll(body, kinds);
  const used = new Set<number>([0]);
  const uses = (text: string, name: string) => new RegExp(`\\b${name.replace('.', '\\.')}\\b`).test(text);
  let grew = true;
  while (grew) {
    grew = false;
    const text = code([script, ...[...used].map((i) => blocks[i]!.text)].join('\n'));
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
    .join('')}\n${script}`;
};

/** The prelude's files as written (before withPrelude keeps what a script uses), in order. */
export const preludeSources = (): string[] => PRELUDE.map((f) => read(`prelude/${f}`));

let sources: Map<ScriptName, string> | undefined;
/** Every script as it is registered (prelude parts and expanded keys included), by name. */
export const scriptSources = (): ReadonlyMap<ScriptName, string> => {
  if (!sources) {
    const prelude = preludeSources();
    sources = new Map(NAMES.map((n) => [n, withPrelude(prelude, read(n))]));
  }
  return sources;
};

const DEFINED = Symbol('tt.scripts');

export const defineScripts = (redis: Redis): void => {
  const r = redis as Redis & { [DEFINED]?: boolean };
  if (r[DEFINED]) return;
  for (const [name, lua] of scriptSources()) redis.defineCommand(`tt_${name}`, { numberOfKeys: 1, lua });
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

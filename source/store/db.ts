import type { Redis } from 'ioredis';
import type { Clock } from '../model/clock.js';
import { keysFor, type Keys } from './keys.js';
import { optionArgs, runScript, runScriptRaw, type ScriptName, type ScriptOptions } from './scripts.js';

/** A town's handle on Redis: the connection, its keys and the clock its writes are stamped with. */
export interface Db {
  readonly redis: Redis;
  readonly town: string;
  readonly keys: Keys;
  readonly clock: Clock;
}

export const makeDb = (redis: Redis, town: string, clock: Clock): Db => ({
  redis,
  town,
  keys: keysFor(town),
  clock,
});

export const script = (db: Db, name: ScriptName, args: (string | number)[]) =>
  runScript(db.redis, name, db.keys.prefix, db.clock.now(), args);

export const scriptRaw = (db: Db, name: ScriptName, args: (string | number)[]) =>
  runScriptRaw(db.redis, name, db.keys.prefix, db.clock.now(), args);

/** Runs a script that reads options (scripts.ts ScriptOptions), with its list, if any, after them. */
export const scriptWith = <N extends keyof ScriptOptions>(
  db: Db,
  name: N,
  options: ScriptOptions[N],
  list: readonly (string | number)[] = [],
) => runScript(db.redis, name, db.keys.prefix, db.clock.now(), optionArgs(options, list));

/** scriptWith for a script whose reply is nested (the reply as Redis sent it). */
export const scriptRawWith = <N extends keyof ScriptOptions>(
  db: Db,
  name: N,
  options: ScriptOptions[N],
  list: readonly (string | number)[] = [],
) => runScriptRaw(db.redis, name, db.keys.prefix, db.clock.now(), optionArgs(options, list));

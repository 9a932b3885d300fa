import type { z } from 'zod';
import { decodeHash, MalformedRecordError, type HashFields, type Malformed } from '../model/hash.js';
import type { Db } from './db.js';

/** Records read in bulk: the good ones, and the ones that failed to parse (reported, skipped). */
export interface Batch<T> {
  items: T[];
  malformed: Malformed[];
}

/** HGETALL many keys in one pipeline and decode each with its schema. Missing keys are skipped. */
export const readHashes = async <S extends z.ZodType>(
  db: Db,
  schema: S,
  keys: string[],
): Promise<Batch<z.infer<S>>> => {
  const out: Batch<z.infer<S>> = { items: [], malformed: [] };
  if (keys.length === 0) return out;
  const pipe = db.redis.pipeline();
  for (const k of keys) pipe.hgetall(k);
  const replies = (await pipe.exec()) ?? [];
  replies.forEach(([err, fields], i) => {
    const key = keys[i]!;
    if (err) return void out.malformed.push({ key, problem: err.message });
    const f = fields as HashFields;
    if (Object.keys(f).length === 0) return;
    const r = decodeHash(schema, key, f);
    if (r.ok) out.items.push(r.value);
    else out.malformed.push(r.malformed);
  });
  return out;
};

export const readHash = async <S extends z.ZodType>(
  db: Db,
  schema: S,
  key: string,
): Promise<z.infer<S> | undefined> => {
  const fields = await db.redis.hgetall(key);
  if (Object.keys(fields).length === 0) return undefined;
  const r = decodeHash(schema, key, fields);
  if (!r.ok) throw new MalformedRecordError(r.malformed);
  return r.value;
};

// Re-exported while callers move to model/hash.js.
export { MalformedRecordError };

/**
 * Records by key in one round trip, in order, as `readHash` reads one: the record, undefined
 * when it is missing, or the MalformedRecordError `readHash` would throw.
 */
export const readEach = async <S extends z.ZodType>(
  db: Db,
  schema: S,
  keys: string[],
): Promise<(z.infer<S> | undefined | MalformedRecordError)[]> => {
  if (keys.length === 0) return [];
  const pipe = db.redis.pipeline();
  for (const k of keys) pipe.hgetall(k);
  return ((await pipe.exec()) ?? []).map(([err, fields], i) => {
    if (err) throw err;
    const f = fields as Record<string, string>;
    if (Object.keys(f).length === 0) return undefined;
    const r = decodeHash(schema, keys[i]!, f);
    return r.ok ? r.value : new MalformedRecordError(r.malformed);
  });
};

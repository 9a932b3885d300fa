import { z } from 'zod';

/**
 * Records are stored as flat Redis hashes of strings. Numbers are decimal strings, lists are JSON,
 * absent optional fields are absent fields. These helpers are the one place that encoding lives.
 */
export type HashFields = Record<string, string>;

export const encodeHash = (record: object): HashFields => {
  const out: HashFields = {};
  for (const [k, v] of Object.entries(record)) {
    if (v === undefined || v === null) continue;
    out[k] = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  return out;
};

const parseJson = (v: unknown): unknown => {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
};

/** A numeric hash field. */
export const num = () => z.coerce.number().pipe(z.number().finite());
/** An optional string field where an empty string means absent (scripts clear fields that way). */
export const optStr = () => z.preprocess((v) => (v === '' ? undefined : v), z.string().optional());
/** A JSON-encoded list of strings in a hash field. */
export const strList = () => z.preprocess(parseJson, z.array(z.string())).default([]);

/** A record that could not be read, kept to be reported, never fatal. */
export interface Malformed {
  key: string;
  problem: string;
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; malformed: Malformed };

export const decodeHash = <S extends z.ZodType>(
  schema: S,
  key: string,
  fields: HashFields,
): Decoded<z.infer<S>> => {
  if (Object.keys(fields).length === 0) return { ok: false, malformed: { key, problem: 'missing' } };
  const r = schema.safeParse(fields);
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0]!;
  const where = issue.path.length ? issue.path.join('.') : '(record)';
  return { ok: false, malformed: { key, problem: `${where}: ${issue.message}` } };
};

/** A record that failed its schema, thrown where one record was asked for. */
export class MalformedRecordError extends Error {
  constructor(readonly malformed: Malformed) {
    super(`malformed record ${malformed.key}: ${malformed.problem}`);
  }
}

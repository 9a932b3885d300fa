import type { Batch } from './records.js';

/** A stream entry as ioredis returns it: its id and its flat field/value list. */
export type StreamEntry = [id: string, fields: string[]];

/** What one entry decodes to: its item, or why it is malformed. */
export type Decoded<T> = { item: T } | { problem: string };

/**
 * Decodes stream entries whose `data` field holds JSON: each entry's fields and parsed data go
 * to `decode`; an entry whose data is not JSON, or that `decode` refuses, is reported in
 * `malformed` as `<key> <id>`. `last` is the id of the last entry read, malformed ones included.
 */
export const decodeStreamEntries = <T>(
  key: string,
  entries: StreamEntry[],
  decode: (id: string, fields: Record<string, string>, data: unknown) => Decoded<T>,
): Batch<T> & { last?: string } => {
  const out: Batch<T> & { last?: string } = { items: [], malformed: [] };
  for (const [id, fields] of entries) {
    out.last = id;
    const f: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
    let data: unknown;
    try {
      data = JSON.parse(f.data ?? '');
    } catch {
      out.malformed.push({ key: `${key} ${id}`, problem: 'data is not JSON' });
      continue;
    }
    const d = decode(id, f, data);
    if ('item' in d) out.items.push(d.item);
    else out.malformed.push({ key: `${key} ${id}`, problem: d.problem });
  }
  return out;
};

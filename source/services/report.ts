import type { Malformed } from '../model/hash.js';
import type { Batch } from '../store/records.js';

/** Anything that can be told about records it had to skip. */
export interface Reporter {
  warn?(line: string): void;
}

export const describeMalformed = (m: Malformed): string => `skipped malformed record ${m.key}: ${m.problem}`;

/** Reports a batch's malformed records as warnings and returns its good items. */
export const report = <T>(r: Reporter, batch: Batch<T>): T[] => {
  for (const m of batch.malformed) r.warn?.(describeMalformed(m));
  return batch.items;
};

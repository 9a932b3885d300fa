import { shortId } from '../model/ids.js';
import type { Malformed } from '../model/hash.js';
import { readView, type MissionView } from '../store/mission-reads.js';
import type { Dispatcher } from './dispatcher.js';
import type { Pool } from './pool.js';
import { reportMalformed, type MissionTickReport } from './report.js';

/** Ready items one tick plans over at most, best rank first. */
export const READY_HEAD = 1000;

/** What one mission's tick carries from step to step. */
export interface Tick {
  readonly d: Dispatcher;
  readonly id: string;
  /** The clock when the tick began: every step decides by it. */
  readonly now: number;
  readonly pool: Pool;
  readonly report: MissionTickReport;
  /** The mission's record and the sizes of its queues, as last read. */
  view: MissionView;
  /** Whether this tick wrote since `view` was read; a stale view is read again before it is used. */
  stale: boolean;
}

/** Reads the mission's view again (keeping the last one should the mission be gone). */
export const reread = async (t: Tick): Promise<MissionView> => {
  t.stale = false;
  t.view = (await readView(t.d.db, t.id)) ?? t.view;
  return t.view;
};

/** The view, read again first when this tick wrote since it was read. */
export const freshView = (t: Tick): Promise<MissionView> => (t.stale ? reread(t) : Promise.resolve(t.view));

/** A line in the dispatcher's log about this mission. */
export const say = (t: Tick, line: string): void => t.d.log?.(`mission ${shortId(t.id)}: ${line}`);

/** Records the tick could not read: reported and skipped. */
export const skipMalformed = (t: Tick, list: Malformed[]): void =>
  list.forEach((x) => reportMalformed(t.d, t.report, `${x.key}: ${x.problem}`));

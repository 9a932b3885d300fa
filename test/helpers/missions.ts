import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_DISPATCH, type DispatchConfig } from '../../source/dispatch/config.js';
import { newDispatcher, type Dispatcher } from '../../source/dispatch/dispatcher.js';
import { releaseLeases, tick } from '../../source/dispatch/loop.js';
import { type MissionTickReport } from '../../source/dispatch/report.js';
import type { GitHubClient } from '../../source/github/client.js';
import type { Clock } from '../../source/model/clock.js';
import { makeDb } from '../../source/store/db.js';
import type { TestTown } from './town.js';

/** Writes a manifest into the town and returns its file name. */
export const manifest = (town: TestTown, items: object[], name = 'mission.json'): string => {
  writeFileSync(join(town.dir, name), JSON.stringify({ items }));
  return name;
};

/** A dispatcher on the town's test connection, with an injectable clock. */
export const testDispatcher = (
  town: TestTown,
  opts: { clock?: Clock; github?: GitHubClient; config?: Partial<DispatchConfig> } = {},
): Dispatcher =>
  newDispatcher(
    makeDb(town.redis, town.name, opts.clock ?? { now: () => Date.now() }),
    { ...DEFAULT_DISPATCH, tickMs: 1000, ...opts.config },
    opts.github,
  );

/** One tick over a mission, leases released after (as `tt mission dispatch --once` does). */
export const tickOnce = async (d: Dispatcher, mission: string): Promise<MissionTickReport> => {
  const [r] = await tick(d, [mission]);
  await releaseLeases(d, [mission]);
  return r!;
};

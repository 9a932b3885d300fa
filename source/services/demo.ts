import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostFacts, openTown, type Town, type Where } from './context.js';
import { SimSettings } from '../model/sim.js';
import { CONFIG_FILE, writeJsonAtomic } from '../config/load.js';
import { registerNewAgent, startWorker } from './agents.js';
import { addToBacklog } from './backlog.js';
import { startMission } from './missions.js';
import { initTown } from './town.js';
import { ensureTownMeta, resetTown } from '../store/town.js';

/** The demo's offline mission: a small graph, two items that need review, a tester that fails once. */
const DEMO_MISSION = {
  items: [
    { key: 'design', title: 'design the payments API', kind: 'design', ownerRole: 'backend' },
    {
      key: 'api',
      title: 'implement the payments API',
      kind: 'implement',
      ownerRole: 'backend',
      dependsOn: ['design'],
    },
    { key: 'tests', title: 'test the payments API', kind: 'test', ownerRole: 'tester', dependsOn: ['api'] },
    { key: 'docs', title: 'document the payments API', kind: 'followup', dependsOn: ['design'] },
  ],
};

/** Where the throwaway demo town lives unless told otherwise. */
export const demoDir = (where: Where): string =>
  join(hostFacts(where.env).tmpdir, `tt-demo-${hostFacts(where.env).uid}`);

/**
 * A throwaway town with a few simulated agents and some work queued, so a newcomer sees every
 * part at once. Running it again starts it afresh.
 */
export const startDemo = async (where: Where, dir = demoDir(where)): Promise<Town> => {
  mkdirSync(dir, { recursive: true });
  const at: Where = { ...where, cwd: dir, town: dir };
  await initTown(at, { name: 'demo', cli: 'sim' });
  // A lively demo: quick dispatcher ticks and heartbeats, workers that stay up. Bob fails every
  // task's first attempt on purpose (to show retries), which is not a broken agent: no quarantine.
  writeJsonAtomic(join(dir, CONFIG_FILE), {
    name: 'demo',
    defaultCli: 'sim',
    dispatch: { tickSecs: 2 },
    agent: {
      heartbeatSecs: 1,
      heartbeatTtlSecs: 5,
      reapIntervalSecs: 2,
      idleTimeoutSecs: 0,
      maxRounds: 0,
      quarantineAfter: 0,
    },
  });
  const t = await openTown(at);
  await resetTown(t.db, false);
  await ensureTownMeta(t.db, t.config.name);
  const sim = (durationMs: number, failFirst = 0) => SimSettings.parse({ durationMs, failFirst, seed: 7 });
  const agents = [
    await registerNewAgent(t, {
      name: 'ada',
      role: 'backend',
      cli: 'sim',
      nickname: 'Ada',
      maxRounds: 0,
      sim: sim(4000),
    }),
    await registerNewAgent(t, {
      name: 'bob',
      role: 'tester',
      cli: 'sim',
      nickname: 'Bob',
      maxRounds: 0,
      sim: sim(3000, 1),
    }),
    await registerNewAgent(t, {
      name: 'cy',
      role: 'reviewer',
      cli: 'sim',
      nickname: 'Cy',
      maxRounds: 0,
      sim: sim(2000),
    }),
  ];
  await addToBacklog(t, { description: 'fix the flaky login test', priority: 'critical', tags: ['tester'] });
  await addToBacklog(t, { description: 'tidy the changelog', priority: 'low' });
  const manifest = join(t.root, '.tt', 'demo-mission.json');
  writeFileSync(manifest, JSON.stringify(DEMO_MISSION, null, 2));
  await startMission(t, { issues: [], docs: [], manifest, title: 'payments (demo)', maxParallel: 2 });
  for (const a of agents) await startWorker(t, a.id);
  return t;
};

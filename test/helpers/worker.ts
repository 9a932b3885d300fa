import { retryDelaysMs } from '../../source/model/retry.js';
import { SimSettings } from '../../source/model/sim.js';
import { simExecutor } from '../../source/runtime/sim.js';
import type { Executor } from '../../source/runtime/executor.js';
import { runWorker, type WorkerConfig, type WorkerExit } from '../../source/runtime/worker.js';
import { openTown } from '../../source/services/context.js';
import { onCleanup, type TestTown } from './town.js';

/** Fast settings for in-process workers under test. */
export const testWorkerConfig = (
  over: Partial<WorkerConfig> = {},
  policy: Partial<WorkerConfig['policy']> = {},
): WorkerConfig => ({
  heartbeatMs: 200,
  heartbeatTtlMs: 2000,
  idleTimeoutMs: 0,
  maxRounds: 0,
  reapIntervalMs: 200,
  blockMs: 200,
  ...over,
  policy: {
    maxMessages: 100,
    maxTasks: 1,
    autoClaim: true,
    backlogScan: 50,
    delaysMs: retryDelaysMs(3, 0.05, 1),
    ...policy,
  },
});

export interface InProcessWorker {
  done: Promise<WorkerExit>;
  stop(): Promise<WorkerExit>;
  lines: string[];
}

/** Runs an agent's worker loop in this process (as the benchmark does), stopped after the test. */
export const runInProcess = async (
  town: TestTown,
  agentId: string,
  opts: { config?: WorkerConfig; sim?: Partial<SimSettings>; executor?: Executor } = {},
): Promise<InProcessWorker> => {
  const t = await openTown({ cwd: town.dir, env: town.env }, 'dispatcher');
  const blocking = await t.connect('blocking');
  const abort = new AbortController();
  const lines: string[] = [];
  const done = runWorker({
    db: t.db,
    blocking,
    agentId,
    executor: opts.executor ?? simExecutor(SimSettings.parse(opts.sim ?? {})),
    config: opts.config ?? testWorkerConfig(),
    logsDir: `${town.dir}/.tt/logs`,
    env: {},
    signal: abort.signal,
    log: (l) => lines.push(l),
  }).finally(() => t.close());
  const stop = async () => {
    abort.abort();
    return done;
  };
  onCleanup(async () => void (await stop()));
  return { done, stop, lines };
};

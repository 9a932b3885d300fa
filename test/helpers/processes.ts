import { isAlive } from '../../source/redis/process.js';
import { killPid, onCleanup, type TestTown } from './town.js';

/** Fast settings for towns whose workers are real processes. */
export const FAST = {
  agent: {
    heartbeatSecs: 0.2,
    heartbeatTtlSecs: 1.5,
    reapIntervalSecs: 0.3,
    idleTimeoutSecs: 0,
    maxRounds: 0,
    taskTimeoutSecs: 5,
  },
  tasks: { backoffBaseSecs: 0.1, backoffMaxSecs: 1 },
};

/** Waits (bounded) until a pid has exited. */
export const waitPidGone = async (pid: number, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`pid ${pid} is still alive`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

/** Spawns an agent with a real worker process; the process is killed by pid after the test. */
export const spawnWorker = async (
  town: TestTown,
  name: string,
  ...flags: string[]
): Promise<{ id: string; pid: number }> => {
  const a = (await town.ok('spawn', name, ...flags, '--json')).json();
  const pid = Number(await town.redis.hget(`${town.prefix}agent:${a.id}`, 'pid'));
  onCleanup(() => killPid(pid));
  return { id: a.id, pid };
};

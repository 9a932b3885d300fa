import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ttEntry } from '../source/runtime/entry.js';
import { allEvents, waitForEvent } from './helpers/events.js';
import { manifest } from './helpers/missions.js';
import { killPid, makeTown, onCleanup, type TestTown } from './helpers/town.js';

/** Starts `tt mission dispatch` as its own process, output to a log file; killed after the test. */
const dispatcher = (town: TestTown, name: string, env: Record<string, string> = {}) => {
  const log = join(town.dir, `${name}.log`);
  const fd = openSync(log, 'a');
  const child = spawn(process.execPath, [ttEntry(), 'mission', 'dispatch'], {
    cwd: town.dir,
    env: { ...town.env, ...env } as NodeJS.ProcessEnv,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  onCleanup(() => {
    killPid(child.pid, 'SIGCONT');
    killPid(child.pid);
  });
  return { pid: child.pid!, read: () => readFileSync(log, 'utf8') };
};

const until = async (what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('dispatcher leases', () => {
  it('a dispatcher paused (SIGSTOP) past its lease TTL writes nothing after another took over', async () => {
    const town = await makeTown();
    town.configure({ dispatch: { tickSecs: 0.2, leaseTtlSecs: 1 } });
    const m = (
      await town.ok(
        'mission',
        'start',
        '--manifest',
        manifest(town, [{ title: 'waits for agents' }]),
        '--no-reviewer',
        '--json',
      )
    ).json().mission;
    const a = dispatcher(town, 'a', { TT_FAILPOINT: 'hold-lease' });
    // A holds the lease mid-tick: stop it right there, like a long GC pause or a stopped VM.
    await until('dispatcher A inside a tick', () => /failpoint hold-lease/.test(a.read()));
    process.kill(a.pid, 'SIGSTOP');
    const tokenA = /token ([0-9a-f]{8})/.exec(a.read())![1]!;
    await town.ok('mission', 'note', m.id, 'checking in');
    const b = dispatcher(town, 'b');
    const applied = await waitForEvent(
      town,
      (e) => e.type === 'mission.note' && e.state === 'applied' && e.mission === m.id,
      15_000,
    );
    expect(applied.by?.startsWith(tokenA)).toBe(false);
    const tokenB = applied.by!;
    process.kill(a.pid, 'SIGCONT');
    // A wakes up believing it holds the lease; its first write is refused inside the script.
    await until('dispatcher A to find its lease gone', () => / lost\b/.test(a.read()), 10_000);
    await until(
      'another tick by B',
      async () => Number((await town.ok('mission', 'status', m.id, '--json')).json().mission.lastTick) > 0,
    );
    const events = await allEvents(town);
    const takeover = events.findIndex((e) => e.by === tokenB);
    const staleWrites = events.slice(takeover).filter((e) => e.by?.startsWith(tokenA));
    expect(staleWrites).toEqual([]);
    const mission = (await town.ok('mission', 'status', m.id, '--json')).json().mission;
    expect(mission.lastTickBy).toBe(tokenB);
    expect(b.read()).not.toMatch(/tick failed/);
  });
});

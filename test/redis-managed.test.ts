import { chmodSync, existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveEndpoint } from '../source/config/endpoint.js';
import { loadTownConfig } from '../source/config/load.js';
import { ensureManaged } from '../source/redis/server.js';
import { pingSocket } from '../source/redis/ping.js';
import { isAlive } from '../source/redis/process.js';
import { hostFacts } from '../source/services/context.js';
import { baseEnv, killPid, killPidFile, makeTown, onCleanup, runTt, tempDir } from './helpers/town.js';

const waitGone = async (pid: number) => {
  const deadline = Date.now() + 5000;
  while (isAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`pid ${pid} still alive`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('managed redis', () => {
  it('runs on a unix socket only its owner can open, with AOF everysec and noeviction', async () => {
    const town = await makeTown();
    const sock = join(town.dir, '.tt', 'redis.sock');
    expect(statSync(sock).mode & 0o777).toBe(0o700);
    const cfg = async (k: string) => ((await town.redis.config('GET', k)) as string[])[1];
    expect(await cfg('appendonly')).toBe('yes');
    expect(await cfg('appendfsync')).toBe('everysec');
    expect(await cfg('maxmemory-policy')).toBe('noeviction');
    expect(await cfg('port')).toBe('0');
    expect(town.pid()).toBeGreaterThan(0);
    expect(existsSync(join(town.dir, '.tt', 'appendonlydir'))).toBe(true);
  });

  it('tt down stops it, and any verb starts it again with the data intact', async () => {
    const town = await makeTown();
    const spawned = (await town.ok('spawn', 'ada', '--no-start', '--json')).json();
    const pid = town.pid()!;
    town.redis.disconnect();
    const down = await town.ok('down');
    expect(down.out).toMatch(/stopped redis unix:/);
    await waitGone(pid);
    expect(existsSync(join(town.dir, '.tt', 'redis.sock'))).toBe(false);
    expect((await town.ok('down')).out).toMatch(/was not running/);
    const list = (await town.ok('list', '--json')).json();
    expect(list.agents.map((a: { id: string }) => a.id)).toEqual([spawned.id]);
    expect(town.pid()).not.toBe(pid);
  });

  it('tt up starts it when it is not running and says where it is', async () => {
    const town = await makeTown();
    town.redis.disconnect();
    await town.ok('down');
    const up = (await town.ok('up', '--json')).json();
    expect(up).toMatchObject({ managed: true, endpoint: `unix:${join(town.dir, '.tt', 'redis.sock')}` });
    expect(up.version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('cleans up a stale pidfile and a dead socket after a crash, and restarts', async () => {
    const town = await makeTown();
    await town.ok('backlog', 'add', 'survive the crash');
    const pid = town.pid()!;
    town.redis.disconnect();
    killPid(pid, 'SIGKILL');
    await waitGone(pid);
    // The socket file and pidfile are left behind by the SIGKILL.
    expect(existsSync(join(town.dir, '.tt', 'redis.sock'))).toBe(true);
    const list = await town.ok('backlog', 'list', '--json');
    expect(list.json().tasks.map((t: { description: string }) => t.description)).toEqual([
      'survive the crash',
    ]);
    expect(town.pid()).not.toBe(pid);
  });

  it('several processes starting the same town at once end with one server', async () => {
    const town = await makeTown();
    town.redis.disconnect();
    await town.ok('down');
    const config = loadTownConfig(town.dir);
    const ep = resolveEndpoint(config, town.dir, town.env, hostFacts(town.env));
    if (ep.kind !== 'managed') throw new Error('expected managed');
    const results = await Promise.all(Array.from({ length: 5 }, () => ensureManaged(ep, town.env)));
    expect(results.filter((r) => r.started)).toHaveLength(1);
    expect(await pingSocket(ep.socket)).toBe('pong');
  });

  it('names the version it found when redis-server is too old, and writes no server', async () => {
    const dir = tempDir();
    const fake = join(dir, 'redis-server');
    writeFileSync(fake, '#!/bin/sh\necho "Redis server v=6.2.14 sha=00000000:0 malloc=jemalloc bits=64"\n');
    chmodSync(fake, 0o755);
    const env = { ...baseEnv(join(dir, 'home')), TT_REDIS_SERVER: fake };
    const r = await runTt(['init', '--name', 'old'], dir, env);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/Redis 6\.2\.14; tt needs Redis 7\.0\.0 or newer/);
    expect(existsSync(join(dir, '.tt', 'redis.pid'))).toBe(false);
  });

  it('says how to install Redis when redis-server is missing', async () => {
    const dir = tempDir();
    const env = { ...baseEnv(join(dir, 'home')), PATH: '/nonexistent' };
    const r = await runTt(['init', '--name', 'none'], dir, env);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/redis-server not found on PATH: install Redis 7/);
  });

  it('falls back to a short private socket path when the town path is too long for a socket', async () => {
    const base = tempDir();
    const deep = join(base, 'a'.repeat(60), 'b'.repeat(60));
    const env = { ...baseEnv(join(base, 'home')), TMPDIR: base };
    onCleanup(() => killPidFile(join(deep, '.tt', 'redis.pid')));
    const r = await runTt(['init', '--name', 'deep', '--json'], deep, env);
    expect(r.code, r.err).toBe(0);
    const endpoint: string = r.json().endpoint;
    expect(endpoint.startsWith(`unix:${base}/tt-`)).toBe(true);
    expect((await runTt(['status', '--json'], deep, env)).json().endpoint).toBe(endpoint);
  });
});

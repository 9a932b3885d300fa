import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import type { Endpoint } from '../config/endpoint.js';
import { TtError, UsageError } from '../model/errors.js';
import { pingSocket } from './ping.js';
import { commandLine, isAlive } from './process.js';
import { MIN_REDIS, serverBinaryVersion, versionAtLeast } from './version.js';

type Managed = Extract<Endpoint, { kind: 'managed' }>;
type Env = Record<string, string | undefined>;

const pidfile = (ep: Managed) => join(ep.dir, 'redis.pid');
const lockfile = (ep: Managed) => join(ep.dir, 'redis.lock');
export const redisLogFile = (ep: Managed) => join(ep.dir, 'redis.log');

/** The redis-server binary: $TT_REDIS_SERVER, else the first on PATH. */
export const findRedisServer = (env: Env): string => {
  if (env.TT_REDIS_SERVER) return env.TT_REDIS_SERVER;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    const p = join(dir, 'redis-server');
    if (dir && existsSync(p)) return p;
  }
  throw new UsageError(
    'redis-server not found on PATH: install Redis 7 or newer (apt-get install redis-server), or set redis.url in tt.config.json',
  );
};

export const checkServerVersion = (bin: string): string => {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 5000 });
  const version = serverBinaryVersion(r.stdout ?? '');
  if (!version)
    throw new TtError(
      `cannot tell the version of ${bin}: ${(r.stderr || r.stdout || String(r.error ?? '')).trim().slice(0, 120)}`,
    );
  if (!versionAtLeast(version, MIN_REDIS))
    throw new UsageError(`${bin} is Redis ${version}; tt needs Redis ${MIN_REDIS} or newer`);
  return version;
};

const isRedisProcess = (pid: number): boolean =>
  isAlive(pid) && (commandLine(pid)?.includes('redis-server') ?? true);

export const readPid = (ep: Managed): number | undefined => {
  try {
    const pid = Number(readFileSync(pidfile(ep), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
};

const logTail = (ep: Managed): string => {
  try {
    const lines = readFileSync(redisLogFile(ep), 'utf8').trim().split('\n');
    return lines.slice(-1)[0]?.replace(/^\d+:\w \d+ \w+ \d+ [\d:.]+ [#*.-] /, '') ?? '';
  } catch {
    return '';
  }
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls PING until Redis answers (or the deadline passes). Returns whether it answered. */
const waitReady = async (socket: string, timeoutMs: number): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  while (Date.now() < deadline) {
    if ((await pingSocket(socket, 1000)) === 'pong') return true;
    await sleep(delay);
    delay = Math.min(delay * 2, 100);
  }
  return false;
};

/** Takes the start lock (O_EXCL), clearing a lock left by a dead process. Returns a release function. */
const takeLock = async (ep: Managed, timeoutMs: number): Promise<() => void> => {
  const path = lockfile(ep);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = Number(readFileSync(path, 'utf8').trim() || 0);
      if (!holder || !isAlive(holder)) {
        rmSync(path, { force: true });
        continue;
      }
      if (Date.now() > deadline)
        throw new TtError(
          `another tt (pid ${holder}) has been starting Redis for too long; remove ${path} if it is stale`,
        );
      await sleep(20);
    }
  }
};

export interface StartResult {
  started: boolean;
  pid?: number;
}

export const serverArgs = (ep: Managed): string[] => [
  '--daemonize',
  'yes',
  '--pidfile',
  pidfile(ep),
  '--logfile',
  redisLogFile(ep),
  '--dir',
  ep.dir,
  '--port',
  '0',
  '--unixsocket',
  ep.socket,
  '--unixsocketperm',
  '700',
  '--appendonly',
  'yes',
  '--appendfsync',
  'everysec',
  '--save',
  '',
  '--maxmemory-policy',
  'noeviction',
];

/**
 * Makes sure the town's managed Redis answers on its socket, starting it when it does not.
 * Safe when several tt processes race: one takes the start lock, the others wait for it.
 * A stale pidfile or a dead socket is cleaned up first.
 */
export const ensureManaged = async (ep: Managed, env: Env, timeoutMs = 10_000): Promise<StartResult> => {
  if ((await pingSocket(ep.socket)) === 'pong') return { started: false, pid: readPid(ep) };
  mkdirSync(ep.dir, { recursive: true, mode: 0o700 });
  mkdirSync(dirname(ep.socket), { recursive: true, mode: 0o700 });
  const release = await takeLock(ep, timeoutMs);
  try {
    const state = await pingSocket(ep.socket);
    if (state === 'pong') return { started: false, pid: readPid(ep) };
    const pid = readPid(ep);
    if (pid && isAlive(pid) && isRedisProcess(pid)) {
      // Running but not answering yet: most often loading its AOF.
      if (await waitReady(ep.socket, timeoutMs)) return { started: false, pid };
      throw new TtError(
        `redis-server (pid ${pid}) is running but not answering on ${ep.socket}; see ${redisLogFile(ep)}`,
      );
    }
    rmSync(pidfile(ep), { force: true });
    rmSync(ep.socket, { force: true });
    const bin = findRedisServer(env);
    checkServerVersion(bin);
    const r = spawnSync(bin, serverArgs(ep), { encoding: 'utf8', timeout: timeoutMs, cwd: ep.dir });
    if (r.status !== 0)
      throw new TtError(
        `redis-server failed to start: ${(r.stderr || r.stdout || logTail(ep) || String(r.error)).trim().split('\n')[0]}`,
      );
    if (!(await waitReady(ep.socket, timeoutMs)))
      throw new TtError(
        `redis-server did not answer on ${ep.socket} within ${timeoutMs / 1000}s: ${logTail(ep) || 'see ' + redisLogFile(ep)}`,
      );
    return { started: true, pid: readPid(ep) };
  } finally {
    release();
  }
};

/** Waits for a pid to exit. */
export const waitExit = async (pid: number, timeoutMs: number): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
  return true;
};

/** Removes what a stopped server leaves behind. */
export const cleanupManaged = (ep: Managed): void => {
  rmSync(ep.socket, { force: true });
  rmSync(pidfile(ep), { force: true });
};

/**
 * Stops the managed server: SIGTERM (Redis flushes its AOF and exits), then waits. Returns false
 * when nothing was running.
 */
export const stopManaged = async (ep: Managed, timeoutMs = 10_000): Promise<boolean> => {
  const pid = readPid(ep);
  if (!pid || !isAlive(pid) || !isRedisProcess(pid)) {
    const answering = (await pingSocket(ep.socket)) === 'pong';
    if (answering)
      throw new TtError(
        `Redis answers on ${ep.socket} but ${pidfile(ep)} names no live redis-server; stop it by hand`,
      );
    cleanupManaged(ep);
    return false;
  }
  process.kill(pid, 'SIGTERM');
  if (!(await waitExit(pid, timeoutMs))) {
    process.kill(pid, 'SIGKILL');
    await waitExit(pid, 2000);
  }
  cleanupManaged(ep);
  return true;
};

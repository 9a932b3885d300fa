/**
 * A throwaway redis-server for a benchmark: its own temp dir, a unix socket (perm 700) and a
 * free 127.0.0.1 TCP port, persistence off. Killed by pid and its dir removed on stop, on an
 * error and on SIGINT/SIGTERM (through the cleanup registry).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { killPid, onCleanup } from './cleanup.js';

export interface BenchRedis {
  pid: number;
  socket: string;
  port: number;
  dir: string;
  version: string;
  /** A plain connection over the socket, for setup and INFO reads (not part of any measurement). */
  admin: Redis;
  stop(): Promise<void>;
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });

const logTail = (file: string): string => {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-3).join(' | ');
  } catch {
    return '';
  }
};

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => child.once('exit', () => r()));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether redis-server and redis-benchmark are on PATH. */
export const redisToolsMissing = (): string | undefined => {
  for (const bin of ['redis-server', 'redis-benchmark']) {
    const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    if (r.error || r.status !== 0)
      return `${bin} not found on PATH (apt-get install redis-server redis-tools)`;
  }
  return undefined;
};

const startOnce = async (): Promise<BenchRedis> => {
  const dir = mkdtempSync(join(tmpdir(), 'tt-bench-'));
  const socket = join(dir, 'redis.sock');
  const log = join(dir, 'redis.log');
  const port = await freePort();
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--unixsocket',
      socket,
      '--unixsocketperm',
      '700',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--logfile',
      log,
      '--daemonize',
      'no',
    ],
    { stdio: 'ignore' },
  );
  let admin: Redis | undefined;
  const stop = async () => {
    admin?.disconnect();
    if (child.exitCode === null && child.signalCode === null) {
      killPid(child.pid, 'SIGTERM');
      const timer = setTimeout(() => killPid(child.pid, 'SIGKILL'), 2000);
      await exited(child);
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const release = onCleanup(stop, () => killPid(child.pid, 'SIGKILL'));
  try {
    if (!child.pid) throw new Error('redis-server did not start');
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null)
        throw new Error(`redis-server exited (${child.exitCode}): ${logTail(log)}`);
      const probe = new Redis({
        path: socket,
        lazyConnect: true,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
      });
      probe.on('error', () => {});
      try {
        await probe.connect();
        await probe.ping();
        admin = probe;
        break;
      } catch {
        probe.disconnect();
      }
      if (Date.now() > deadline)
        throw new Error(`redis-server did not answer on ${socket} within 10 s: ${logTail(log)}`);
      await sleep(25);
    }
    // The TCP listener comes up with the socket; check it anyway so a port race shows here.
    const tcp = new Redis({
      host: '127.0.0.1',
      port,
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    });
    tcp.on('error', () => {});
    try {
      await tcp.connect();
      await tcp.ping();
    } finally {
      tcp.disconnect();
    }
    const version = /redis_version:(\S+)/.exec(await admin.info('server'))?.[1] ?? '?';
    return { pid: child.pid, socket, port, dir, version, admin, stop: release };
  } catch (e) {
    await release();
    throw e;
  }
};

/** Starts a bench Redis; retries twice if the free TCP port was taken in between. */
export const startBenchRedis = async (): Promise<BenchRedis> => {
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce();
    } catch (e) {
      last = e;
    }
  }
  throw last;
};

/** Redis CPU seconds so far (user + sys, all threads), from INFO cpu. */
export const redisCpuSeconds = async (admin: Redis): Promise<number> => {
  const info = await admin.info('cpu');
  const get = (k: string) => Number(new RegExp(`^${k}:(\\S+)`, 'm').exec(info)?.[1] ?? 0);
  return get('used_cpu_user') + get('used_cpu_sys');
};

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach } from 'vitest';
import { run } from '../../source/commands/run.js';

/** What a tt invocation printed and returned. */
export interface Result {
  code: number;
  out: string;
  err: string;
  /** stdout parsed as JSON (throws when it is not). */
  json<T = any>(): T;
}

const cleanups: (() => Promise<void> | void)[] = [];

/** Registers a cleanup that runs after the current test, in reverse order. */
export const onCleanup = (fn: () => Promise<void> | void) => cleanups.push(fn);

afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

export const killPid = (pid: number | undefined, signal: NodeJS.Signals = 'SIGKILL') => {
  if (!pid) return;
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
};

/** Kills the process a pidfile names, if the file is still there (a cleanup for managed servers). */
export const killPidFile = (path: string) => {
  try {
    killPid(Number(readFileSync(path, 'utf8').trim()) || undefined);
  } catch {
    /* no pidfile: nothing runs */
  }
};

export const baseEnv = (home: string): Record<string, string | undefined> => {
  const env: Record<string, string | undefined> = { ...process.env, TT_HOME: home };
  for (const k of ['REDIS_URL', 'TT_REDIS_PASSWORD', 'TT_AGENT_ID', 'TT_AGENT_NAME', 'TT_TOWN'])
    delete env[k];
  return env;
};

export const tempDir = (prefix = 'tt-test-'): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

/**
 * Runs tt in-process with this cwd and env. `stdin` is what the verb reads as its standard input
 * (given in chunks, as a pipe delivers it); without it, tt has none.
 */
export const runTt = async (
  args: string[],
  cwd: string,
  env: Record<string, string | undefined>,
  signal?: AbortSignal,
  stdin?: string | Uint8Array,
): Promise<Result> => {
  let out = '';
  let err = '';
  const code = await run(args, {
    out: (s) => (out += `${s}\n`),
    err: (s) => (err += `${s}\n`),
    cwd,
    env,
    ...(signal ? { signal } : {}),
    ...(stdin !== undefined ? { stdin: () => chunksOf(stdin) } : {}),
  });
  return { code, out, err, json: () => JSON.parse(out) };
};

/** Bytes in pieces of at most 4 KiB, a split UTF-8 character included, like a pipe. */
async function* chunksOf(input: string | Uint8Array): AsyncIterable<Uint8Array> {
  const bytes = typeof input === 'string' ? Buffer.from(input) : input;
  for (let k = 0; k < bytes.length; k += 4093) yield bytes.subarray(k, k + 4093);
}

export interface TestTown {
  dir: string;
  name: string;
  env: Record<string, string | undefined>;
  /** Runs tt in the town, in-process. */
  tt(...args: string[]): Promise<Result>;
  /** Runs tt in the town, in-process, with this standard input. */
  ttWithStdin(stdin: string | Uint8Array, ...args: string[]): Promise<Result>;
  /** Runs tt and fails the test unless it exits 0. */
  ok(...args: string[]): Promise<Result>;
  /** A raw connection to the town's Redis, for assertions. */
  redis: Redis;
  prefix: string;
  pid(): number | undefined;
  /** Merges settings into the town's tt.config.json (one level deep per section). */
  configure(patch: Record<string, unknown>): void;
}

let seq = 0;

/**
 * A fresh town in a temporary directory with its own managed redis-server on a unix socket
 * there; the server is killed by pid and the directory removed after the test.
 */
export const makeTown = async (opts: { name?: string } = {}): Promise<TestTown> => {
  const dir = tempDir();
  const env = baseEnv(join(dir, 'home'));
  const name = opts.name ?? `t${process.pid}-${++seq}`;
  const pid = () => {
    try {
      return Number(readFileSync(join(dir, '.tt', 'redis.pid'), 'utf8').trim()) || undefined;
    } catch {
      return undefined;
    }
  };
  onCleanup(() => killPid(pid()));
  const tt = (...args: string[]) => runTt(args, dir, env);
  const init = await tt('init', '--name', name);
  if (init.code !== 0) throw new Error(`tt init failed: ${init.err}`);
  const redis = new Redis({
    path: join(dir, '.tt', 'redis.sock'),
    lazyConnect: true,
    maxRetriesPerRequest: 1,
  });
  await redis.connect();
  onCleanup(() => redis.disconnect());
  return {
    dir,
    name,
    env,
    tt,
    ttWithStdin: (stdin, ...args) => runTt(args, dir, env, undefined, stdin),
    async ok(...args: string[]) {
      const r = await tt(...args);
      if (r.code !== 0) throw new Error(`tt ${args.join(' ')} exited ${r.code}: ${r.err}`);
      return r;
    },
    redis,
    prefix: `tt:{${name}}:`,
    pid,
    configure(patch) {
      const file = join(dir, 'tt.config.json');
      const cfg = JSON.parse(readFileSync(file, 'utf8'));
      for (const [k, v] of Object.entries(patch))
        cfg[k] = v && typeof v === 'object' && !Array.isArray(v) ? { ...(cfg[k] ?? {}), ...v } : v;
      writeFileSync(file, JSON.stringify(cfg, null, 2));
    },
  };
};

/** An unmanaged redis-server child process, killed by pid after the test. */
export const startRedis = async (
  args: string[],
  ready: { socket?: string; port?: number; password?: string },
): Promise<ChildProcess> => {
  const child = spawn('redis-server', ['--save', '', '--appendonly', 'no', ...args], { stdio: 'ignore' });
  onCleanup(() => killPid(child.pid));
  const deadline = Date.now() + 10_000;
  for (;;) {
    const probe = ready.socket
      ? new Redis({
          path: ready.socket,
          lazyConnect: true,
          retryStrategy: () => null,
          maxRetriesPerRequest: 0,
        })
      : new Redis({
          port: ready.port!,
          host: '127.0.0.1',
          lazyConnect: true,
          retryStrategy: () => null,
          maxRetriesPerRequest: 0,
          ...(ready.password ? { password: ready.password } : {}),
        });
    probe.on('error', () => {});
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      return child;
    } catch {
      probe.disconnect();
      if (Date.now() > deadline) throw new Error('redis-server did not start');
      await new Promise((r) => setTimeout(r, 20));
    }
  }
};

/** A free TCP port on 127.0.0.1. */
export const freePort = async (): Promise<number> => {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
};

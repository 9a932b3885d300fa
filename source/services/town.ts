import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { redactUrl, resolveEndpoint, type Endpoint } from '../config/endpoint.js';
import {
  CONFIG_FILE,
  defaultCli,
  effectivePresets,
  loadTownConfig,
  loadTowns,
  parseWith,
  registerTown,
  writeJsonAtomic,
  type Env,
} from '../config/load.js';
import { TOWN_NAME, TownConfig } from '../config/schema.js';
import { isTerminalAgent } from '../model/agent.js';
import { TtError, UsageError } from '../model/errors.js';
import { connect } from '../redis/connect.js';
import { pingSocket } from '../redis/ping.js';
import { CLI_PRESETS } from '../runtime/clis/index.js';
import { ensureManaged, readPid, stopManaged, waitExit } from '../redis/server.js';
import { signalWorker } from './workers.js';
import { infoVersion } from '../redis/version.js';
import { listAgents } from '../store/agents.js';
import { makeDb } from '../store/db.js';
import { countKeysByKind, ensureTownMeta, resetTown, scanTownKeys, serverInfo } from '../store/town.js';
import { hostFacts, openTown, readTown, systemClock, type Where } from './context.js';

const git = (cwd: string, args: string[]): string | undefined => {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
};

/** A town name from the directory: "<repo>-<branch>" inside a git work tree, else the directory name. */
export const deriveTownName = (dir: string): string => {
  const top = git(dir, ['rev-parse', '--show-toplevel']);
  const branch = top ? git(dir, ['symbolic-ref', '--quiet', '--short', 'HEAD']) : undefined;
  const raw = top ? (branch ? `${basename(top)}-${branch}` : basename(top)) : basename(resolve(dir));
  const clean = raw
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 64);
  return TOWN_NAME.test(clean) ? clean : 'town';
};

const ensureGitignore = (root: string): boolean => {
  const path = join(root, '.gitignore');
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  if (/^\/?\.tt\/?$/m.test(text)) return false;
  appendFileSync(
    path,
    `${text && !text.endsWith('\n') ? '\n' : ''}# tt runtime files (Redis socket, data, logs)\n.tt/\n`,
  );
  return true;
};

export interface InitResult {
  root: string;
  name: string;
  created: boolean;
  endpoint: string;
  redisStarted: boolean;
}

/** Creates a town (or re-opens an existing one): config, .tt/, .gitignore entry, Redis, registry. */
export const initTown = async (where: Where, opts: { name?: string; cli?: string }): Promise<InitResult> => {
  const root = resolve(where.cwd, where.town ?? '.');
  const configPath = join(root, CONFIG_FILE);
  let config: TownConfig;
  let created = false;
  if (existsSync(configPath)) {
    config = loadTownConfig(root);
    if (opts.name && opts.name !== config.name)
      throw new UsageError(`${root} is already the town "${config.name}"; edit ${CONFIG_FILE} to rename it`);
  } else {
    const file = { name: opts.name ?? deriveTownName(root), ...(opts.cli ? { defaultCli: opts.cli } : {}) };
    config = parseWith(TownConfig, file, '--name');
    mkdirSync(root, { recursive: true });
    writeJsonAtomic(configPath, file);
    created = true;
  }
  mkdirSync(join(root, '.tt', 'logs'), { recursive: true, mode: 0o700 });
  ensureGitignore(root);
  const endpoint = resolveEndpoint(config, root, where.env, hostFacts(where.env));
  let redisStarted = false;
  if (endpoint.kind === 'managed') redisStarted = (await ensureManaged(endpoint, where.env)).started;
  const redis = await connect(endpoint, 'cli');
  try {
    await ensureTownMeta(makeDb(redis, config.name, systemClock), config.name);
  } finally {
    redis.disconnect();
  }
  registerTown(where.env, config.name, root);
  return { root, name: config.name, created, endpoint: endpoint.display, redisStarted };
};

export interface UpResult {
  name: string;
  endpoint: string;
  managed: boolean;
  started: boolean;
  pid?: number;
  version?: string;
}

export const upTown = async (where: Where): Promise<UpResult> => {
  const t = await openTown(where);
  try {
    const version = infoVersion(await serverInfo(t.db));
    await ensureTownMeta(t.db, t.config.name);
    const pid = t.endpoint.kind === 'managed' ? readPid(t.endpoint) : undefined;
    return {
      name: t.config.name,
      endpoint: t.endpoint.display,
      managed: t.endpoint.kind === 'managed',
      started: false,
      ...(pid ? { pid } : {}),
      ...(version ? { version } : {}),
    };
  } finally {
    await t.close();
  }
};

/**
 * Stops the town's worker processes, then its managed Redis. Refuses for an external Redis,
 * which tt never starts or stops.
 */
export const downTown = async (
  where: Where,
): Promise<{ stopped: boolean; endpoint: string; workers: number }> => {
  const { endpoint, config } = readTown(where);
  if (endpoint.kind !== 'managed')
    throw new TtError(`this town uses an external Redis (${endpoint.display}); tt never stops it`);
  let workers = 0;
  if ((await pingSocket(endpoint.socket)) === 'pong') {
    const redis = await connect(endpoint, 'cli');
    try {
      const pids = (await listAgents(makeDb(redis, config.name, systemClock))).items
        .filter(signalWorker)
        .map((a) => a.pid!);
      workers = pids.length;
      await Promise.all(pids.map((pid) => waitExit(pid, 10_000)));
    } finally {
      redis.disconnect();
    }
  }
  return { stopped: await stopManaged(endpoint), endpoint: endpoint.display, workers };
};

/** The effective config: file plus defaults plus environment, with secrets redacted. */
export const effectiveConfig = (where: Where) => {
  const { root, config, global, endpoint } = readTown(where);
  const redis = { ...config.redis };
  if (where.env.REDIS_URL) redis.url = where.env.REDIS_URL;
  if (redis.url) redis.url = redactUrl(redis.url);
  if (redis.password || where.env.TT_REDIS_PASSWORD) redis.password = '****';
  return {
    file: join(root, CONFIG_FILE),
    config: { ...config, defaultCli: defaultCli(config, global), redis },
    endpoint: endpoint.display,
    clis: effectivePresets(CLI_PRESETS, config, global),
  };
};

export type TownHealth = 'ok' | 'offline' | 'no-config' | 'missing' | 'bad-config';

export interface TownRow {
  name: string;
  path: string;
  health: TownHealth;
  agents?: number;
  active?: number;
  problem?: string;
}

const probe = async (path: string, env: Env): Promise<Omit<TownRow, 'name' | 'path'>> => {
  if (!existsSync(path)) return { health: 'missing' };
  if (!existsSync(join(path, CONFIG_FILE))) return { health: 'no-config' };
  let endpoint: Endpoint;
  let name: string;
  try {
    const config = loadTownConfig(path);
    name = config.name;
    endpoint = resolveEndpoint(config, path, env, hostFacts(env));
  } catch (e) {
    return { health: 'bad-config', problem: (e as Error).message };
  }
  if (endpoint.kind === 'managed' && (await pingSocket(endpoint.socket)) !== 'pong')
    return { health: 'offline' };
  try {
    const redis = await connect(endpoint, 'cli');
    try {
      const { items } = await listAgents(makeDb(redis, name, systemClock));
      return {
        health: 'ok',
        agents: items.length,
        active: items.filter((a) => !isTerminalAgent(a.state)).length,
      };
    } finally {
      redis.disconnect();
    }
  } catch (e) {
    return { health: 'offline', problem: (e as Error).message };
  }
};

/** The registered towns and how each is doing. Never starts a town's Redis. */
export const listTowns = async (env: Env): Promise<TownRow[]> => {
  const reg = loadTowns(env);
  return Promise.all(
    reg.towns.map(async (t) => ({ name: t.name, path: t.path, ...(await probe(t.path, env)) })),
  );
};

export interface ResetPlan {
  keys: number;
  byKind: Record<string, number>;
  done: boolean;
}

export const resetTownData = async (
  where: Where,
  opts: { force: boolean; agentsOnly: boolean },
): Promise<ResetPlan> => {
  const t = await openTown(where);
  try {
    const keys = await scanTownKeys(t.db);
    const byKind = countKeysByKind(t.db, keys);
    if (!opts.force) return { keys: keys.length, byKind, done: false };
    return { keys: await resetTown(t.db, opts.agentsOnly), byKind, done: true };
  } finally {
    await t.close();
  }
};

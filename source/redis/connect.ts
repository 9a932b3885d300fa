import { readFileSync } from 'node:fs';
import { Redis, type RedisOptions } from 'ioredis';
import type { Endpoint } from '../config/endpoint.js';
import { TtError, UsageError } from '../model/errors.js';
import { infoVersion, MIN_REDIS, versionAtLeast } from './version.js';

/**
 * Connection roles, each with explicit ioredis options:
 * - cli: short-lived; fails fast, no reconnect.
 * - blocking: an agent's inbox wait; retries forever, and ioredis' blocking-timeout watchdog
 *   resolves a blocking call whose socket died silently.
 * - dispatcher: long-lived writer; reconnects with backoff, commands wait for the link.
 * - console: fails fast while disconnected (no offline queue) and keeps reconnecting.
 */
export type Role = 'cli' | 'blocking' | 'dispatcher' | 'console';

/** Reconnect delays: 100 ms doubling to 1 s, so a client is back within a second of Redis. */
const backoff = (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 1000);

const roleOptions = (role: Role): RedisOptions => {
  switch (role) {
    case 'cli':
      return {
        maxRetriesPerRequest: 1,
        retryStrategy: () => null,
        connectTimeout: 3000,
        commandTimeout: 15_000,
      };
    case 'blocking':
      return {
        maxRetriesPerRequest: null,
        retryStrategy: backoff,
        connectTimeout: 3000,
        blockingTimeout: 30_000,
        keepAlive: 10_000,
      };
    case 'dispatcher':
      return {
        maxRetriesPerRequest: null,
        retryStrategy: backoff,
        connectTimeout: 3000,
        commandTimeout: 10_000,
        keepAlive: 10_000,
      };
    case 'console':
      return {
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        retryStrategy: backoff,
        connectTimeout: 3000,
        commandTimeout: 5000,
        keepAlive: 10_000,
      };
  }
};

const readPem = (path: string | undefined, what: string): Buffer | undefined => {
  if (!path) return undefined;
  try {
    return readFileSync(path);
  } catch (e) {
    throw new UsageError(
      `redis.tls.${what}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? e})`,
    );
  }
};

/** Percent-decodes a URL's user or password, keeping it as written when it is not valid encoding. */
const decodeUserinfo = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

export const clientOptions = (ep: Endpoint, role: Role): { url?: string; options: RedisOptions } => {
  const options: RedisOptions = {
    ...roleOptions(role),
    lazyConnect: true,
    connectionName: `tt-${role}`,
    enableAutoPipelining: false,
  };
  if (ep.kind === 'managed') return { options: { ...options, path: ep.socket } };
  // ioredis lets whatever the URL says beat the options, even an empty password
  // (redis://alice@host), which would mask TT_REDIS_PASSWORD / redis.password. So the
  // credentials leave the URL and travel as options; TT_REDIS_PASSWORD beats the URL's password,
  // which beats redis.password (resolveEndpoint decides which one ep.password is).
  let url = ep.url;
  try {
    const u = new URL(ep.url);
    if (u.username || u.password) {
      if (u.username) options.username = decodeUserinfo(u.username);
      if (u.password) options.password = decodeUserinfo(u.password);
      u.username = '';
      u.password = '';
      url = u.toString();
    }
  } catch {
    /* not a WHATWG URL: let ioredis make what it can of it */
  }
  if (ep.password) options.password = ep.password;
  if (ep.tls || ep.url.startsWith('rediss:')) {
    options.tls = {
      rejectUnauthorized: ep.tls?.rejectUnauthorized ?? true,
      ...(ep.tls?.ca ? { ca: readPem(ep.tls.ca, 'ca') } : {}),
      ...(ep.tls?.cert ? { cert: readPem(ep.tls.cert, 'cert') } : {}),
      ...(ep.tls?.key ? { key: readPem(ep.tls.key, 'key') } : {}),
    };
  }
  return { url, options };
};

/** Tells "authentication failed" apart from "cannot connect", naming the (redacted) endpoint. */
export const describeConnectError = (ep: Endpoint, e: unknown): TtError => {
  const msg = (e as Error)?.message ?? String(e);
  const line = msg.split('\n')[0]!;
  if (/WRONGPASS|NOAUTH|invalid password|invalid username-password|AUTH.*without any password/i.test(msg)) {
    return new TtError(
      `Redis authentication failed at ${ep.display}: ${line} (check the password or ACL user)`,
    );
  }
  if (/NOPERM/.test(msg))
    return new TtError(`Redis refused a command at ${ep.display}: ${line} (the ACL user lacks a permission)`);
  return new TtError(`cannot connect to Redis at ${ep.display}: ${line}`);
};

/** Opens a connection for a role and checks it: PING, and a server version of at least 7.0. */
export const connect = async (ep: Endpoint, role: Role): Promise<Redis> => {
  const { url, options } = clientOptions(ep, role);
  const client = url ? new Redis(url, options) : new Redis(options);
  let lastError: unknown;
  client.on('error', (e) => {
    lastError = e;
  });
  try {
    await client.connect();
    await client.ping();
    const version = infoVersion(await client.info('server'));
    if (version && !versionAtLeast(version, MIN_REDIS)) {
      throw new TtError(`Redis at ${ep.display} is version ${version}; tt needs ${MIN_REDIS} or newer`);
    }
  } catch (e) {
    client.disconnect();
    if (e instanceof TtError) throw e;
    throw describeConnectError(ep, lastError && !/WRONGPASS|NOAUTH/.test(String(e)) ? lastError : e);
  }
  return client;
};

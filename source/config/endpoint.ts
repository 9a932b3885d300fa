import { createHash } from 'node:crypto';
import { isAbsolute, join, resolve } from 'node:path';
import { UsageError } from '../model/errors.js';
import { CONFIG_FILE } from './load.js';
import type { TownConfig } from './schema.js';

export interface TlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized: boolean;
}

/** Where a town's Redis is: a managed server on a unix socket, or an external one by URL. */
export type Endpoint =
  | { kind: 'managed'; socket: string; dir: string; display: string }
  | {
      kind: 'external';
      url: string;
      /** Beats any password in the URL: TT_REDIS_PASSWORD, else redis.password when the URL has none. */
      password?: string;
      tls?: TlsFiles;
      display: string;
    };

/** Linux allows 107 bytes in a socket path; longer ones fall back to a short private path. */
const MAX_SOCKET_PATH = 100;

export interface HostFacts {
  tmpdir: string;
  uid: number;
}

export const managedSocketPath = (root: string, configured: string, host: HostFacts): string => {
  const wanted = isAbsolute(configured) ? configured : resolve(root, configured);
  if (Buffer.byteLength(wanted) <= MAX_SOCKET_PATH) return wanted;
  const hash = createHash('sha256').update(resolve(root)).digest('hex').slice(0, 16);
  return join(host.tmpdir, `tt-${host.uid}`, `${hash}.sock`);
};

/** Masks everything between "//" and the last "@": for URLs whose password cannot be located. */
const maskUserinfo = (url: string): string => url.replace(/\/\/[^]*@/, '//****@');

/**
 * A password holding an unencoded "/", "?" or "#" ends the authority early: the URL then fails
 * to parse, or parses with the password in its path (redis://alice:1234/x@host). An "@" after the
 * authority gives that away.
 */
const misplacedUserinfo = (u: URL): boolean =>
  u.protocol !== 'unix:' && `${u.pathname}${u.search}${u.hash}`.includes('@');

/** Masks the password of a Redis URL: redis://user:****@host. */
export const redactUrl = (url: string): string => {
  try {
    const u = new URL(url);
    if (misplacedUserinfo(u)) return maskUserinfo(url);
    if (u.password) u.password = '****';
    return u.toString();
  } catch {
    return maskUserinfo(url);
  }
};

/** Refuses a URL tt cannot use, without echoing it (it may hold a password). */
const checkUrl = (url: string, source: string): void => {
  const hint = 'percent-encode any "/", "?", "#" or "@" in the user or password';
  const wrongKind = new UsageError(`${source}: must be a redis://, rediss:// or unix:// URL`);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw /^(rediss?|unix):/i.test(url) ? new UsageError(`${source}: not a valid URL (${hint})`) : wrongKind;
  }
  if (!['redis:', 'rediss:', 'unix:'].includes(u.protocol)) throw wrongKind;
  if (misplacedUserinfo(u)) throw new UsageError(`${source}: the URL has an "@" after its host (${hint})`);
};

export const resolveEndpoint = (
  config: TownConfig,
  root: string,
  env: Record<string, string | undefined>,
  host: HostFacts,
): Endpoint => {
  const url = env.REDIS_URL || config.redis.url;
  if (url) checkUrl(url, env.REDIS_URL ? 'REDIS_URL' : `${CONFIG_FILE}: redis.url`);
  if (!url) {
    const socket = managedSocketPath(root, config.redis.socket, host);
    return { kind: 'managed', socket, dir: resolve(root, '.tt'), display: `unix:${socket}` };
  }
  const urlHasPassword = (() => {
    try {
      return new URL(url).password !== '';
    } catch {
      return false;
    }
  })();
  const password = env.TT_REDIS_PASSWORD || (urlHasPassword ? undefined : config.redis.password);
  const tls = config.redis.tls
    ? {
        rejectUnauthorized: config.redis.tls.rejectUnauthorized,
        ...(config.redis.tls.ca ? { ca: resolve(root, config.redis.tls.ca) } : {}),
        ...(config.redis.tls.cert ? { cert: resolve(root, config.redis.tls.cert) } : {}),
        ...(config.redis.tls.key ? { key: resolve(root, config.redis.tls.key) } : {}),
      }
    : undefined;
  return {
    kind: 'external',
    url,
    ...(password ? { password } : {}),
    ...(tls ? { tls } : {}),
    display: redactUrl(url),
  };
};

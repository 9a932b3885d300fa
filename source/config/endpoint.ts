import { createHash } from 'node:crypto';
import { isAbsolute, join, resolve } from 'node:path';
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
  | { kind: 'external'; url: string; password?: string; tls?: TlsFiles; display: string };

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

/** Masks the password of a Redis URL: redis://user:****@host. */
export const redactUrl = (url: string): string => {
  try {
    const u = new URL(url);
    if (u.password) u.password = '****';
    return u.toString();
  } catch {
    return url.replace(/(\/\/[^:@/]*:)[^@/]*@/, '$1****@');
  }
};

export const resolveEndpoint = (config: TownConfig, root: string, env: Record<string, string | undefined>, host: HostFacts): Endpoint => {
  const url = env.REDIS_URL || config.redis.url;
  if (!url) {
    const socket = managedSocketPath(root, config.redis.socket, host);
    return { kind: 'managed', socket, dir: resolve(root, '.tt'), display: `unix:${socket}` };
  }
  const password = env.TT_REDIS_PASSWORD || config.redis.password;
  const tls = config.redis.tls
    ? {
        rejectUnauthorized: config.redis.tls.rejectUnauthorized,
        ...(config.redis.tls.ca ? { ca: resolve(root, config.redis.tls.ca) } : {}),
        ...(config.redis.tls.cert ? { cert: resolve(root, config.redis.tls.cert) } : {}),
        ...(config.redis.tls.key ? { key: resolve(root, config.redis.tls.key) } : {}),
      }
    : undefined;
  return { kind: 'external', url, ...(password ? { password } : {}), ...(tls ? { tls } : {}), display: redactUrl(url) };
};

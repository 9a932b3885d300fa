import { createConnection } from 'node:net';

export type PingResult = 'pong' | 'loading' | 'auth' | 'refused' | 'missing' | 'timeout' | 'error';

/** One raw PING on a unix socket: tells a live Redis from a dead socket without a client library. */
export const pingSocket = (path: string, timeoutMs = 500): Promise<PingResult> =>
  new Promise((resolvePing) => {
    let done = false;
    const finish = (r: PingResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolvePing(r);
    };
    const sock = createConnection({ path });
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    let buf = '';
    sock.on('connect', () => sock.write('*1\r\n$4\r\nPING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString();
      if (!buf.includes('\r\n')) return;
      if (buf.startsWith('+PONG')) finish('pong');
      else if (buf.startsWith('-LOADING')) finish('loading');
      else if (/^-(NOAUTH|WRONGPASS)/.test(buf)) finish('auth');
      else finish('error');
    });
    sock.on('error', (e: NodeJS.ErrnoException) =>
      finish(e.code === 'ENOENT' ? 'missing' : e.code === 'ECONNREFUSED' ? 'refused' : 'error'),
    );
  });

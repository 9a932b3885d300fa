/**
 * External Redis: a town whose tt.config.json (or REDIS_URL) names a Redis that tt never starts
 * or stops. Each test runs its own redis-server on a free TCP port (never 6379), killed by pid
 * after the test, and its own town directory and TT_HOME, so tests run in parallel.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { describe, expect, it } from 'vitest';
import {
  baseEnv,
  freePort,
  killPid,
  onCleanup,
  runTt,
  startRedis,
  tempDir,
  type Result,
} from './helpers/town.js';

type Env = Record<string, string | undefined>;

let seq = 0;
const secret = (prefix: string) => `${prefix}-${randomBytes(6).toString('hex')}`;

const managedPid = (dir: string): number | undefined => {
  try {
    return Number(readFileSync(join(dir, '.tt', 'redis.pid'), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
};

interface ExtTown {
  dir: string;
  name: string;
  env: Env;
  tt(...args: string[]): Promise<Result>;
  /** Rewrites the redis section of tt.config.json. */
  setRedis(redis: Record<string, unknown>): void;
}

/** A town directory whose tt.config.json has this redis section. Nothing is started. */
const externalTown = (redis: Record<string, unknown>, env: Env = {}, home?: string): ExtTown => {
  const dir = tempDir('tt-ext-');
  const name = `ext${process.pid}-${++seq}`;
  const setRedis = (r: Record<string, unknown>) =>
    writeFileSync(join(dir, 'tt.config.json'), JSON.stringify({ name, redis: r }, null, 2));
  setRedis(redis);
  const e = { ...baseEnv(home ?? join(dir, 'home')), ...env };
  // Should a bug make tt start a managed server here after all, it must not outlive the test.
  onCleanup(() => killPid(managedPid(dir)));
  return { dir, name, env: e, tt: (...args) => runTt(args, dir, e), setRedis };
};

/** A raw client for assertions, disconnected after the test. */
const rawClient = async (opts: RedisOptions): Promise<Redis> => {
  const r = new Redis({
    host: '127.0.0.1',
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    ...opts,
  });
  r.on('error', () => {});
  onCleanup(() => r.disconnect());
  await r.connect();
  return r;
};

/** A redis-server on a free port that requires this password. */
const passwordRedis = async (password: string) => {
  const port = await freePort();
  const child = await startRedis(['--port', String(port), '--bind', '127.0.0.1', '--requirepass', password], {
    port,
    password,
  });
  return { port, pid: child.pid! };
};

/** The single line tt printed on stderr. */
const errLine = (r: Result): string => {
  const lines = r.err.trimEnd().split('\n');
  expect(lines, r.err).toHaveLength(1);
  return lines[0]!;
};

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** redis-server processes whose command line or working directory is inside dir. */
const redisServersIn = (dir: string): number[] =>
  readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
        if (!cmd.includes('redis-server')) return false;
        let cwd = '';
        try {
          cwd = readlinkSync(`/proc/${p}/cwd`);
        } catch {
          /* not ours to read */
        }
        return cmd.includes(dir) || cwd.startsWith(dir);
      } catch {
        return false;
      }
    })
    .map(Number);

const all = (...rs: Result[]) => rs.map((r) => r.out + r.err).join('\n');

describe('an external Redis with a password', () => {
  it('tt init and tt status work with the password from TT_REDIS_PASSWORD, and never print it', async () => {
    const pw = secret('envpw');
    const { port } = await passwordRedis(pw);
    const town = externalTown({ url: `redis://127.0.0.1:${port}` }, { TT_REDIS_PASSWORD: pw });

    const init = await town.tt('init', '--name', town.name);
    expect(init.code, init.err).toBe(0);
    expect(init.out).toContain(`redis://127.0.0.1:${port}`);

    const status = await town.tt('status', '--json');
    expect(status.code, status.err).toBe(0);
    const s = status.json();
    expect(s.town).toBe(town.name);
    expect(s.endpoint).toBe(`redis://127.0.0.1:${port}`);
    expect(all(init, status)).not.toContain(pw);

    // The town really lives in that server.
    const admin = await rawClient({ port, password: pw });
    expect(await admin.hget(`tt:{${town.name}}:town`, 'name')).toBe(town.name);
    // And tt started nothing of its own.
    expect(existsSync(join(town.dir, '.tt', 'redis.pid'))).toBe(false);
    expect(existsSync(join(town.dir, '.tt', 'redis.sock'))).toBe(false);
  });

  it('redacts a password given in the URL in everything tt prints', async () => {
    // Characters that need percent-encoding in a URL, so both spellings must stay hidden.
    const pw = `${secret('url')}@:/%#`;
    const encoded = encodeURIComponent(pw);
    const { port } = await passwordRedis(pw);
    const town = externalTown({ url: `redis://:${encoded}@127.0.0.1:${port}` });
    const shown = `redis://:****@127.0.0.1:${port}`;

    const init = await town.tt('init');
    expect(init.code, init.err).toBe(0);
    expect(init.out).toContain(shown);
    const up = await town.tt('up');
    expect(up.code, up.err).toBe(0);
    expect(up.out).toContain(`${shown} (external)`);
    const status = await town.tt('status');
    expect(status.code, status.err).toBe(0);
    expect(status.out).toContain(`redis ${shown}`);
    const statusJson = await town.tt('status', '--json');
    expect(statusJson.json().endpoint).toBe(shown);
    const config = await town.tt('config');
    expect(config.code, config.err).toBe(0);
    expect(config.json().config.redis.url).toBe(shown);
    const towns = await town.tt('towns', '--json');
    expect(towns.json().towns).toEqual([expect.objectContaining({ name: town.name, health: 'ok' })]);
    const down = await town.tt('down');
    expect(down.err).toContain(shown);

    const printed = all(init, up, status, statusJson, config, towns, down);
    expect(printed).not.toContain(pw);
    expect(printed).not.toContain(encoded);
  });

  it('tt config redacts the password in the URL and in the password field', async () => {
    const urlPw = secret('urlpw');
    const filePw = secret('filepw');
    const town = externalTown({ url: `redis://alice:${urlPw}@redis.example:7000/2`, password: filePw });
    const config = await town.tt('config');
    expect(config.code, config.err).toBe(0);
    const c = config.json();
    expect(c.config.redis.url).toBe('redis://alice:****@redis.example:7000/2');
    expect(c.config.redis.password).toBe('****');
    expect(c.endpoint).toBe('redis://alice:****@redis.example:7000/2');

    // A password only in the environment, and a URL only in the environment.
    const envPw = secret('envpw');
    const envUrlPw = secret('envurl');
    const other = externalTown(
      {},
      { TT_REDIS_PASSWORD: envPw, REDIS_URL: `rediss://bob:${envUrlPw}@cache.example:6380` },
    );
    const config2 = await other.tt('config');
    expect(config2.code, config2.err).toBe(0);
    expect(config2.json().config.redis).toMatchObject({
      url: 'rediss://bob:****@cache.example:6380',
      password: '****',
    });

    const printed = all(config, config2);
    for (const s of [urlPw, filePw, envPw, envUrlPw]) expect(printed).not.toContain(s);
  });

  it('a password with an unencoded "/" is refused with a hint and never printed', async () => {
    // Generated passwords often hold "/"; unencoded, it ends the URL's authority.
    const pw = `1234/${secret('tail')}`;
    const port = await freePort();
    const urls = [`redis://:${pw}@127.0.0.1:${port}`, `redis://alice:${pw}@127.0.0.1:${port}`];
    for (const url of urls) {
      for (const [where, town] of [
        ['REDIS_URL', externalTown({}, { REDIS_URL: url })],
        ['redis.url', externalTown({ url })],
      ] as const) {
        for (const verb of ['config', 'status', 'init', 'down']) {
          const r = await town.tt(verb);
          expect(r.out + r.err).not.toContain(pw.slice(5));
          expect(r.code, `${where} ${url} ${verb}: ${r.out}${r.err}`).toBe(2);
          const line = errLine(r);
          expect(line).toContain(where);
          // (tt.config.json is checked by its schema first, which names the field but gives no hint.)
          if (where === 'REDIS_URL') expect(line).toMatch(/percent-encode/);
        }
      }
    }
  });

  it('a REDIS_URL that is not a Redis URL is a usage error naming REDIS_URL', async () => {
    const port = await freePort();
    for (const url of [`http://127.0.0.1:${port}`, `127.0.0.1:${port}`]) {
      const town = externalTown({}, { REDIS_URL: url });
      for (const verb of ['status', 'config']) {
        const r = await town.tt(verb);
        expect(r.code, `${url} ${verb}: ${r.out}${r.err}`).toBe(2);
        expect(errLine(r)).toMatch(/REDIS_URL: must be a redis:\/\/, rediss:\/\/ or unix:\/\/ URL/);
      }
    }
  });

  it('REDIS_URL overrides the url in tt.config.json', async () => {
    const pw = secret('pw');
    const { port } = await passwordRedis(pw);
    const dead = await freePort();
    const town = externalTown({ url: `redis://127.0.0.1:${dead}` }, { TT_REDIS_PASSWORD: pw });

    // Without REDIS_URL the file's url is used, and nothing listens there.
    const before = await town.tt('status');
    expect(before.code).toBe(1);
    expect(errLine(before)).toContain(`127.0.0.1:${dead}`);

    town.env.REDIS_URL = `redis://127.0.0.1:${port}`;
    const status = await town.tt('status', '--json');
    expect(status.code, status.err).toBe(0);
    expect(status.json().endpoint).toBe(`redis://127.0.0.1:${port}`);
    const config = await town.tt('config');
    expect(config.json().config.redis.url).toBe(`redis://127.0.0.1:${port}`);
  });
});

describe('authentication failed versus cannot connect', () => {
  it('a wrong password exits 1 with one line saying authentication failed', async () => {
    const right = secret('right');
    const wrong = secret('wrong');
    const { port } = await passwordRedis(right);
    const town = externalTown({ url: `redis://127.0.0.1:${port}` }, { TT_REDIS_PASSWORD: wrong });

    for (const verb of ['init', 'status', 'up']) {
      const r = await town.tt(verb);
      expect(r.code, `${verb}: ${r.err}`).toBe(1);
      const line = errLine(r);
      expect(line).toMatch(/authentication failed/);
      expect(line).not.toMatch(/cannot connect/);
      expect(line).toContain(`redis://127.0.0.1:${port}`);
      expect(line).not.toContain(wrong);
      expect(line).not.toContain(right);
    }

    // The same with the wrong password in the URL.
    town.setRedis({ url: `redis://:${wrong}@127.0.0.1:${port}` });
    delete town.env.TT_REDIS_PASSWORD;
    const r = await town.tt('status');
    expect(r.code).toBe(1);
    const line = errLine(r);
    expect(line).toMatch(/authentication failed/);
    expect(line).toContain(`redis://:****@127.0.0.1:${port}`);
    expect(line).not.toContain(wrong);
  });

  it('no password for a server that requires one says authentication failed', async () => {
    const pw = secret('pw');
    const { port } = await passwordRedis(pw);
    const town = externalTown({ url: `redis://127.0.0.1:${port}` });
    const r = await town.tt('status');
    expect(r.code).toBe(1);
    const line = errLine(r);
    expect(line).toMatch(/authentication failed/);
    expect(line).not.toMatch(/cannot connect/);
  });

  it('no server on the port exits 1 with one line saying cannot connect', async () => {
    const pw = secret('pw');
    const dead = await freePort();
    const town = externalTown(
      { url: `redis://:${pw}@127.0.0.1:${dead}`, password: pw },
      { TT_REDIS_PASSWORD: pw },
    );
    for (const verb of ['init', 'status']) {
      const r = await town.tt(verb);
      expect(r.code, `${verb}: ${r.err}`).toBe(1);
      const line = errLine(r);
      expect(line).toMatch(/cannot connect/);
      expect(line).not.toMatch(/authentication/);
      expect(line).toContain(`redis://:****@127.0.0.1:${dead}`);
      expect(line).not.toContain(pw);
    }
  });

  it('tt towns reports which town fails authentication and which cannot be reached', async () => {
    const pw = secret('pw');
    const { port } = await passwordRedis(pw);
    const home = join(tempDir('tt-home-'), 'home');
    const badAuth = externalTown({ url: `redis://:${pw}@127.0.0.1:${port}` }, {}, home);
    const unreachable = externalTown({ url: `redis://:${pw}@127.0.0.1:${port}` }, {}, home);
    expect((await badAuth.tt('init')).code).toBe(0);
    expect((await unreachable.tt('init')).code).toBe(0);
    const wrong = secret('wrong');
    badAuth.setRedis({ url: `redis://:${wrong}@127.0.0.1:${port}` });
    unreachable.setRedis({ url: `redis://:${pw}@127.0.0.1:${await freePort()}` });

    const towns = await badAuth.tt('towns', '--json');
    expect(towns.code, towns.err).toBe(0);
    const rows = towns.json().towns as { name: string; health: string; problem?: string }[];
    const row = (n: string) => rows.find((r) => r.name === n)!;
    expect(row(badAuth.name).health).toBe('offline');
    expect(row(badAuth.name).problem).toMatch(/authentication failed/);
    expect(row(unreachable.name).health).toBe('offline');
    expect(row(unreachable.name).problem).toMatch(/cannot connect/);
    expect(towns.out).not.toContain(pw);
    expect(towns.out).not.toContain(wrong);
  });
});

describe('ACL users', () => {
  /** A server whose default user is disabled and whose only way in is alice/<password>. */
  const aclRedis = async (alicePw: string, rules = '+@all') => {
    const admin = secret('admin');
    const { port } = await passwordRedis(admin);
    const c = await rawClient({ port, password: admin });
    await c.call('ACL', 'SETUSER', 'alice', 'on', `>${alicePw}`, '~*', '&*', ...rules.split(' '));
    await c.call('ACL', 'SETUSER', 'default', 'off');
    c.disconnect();
    return port;
  };

  it('connects as the ACL user named in the URL', async () => {
    const pw = secret('alice');
    const port = await aclRedis(pw);
    const town = externalTown({ url: `redis://alice:${pw}@127.0.0.1:${port}` });
    const init = await town.tt('init');
    expect(init.code, init.err).toBe(0);
    const status = await town.tt('status', '--json');
    expect(status.code, status.err).toBe(0);
    expect(status.json().endpoint).toBe(`redis://alice:****@127.0.0.1:${port}`);
    expect(all(init, status)).not.toContain(pw);
    const alice = await rawClient({ port, username: 'alice', password: pw });
    expect(await alice.hget(`tt:{${town.name}}:town`, 'name')).toBe(town.name);
  });

  it('takes the ACL user from the URL and its password from TT_REDIS_PASSWORD', async () => {
    const pw = secret('alice');
    const port = await aclRedis(pw);
    const town = externalTown({ url: `redis://alice@127.0.0.1:${port}` }, { TT_REDIS_PASSWORD: pw });
    const status = await town.tt('status', '--json');
    expect(status.code, status.err).toBe(0);
    expect(status.json().endpoint).toBe(`redis://alice@127.0.0.1:${port}`);
  });

  it('TT_REDIS_PASSWORD beats the password in the URL, which beats redis.password', async () => {
    const pw = secret('alice');
    const port = await aclRedis(pw);
    const stale = secret('stale');
    const envWins = externalTown(
      { url: `redis://alice:${stale}@127.0.0.1:${port}` },
      { TT_REDIS_PASSWORD: pw },
    );
    expect((await envWins.tt('status')).code).toBe(0);
    const urlWins = externalTown({ url: `redis://alice:${pw}@127.0.0.1:${port}`, password: stale });
    expect((await urlWins.tt('status')).code).toBe(0);
  });

  it('a wrong ACL password or an unknown user says authentication failed', async () => {
    const pw = secret('alice');
    const port = await aclRedis(pw);
    const wrong = secret('wrong');
    for (const url of [
      `redis://alice:${wrong}@127.0.0.1:${port}`,
      `redis://mallory:${pw}@127.0.0.1:${port}`,
    ]) {
      const town = externalTown({ url });
      const r = await town.tt('status');
      expect(r.code, url).toBe(1);
      const line = errLine(r);
      expect(line).toMatch(/authentication failed/);
      expect(line).not.toMatch(/cannot connect/);
      expect(line).not.toContain(wrong);
      expect(line).not.toContain(pw);
    }
  });

  it('an ACL user without a permission tt needs is told so, not "cannot connect"', async () => {
    const pw = secret('alice');
    const port = await aclRedis(pw, '+@all -info');
    const town = externalTown({ url: `redis://alice:${pw}@127.0.0.1:${port}` });
    const r = await town.tt('status');
    expect(r.code).toBe(1);
    const line = errLine(r);
    expect(line).toMatch(/NOPERM/);
    expect(line).toMatch(/lacks a permission/);
    expect(line).not.toMatch(/cannot connect|authentication failed/);
  });
});

describe('TLS', () => {
  const openssl = (cwd: string, args: string[]) => {
    const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  };

  /** A throwaway CA, a server certificate for 127.0.0.1 and a client certificate, all EC (fast). */
  const makeCerts = (dir: string) => {
    mkdirSync(dir, { recursive: true });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    openssl(dir, [
      'req',
      '-x509',
      ...ec,
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '1',
      '-subj',
      '/CN=tt test CA',
    ]);
    writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
    writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
    for (const who of ['server', 'client']) {
      openssl(dir, [
        'req',
        ...ec,
        '-keyout',
        `${who}.key`,
        '-out',
        `${who}.csr`,
        '-subj',
        `/CN=${who === 'server' ? '127.0.0.1' : 'tt-client'}`,
      ]);
      openssl(dir, [
        'x509',
        '-req',
        '-in',
        `${who}.csr`,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        `${who}.crt`,
        '-days',
        '1',
        '-extfile',
        `${who}.ext`,
      ]);
    }
    const p = (f: string) => join(dir, f);
    return {
      dir,
      ca: p('ca.crt'),
      serverCert: p('server.crt'),
      serverKey: p('server.key'),
      clientCert: p('client.crt'),
      clientKey: p('client.key'),
    };
  };
  type Certs = ReturnType<typeof makeCerts>;

  /** redis-server listening only on TLS; ready once a TLS PING answers. */
  const tlsRedis = async (certs: Certs, opts: { authClients?: boolean } = {}) => {
    const port = await freePort();
    const child = spawn(
      'redis-server',
      [
        '--save',
        '',
        '--appendonly',
        'no',
        '--bind',
        '127.0.0.1',
        '--port',
        '0',
        '--tls-port',
        String(port),
        '--tls-cert-file',
        certs.serverCert,
        '--tls-key-file',
        certs.serverKey,
        '--tls-ca-cert-file',
        certs.ca,
        '--tls-auth-clients',
        opts.authClients ? 'yes' : 'no',
      ],
      { stdio: 'ignore' },
    );
    onCleanup(() => killPid(child.pid));
    let exited: number | null | undefined;
    child.on('exit', (code) => (exited = code));
    const tls = {
      ca: readFileSync(certs.ca),
      ...(opts.authClients
        ? { cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) }
        : {}),
    };
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (exited !== undefined) throw new Error(`TLS redis-server exited with ${exited}`);
      const probe = new Redis({
        host: '127.0.0.1',
        port,
        tls,
        lazyConnect: true,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
      });
      probe.on('error', () => {});
      try {
        await probe.connect();
        await probe.ping();
        probe.disconnect();
        return { port, pid: child.pid! };
      } catch {
        probe.disconnect();
        if (Date.now() > deadline) throw new Error('TLS redis-server did not start');
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };

  it('connects over rediss:// with redis.tls.ca, resolved from the town directory', async () => {
    const town = externalTown({});
    const certs = makeCerts(join(town.dir, 'certs'));
    const { port } = await tlsRedis(certs);
    town.setRedis({ url: `rediss://127.0.0.1:${port}`, tls: { ca: 'certs/ca.crt' } });
    const init = await town.tt('init');
    expect(init.code, init.err).toBe(0);
    // From a subdirectory: the relative CA path is still the town's.
    const sub = join(town.dir, 'sub');
    mkdirSync(sub);
    const status = await runTt(['status', '--json'], sub, town.env);
    expect(status.code, status.err).toBe(0);
    expect(status.json().endpoint).toBe(`rediss://127.0.0.1:${port}`);
    const raw = await rawClient({ port, tls: { ca: readFileSync(certs.ca) } });
    expect(await raw.hget(`tt:{${town.name}}:town`, 'name')).toBe(town.name);
  });

  it('without the CA the certificate is refused: one cannot-connect line', async () => {
    const certs = makeCerts(tempDir('tt-certs-'));
    const { port } = await tlsRedis(certs);
    const town = externalTown({ url: `rediss://127.0.0.1:${port}` });
    const r = await town.tt('status');
    expect(r.code).toBe(1);
    const line = errLine(r);
    expect(line).toMatch(/cannot connect/);
    expect(line).toContain(`rediss://127.0.0.1:${port}`);
    expect(line).toMatch(/certificate/i);
    expect(line).not.toMatch(/authentication/);
  });

  it('rejectUnauthorized false connects without the CA', async () => {
    const certs = makeCerts(tempDir('tt-certs-'));
    const { port } = await tlsRedis(certs);
    const town = externalTown({ url: `rediss://127.0.0.1:${port}`, tls: { rejectUnauthorized: false } });
    const r = await town.tt('status', '--json');
    expect(r.code, r.err).toBe(0);
  });

  it('a server that requires client certificates accepts redis.tls.cert and key, and refuses without them', async () => {
    const certs = makeCerts(tempDir('tt-certs-'));
    const { port } = await tlsRedis(certs, { authClients: true });
    const town = externalTown({
      url: `rediss://127.0.0.1:${port}`,
      tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey },
    });
    const ok = await town.tt('status', '--json');
    expect(ok.code, ok.err).toBe(0);

    town.setRedis({ url: `rediss://127.0.0.1:${port}`, tls: { ca: certs.ca } });
    const refused = await town.tt('status');
    expect(refused.code).toBe(1);
    expect(errLine(refused)).toMatch(/cannot connect/);
  });

  it('a missing CA file is a one-line usage error (exit 2) naming redis.tls.ca', async () => {
    const port = await freePort();
    const town = externalTown({ url: `rediss://127.0.0.1:${port}`, tls: { ca: 'no/such/ca.pem' } });
    for (const verb of ['status', 'init']) {
      const r = await town.tt(verb);
      expect(r.code, `${verb}: ${r.err}`).toBe(2);
      const line = errLine(r);
      expect(line).toContain('redis.tls.ca');
      expect(line).toContain(join(town.dir, 'no/such/ca.pem'));
    }
  });
});

describe('tt never starts or stops an external Redis', () => {
  it('tt down refuses and the server keeps running', async () => {
    const pw = secret('pw');
    const { port, pid } = await passwordRedis(pw);
    const town = externalTown({ url: `redis://127.0.0.1:${port}` }, { TT_REDIS_PASSWORD: pw });
    expect((await town.tt('init')).code).toBe(0);

    const down = await town.tt('down');
    expect(down.code).not.toBe(0);
    const line = errLine(down);
    expect(line).toMatch(/external Redis/);
    expect(line).toMatch(/tt never stops it/);
    expect(line).toContain(`redis://127.0.0.1:${port}`);

    expect(isAlive(pid)).toBe(true);
    const admin = await rawClient({ port, password: pw });
    expect(await admin.ping()).toBe('PONG');
    expect(await admin.hget(`tt:{${town.name}}:town`, 'name')).toBe(town.name);
    // The town still works after the refused down.
    expect((await town.tt('status')).code).toBe(0);
  });

  it('an external Redis on a unix:// socket URL is used as is and left running by tt down', async () => {
    const sockDir = tempDir('tt-sock-');
    const socket = join(sockDir, 'ext.sock');
    const child = await startRedis(['--port', '0', '--unixsocket', socket], { socket });
    const town = externalTown({ url: `unix://${socket}` });
    const init = await town.tt('init');
    expect(init.code, init.err).toBe(0);
    const status = await town.tt('status', '--json');
    expect(status.code, status.err).toBe(0);
    expect(status.json().endpoint).toBe(`unix://${socket}`);
    const down = await town.tt('down');
    expect(down.code).not.toBe(0);
    expect(errLine(down)).toMatch(/tt never stops it/);
    expect(isAlive(child.pid!)).toBe(true);
    const raw = await rawClient({ path: socket });
    expect(await raw.hget(`tt:{${town.name}}:town`, 'name')).toBe(town.name);
    expect(existsSync(join(town.dir, '.tt', 'redis.pid'))).toBe(false);
  });

  it('REDIS_URL at a dead port: init, up and status fail and no redis-server is started', async () => {
    const dead = await freePort();
    // A town that would otherwise be managed: the environment alone makes it external.
    const town = externalTown({}, { REDIS_URL: `redis://127.0.0.1:${dead}` });
    for (const verb of ['init', 'up', 'status']) {
      const r = await town.tt(verb);
      expect(r.code, `${verb}: ${r.err}`).toBe(1);
      expect(errLine(r)).toMatch(/cannot connect to Redis at redis:\/\/127\.0\.0\.1:\d+/);
    }
    const down = await town.tt('down');
    expect(down.err).toMatch(/tt never stops it/);
    expect(existsSync(join(town.dir, '.tt', 'redis.pid'))).toBe(false);
    expect(existsSync(join(town.dir, '.tt', 'redis.sock'))).toBe(false);
    expect(redisServersIn(town.dir)).toEqual([]);
  });

  it('a url in tt.config.json at a dead port starts nothing either', async () => {
    const dead = await freePort();
    const town = externalTown({ url: `redis://127.0.0.1:${dead}` });
    const r = await town.tt('init');
    expect(r.code).toBe(1);
    expect(errLine(r)).toMatch(/cannot connect/);
    expect(existsSync(join(town.dir, '.tt', 'redis.pid'))).toBe(false);
    expect(redisServersIn(town.dir)).toEqual([]);
  });
});

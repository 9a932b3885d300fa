import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseEnv, killPidFile, makeTown, onCleanup, runTt, tempDir } from './helpers/town.js';

const BAD: [string, unknown, RegExp][] = [
  [
    'wrong type',
    { name: 'x', agent: { idleTimeoutSecs: 'soon' } },
    /^tt\.config\.json: agent\.idleTimeoutSecs: .*expected number/,
  ],
  ['unknown top-level key', { name: 'x', colour: 'blue' }, /^tt\.config\.json: unknown key "colour"$/],
  [
    'unknown nested key',
    { name: 'x', redis: { hostt: 'h' } },
    /^tt\.config\.json: unknown key "redis\.hostt"$/,
  ],
  [
    'bad URL',
    { name: 'x', redis: { url: 'http://example.com' } },
    /^tt\.config\.json: redis\.url: must be a redis:\/\/, rediss:\/\/ or unix:\/\/ URL \(percent-encode/,
  ],
  [
    'unparsable URL',
    { name: 'x', redis: { url: 'not a url' } },
    /^tt\.config\.json: redis\.url: must be a redis/,
  ],
  ['bad name', { name: 'has {braces}' }, /^tt\.config\.json: name: must be 1-64 letters/],
  ['missing name', {}, /^tt\.config\.json: name: /],
  [
    'negative number',
    { name: 'x', tasks: { maxAttempts: 0 } },
    /^tt\.config\.json: tasks\.maxAttempts: .*>=1/,
  ],
  ['non-integer', { name: 'x', agent: { maxRounds: 1.5 } }, /^tt\.config\.json: agent\.maxRounds: .*int/],
  ['bad preset table', { name: 'x', clis: { mine: '' } }, /^tt\.config\.json: clis\.mine: /],
];

describe('tt.config.json', () => {
  it.each(BAD)(
    'rejects %s with one line naming the field, exit 2, nothing written',
    async (_label, config, message) => {
      const dir = tempDir();
      const env = baseEnv(join(dir, 'home'));
      writeFileSync(join(dir, 'tt.config.json'), JSON.stringify(config));
      for (const verb of [['status'], ['spawn', 'ada'], ['config']]) {
        const r = await runTt(verb, dir, env);
        expect(r.code, verb.join(' ')).toBe(2);
        const lines = r.err.trim().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]!.replace(/^tt \w+: /, '')).toMatch(message);
      }
      expect(existsSync(join(dir, '.tt'))).toBe(false);
    },
  );

  it('rejects a file that is not JSON, naming it', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'tt.config.json'), '{ "name": ');
    const r = await runTt(['status'], dir, baseEnv(join(dir, 'home')));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/tt\.config\.json: not valid JSON/);
  });

  it('says how to start when there is no town', async () => {
    const dir = tempDir();
    const r = await runTt(['status'], dir, baseEnv(join(dir, 'home')));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no tt\.config\.json here or in any parent directory: run tt init/);
  });

  it('init refuses a bad --name before writing anything', async () => {
    const dir = tempDir();
    const r = await runTt(['init', '--name', 'bad name'], dir, baseEnv(join(dir, 'home')));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--name: name: must be 1-64 letters/);
    expect(existsSync(join(dir, 'tt.config.json'))).toBe(false);
    expect(existsSync(join(dir, '.tt'))).toBe(false);
  });

  it('init derives the name from the git repo and branch, adds .tt/ to .gitignore once, and registers the town', async () => {
    const dir = tempDir();
    const repo = join(dir, 'myrepo');
    const { execFileSync } = await import('node:child_process');
    execFileSync('git', ['init', '-q', '-b', 'feature/login', repo]);
    writeFileSync(join(repo, '.gitignore'), 'node_modules');
    const env = baseEnv(join(dir, 'home'));
    onCleanup(() => killPidFile(join(repo, '.tt', 'redis.pid')));
    const r = await runTt(['init', '--json'], repo, env);
    expect(r.code, r.err).toBe(0);
    expect(r.json()).toMatchObject({ name: 'myrepo-feature-login', created: true, redisStarted: true });
    await runTt(['init'], repo, env);
    expect(readFileSync(join(repo, '.gitignore'), 'utf8')).toBe(
      'node_modules\n# tt runtime files (Redis socket, data, logs)\n.tt/\n',
    );
    const towns = (await runTt(['towns', '--json'], dir, env)).json().towns;
    expect(towns).toEqual([{ name: 'myrepo-feature-login', path: repo, health: 'ok', agents: 0, active: 0 }]);
    await runTt(['down'], repo, env);
    expect((await runTt(['towns', '--json'], dir, env)).json().towns[0].health).toBe('offline');
    const again = await runTt(['init', '--name', 'other'], repo, env);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/already the town "myrepo-feature-login"/);
    await runTt(['down'], repo, env);
  });

  it('finds the town from a subdirectory, and -t points at one elsewhere', async () => {
    const town = await makeTown();
    const sub = join(town.dir, 'src', 'deep');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(sub, { recursive: true });
    expect((await runTt(['status', '--json'], sub, town.env)).json().town).toBe(town.name);
    const elsewhere = tempDir();
    expect((await runTt(['status', '--json', '-t', town.dir], elsewhere, town.env)).json().town).toBe(
      town.name,
    );
    expect((await runTt(['-t', town.dir, '--json', 'status'], elsewhere, town.env)).json().town).toBe(
      town.name,
    );
    expect(
      (await runTt(['--town', town.dir, 'task', 'list', '--json'], elsewhere, town.env)).json().tasks,
    ).toEqual([]);
    const notATown = await runTt(['status', '-t', elsewhere], elsewhere, town.env);
    expect(notATown.code).toBe(2);
    expect(notATown.err).toMatch(/is not a town/);
  });

  it('tt config prints the effective config with defaults and redacted secrets; --schema prints JSON Schema', async () => {
    const town = await makeTown();
    const file = join(town.dir, 'tt.config.json');
    const cfg = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...cfg, clis: { mine: 'my-agent --fast' } }));
    const r = (await town.ok('config')).json();
    expect(r.config).toMatchObject({
      name: town.name,
      defaultCli: 'claude',
      agent: { idleTimeoutSecs: 0 },
      tasks: { maxAttempts: 3 },
    });
    expect(r.clis).toMatchObject({ mine: 'my-agent --fast', claude: expect.stringContaining('claude') });
    const env = {
      ...town.env,
      REDIS_URL: 'redis://user:hunter2@127.0.0.1:1/0',
      TT_REDIS_PASSWORD: 'hunter3',
    };
    const ext = await runTt(['config'], town.dir, env);
    expect(ext.out).not.toMatch(/hunter/);
    expect(ext.json().config.redis).toMatchObject({
      url: 'redis://user:****@127.0.0.1:1/0',
      password: '****',
    });
    expect(ext.json().endpoint).toBe('redis://user:****@127.0.0.1:1/0');
    const schema = (await town.ok('config', '--schema')).json();
    expect(schema.type).toBe('object');
    expect(schema.required).toEqual(['name']);
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['name', 'redis', 'agent', 'tasks', 'clis']),
    );
    expect(schema.additionalProperties).toBe(false);
  });

  it('global defaults in TT_HOME/config.json give the default CLI and presets', async () => {
    const town = await makeTown();
    const { mkdirSync } = await import('node:fs');
    mkdirSync(town.env.TT_HOME!, { recursive: true });
    writeFileSync(
      join(town.env.TT_HOME!, 'config.json'),
      JSON.stringify({ defaultCli: 'mine', clis: { mine: 'my-agent' } }),
    );
    expect((await town.ok('spawn', 'a', '--no-start', '--json')).json().cli).toBe('mine');
    writeFileSync(join(town.env.TT_HOME!, 'config.json'), JSON.stringify({ defaultCli: 3 }));
    const bad = await town.tt('spawn', 'b', '--no-start');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/config\.json: defaultCli: /);
  });
});

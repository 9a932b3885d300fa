import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TASK_STATES } from '../source/model/task.js';
import { keysFor } from '../source/store/keys.js';
import { preludeSources, scriptSources, withPrelude } from '../source/store/scripts.js';
import { makeTown } from './helpers/town.js';

/** The key patterns documented in docs/REDIS.md, as regular expressions. */
const documented = (): { pattern: string; re: RegExp; type: string }[] => {
  const md = readFileSync(new URL('../docs/REDIS.md', import.meta.url), 'utf8');
  const rows = [...md.matchAll(/^\| `(tt:\{<town>\}:[^`]+)` \| ([a-z ]+) \|/gm)];
  return rows.map(([, pattern, type]) => {
    const re = pattern!
      .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      .replace('\\{<town>\\}', '\\{[^}]+\\}')
      .replace(/<id>/g, '[0-9a-f-]{36}')
      .replace(/<n>/g, '[0-9]+')
      .replace(/<state>/g, `(${TASK_STATES.join('|')})`);
    return { pattern: pattern!, re: new RegExp(`^${re}$`), type: type!.trim() };
  });
};

const REDIS_TYPE: Record<string, string> = {
  hash: 'hash',
  string: 'string',
  set: 'set',
  'sorted set': 'zset',
  list: 'list',
  stream: 'stream',
};

describe('key schema', () => {
  it('every key a busy scenario creates is documented in docs/REDIS.md, with its type', async () => {
    const town = await makeTown();
    await town.ok('spawn', 'ada', '--no-start', '--role', 'backend');
    await town.ok('spawn', 'bob', '--no-start');
    const t = (await town.ok('assign', 'ada', 'work', '--json')).json();
    await town.ok('backlog', 'add', 'later', '--priority', 'high');
    await town.ok('send', 'bob', '--urgent', 'now');
    await town.ok('send', 'supervisor', '--query', 'help');
    await town.ok('task', 'complete', t.id);
    await town.ok('close', 'bob');
    const { claimMessages } = await import('../source/store/messages.js');
    const { makeDb } = await import('../source/store/db.js');
    const bob = (await town.ok('list', '--json'))
      .json()
      .agents.find((a: { name: string }) => a.name === 'bob');
    await claimMessages(makeDb(town.redis, town.name, { now: () => Date.now() }), bob.id, 10);
    await town.redis
      .multi()
      .lpush(`${town.prefix}activity:${bob.id}`, 'x')
      .expire(`${town.prefix}activity:${bob.id}`, 3600)
      .exec();
    // An attempt of ada's on her task: its stream and both indexes.
    const { appendAttemptEvents, openAttempt } = await import('../source/store/attempts.js');
    const ada = (await town.ok('list', '--json'))
      .json()
      .agents.find((a: { name: string }) => a.name === 'ada');
    const db = makeDb(town.redis, town.name, { now: () => Date.now() });
    await openAttempt(db, { agentId: ada.id, round: 1 }, [t.id]);
    await appendAttemptEvents(db, { agentId: ada.id, round: 1 }, [{ kind: 'message', text: 'hi' }]);
    // A mission with a chain, a finished item, a note and a leased tick.
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      `${town.dir}/m.json`,
      JSON.stringify({
        items: [
          { key: 'a', title: 'first' },
          { key: 'b', title: 'second', dependsOn: ['a'] },
          { key: 'c', title: 'third', dependsOn: ['b'] },
        ],
      }),
    );
    await town.ok('spawn', 'cy', '--no-start');
    const m = (await town.ok('mission', 'start', '--manifest', 'm.json', '--no-reviewer', '--json')).json();
    const first = (await town.ok('mission', 'status', m.mission.id, '--json'))
      .json()
      .items.find((i: { title: string }) => i.title === 'first');
    await town.ok('task', 'complete', first.task, '--result', 'https://github.com/o/r/pull/7');
    await town.ok('mission', 'note', m.mission.id, 'hello');
    const { testDispatcher } = await import('./helpers/missions.js');
    const { tick } = await import('../source/dispatch/loop.js');
    await tick(testDispatcher(town), [m.mission.id]);

    const docs = documented();
    expect(docs.length).toBeGreaterThan(10);
    const keys = await town.redis.keys('*');
    expect(keys.length).toBeGreaterThan(10);
    const undocumented: string[] = [];
    for (const key of keys) {
      const row = docs.find((d) => d.re.test(key));
      if (!row) {
        undocumented.push(key);
        continue;
      }
      expect(await town.redis.type(key), key).toBe(REDIS_TYPE[row.type]);
    }
    expect(undocumented).toEqual([]);
    // Every key is in the town's hash-tag slot.
    expect(keys.every((k) => k.startsWith(town.prefix))).toBe(true);
  });

  it('the documented bounds hold: stop flags and activity expire, streams are capped', async () => {
    const town = await makeTown();
    const a = (await town.ok('spawn', 'ada', '--no-start', '--json')).json();
    await town.ok('kill', 'ada');
    expect(await town.redis.ttl(`${town.prefix}stop:${a.id}`)).toBeGreaterThan(3500);
    for (let i = 0; i < 1200; i++)
      await town.redis.xadd(`${town.prefix}events:agent:${a.id}`, '*', 'type', 'x', 'data', '{}');
    await town.ok('resume', 'ada').catch(() => undefined);
    await town.ok('restart', 'ada');
    const len = await town.redis.xlen(`${town.prefix}events:agent:${a.id}`);
    expect(len).toBeLessThan(1200);
    // Attempts: the stream and both indexes expire (7 days), the stream is capped (test/logs.test.ts).
    const { appendAttemptEvents, openAttempt } = await import('../source/store/attempts.js');
    const { makeDb } = await import('../source/store/db.js');
    const db = makeDb(town.redis, town.name, { now: () => Date.now() });
    const task = (await town.ok('backlog', 'add', 'x', '--json')).json();
    await openAttempt(db, { agentId: a.id, round: 1 }, [task.id]);
    await appendAttemptEvents(db, { agentId: a.id, round: 1 }, [{ kind: 'message', text: 'hi' }]);
    for (const key of [`attempt:${a.id}:1`, `attempts:task:${task.id}`, `attempts:agent:${a.id}`])
      expect(await town.redis.ttl(town.prefix + key), key).toBeGreaterThan(7 * 86400 - 100);
  });

  it('the Lua key table (K in the prelude) builds every key as keys.ts does, name for name', async () => {
    const town = await makeTown();
    const keys = keysFor(town.name) as unknown as Record<string, string | ((...ids: string[]) => string)>;
    const names = Object.keys(keys).filter((n) => n !== 'prefix');
    const prelude = preludeSources();
    const inLua = [...prelude.join('\n').matchAll(/^(?:function K\.(\w+)\(|K\.(\w+) =)/gm)].map(
      (m) => m[1] ?? m[2],
    );
    expect([...inLua].sort()).toEqual([...names].sort());
    const ids = ['3f0c2a57-aaaa-4bbb-8ccc-000000000001', 'item-2'];
    const expected = names.map((n) => {
      const k = keys[n]!;
      return typeof k === 'string' ? k : k(...ids.slice(0, k.length));
    });
    const exprs = names.map((n) => {
      const k = keys[n]!;
      return typeof k === 'string'
        ? `K.${n}`
        : `K.${n}(${ids
            .slice(0, k.length)
            .map((id) => `'${id}'`)
            .join(', ')})`;
    });
    const body = `return { ${exprs.join(', ')} }`;
    // As the loader registers a script (uses expanded inline), and as the table itself builds them.
    expect(await town.redis.eval(withPrelude(prelude, body), 1, town.prefix, 0)).toEqual(expected);
    expect(await town.redis.eval(`${prelude.join('\n')}\n${body}`, 1, town.prefix, 0)).toEqual(expected);
  });

  it('registered scripts have their key-table uses written out and only the prelude they use', () => {
    const sources = scriptSources();
    for (const [name, lua] of sources) expect(lua.replace(/--.*$/gm, ''), name).not.toMatch(/\bK\./);
    expect(sources.get('task_create')).toContain('local function push_message');
    expect(sources.get('task_create')).not.toContain('begin_round');
    expect(sources.get('worker_begin')).toContain('local function begin_round');
    expect(sources.get('lease')).not.toContain('local function emit');
  });
});

import { townConfigJsonSchema } from '../config/schema.js';
import { downTown, effectiveConfig, initTown, listTowns, resetTownData, upTown } from '../services/town.js';
import { str, type Command } from './command.js';
import { table } from './format.js';

export const init: Command = {
  name: 'init',
  summary: 'make this directory a town: tt.config.json, .tt/, and its Redis',
  description:
    'The name defaults to <repo>-<branch> inside a git work tree, else the directory name.\nRunning it again in a town starts its Redis and changes nothing else.',
  flags: {
    name: { type: 'string', shortFlag: 'n', description: 'the town name', value: 'name' },
    cli: { type: 'string', description: 'default CLI for agents (a preset or a command)', value: 'cli' },
  },
  json: true,
  maxArgs: 0,
  async run(ctx) {
    const r = await initTown(ctx.where, {
      ...(str(ctx.flags, 'name') ? { name: str(ctx.flags, 'name')! } : {}),
      ...(str(ctx.flags, 'cli') ? { cli: str(ctx.flags, 'cli')! } : {}),
    });
    if (ctx.json) return ctx.printJson(r);
    ctx.io.out(`${r.created ? 'created' : 'opened'} town ${r.name} in ${r.root}`);
    ctx.io.out(`redis ${r.endpoint}${r.redisStarted ? ' (started)' : ' (running)'}`);
  },
};

export const up: Command = {
  name: 'up',
  summary: "start the town's Redis if it is not running, and print where it is",
  json: true,
  maxArgs: 0,
  async run(ctx) {
    const r = await upTown(ctx.where);
    if (ctx.json) return ctx.printJson(r);
    ctx.io.out(
      `town ${r.name}: redis ${r.endpoint}${r.managed ? ` (managed${r.pid ? `, pid ${r.pid}` : ''})` : ' (external)'}${r.version ? `, version ${r.version}` : ''}`,
    );
  },
};

export const down: Command = {
  name: 'down',
  summary: "stop the town's workers and its managed Redis (the data stays in .tt/)",
  json: true,
  maxArgs: 0,
  async run(ctx) {
    const r = await downTown(ctx.where);
    if (ctx.json) return ctx.printJson(r);
    if (r.workers) ctx.io.out(`stopped ${r.workers} worker process(es)`);
    ctx.io.out(r.stopped ? `stopped redis ${r.endpoint}` : `redis ${r.endpoint} was not running`);
  },
};

export const config: Command = {
  name: 'config',
  summary: 'print the effective town config (secrets redacted), or its JSON Schema',
  flags: { schema: { type: 'boolean', description: 'print the JSON Schema of tt.config.json' } },
  json: true,
  maxArgs: 0,
  async run(ctx) {
    if (ctx.flags.schema) return ctx.printJson(townConfigJsonSchema());
    ctx.printJson(effectiveConfig(ctx.where));
  },
};

export const towns: Command = {
  name: 'towns',
  summary: 'list the towns this user has initialised, and how each is doing',
  json: true,
  maxArgs: 0,
  async run(ctx) {
    const rows = await listTowns(ctx.io.env);
    if (ctx.json) return ctx.printJson({ towns: rows });
    if (rows.length === 0) return void ctx.io.out('no towns yet: run tt init in a project directory');
    const word = (r: (typeof rows)[number]) =>
      r.health === 'ok'
        ? `[OK] ${r.agents} agents (${r.active} active)`
        : r.health === 'offline'
          ? `[OFFLINE]${r.problem ? ` ${r.problem}` : ''}`
          : r.health === 'missing'
            ? '(path not found)'
            : r.health === 'no-config'
              ? '(no config)'
              : `(bad config: ${r.problem})`;
    ctx.io.out(table(rows.map((r) => [r.name, r.path, word(r)])));
  },
};

export const reset: Command = {
  name: 'reset',
  summary: "delete the town's data in Redis (asks for --force)",
  flags: {
    force: { type: 'boolean', description: 'really delete' },
    agentsOnly: {
      type: 'boolean',
      description: 'delete only agents, their inboxes and logs; keep tasks and the backlog',
    },
  },
  json: true,
  maxArgs: 0,
  async run(ctx) {
    const r = await resetTownData(ctx.where, {
      force: Boolean(ctx.flags.force),
      agentsOnly: Boolean(ctx.flags.agentsOnly),
    });
    if (ctx.json) return ctx.printJson(r);
    const kinds = Object.entries(r.byKind)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    if (!r.done) {
      ctx.io.out(
        `would delete ${r.keys} keys${kinds ? ` (${kinds})` : ''}${ctx.flags.agentsOnly ? ', agents only' : ''}; run again with --force`,
      );
      return;
    }
    ctx.io.out(`deleted ${r.keys} keys`);
  },
};

export const townCommands = [init, up, down, config, towns, reset];

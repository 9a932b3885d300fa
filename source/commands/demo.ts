import { startDemo } from '../services/demo.js';
import { downTown } from '../services/town.js';
import { townStatus } from '../services/status.js';
import { str, type Command } from './command.js';
import { consoleFlags, openConsole } from './console.js';
import { status } from './status.js';

export const demo: Command = {
  name: 'demo',
  summary: 'start a throwaway demo town with simulated agents and some work',
  description:
    'Creates (or starts afresh) a town in $TMPDIR/tt-demo-<uid> with three sim agents, queued work and\nan offline mission, then opens the console on it (or prints its status without a terminal).',
  flags: {
    dir: { type: 'string', description: 'where to put the demo town', value: 'dir' },
    keep: { type: 'boolean', description: 'leave the demo town running when the console closes' },
    ...consoleFlags,
  },
  json: true,
  maxArgs: 0,
  async run(ctx) {
    const dir = str(ctx.flags, 'dir');
    const t = await startDemo(ctx.where, dir);
    try {
      if (ctx.json) return ctx.printJson(await townStatus(t));
    } finally {
      await t.close();
    }
    const term = ctx.io.terminal;
    if (term?.stdout.isTTY && term.stdin.isTTY && !ctx.flags.plain) {
      const code = await openConsole(ctx, t.root);
      // A throwaway town should not outlive its console: its agents and Redis stop with it.
      if (ctx.flags.keep)
        ctx.io.out(`the demo town keeps running in ${t.root}; stop it with: tt down -t ${t.root}`);
      else {
        const down = await downTown({ ...ctx.where, town: t.root });
        ctx.io.out(
          `demo town stopped (${down.workers} agents and its Redis); tt demo starts it afresh, tt demo --keep leaves it running`,
        );
      }
      return code;
    }
    ctx.io.out(`demo town in ${t.root}; open it with: tt -t ${t.root}   (or tt -t ${t.root} status)\n`);
    return status.run({ ...ctx, where: { ...ctx.where, town: t.root } });
  },
};

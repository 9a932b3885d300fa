import { startDemo } from '../services/demo.js';
import { townStatus } from '../services/status.js';
import { str, type Command } from './command.js';
import { consoleFlags, openConsole } from './console.js';
import { status } from './status.js';

export const demo: Command = {
  name: 'demo',
  summary: 'start a throwaway demo town with simulated agents and some work',
  description: 'Creates (or starts afresh) a town in $TMPDIR/tt-demo-<uid> with three sim agents, queued work and\nan offline mission, then opens the console on it (or prints its status without a terminal).',
  flags: { dir: { type: 'string', description: 'where to put the demo town', value: 'dir' }, ...consoleFlags },
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
    if (term?.stdout.isTTY && term.stdin.isTTY && !ctx.flags.plain) return openConsole(ctx, t.root);
    ctx.io.out(`demo town in ${t.root}; open it with: tt -t ${t.root}   (or tt -t ${t.root} status)\n`);
    return status.run({ ...ctx, where: { ...ctx.where, town: t.root } });
  },
};

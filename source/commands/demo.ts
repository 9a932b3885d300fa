import { startDemo } from '../services/demo.js';
import { townStatus } from '../services/status.js';
import { str, type Command } from './command.js';
import { status } from './status.js';

export const demo: Command = {
  name: 'demo',
  summary: 'start a throwaway demo town with simulated agents and some work',
  description: 'Creates (or starts afresh) a town in $TMPDIR/tt-demo-<uid>, registers three sim agents,\nqueues work, and shows the town.',
  flags: { dir: { type: 'string', description: 'where to put the demo town', value: 'dir' } },
  json: true,
  maxArgs: 0,
  async run(ctx) {
    const dir = str(ctx.flags, 'dir');
    const t = await startDemo(ctx.where, dir);
    try {
      if (ctx.json) return ctx.printJson(await townStatus(t));
      ctx.io.out(`demo town in ${t.root}; try: tt -t ${t.root} status, tt -t ${t.root} history\n`);
    } finally {
      await t.close();
    }
    return status.run({ ...ctx, where: { ...ctx.where, town: t.root } });
  },
};

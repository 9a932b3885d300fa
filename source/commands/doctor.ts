import { doctor as checkClis, type CliCheck } from '../services/doctor.js';
import type { Command } from './command.js';
import { table } from './format.js';

const status = (c: CliCheck): string =>
  c.kind === 'sim' ? 'built in' : c.usable ? (c.found ? 'ok' : 'unchecked') : c.found ? 'broken' : 'missing';

export const doctor: Command = {
  name: 'doctor',
  summary: 'check each CLI preset: found on PATH, its version, usable or the fix',
  description:
    "Runs each agent CLI's --version (with a timeout) and says what it needs: the install command of\nthe release tt is verified with, the environment tt sets for it, the keys or login it wants.\nExits 1 when the default CLI is not usable.",
  json: true,
  maxArgs: 0,
  async run(ctx) {
    const r = await checkClis(ctx.where);
    const dflt = r.clis.find((c) => c.name === r.defaultCli);
    const code = dflt && !dflt.usable ? 1 : 0;
    if (ctx.json) {
      ctx.printJson(r);
      return code;
    }
    const out = ctx.io.out;
    out(
      table([
        ['CLI', 'STATUS', 'VERSION', 'WHERE'],
        ...r.clis.map((c) => [
          c.name,
          status(c),
          c.version ?? '-',
          c.path ?? (c.kind === 'sim' ? '-' : (c.problem ?? c.command)),
        ]),
      ]),
    );
    const details = r.clis.flatMap((c) => [
      ...(c.path && c.problem ? [`${c.name}: ${c.problem}`] : []),
      ...(c.fix ? [`${c.name}: fix: ${c.fix}`] : []),
      ...c.notes.filter(() => c.kind !== 'sim').map((n) => `${c.name}: ${n}`),
    ]);
    if (details.length) out(['', ...details].join('\n'));
    out(`\ndefault CLI ${r.defaultCli}: ${dflt?.usable ? 'usable' : 'not usable'}`);
    return code;
  },
};

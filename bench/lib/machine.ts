/**
 * What the machine and the bench Redis were doing around a measurement: background CPU load,
 * CPU placement, and Redis command counts (INFO commandstats / stats), so a report can say where
 * the time went.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { Redis } from 'ioredis';

const cpuTimes = () =>
  cpus().reduce(
    (a, c) => ({
      busy: a.busy + c.times.user + c.times.nice + c.times.sys + c.times.irq,
      total: a.total + c.times.user + c.times.nice + c.times.sys + c.times.irq + c.times.idle,
    }),
    { busy: 0, total: 0 },
  );

/** How busy the machine's CPUs are (0-100, all CPUs together) over `ms`, before anything of ours runs. */
export const backgroundBusyPct = async (ms: number): Promise<number> => {
  const a = cpuTimes();
  await new Promise((r) => setTimeout(r, ms));
  const b = cpuTimes();
  return b.total > a.total ? ((b.busy - a.busy) / (b.total - a.total)) * 100 : Number.NaN;
};

/** The CPUs a process may run on (Linux), to show whether the placement is pinned. */
export const cpusAllowed = (pid: number | 'self'): string => {
  try {
    return /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '?';
  } catch {
    return '?';
  }
};

export interface CommandStat {
  calls: number;
  usec: number;
}

/** INFO commandstats as a map: command name (e.g. "evalsha", "client|list") -> calls and usec. */
export const commandStats = async (admin: Redis): Promise<Map<string, CommandStat>> => {
  const info = await admin.info('commandstats');
  const out = new Map<string, CommandStat>();
  for (const m of info.matchAll(/^cmdstat_(\S+?):calls=(\d+),usec=(\d+)/gm))
    out.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
  return out;
};

/** What ran between two commandstats snapshots, busiest first. */
export const commandStatsDelta = (
  before: Map<string, CommandStat>,
  after: Map<string, CommandStat>,
): [string, CommandStat][] =>
  [...after]
    .map(([name, a]): [string, CommandStat] => {
      const b = before.get(name) ?? { calls: 0, usec: 0 };
      return [name, { calls: a.calls - b.calls, usec: a.usec - b.usec }];
    })
    .filter(([, d]) => d.calls > 0)
    .sort((x, y) => y[1].usec - x[1].usec);

/** Commands Redis executed so far, those run inside scripts included (INFO stats). */
export const commandsProcessed = async (admin: Redis): Promise<number> =>
  Number(/^total_commands_processed:(\d+)/m.exec(await admin.info('stats'))?.[1] ?? Number.NaN);

/** The machine a run measured: Node, CPU count and model (and the Redis version when given). */
export const machineFacts = (redisVersion?: string) => {
  const cpu = cpus();
  return {
    ...(redisVersion ? { redis: redisVersion } : {}),
    node: process.version,
    cpus: cpu.length,
    cpuModel: cpu[0]?.model.trim() ?? '?',
  };
};

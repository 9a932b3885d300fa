import { z } from 'zod';

/** Town names become part of every key: letters, digits, '.', '_' and '-' only. */
export const TOWN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const redisUrl = z.string().refine((s) => {
  try {
    return ['redis:', 'rediss:', 'unix:'].includes(new URL(s).protocol);
  } catch {
    return false;
  }
}, 'must be a redis://, rediss:// or unix:// URL (percent-encode any "/", "?", "#" or "@" in the user or password)');

const secs = (def: number) => z.number().int().min(0).default(def);

export const TlsConfig = z.strictObject({
  ca: z.string().optional().describe('path to a CA certificate (PEM)'),
  cert: z.string().optional().describe('path to a client certificate (PEM)'),
  key: z.string().optional().describe('path to the client key (PEM)'),
  rejectUnauthorized: z.boolean().default(true),
});

export const RedisConfig = z.strictObject({
  url: redisUrl.optional().describe('an external Redis; tt never starts or stops it. REDIS_URL overrides.'),
  password: z.string().optional().describe('password for an external Redis; TT_REDIS_PASSWORD overrides'),
  socket: z
    .string()
    .default('.tt/redis.sock')
    .describe('managed Redis: unix socket path, relative to the town'),
  tls: TlsConfig.optional(),
});

const period = (def: number) => z.number().min(0.05).default(def);

export const AgentConfig = z.strictObject({
  idleTimeoutSecs: secs(0).describe(
    'a worker with nothing to do for this long drains and stops; 0 (the default) never',
  ),
  quarantineAfter: z
    .number()
    .int()
    .min(0)
    .default(3)
    .describe(
      'an agent whose attempts fail this many times in a row, each within fastFailSecs, is quarantined: it takes no work until tt resume; 0 never',
    ),
  fastFailSecs: period(30).describe('an attempt that fails in less than this counts towards quarantineAfter'),
  retryGraceSecs: secs(10).describe(
    'a retried task waits this long after it is due for an agent other than the one that failed it, when another is idle',
  ),
  maxRounds: z.number().int().min(0).default(10).describe('rounds a worker runs before it stops; 0 no limit'),
  heartbeatSecs: period(3).describe('how often a live worker refreshes its heartbeat'),
  heartbeatTtlSecs: period(10).describe(
    'an agent whose heartbeat is older than this is dead: its work is taken back',
  ),
  reapIntervalSecs: period(5).describe('how often the town looks for dead agents and due retries'),
  taskTimeoutSecs: z
    .number()
    .min(0)
    .optional()
    .describe(
      'kill a CLI round after this long (attempt class timeout); 0 never; default 3600 for CLIs judged by their report, 0 for other commands',
    ),
  stallTimeoutSecs: z
    .number()
    .min(0)
    .optional()
    .describe(
      'kill a CLI round that prints nothing for this long (attempt class stalled); 0 never; default 600 for CLIs judged by their report, 0 for other commands',
    ),
  judge: z
    .record(z.string(), z.enum(['report', 'exit']))
    .default({})
    .describe(
      'how a CLI\'s attempt is judged, by preset name or command: "report" (only the agent\'s own tt task complete|fail counts; exit 0 without it fails) or "exit" (the exit code decides); default report for the coding-agent presets, exit for other commands',
    ),
  tasksPerRound: z
    .number()
    .int()
    .min(1)
    .default(1)
    .describe('task assignments a worker takes into one round'),
  autoClaim: z
    .boolean()
    .default(true)
    .describe('an idle worker takes backlog tasks that fit its role and capabilities'),
});

export const TaskConfig = z.strictObject({
  maxAttempts: z.number().int().min(1).default(3),
  backoffBaseSecs: z.number().min(0).default(5),
  backoffMaxSecs: z.number().min(0).default(600),
});

export const DispatchSettings = z.strictObject({
  tickSecs: z.number().min(0.05).default(30).describe('how often the dispatcher ticks when nothing wakes it'),
  leaseTtlSecs: z
    .number()
    .min(0.1)
    .default(90)
    .describe('a dispatcher silent this long loses its missions to another'),
  helpRepeatSecs: z
    .number()
    .min(0)
    .default(1800)
    .describe('base interval before the same help request is sent again'),
  helpBackoffCap: z.number().int().min(1).default(8),
  watchSnoozeSecs: z.number().min(0).default(180),
  watchMaxFailures: z.number().int().min(1).default(5),
});

export const GitHubSettings = z.strictObject({
  apiUrl: z
    .string()
    .url()
    .optional()
    .describe('GitHub API address; https://host/api/v3 for GitHub Enterprise'),
  repo: z
    .string()
    .regex(/^[\w.-]+\/[\w.-]+$/, 'must be owner/repo')
    .optional()
    .describe('the repository bare issue numbers belong to (default: the git origin)'),
  requireChecks: z
    .boolean()
    .default(false)
    .describe('a pull request with no CI at all asks the operator instead of counting as green'),
});

export const ConsoleSettings = z.strictObject({
  keys: z
    .record(z.string(), z.array(z.string().min(1)).min(1))
    .default({})
    .describe('key bindings: console command id -> keys, e.g. { "pause": ["P"] }'),
  mono: z.boolean().default(false).describe('no colours'),
});

export const WorktreeSettings = z.strictObject({
  enabled: z
    .boolean()
    .default(true)
    .describe('in a git town, each agent works in a git worktree of its own, a branch per task'),
  root: z
    .string()
    .min(1)
    .optional()
    .describe(
      'the folder agent worktrees go in (under <root>/<town>/<agent>), relative to the town; ' +
        'outside its checkout; default .tt-worktrees beside the checkout',
    ),
  baseBranch: z
    .string()
    .min(1)
    .optional()
    .describe('the branch task branches start from; default the branch checked out in the town'),
  setup: z
    .array(z.string().min(1))
    .default([])
    .describe(
      'shell commands run once in a new worktree, in order (e.g. "npm ci"); they see TT_TOWN, ' +
        'TT_AGENT_NAME and TT_WORKTREE',
    ),
  setupTimeoutSecs: secs(600).describe('the setup commands together may take this long; 0 no limit'),
});

export const TownConfig = z.strictObject({
  $schema: z.string().optional(),
  name: z.string().regex(TOWN_NAME, 'must be 1-64 letters, digits, ".", "_" or "-"'),
  defaultCli: z
    .string()
    .min(1)
    .optional()
    .describe('CLI for new agents; falls back to the global default, then claude'),
  clis: z
    .record(z.string(), z.string().min(1))
    .default({})
    .describe('CLI presets of this town: name -> command line'),
  redis: RedisConfig.default({ socket: '.tt/redis.sock' }),
  agent: AgentConfig.default(AgentConfig.parse({})),
  tasks: TaskConfig.default(TaskConfig.parse({})),
  dispatch: DispatchSettings.default(DispatchSettings.parse({})),
  github: GitHubSettings.default({ requireChecks: false }),
  console: ConsoleSettings.default({ keys: {}, mono: false }),
  worktrees: WorktreeSettings.default(WorktreeSettings.parse({})),
});
export type TownConfig = z.infer<typeof TownConfig>;

export const GlobalConfig = z.strictObject({
  defaultCli: z.string().min(1).optional(),
  clis: z.record(z.string(), z.string().min(1)).default({}),
});
export type GlobalConfig = z.infer<typeof GlobalConfig>;

export const TownsRegistry = z.strictObject({
  towns: z.array(z.strictObject({ name: z.string(), path: z.string() })).default([]),
});
export type TownsRegistry = z.infer<typeof TownsRegistry>;

export const townConfigJsonSchema = (): object => z.toJSONSchema(TownConfig, { io: 'input' });

/** One line naming the field and what is wrong with it. */
export const describeIssue = (source: string, error: z.ZodError): string => {
  const issue = error.issues[0]!;
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (path ? `${path}.${k}` : k));
    return `${source}: unknown key ${keys.map((k) => `"${k}"`).join(', ')}`;
  }
  return `${source}: ${path || '(top level)'}: ${issue.message}`;
};

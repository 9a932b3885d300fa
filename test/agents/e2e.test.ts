// End to end: real `tt spawn`ed workers run the REAL claude, codex and gemini CLIs (pinned, from
// the cache scripts/agent-clis.sh fills) against the stand-in model, in a git town with its own
// redis-server. The model is scripted to do what the prompt tells an agent: run the
// `tt task complete <id> --result-file <file>` line it reads from the prompt, through the CLI's
// own shell tool. Then the ways an attempt fails, each ending with its class in the task's
// lastError and a `finished` event in the attempt's stream. The tests run one after another (the
// CLIs' start-up is heavy on a small machine); the timeouts are set small through config.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { environValue, isAlive } from '../../source/redis/process.js';
import {
  agentCliOrSkip,
  requireAgentCli,
  setupAgent,
  type AgentCliName,
  type SetupOptions,
} from '../helpers/agent-clis.js';
import { waitForEvent, waitForEvents } from '../helpers/events.js';
import { makeGitTown } from '../helpers/git-town.js';
import {
  startModelServer,
  turn,
  type ModelServer,
  type RecordedRequest,
  type Turn,
} from '../helpers/model-server.js';
import { FAST, waitPidGone } from '../helpers/processes.js';
import { killPid, makeTown, onCleanup, runTt, type TestTown } from '../helpers/town.js';

const CLIS = ['claude', 'codex', 'gemini'] as const;
/** How long a test waits for an outcome: gemini alone has taken 15 s to start on a busy machine. */
const WAIT_MS = 90_000;
const TEST_MS = 150_000;

/** Per CLI: give up on a failing model after one retry (their defaults retry for a minute or more). */
const FAST_FAIL: Record<AgentCliName, Partial<SetupOptions>> = {
  claude: { env: { CLAUDE_CODE_MAX_RETRIES: '1' } },
  codex: { codexProvider: { request_max_retries: 1, stream_max_retries: 1 } },
  gemini: { geminiGeneral: { maxAttempts: 1 } },
  copilot: {},
  auggie: {},
};

const skipOf = (names: readonly AgentCliName[]): string | undefined =>
  names.map((n) => agentCliOrSkip(n).skip).find(Boolean);

/**
 * The shell command the prompt tells the agent to run to complete its task, the report file
 * written first; `before` runs ahead of it (the agent's "work"). Read from the request the model
 * answers, as a model would read its prompt.
 */
const completeAsTold =
  (report: string, before = '') =>
  (req: RecordedRequest): string => {
    const m = /(\/[^\s"\\`]+\/tt) task complete ([0-9a-f-]{36}) --result-file ([^\s"\\`]+)/.exec(
      JSON.stringify(req.body),
    );
    if (!m) return 'echo "the prompt names no tt task complete command" >&2; exit 1';
    const [, tt, id, file] = m;
    return `${before}echo '${report}' > ${file} && ${tt} task complete ${id} --result-file ${file}`;
  };

/** The text of every request the model got, to look for what the prompt said. */
const bodies = (server: ModelServer): string[] => server.mainRequests().map((r) => JSON.stringify(r.body));

interface Town extends TestTown {
  git: (...args: string[]) => string;
}

/** A git town with fast workers, one attempt per task unless told otherwise. */
const gitTown = async (
  agent: Record<string, unknown>,
  tasks: Record<string, unknown> = {},
): Promise<Town> => {
  const town = await makeTown();
  // A worker's heartbeat may lag while the CLIs start on a loaded machine: no reaping on a hiccup.
  town.configure({
    ...FAST,
    agent: { ...FAST.agent, heartbeatTtlSecs: 5, ...agent },
    tasks: { ...FAST.tasks, maxAttempts: 1, ...tasks },
  });
  const { git } = makeGitTown(town, { 'shared.txt': 'the original\n', 'README.md': 'a town\n' });
  return Object.assign(town, { git });
};

/**
 * Spawns an agent on a real CLI pointed at its own stand-in model: `tt spawn` with the CLI's
 * environment (a temporary HOME with its settings, the model's address, the cached binary on
 * PATH). Its worker is stopped with SIGTERM after the test (its round aborts, the CLI's group is
 * killed), then killed.
 */
const spawnAgent = async (
  town: Town,
  name: string,
  cli: AgentCliName,
  script: Turn[],
  o: Partial<SetupOptions> = {},
): Promise<{ id: string; pid: number; server: ModelServer }> => {
  const bin = requireAgentCli(cli);
  const server = await startModelServer(script);
  onCleanup(() => server.close());
  const setup = setupAgent(cli, { baseUrl: server.url, ...FAST_FAIL[cli], ...o });
  onCleanup(() => setup.cleanup());
  const env = { ...town.env, ...setup.env, PATH: `${dirname(bin.path)}:${setup.env.PATH}` };
  const r = await runTt(['spawn', name, '--cli', cli, '--json'], town.dir, env);
  if (r.code !== 0) throw new Error(`tt spawn ${name} exited ${r.code}: ${r.err}`);
  const { id } = r.json<{ id: string }>();
  const pid = Number(await town.redis.hget(`${town.prefix}agent:${id}`, 'pid'));
  onCleanup(async () => {
    killPid(pid, 'SIGTERM');
    await waitPidGone(pid, 15_000).catch(() => killPid(pid));
  });
  return { id, pid, server };
};

/** An attempt's stored events, oldest first. */
const attemptEvents = async (town: TestTown, agentId: string, round: number) =>
  (
    (await town.redis.xrange(`${town.prefix}attempt:${agentId}:${round}`, '-', '+')) as [string, string[]][]
  ).map(([, f]) => JSON.parse(f[f.indexOf('data') + 1]!) as { kind: string; [k: string]: unknown });

const taskOf = async (town: TestTown, id: string) => (await town.ok('task', 'show', id, '--json')).json();

/** The worker's log and the round's raw log, for a failing assertion's message. */
const logsOf = (town: TestTown, name: string): string => {
  const dir = join(town.dir, '.tt', 'logs');
  return readdirSync(dir)
    .filter((f) => f.startsWith(name))
    .map((f) => `--- ${f}\n${readFileSync(join(dir, f), 'utf8').slice(-3000)}`)
    .join('\n');
};

/** Assigns a task and waits until it is dead (its one attempt failed); returns the task. */
const failOnce = async (town: Town, agent: string, what: string) => {
  const task = (await town.ok('assign', agent, what, '--json')).json();
  await waitForEvent(town, (e) => e.type === 'task.dead' && e.task === task.id, WAIT_MS).catch((e: Error) => {
    throw new Error(`${e.message}\n${logsOf(town, agent)}`);
  });
  return taskOf(town, task.id);
};

/** Waits until an agent's worker went from working to idle `times` times: its round is over. */
const roundEnded = (town: TestTown, agentId: string, times = 1) =>
  waitForEvents(
    town,
    (e) => e.type === 'agent.state' && e.agent === agentId && e.prev === 'working' && e.state === 'idle',
    times,
    WAIT_MS,
  );

/** The attempt ends with the verdict: the classified error, then a failed `finished`. */
const expectFailedAttempt = async (town: TestTown, agentId: string, cls: string) => {
  const events = await attemptEvents(town, agentId, 1);
  expect(events.at(-2)).toMatchObject({ kind: 'error', class: cls });
  expect(events.at(-1)).toMatchObject({ kind: 'finished', ok: false });
  expect(events.filter((e) => e.kind === 'finished')).toHaveLength(1);
  return events;
};

describe(`claude, codex and gemini in a git town${skipOf(CLIS) ? ` (skipped: ${skipOf(CLIS)})` : ''}`, () => {
  const t = skipOf(CLIS) ? test.skip : test;

  t(
    'in parallel, each edits the same file and completes its task through its own report, on its own branch',
    async () => {
      const town = await gitTown({ taskTimeoutSecs: 120, stallTimeoutSecs: 60 });
      const agents = await Promise.all(
        CLIS.map(async (cli) => {
          const script = [
            turn.shell(completeAsTold(`${cli} edited shared.txt`, `echo '${cli} was here' > shared.txt && `)),
            turn.say(`Done: ${cli} edited shared.txt and reported.`),
          ];
          return { cli, name: `${cli}-1`, ...(await spawnAgent(town, `${cli}-1`, cli, script)) };
        }),
      );
      const tasks = [];
      for (const a of agents)
        tasks.push((await town.ok('assign', a.name, `edit shared.txt as ${a.cli}`, '--json')).json());
      await Promise.all(
        tasks.map((task, i) =>
          waitForEvent(town, (e) => e.type === 'task.completed' && e.task === task.id, WAIT_MS).catch(
            (e: Error) => {
              throw new Error(`${e.message}\n${logsOf(town, agents[i]!.name)}`);
            },
          ),
        ),
      );
      // The report ends the task while the CLI still runs; the round ends (and tt commits what
      // the agent left, and records its branch) once the CLI has exited.
      await Promise.all(agents.map((a) => roundEnded(town, a.id)));
      for (const [i, a] of agents.entries()) {
        const shown = await taskOf(town, tasks[i].id);
        // The agent's own report stands: its result file, not the CLI's last words.
        expect(shown.result, a.cli).toBe(`${a.cli} edited shared.txt\n`);
        expect(shown.lastError, a.cli).toBeUndefined();
        expect(shown.branch, a.cli).toMatch(
          new RegExp(`^tt/${a.name}/${tasks[i].id.slice(0, 8)}-edit-shared-txt`),
        );
        // Its edit is on its branch, committed by tt once the CLI was gone.
        expect(town.git('show', `${shown.branch}:shared.txt`), a.cli).toBe(`${a.cli} was here\n`);
        expect(town.git('rev-parse', shown.branch).trim()).toBe(shown.head);
        // The prompt told it where it works, on which branch.
        expect(bodies(a.server)[0], a.cli).toContain(`Your branch: ${shown.branch}`);
        const events = await attemptEvents(town, a.id, 1);
        expect(
          events.some((e) => e.kind === 'tool_call'),
          a.cli,
        ).toBe(true);
        expect(
          events.some((e) => e.kind === 'tool_result' && e.ok === true),
          a.cli,
        ).toBe(true);
        expect(events.at(-1), a.cli).toMatchObject({ kind: 'finished', ok: true });
        expect(
          events.filter((e) => e.kind === 'finished'),
          a.cli,
        ).toHaveLength(1);
      }
      // The town's own checkout is untouched.
      expect(readFileSync(join(town.dir, 'shared.txt'), 'utf8')).toBe('the original\n');
      expect(town.git('status', '--porcelain')).toBe('');
      expect(town.git('branch', '--show-current').trim()).toBe('main');
    },
    TEST_MS,
  );

  t(
    'claude exits 0 without reporting: the attempt fails (no_report), the retry is told why and reports',
    async () => {
      const town = await gitTown({ taskTimeoutSecs: 60, stallTimeoutSecs: 30 }, { maxAttempts: 2 });
      const { id, server } = await spawnAgent(town, 'cleo', 'claude', [
        turn.say('done'),
        turn.shell(completeAsTold('reported on the second try')),
        turn.say('Reported.'),
      ]);
      const task = (await town.ok('assign', 'cleo', 'do the thing', '--json')).json();
      const retry = await waitForEvent(town, (e) => e.type === 'task.retry' && e.task === task.id, WAIT_MS);
      expect(retry.text).toMatch(/no_report: exited without reporting/);
      await waitForEvent(town, (e) => e.type === 'task.completed' && e.task === task.id, WAIT_MS);
      await roundEnded(town, id, 2);
      const shown = await taskOf(town, task.id);
      expect(shown).toMatchObject({
        state: 'completed',
        result: 'reported on the second try\n',
        attempts: 2,
      });
      expect(shown.branch).toMatch(/^tt\/cleo\//);
      expect(shown.lastError).toMatch(/^no_report: /);
      const first = await expectFailedAttempt(town, id, 'no_report');
      expect(first).toContainEqual(expect.objectContaining({ kind: 'message', text: 'done' }));
      expect(bodies(server).at(-1)).toContain('The previous attempt failed (no_report)');
    },
    TEST_MS,
  );

  t(
    'codex on a model that answers 500: class api',
    async () => {
      const town = await gitTown({ taskTimeoutSecs: 60, stallTimeoutSecs: 45 });
      const { id } = await spawnAgent(town, 'cody', 'codex', [turn.fail(500, { times: Infinity })], {
        codexProvider: { request_max_retries: 0, stream_max_retries: 0 },
      });
      const shown = await failOnce(town, 'cody', 'fail on the API');
      expect(shown.lastError).toMatch(/^api: /);
      await expectFailedAttempt(town, id, 'api');
    },
    TEST_MS,
  );

  t(
    'gemini on a model that answers 500 (it exits 244): class api',
    async () => {
      const town = await gitTown({ taskTimeoutSecs: 90, stallTimeoutSecs: 60 });
      const { id } = await spawnAgent(town, 'gemma', 'gemini', [turn.fail(500, { times: Infinity })]);
      const shown = await failOnce(town, 'gemma', 'fail on the API');
      expect(shown.lastError).toMatch(/^api: /);
      await expectFailedAttempt(town, id, 'api');
    },
    TEST_MS,
  );

  t(
    'claude on a model that never answers: the task timeout kills it (class timeout)',
    async () => {
      const town = await gitTown({ taskTimeoutSecs: 10, stallTimeoutSecs: 60 });
      const { id, server } = await spawnAgent(town, 'hank', 'claude', [turn.hang()]);
      const shown = await failOnce(town, 'hank', 'wait for the model');
      expect(server.mainRequests().length, 'it was waiting on the model').toBeGreaterThan(0);
      expect(shown.lastError).toBe('timeout: timed out after 10s');
      await expectFailedAttempt(town, id, 'timeout');
    },
    TEST_MS,
  );

  t(
    'claude on a model that stalls after its headers: the stall timeout kills it (class stalled)',
    async () => {
      const town = await gitTown({ taskTimeoutSecs: 60, stallTimeoutSecs: 10 });
      const { id, server } = await spawnAgent(town, 'stan', 'claude', [turn.stall()]);
      const shown = await failOnce(town, 'stan', 'wait for the stream');
      expect(server.mainRequests().length, 'it was reading the stalled stream').toBeGreaterThan(0);
      expect(shown.lastError).toBe('stalled: no output for 10s');
      await expectFailedAttempt(town, id, 'stalled');
    },
    TEST_MS,
  );

  t(
    'claude killed in the middle of a round: class crash, and its work is still committed',
    async () => {
      const town = await gitTown({ taskTimeoutSecs: 60, stallTimeoutSecs: 45 });
      const { id, server } = await spawnAgent(town, 'kit', 'claude', [
        turn.shell(`echo 'half done' > shared.txt`),
        turn.hang(),
      ]);
      const task = (await town.ok('assign', 'kit', 'edit, then crash', '--json')).json();
      // Once it has edited the file and asked the model again, kill the CLI itself.
      const deadline = Date.now() + WAIT_MS;
      while (server.mainRequests().length < 2) {
        if (Date.now() > deadline)
          throw new Error(`claude never came back to the model\n${logsOf(town, 'kit')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const victim = cliProcess(id, 'claude');
      expect(victim, 'the claude process of the round').toBeDefined();
      killPid(victim, 'SIGKILL');
      await waitForEvent(town, (e) => e.type === 'task.dead' && e.task === task.id, WAIT_MS);
      const shown = await taskOf(town, task.id);
      expect(shown.lastError).toMatch(/^crash: killed by SIGKILL/);
      await expectFailedAttempt(town, id, 'crash');
      expect(town.git('show', `${shown.branch}:shared.txt`)).toBe('half done\n');
    },
    TEST_MS,
  );
});

/** The pid of an agent's CLI process (not a shell around it), found by the agent id in its environment. */
const cliProcess = (agentId: string, program: string): number | undefined =>
  readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map(Number)
    .filter((pid) => {
      try {
        const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
        return isAlive(pid) && argv0.includes(program) && environValue(pid, 'TT_AGENT_ID') === agentId;
      } catch {
        return false;
      }
    })
    .sort((a, b) => a - b)[0];

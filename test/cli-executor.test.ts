// The CLI executor in real worker processes (tt spawn) with stand-in CLIs (shell commands):
// adapters, honest outcomes, timeouts, attempt streams and worktrees. The real claude, codex and
// gemini are driven end to end in test/agents/e2e.test.ts.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { waitForEvent } from './helpers/events.js';
import { makeGitTown } from './helpers/git-town.js';
import { FAST, spawnWorker } from './helpers/processes.js';
import { makeTown, tempDir, type TestTown } from './helpers/town.js';

const FIXTURES = join(fileURLToPath(new URL('.', import.meta.url)), 'unit', 'fixtures', 'clis');

/** An attempt's stored events, oldest first. */
const attemptEvents = async (town: TestTown, agentId: string, round: number) =>
  (
    (await town.redis.xrange(`${town.prefix}attempt:${agentId}:${round}`, '-', '+')) as [string, string[]][]
  ).map(([, f]) => JSON.parse(f[f.indexOf('data') + 1]!) as { kind: string; [k: string]: unknown });

const taskOf = async (town: TestTown, id: string) => (await town.ok('task', 'show', id, '--json')).json();

describe('the CLI executor', () => {
  it('in a git town: a CLI judged by its report that exits 0 without one fails (no_report), its work kept on its branch', async () => {
    const town = await makeTown();
    town.configure(FAST);
    const { git, worktrees } = makeGitTown(town);
    const prompts = tempDir();
    town.configure({
      clis: {
        lazy: `cat > ${prompts}/prompt-$$.txt; pwd > ${prompts}/cwd-$$.txt; echo work >> work.txt; echo all done`,
      },
      agent: { judge: { lazy: 'report' } },
      tasks: { maxAttempts: 2 },
    });
    const { id } = await spawnWorker(town, 'ada', '--cli', 'lazy');
    const task = (await town.ok('assign', 'ada', 'write the work file', '--json')).json();
    const dead = await waitForEvent(town, (e) => e.type === 'task.dead' && e.task === task.id);
    expect(dead.text).toMatch(/no_report: exited without reporting/);
    const shown = await taskOf(town, task.id);
    expect(shown.lastError).toMatch(/^no_report: exited without reporting/);
    expect(shown.branch).toMatch(new RegExp(`^tt/ada/${task.id.slice(0, 8)}-write-the-work-file$`));
    expect(shown.head).toMatch(/^[0-9a-f]{40}$/);

    // Both attempts ran in ada's worktree, on the task's branch; tt committed what was left.
    const cwds = readdirSync(prompts).filter((f) => f.startsWith('cwd-'));
    expect(cwds).toHaveLength(2);
    for (const f of cwds)
      expect(readFileSync(join(prompts, f), 'utf8').trim()).toBe(join(worktrees, town.name, 'ada'));
    expect(git('show', `${shown.branch}:work.txt`)).toBe('work\nwork\n');
    expect(git('rev-parse', shown.branch).trim()).toBe(shown.head);
    expect(git('log', '--format=%s', shown.branch)).toMatch(/^tt: uncommitted work of ada on task/);
    // The town's checkout is untouched.
    expect(existsSync(join(town.dir, 'work.txt'))).toBe(false);
    expect(git('status', '--porcelain')).toBe('');
    expect(git('branch', '--show-current').trim()).toBe('main');

    // The second prompt tells the agent why the first failed, where it works and where reports go.
    const second = readdirSync(prompts)
      .filter((f) => f.startsWith('prompt-'))
      .map((f) => readFileSync(join(prompts, f), 'utf8'))
      .find((p) => p.includes('attempt 2'));
    expect(second).toContain('The previous attempt failed (no_report): exited without reporting');
    expect(second).toContain('This time, end with one of the two commands below.');
    expect(second).toContain(`- Your branch: ${shown.branch}`);
    expect(second).toContain('- Base branch: main');
    expect(second).toContain(`${join(worktrees, town.name, 'ada', '.tt-reports')}/tt-report-${task.id}.md`);
    expect(second).toContain(`${join(town.dir, '.tt', 'bin', 'tt')} task complete ${task.id}`);

    // Each attempt's stream ends with the verdict: the classified error, then finished.
    for (const round of [1, 2]) {
      const events = await attemptEvents(town, id, round);
      expect(events.at(-2)).toMatchObject({ kind: 'error', class: 'no_report' });
      expect(events.at(-1)).toMatchObject({ kind: 'finished', ok: false });
      expect(events).toContainEqual({ kind: 'message', text: 'all done' });
    }
    const attempts = await town.redis.zrange(`${town.prefix}attempts:task:${task.id}`, '0', '-1');
    expect(attempts).toEqual([`${id}:1`, `${id}:2`]);
  });

  it('reads a JSON stream through its adapter: the result is the CLI’s last words, not its last line', async () => {
    const town = await makeTown();
    town.configure(FAST);
    // The claude preset overridden by a command that prints what claude printed (its adapter stays).
    town.configure({
      clis: { claude: `cat ${join(FIXTURES, 'claude-shell.jsonl')}` },
      agent: { judge: { claude: 'exit' } },
    });
    const { id } = await spawnWorker(town, 'cleo', '--cli', 'claude');
    const task = (await town.ok('assign', 'cleo', 'say hello', '--json')).json();
    await waitForEvent(town, (e) => e.type === 'task.completed' && e.task === task.id);
    const shown = await taskOf(town, task.id);
    expect(shown.result).toBe('Done: out.txt contains hello.');
    const events = await attemptEvents(town, id, 1);
    expect(events.map((e) => e.kind)).toEqual(
      expect.arrayContaining(['init', 'tool_call', 'tool_result', 'usage', 'cost', 'finished']),
    );
    expect(events.filter((e) => e.kind === 'finished')).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({
      kind: 'finished',
      ok: true,
      text: 'Done: out.txt contains hello.',
    });
  });

  it('kills a CLI that prints nothing for the stall timeout (class stalled)', async () => {
    const town = await makeTown();
    town.configure({ ...FAST, agent: { ...FAST.agent, taskTimeoutSecs: 30, stallTimeoutSecs: 1 } });
    town.configure({ tasks: { maxAttempts: 1 } });
    const { id } = await spawnWorker(town, 'sid', '--cli', 'echo started; sleep 30');
    const task = (await town.ok('assign', 'sid', 'wait forever', '--json')).json();
    const dead = await waitForEvent(town, (e) => e.type === 'task.dead' && e.task === task.id);
    expect(dead.text).toMatch(/stalled: no output for 1s/);
    const events = await attemptEvents(town, id, 1);
    expect(events.slice(-2)).toMatchObject([
      { kind: 'error', class: 'stalled', text: 'no output for 1s' },
      { kind: 'finished', ok: false },
    ]);
  });
});

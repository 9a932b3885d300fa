import type { ErrorClass } from '../model/attempt.js';
import { SUPERVISOR_ID } from '../model/ids.js';
import { classify, messageText, type Message } from '../model/message.js';
import type { TaskPriority } from '../model/priority.js';
import { REPORT_MAX_BYTES, splitClassifiedError } from '../model/report.js';
import { taskTitle } from '../model/task.js';

/**
 * The prompt an agent's CLI receives each round. Pure: the same input always gives the same text,
 * so the worker can log it and tests can assert on it line by line.
 *
 * Every command the prompt tells the agent to run names tt by the path the worker gives (some
 * CLIs run commands in a login shell that resets PATH) and holds neither a backtick nor `$(`
 * (gemini refuses such commands, and a shell would run them): reports go through a file or a
 * quoted heredoc, never through a quoted argument.
 */

/** Whether the work of a task should end in a pull request. */
export interface PromptPullRequest {
  wanted: boolean;
  /** The branch it goes into; default: the workspace's base branch. */
  base?: string;
  /**
   * The pull request exists already (a mission's fix on its work item's branch): the task pushes
   * to its branch, and the pull request updates.
   */
  update?: boolean;
}

export interface PromptTask {
  id: string;
  description: string;
  priority: TaskPriority;
  /** Attempts counted so far, this one included (0 is read as "this is the first"). */
  attempts: number;
  /** 0 or less: no limit. */
  maxAttempts: number;
  tags: string[];
  /** Why the previous attempt failed, when this is a retry (may start with its class: `timeout: ...`). */
  lastError?: string;
  /** The class of that failure; when absent, a class in front of `lastError` is used. */
  lastErrorClass?: ErrorClass;
  /** Set (with `wanted`) when the task's work should end in a pull request. */
  pullRequest?: PromptPullRequest;
}

/** Where the agent's CLI runs. */
export interface PromptWorkspace {
  /** Absolute path of the directory the CLI runs in (the agent's worktree). */
  dir: string;
  /** When `dir` is a git worktree: the agent's own branch and the branch it was made from. */
  git?: { branch: string; base: string };
}

export interface PromptInput {
  town: string;
  agent: { id: string; name: string; label: string; role?: string };
  /** 1-based. */
  round: number;
  /** 0 = unlimited. */
  maxRounds: number;
  /** In serving order; `task` is present for task_assign messages. */
  actionable: { message: Message; task?: PromptTask }[];
  /** One-line summaries of informational messages. */
  informational: string[];
  /** One-line summaries of confirmations. */
  confirmations: string[];
  /** Tasks on the backlog that match this agent's role (see `matchesRole`). */
  backlog: { total: number; matching: PromptTask[] };
  /**
   * How the agent runs tt: the absolute path of the worker's shim (`<town>/.tt/bin/tt`), since a
   * CLI that runs commands in a login shell loses the PATH the worker set. Default `tt`.
   */
  tt?: string;
  /** The agent's working directory and branch; without it the prompt says nothing of either. */
  workspace?: PromptWorkspace;
  /**
   * Where the agent writes report files (`tt-report-<task id>.md`, `tt-pr-<task id>.md`). Best a
   * directory inside the workspace that git ignores, since some CLIs' file tools refuse paths
   * outside it. Default `/tmp`.
   */
  reportDir?: string;
}

/** What only the worker knows: how its CLI reaches tt, where it works, where reports go. */
export type PromptSetting = Pick<PromptInput, 'tt' | 'workspace' | 'reportDir'>;

/** How many informational lines and backlog tasks the prompt lists before "and N more". */
export const PROMPT_LIST_CAP = 8;

// ---------------------------------------------------------------------------------------------
// Roles

interface RoleRow {
  /** Whole words of a role (or name) that select this row. */
  words: readonly string[];
  /** What a backlog task must mention (as a tag or a word of its description) to fit. */
  keywords: readonly string[];
}

/**
 * The reference's backlog role table, first match wins. The reference matched substrings of the
 * name ("builder" contains "ui", "second" contains "sec"); here a row is chosen by whole words, so
 * the word forms a role is likely to use are listed.
 */
const ROLE_TABLE: readonly RoleRow[] = [
  {
    words: ['front', 'frontend', 'ui', 'ux', 'web', 'client'],
    keywords: ['frontend', 'ui', 'web', 'client', 'ux'],
  },
  { words: ['back', 'backend', 'api', 'server'], keywords: ['backend', 'api', 'server', 'database', 'data'] },
  {
    words: ['test', 'tests', 'tester', 'testing', 'qa'],
    keywords: ['test', 'qa', 'validation', 'regression'],
  },
  {
    words: ['review', 'reviewer', 'reviewing', 'audit', 'auditor'],
    keywords: ['review', 'reviewer', 'qa', 'security', 'audit', 'validation'],
  },
  {
    words: ['doc', 'docs', 'documentation', 'writer'],
    keywords: ['docs', 'doc', 'documentation', 'spec', 'readme'],
  },
  {
    words: ['devops', 'ops', 'infra', 'infrastructure', 'deploy', 'deployer', 'deployment'],
    keywords: ['devops', 'ops', 'infra', 'deploy', 'ci', 'reliability'],
  },
  { words: ['security', 'sec'], keywords: ['security', 'sec', 'vulnerability', 'hardening', 'audit'] },
];

const words = (s: string): string[] => s.toLowerCase().match(/[a-z0-9]+/g) ?? [];

/**
 * The backlog keywords for a role (or, for an agent without a role, its name), or undefined for a
 * generalist, which fits every task: `worker`, `default` and anything the table does not know.
 */
export const roleKeywords = (roleOrName: string): string[] | undefined => {
  const w = new Set(words(roleOrName));
  const row = ROLE_TABLE.find((r) => r.words.some((x) => w.has(x)));
  return row ? [...row.keywords] : undefined;
};

/** The keywords for an agent: its role, or its name when it has none (a role of "default" counts as none). */
export const agentRoleKeywords = (agent: { name: string; role?: string }): string[] | undefined =>
  roleKeywords(agent.role && agent.role !== 'default' ? agent.role : agent.name);

/**
 * Whether a task fits the keywords: a lower-cased tag equals one, or the description has one as a
 * whole word. A plain plural counts as the word ("tests" for "test", "apis" for "api").
 * Undefined keywords (a generalist) fit everything.
 */
export const matchesRole = (
  task: { description: string; tags: string[] },
  keywords: string[] | undefined,
): boolean => {
  if (!keywords) return true;
  const seen = new Set([...task.tags.map((t) => t.trim().toLowerCase()), ...words(task.description)]);
  return keywords.some((k) => seen.has(k) || seen.has(`${k}s`));
};

// ---------------------------------------------------------------------------------------------
// Text helpers

/** Collapses whitespace so an item stays on one line. */
const oneLine = (s: string): string => s.replace(/\s+/g, ' ').trim();

/** A fenced block that the text cannot close early, whatever backticks it holds. */
const fenced = (text: string): string[] => {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return [fence, text.replace(/\s+$/, ''), fence];
};

/** A shell block of commands to run. */
const sh = (...commands: string[]): string[] => ['```sh', ...commands, '```'];

/** A word as the shell should see it: as is when it is plain, else single-quoted. */
const shellWord = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** How the prompt names a sender, in a form `tt send` accepts. */
const senderRef = (from: string): string => (from === SUPERVISOR_ID ? 'supervisor' : from);

const mark = (m: Message): string => (m.priority === 'urgent' ? 'URGENT' : m.priority);

const attemptText = (t: PromptTask): string => {
  const k = Math.max(1, t.attempts);
  return t.maxAttempts > 0 ? `attempt ${k} of ${t.maxAttempts}` : `attempt ${k}`;
};

/** The tt command as the agent must type it. */
const ttCmd = (i: PromptInput): string => shellWord(i.tt ?? 'tt');

const reportDir = (i: PromptInput): string => (i.reportDir ?? '/tmp').replace(/(.)\/+$/, '$1');
const inDir = (dir: string, file: string): string => (dir === '/' ? `/${file}` : `${dir}/${file}`);
const reportFile = (i: PromptInput, id: string): string => inDir(reportDir(i), `tt-report-${id}.md`);
const prBodyFile = (i: PromptInput, id: string): string => inDir(reportDir(i), `tt-pr-${id}.md`);

/** The delimiter of the report heredoc: a word no report line is likely to be. */
const HEREDOC_END = 'TT_REPORT_END';

const KIB = REPORT_MAX_BYTES / 1024;

const completeLine = (i: PromptInput, id: string): string =>
  `${ttCmd(i)} task complete ${id} --result-file ${shellWord(reportFile(i, id))}`;
const failLine = (i: PromptInput, id: string): string =>
  `${ttCmd(i)} task fail ${id} --reason-file ${shellWord(reportFile(i, id))}`;

/** What the agent is told about a failed previous attempt, by its class. */
const RETRY_HINTS: Partial<Record<ErrorClass, string>> = {
  no_report: 'This time, end with one of the two commands below.',
  timeout: 'Work in smaller steps and report before the time runs out.',
  stalled: 'Work in smaller steps and report before the time runs out.',
};

// ---------------------------------------------------------------------------------------------
// Sections

const waitingLine = (i: PromptInput): string =>
  i.actionable.length + i.informational.length + i.confirmations.length === 0
    ? 'Nothing is waiting in your inbox this round.'
    : `Waiting now: ${i.actionable.length} actionable, ${i.informational.length} informational, ${i.confirmations.length} confirmation(s).`;

const header = (i: PromptInput): string[] => {
  const rounds = i.maxRounds > 0 ? `round ${i.round} of ${i.maxRounds}` : `round ${i.round} (no round limit)`;
  const kw = agentRoleKeywords(i.agent);
  return [
    `# You are agent ${i.agent.label} in town ${i.town}`,
    '',
    `- Agent name: ${i.agent.name}`,
    `- Agent id: ${i.agent.id}`,
    ...(i.agent.role ? [`- Role: ${i.agent.role}`] : []),
    `- Backlog fit: ${kw ? `tasks about ${kw.join(', ')}` : 'any task (you are a generalist)'}`,
    `- This is ${rounds}.`,
    '',
    i.tt
      ? `You work through the tt command line, at ${ttCmd(i)}. Run it by that full path, as every command below does: your shell may not have tt on its PATH. It already knows who you are, so its commands act as this agent.`
      : 'You work through the `tt` command line. It already knows who you are, so `tt` commands act as this agent.',
    waitingLine(i),
  ];
};

const workspaceSection = (i: PromptInput): string[] => {
  const w = i.workspace;
  if (!w) return [];
  const dir = w.dir;
  const reports = reportDir(i);
  const alsoReports =
    reports === dir || reports.startsWith(`${dir}/`) ? '' : ` (and ${reports} for report files)`;
  const out = ['## Workspace', '', `- Directory: ${dir}`];
  if (!w.git) {
    return [
      ...out,
      '',
      `Other agents work in parallel, each in its own directory: stay inside ${dir}${alsoReports}.`,
    ];
  }
  const { branch, base } = w.git;
  return [
    ...out,
    `- Your branch: ${branch}`,
    `- Base branch: ${base}`,
    '',
    `Other agents work in parallel, each in its own worktree: stay inside ${dir}${alsoReports}.`,
    '',
    `Commit your work on ${branch} as you go, in small commits whose messages say what changed and why:`,
    '',
    ...sh('git add <the files you changed>', 'git commit -m "<what changed and why>"'),
    '',
    `- Stay on ${branch}: never switch branches or check out another one.`,
    `- Never commit to, push to, rebase or reset ${base}, and never rewrite commits that are already pushed.`,
    `- Do not push ${branch} unless a task asks for a pull request.`,
  ];
};

/** How to open the pull request a task wants, and where its URL goes. */
const pullRequestLines = (i: PromptInput, id: string, pr: PromptPullRequest): string[] => {
  const branch = i.workspace?.git?.branch;
  const base = pr.base ?? i.workspace?.git?.base;
  if (pr.update)
    return [
      `This task updates the pull request${branch ? ` from ${branch}` : ''}${base ? ` into ${base}` : ''}: do not open a new one. When your commits are ready, push them:`,
      '',
      ...sh(`git push origin ${branch ? shellWord(branch) : 'HEAD'}`),
      '',
      'The pull request updates with the push: put its URL first in your report.',
      '',
    ];
  const body = prBodyFile(i, id);
  const create = [
    'gh pr create',
    ...(base ? [`--base ${shellWord(base)}`] : []),
    ...(branch ? [`--head ${shellWord(branch)}`] : []),
    '--title "<one-line title>"',
    `--body-file ${shellWord(body)}`,
  ].join(' ');
  return [
    `This task ends in a pull request${base ? ` into ${base}` : ''}. When your commits are ready, write its description to ${body}, then run:`,
    '',
    ...sh(`git push -u origin ${branch ? shellWord(branch) : 'HEAD'}`, create),
    '',
    'gh prints the URL of the new pull request: put that URL first in your report.',
    '',
  ];
};

const taskAssignEntry = (
  i: PromptInput,
  n: number,
  m: Extract<Message, { type: 'task_assign' }>,
  task: PromptTask | undefined,
): string[] => {
  const id = task?.id ?? m.taskId;
  const tt = ttCmd(i);
  const out = [`### ${n}. [${mark(m)}] Task ${id} assigned by ${senderRef(m.from)}`, ''];
  const pr = task?.pullRequest?.wanted ? task.pullRequest : undefined;
  let hint: string | undefined;
  if (task) {
    out.push(`- Task id: ${id}`, `- Priority: ${task.priority}`, `- This is ${attemptText(task)}.`);
    if (task.tags.length) out.push(`- Tags: ${task.tags.join(', ')}`);
    if (task.lastError) {
      const e = splitClassifiedError(task.lastError, task.lastErrorClass);
      out.push(`- The previous attempt failed${e.class ? ` (${e.class})` : ''}: ${oneLine(e.text)}`);
      hint = e.class && RETRY_HINTS[e.class];
    }
    if (hint) out.push('', hint);
    out.push('', 'Description:', '', ...fenced(task.description));
  } else {
    out.push(
      `- Task id: ${id}`,
      '',
      `The task's details could not be read; run \`${tt} task show ${id}\` before you start.`,
    );
  }
  out.push('', ...(pr ? pullRequestLines(i, id, pr) : []));
  out.push(
    `When it is done, write your report (${pr ? 'the pull request URL, then' : 'what you did:'} a short summary) to ${reportFile(i, id)}, then run exactly:`,
    '',
    ...sh(completeLine(i, id)),
    '',
    `If it cannot be done, write why to ${reportFile(i, id)} instead, then run exactly:`,
    '',
    ...sh(failLine(i, id)),
    '',
    `The task id is ${id}. Any other UUID in the description (a mission id, a work-item id, an issue reference) is not a task id: never pass it to \`${tt} task complete\` or \`${tt} task fail\`.`,
  );
  return out;
};

const messageEntry = (i: PromptInput, n: number, m: Message): string[] => {
  const from = senderRef(m.from);
  const tt = ttCmd(i);
  const category = classify(m);
  const title =
    m.type === 'task'
      ? 'Task'
      : m.type === 'query'
        ? 'Question'
        : m.type === 'status_request'
          ? 'Status request'
          : m.type === 'custom'
            ? `Message "${m.kind}"`
            : `Message (${m.type})`;
  const text = m.type === 'status_request' ? `${from} asks what you are doing.` : messageText(m);
  const answer =
    category === 'task'
      ? `This task has no task id: do the work, then report to the sender with \`${tt} send ${from} --info "<what you did: PR URL or summary>"\` (or \`--query\` if you need an answer first).`
      : category === 'query'
        ? `Answer with \`${tt} send ${from} --info "<your answer>"\`.`
        : `Acknowledge with \`${tt} send ${from} --ack "received"\`, or answer with \`${tt} send ${from} --info "<text>"\`.`;
  return [`### ${n}. [${mark(m)}] ${title} from ${from}`, '', ...fenced(text), '', answer];
};

const actionableSection = (i: PromptInput): string[] => {
  if (!i.actionable.length) return [];
  const out = [
    '## Actionable messages',
    '',
    'Already taken from your inbox, in the order to handle them. Handle every one of them.',
  ];
  i.actionable.forEach(({ message, task }, k) => {
    out.push(
      '',
      ...(message.type === 'task_assign'
        ? taskAssignEntry(i, k + 1, message, task)
        : messageEntry(i, k + 1, message)),
    );
  });
  return out;
};

const informationalSection = (i: PromptInput): string[] => {
  if (!i.informational.length) return [];
  const out = ['## Informational (batched)', ''];
  out.push(...i.informational.slice(0, PROMPT_LIST_CAP).map((s) => `- ${oneLine(s)}`));
  const more = i.informational.length - PROMPT_LIST_CAP;
  if (more > 0) out.push(`- ... and ${more} more`);
  out.push('', 'No reply is needed; use them as context.');
  return out;
};

const confirmationsSection = (i: PromptInput): string[] => {
  if (!i.confirmations.length) return [];
  const counts = new Map<string, number>();
  for (const c of i.confirmations) {
    const key = oneLine(c);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [
    '## Confirmations',
    '',
    ...[...counts].map(([kind, n]) => `- ${kind} x${n}`),
    '',
    'Already dismissed; no reply is needed.',
  ];
};

const commandsSection = (i: PromptInput): string[] => {
  const tt = ttCmd(i);
  return [
    '## Commands',
    '',
    `- \`${tt} task current\`: the task you are working on`,
    `- \`${tt} task complete <task-id> --result-file <file>\`: finish a task; the file holds your report`,
    `- \`${tt} task fail <task-id> --reason-file <file>\`: give a task up; the file says why`,
    `- \`${tt} send <agent|supervisor> --query|--info|--ack [--urgent] "<text>"\`: ask, inform or acknowledge`,
    `- \`${tt} backlog list\`: unassigned tasks waiting for someone`,
    `- \`${tt} backlog claim <task-id> ${i.agent.name}\`: take one backlog task yourself`,
    `- \`${tt} status\`: the town at a glance: agents, tasks`,
    `- \`${tt} inbox\`: peek at your inbox without taking anything`,
    '',
    'Never put a report in quotes on the command line: the shell would run whatever it holds in backticks or after a dollar sign, and some agents refuse such commands outright. Write the report to a file (your file-writing tool is simplest) and pass the file, or pipe it in with a quoted heredoc, whose body the shell leaves as it is:',
    '',
    ...sh(`${tt} task complete <task-id> --result - <<'${HEREDOC_END}'`, '<your report>', HEREDOC_END),
    '',
    `A failure works the same way with \`--reason -\`. Use the file when the report holds backticks: some agents refuse any command containing them, heredoc or not. Keep other quoted text (messages, commit messages) plain: no backticks, no dollar signs. A report may be up to ${KIB} KiB.`,
  ];
};

const backlogSection = (i: PromptInput): string[] => {
  const { total, matching } = i.backlog;
  if (total <= 0) return [];
  const out = ['## Backlog', ''];
  const generalist = !agentRoleKeywords(i.agent);
  out.push(
    `${total} task(s) on the backlog; ${matching.length} fit ${generalist ? 'you (you are a generalist)' : 'your role'}.`,
  );
  if (!matching.length) return [...out, '', 'None of them fit your role: do not claim unrelated work.'];
  out.push('');
  for (const t of matching.slice(0, PROMPT_LIST_CAP)) {
    out.push(
      `- ${t.id} [${t.priority}] ${oneLine(taskTitle(t, 100))}${t.tags.length ? ` (tags: ${t.tags.join(', ')})` : ''}`,
    );
  }
  const more = matching.length - PROMPT_LIST_CAP;
  if (more > 0) out.push(`- ... and ${more} more (\`${ttCmd(i)} backlog list\`)`);
  return out;
};

const workflowSection = (i: PromptInput): string[] => {
  const tt = ttCmd(i);
  return [
    '## Your workflow',
    '',
    '1. Handle the actionable messages above first, in the order given.',
    `2. Finish every task assigned to you with exactly one \`${tt} task complete <task-id>\` or \`${tt} task fail <task-id>\`, using the exact task id shown for that task. If unsure which task is yours, run \`${tt} task current\`.`,
    `3. When you are blocked, ask with \`${tt} send <agent|supervisor> --query "<question>"\` instead of guessing.`,
    `4. Report to the supervisor (\`${tt} send supervisor --info|--query "<text>"\`) when something needs a decision or an escalation.`,
    '5. Prefer direct handoffs: send follow-up work or questions straight to the agent concerned rather than through the supervisor.',
    `6. When you have nothing actionable, claim at most one backlog task that fits your role (\`${tt} backlog claim <task-id> ${i.agent.name}\`), and finish it before claiming another.`,
    `7. Answer every question you were sent, and keep senders informed with \`${tt} send <agent> --info "<text>"\`.`,
  ];
};

/**
 * The whole prompt for one round, in Markdown. Sections come in a fixed order; one with nothing
 * to show (no workspace, no messages of a kind, an empty backlog) is left out.
 */
export const buildPrompt = (input: PromptInput): string =>
  [
    header,
    workspaceSection,
    actionableSection,
    informationalSection,
    confirmationsSection,
    commandsSection,
    backlogSection,
    workflowSection,
  ]
    .map((section) => section(input))
    .filter((lines) => lines.length > 0)
    .map((lines) => lines.join('\n'))
    .join('\n\n') + '\n';

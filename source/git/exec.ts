import { execFile, type ExecFileException } from 'node:child_process';
import { existsSync } from 'node:fs';
import { TtError } from '../model/errors.js';

/**
 * Runs git: `execFile` (no shell), a timeout, never a prompt, and an error of one clear line.
 * The only function in tt that starts git.
 */

export type Env = Record<string, string | undefined>;

/** A git command failed: one line naming the command, the folder and git's own complaint. */
export class GitError extends TtError {
  constructor(
    message: string,
    /** git's exit code; undefined when it never ran or was killed. */
    readonly code?: number,
  ) {
    super(message, 1);
  }
}

export const GIT_TIMEOUT_MS = 60_000;

export interface GitCall {
  cwd: string;
  /** The environment to start from; defaults to this process's. */
  env?: Env;
  timeoutMs?: number;
  /** Exit codes that are answers, not failures (`merge-base --is-ancestor` says no with 1). */
  ok?: readonly number[];
}

export interface GitOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Variables that point git at another repository, index or work tree. tt started from a git
 * hook (or from an agent's shell inside a worktree) inherits them; they must not steer its git.
 */
const REDIRECTS = [
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_INDEX_FILE',
  'GIT_COMMON_DIR',
  'GIT_OBJECT_DIRECTORY',
  'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'GIT_NAMESPACE',
  'GIT_PREFIX',
];

/** The set variables of an environment, less those that would point git elsewhere. */
export const withoutRedirects = (env: Env = process.env): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !REDIRECTS.includes(k)) out[k] = v;
  return out;
};

/** The environment git runs with: no prompt, English messages, no optional locks, no redirection. */
export const gitEnv = (env: Env = process.env): Record<string, string> => {
  return {
    ...withoutRedirects(env),
    GIT_TERMINAL_PROMPT: '0',
    // Messages are matched (lock contention) and shown: one language for both.
    LC_ALL: 'C',
    // `git status` from tt must not take the index lock an agent's own git may want.
    GIT_OPTIONAL_LOCKS: '0',
  };
};

/** Another git process holds a lock we need: worth a short wait and another try. */
const LOCKED =
  /\.lock': File exists|Unable to create '[^']*\.lock'|could not lock config file|cannot lock ref/i;
const LOCK_TRIES = 6;

/** The line of git's output that says what went wrong. */
export const complaint = (stderr: string, stdout = ''): string | undefined => {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const said = lines.find((l) => /^(fatal|error):/.test(l)) ?? lines.at(-1);
  return (
    said ??
    stdout
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .at(-1)
  );
};

const seconds = (ms: number): string => `${Number((ms / 1000).toFixed(1))}s`;

const once = (args: readonly string[], call: GitCall): Promise<GitOutput> => {
  const timeoutMs = call.timeoutMs ?? GIT_TIMEOUT_MS;
  const sub =
    args.find((a, i) => !a.startsWith('-') && args[i - 1] !== '-c' && args[i - 1] !== '-C') ?? 'git';
  return new Promise((resolve, reject) => {
    let timedOut = false;
    const child = execFile(
      'git',
      [...args],
      { cwd: call.cwd, env: gitEnv(call.env), maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (err: ExecFileException | null, stdout: string, stderr: string) => {
        clearTimeout(timer);
        if (!err) return resolve({ code: 0, stdout, stderr });
        if (err.code === 'ENOENT')
          return reject(
            new GitError(
              existsSync(call.cwd)
                ? 'git is not installed (not found on PATH)'
                : `git ${sub}: the folder ${call.cwd} does not exist`,
            ),
          );
        if (timedOut)
          return reject(new GitError(`git ${sub} timed out after ${seconds(timeoutMs)} in ${call.cwd}`));
        const code = typeof err.code === 'number' ? err.code : undefined;
        if (code !== undefined && call.ok?.includes(code)) return resolve({ code, stdout, stderr });
        const why = complaint(stderr, stdout) ?? `exited with code ${code ?? err.signal ?? '?'}`;
        reject(new GitError(`git ${sub} failed in ${call.cwd}: ${why}`, code));
      },
    );
    // On time, kill git and stop waiting for its output: a process it started (a hook, a
    // credential helper) may hold the pipes open long after git is gone.
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
      child.stdout?.destroy();
      child.stderr?.destroy();
    }, timeoutMs);
  });
};

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `git <args>` in `call.cwd`; retries a few times while another git holds a lock it needs. */
export const git = async (args: readonly string[], call: GitCall): Promise<GitOutput> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await once(args, call);
    } catch (e) {
      if (!(e instanceof GitError) || attempt >= LOCK_TRIES || !LOCKED.test(e.message)) throw e;
      await pause(40 * 2 ** attempt + Math.random() * 40);
    }
  }
};

/** `git <args>`'s standard output, trimmed of its final newline. */
export const gitOut = async (args: readonly string[], call: GitCall): Promise<string> =>
  (await git(args, call)).stdout.replace(/\n$/, '');

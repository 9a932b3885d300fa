import { spawn } from 'node:child_process';
import { closeSync, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { GitError } from './exec.js';

/**
 * A town's worktree setup (`worktrees.setup`): shell commands run one after another in a new
 * worktree (`cp "$TT_TOWN/.env" .`, `npm ci`), their output appended to a log. These are the
 * operator's own commands, so they run through `sh -c`; git itself never does.
 */

export interface SetupRun {
  commands: readonly string[];
  cwd: string;
  env: Record<string, string>;
  logFile: string;
  /** For all the commands together; 0 = no limit. */
  timeoutMs: number;
}

const TAIL_BYTES = 4096;

/** The last non-empty line the log holds after `from`. */
const lastLogLine = (fd: number, from: number): string | undefined => {
  const size = fstatSync(fd).size;
  const start = Math.max(from, size - TAIL_BYTES);
  const buf = Buffer.alloc(size - start);
  readSync(fd, buf, 0, buf.length, start);
  const line = buf
    .toString('utf8')
    .split(/\r?\n|\r/)
    .map((l) => l.trim())
    .filter(Boolean)
    .at(-1);
  return line && line.length > 200 ? `${line.slice(0, 197)}...` : line;
};

type Ended = { code: number | null; signal: NodeJS.Signals | null; timedOut: boolean; error?: string };

const runOne = (command: string, run: SetupRun, fd: number, deadline: number): Promise<Ended> =>
  new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], {
      cwd: run.cwd,
      env: run.env,
      stdio: ['ignore', fd, fd],
      detached: true,
    });
    let timedOut = false;
    const left = deadline - performance.now();
    const timer =
      run.timeoutMs > 0
        ? setTimeout(
            () => {
              timedOut = true;
              try {
                process.kill(-child.pid!, 'SIGKILL');
              } catch {
                // already gone
              }
            },
            Math.max(left, 0),
          )
        : undefined;
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, timedOut: false, error: e.message });
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut });
    });
  });

/** Runs the setup commands in order; the first that fails ends it with a one-line GitError. */
export const runSetup = async (run: SetupRun): Promise<void> => {
  mkdirSync(dirname(run.logFile), { recursive: true });
  const fd = openSync(run.logFile, 'a+');
  try {
    const deadline = performance.now() + run.timeoutMs;
    for (const command of run.commands) {
      writeSync(fd, `$ ${command}\n`);
      const from = fstatSync(fd).size;
      const end = await runOne(command, run, fd, deadline);
      if (end.code === 0) continue;
      const last = lastLogLine(fd, from);
      const how = end.error
        ? `could not start (${end.error})`
        : end.timedOut
          ? `timed out after ${Number((run.timeoutMs / 1000).toFixed(1))}s`
          : end.signal
            ? `was killed by ${end.signal}`
            : `exited with code ${end.code}`;
      writeSync(fd, `# ${how}\n`);
      throw new GitError(`"${command}" ${how}${last ? `: ${last}` : ''} (output in ${run.logFile})`);
    }
  } finally {
    closeSync(fd);
  }
};

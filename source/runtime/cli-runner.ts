import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readdirSync, readFileSync, statSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';

/**
 * Runs one coding-agent CLI round: `sh -c <command>` in its own process group, the prompt on
 * stdin, stdout and stderr (interleaved as written) appended to a log file. Only a small tail of
 * the output stays in memory. Never rejects: whatever goes wrong is described in the outcome, and
 * the caller decides what to do about it.
 */

export interface CliRun {
  /** Run as `sh -c <command>` in `cwd`. */
  command: string;
  /** Written to the child's stdin, which is then closed. */
  prompt: string;
  cwd: string;
  /** The full environment of the child (nothing is inherited). */
  env: Record<string, string>;
  /** stdout and stderr go here; created with its folder if missing; appended to. */
  logFile: string;
  /** 0 = no timeout. */
  timeoutMs: number;
  /** Stop the command when it prints nothing for this long; 0 or absent = never. */
  stallMs?: number;
  /**
   * Each line of output (stdout and stderr as joined), without its newline, as it arrives; a line
   * longer than LINE_MAX is handed over in pieces. The last line is handed over at the end even
   * without a newline. A callback that throws does not break the run.
   */
  onLine?: (line: string) => void;
  /**
   * When the command exits, stop whatever it left running in its process group (SIGTERM, then
   * SIGKILL after the grace) before the run ends, so that nothing of it still writes in `cwd`.
   */
  reapGroup?: boolean;
  /** Abort = stop the child now. An already aborted signal means the command is never started. */
  signal?: AbortSignal;
  onSpawn?: (pid: number) => void;
  /** How long a stopped process group has between SIGTERM and SIGKILL. Default 2000. */
  killGraceMs?: number;
}

export interface CliOutcome {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** Stopped because it printed nothing for `stallMs`. */
  stalled?: boolean;
  aborted: boolean;
  durationMs: number;
  /** The last lines (at most TAIL_LINES, TAIL_BYTES) of combined output, escape codes removed. */
  tail: string;
  /** Set when the output was not text: "output is not valid UTF-8" or "output contains NUL bytes". */
  unreadable?: string;
  /** The command could not be started at all. */
  spawnError?: string;
  /** Writing the log file failed; the run itself went on. */
  logError?: string;
}

export const TAIL_BYTES = 4096;
export const TAIL_LINES = 20;
export const DEFAULT_KILL_GRACE_MS = 2000;
/** After the command exits, how long a background process holding its output open may delay the end. */
const DRAIN_MS = 500;
const POLL_MS = 50;
/** After SIGKILL, how long to wait for the group to be gone before giving up on it. */
const KILL_WAIT_MS = 5000;
/** The longest line handed to `onLine` in one piece. */
export const LINE_MAX = 1024 * 1024;

const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Keeps the last `max` bytes of a stream without holding on to the chunks it saw. */
class ByteTail {
  private buf = Buffer.alloc(0);
  constructor(private readonly max: number) {}
  push(chunk: Buffer): void {
    if (chunk.length >= this.max) this.buf = Buffer.from(chunk.subarray(chunk.length - this.max));
    else {
      const joined = Buffer.concat([this.buf, chunk]);
      this.buf = joined.length > this.max ? Buffer.from(joined.subarray(joined.length - this.max)) : joined;
    }
  }
  bytes(): Buffer {
    return this.buf;
  }
}

// CSI / OSC escape sequences and other lone escapes that CLIs use for colour and cursor moves.
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-_]/g;

/** Readable last lines from the tail bytes: escape codes gone, carriage-return redraws resolved. */
const tailText = (bytes: Buffer): string => {
  let start = 0;
  // The cut may fall inside a multi-byte character: skip its continuation bytes.
  while (start < bytes.length && start < 4 && (bytes[start]! & 0xc0) === 0x80) start++;
  const text = new TextDecoder('utf-8').decode(bytes.subarray(start)).replace(ANSI, '');
  const lines = text.split('\n').map((l) => {
    const redrawn = l.replace(/\r+$/, '');
    return redrawn.slice(redrawn.lastIndexOf('\r') + 1);
  });
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines.slice(-TAIL_LINES).join('\n');
};

/** Watches a byte stream for what makes it not text, without keeping it. */
class Readability {
  private decoder = new TextDecoder('utf-8', { fatal: true });
  problem: string | undefined;
  push(chunk: Buffer): void {
    if (this.problem) return;
    if (chunk.includes(0)) this.problem = 'output contains NUL bytes';
    else this.check(() => this.decoder.decode(chunk, { stream: true }));
  }
  end(): void {
    if (!this.problem) this.check(() => this.decoder.decode());
  }
  private check(decode: () => string): void {
    try {
      decode();
    } catch {
      this.problem = 'output is not valid UTF-8';
    }
  }
}

/** Splits a byte stream into lines (UTF-8, a character split across chunks kept whole). */
class Lines {
  private decoder = new StringDecoder('utf8');
  private partial = '';
  constructor(private readonly emit: (line: string) => void) {}
  push(chunk: Buffer): void {
    this.take(this.decoder.write(chunk));
  }
  end(): void {
    this.take(this.decoder.end());
    if (this.partial) this.out(this.partial);
    this.partial = '';
  }
  private take(text: string): void {
    let rest = this.partial + text;
    for (let nl = rest.indexOf('\n'); nl >= 0; nl = rest.indexOf('\n')) {
      this.out(rest.slice(0, nl));
      rest = rest.slice(nl + 1);
    }
    while (rest.length >= LINE_MAX) {
      this.out(rest.slice(0, LINE_MAX));
      rest = rest.slice(LINE_MAX);
    }
    this.partial = rest;
  }
  private out(line: string): void {
    try {
      this.emit(line);
    } catch {
      // A caller's callback must not break the run.
    }
  }
}

/** Whether a process group still has a live member. */
const groupAlive = (pgid: number): boolean => {
  try {
    process.kill(-pgid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // kill() also counts zombies, and an orphaned zombie is never reaped where PID 1 is not an
  // init (many containers). On Linux, look for a member that is not one.
  if (process.platform !== 'linux') return true;
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      } catch {
        continue; // gone meanwhile
      }
      // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z') return true;
    }
    return false;
  } catch {
    return true;
  }
};

const signalGroup = (pid: number, sig: NodeJS.Signals): void => {
  try {
    process.kill(-pid, sig);
  } catch {
    // The group is already gone.
  }
};

const cwdProblem = (cwd: string): string | undefined => {
  try {
    return statSync(cwd).isDirectory() ? undefined : `working directory ${cwd} is not a directory`;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT'
      ? `working directory ${cwd} does not exist`
      : `working directory ${cwd}: ${errText(e)}`;
  }
};

const openLog = (file: string): Promise<WriteStream> =>
  new Promise((resolve, reject) => {
    try {
      mkdirSync(dirname(file), { recursive: true });
    } catch (e) {
      return reject(e);
    }
    const s = createWriteStream(file, { flags: 'a' });
    s.once('open', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });

const closeLog = (log: WriteStream): Promise<void> =>
  new Promise((resolve) => {
    if (log.destroyed) return resolve();
    log.once('close', () => resolve());
    log.end();
  });

export const runCli = async (run: CliRun): Promise<CliOutcome> => {
  const started = performance.now();
  const base = { exitCode: null, signal: null, timedOut: false, aborted: false, tail: '' };
  const notStarted = (spawnError: string): CliOutcome => ({
    ...base,
    durationMs: performance.now() - started,
    spawnError,
  });

  if (run.signal?.aborted) return { ...base, aborted: true, durationMs: 0 };
  const bad = cwdProblem(run.cwd);
  if (bad) return notStarted(bad);
  let log: WriteStream;
  try {
    log = await openLog(run.logFile);
  } catch (e) {
    return notStarted(`cannot open log file ${run.logFile}: ${errText(e)}`);
  }
  if (run.signal?.aborted) {
    await closeLog(log);
    return { ...base, aborted: true, durationMs: performance.now() - started };
  }

  return new Promise<CliOutcome>((resolve) => {
    const tail = new ByteTail(TAIL_BYTES);
    const readable = new Readability();
    const lines = run.onLine ? new Lines(run.onLine) : undefined;
    const grace = run.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
    let logError: string | undefined;
    let spawnError: string | undefined;
    let exit: { code: number | null; signal: string | null } | undefined;
    let outputDone = false;
    let timedOut = false;
    let stalled = false;
    let aborted = false;
    let stopping: 'no' | 'waiting' | 'done' = 'no';
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const later = (ms: number, f: () => void): void => void timers.push(setTimeout(f, ms));

    log.on('error', (e) => {
      logError ??= errText(e);
    });

    let child: ChildProcess;
    try {
      // The outer shell joins stderr to stdout so the log keeps the order the command wrote in,
      // then becomes `sh -c <command>` (same pid, so same process group leader).
      child = spawn('/bin/sh', ['-c', 'exec 2>&1; exec /bin/sh -c "$1"', 'sh', run.command], {
        cwd: run.cwd,
        env: run.env,
        stdio: ['pipe', 'pipe', 'ignore'],
        detached: true,
      });
    } catch (e) {
      void closeLog(log).then(() => resolve(notStarted(errText(e))));
      return;
    }
    const pid = child.pid;
    const out = child.stdout;

    const finish = (): void => {
      if (settled) return;
      if (!spawnError && !(exit && outputDone && stopping !== 'waiting')) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      run.signal?.removeEventListener('abort', onAbort);
      readable.end();
      lines?.end();
      void closeLog(log).then(() =>
        resolve({
          exitCode: exit?.code ?? null,
          signal: exit?.signal ?? null,
          timedOut,
          ...(stalled ? { stalled } : {}),
          aborted,
          durationMs: performance.now() - started,
          tail: tailText(tail.bytes()),
          ...(readable.problem ? { unreadable: readable.problem } : {}),
          ...(spawnError ? { spawnError } : {}),
          ...(logError ? { logError } : {}),
        }),
      );
    };

    /**
     * SIGTERM to the whole group; SIGKILL to whatever is left after the grace; then wait (a
     * little) until the group is really gone: a killed process dies only when it is next
     * scheduled, and the caller may hand the task to someone else the moment this returns.
     */
    const stop = (): void => {
      if (stopping !== 'no' || pid === undefined) return;
      stopping = 'waiting';
      signalGroup(pid, 'SIGTERM');
      const deadline = performance.now() + grace;
      let killedAt: number | undefined;
      const poll = (): void => {
        const now = performance.now();
        if (!groupAlive(pid) || (killedAt !== undefined && now - killedAt >= KILL_WAIT_MS)) {
          stopping = 'done';
          return finish();
        }
        if (killedAt === undefined && now >= deadline) {
          signalGroup(pid, 'SIGKILL');
          killedAt = now;
        }
        later(POLL_MS, poll);
      };
      later(POLL_MS, poll);
    };

    /** (Re)arms the stall timer: output came, or the command just started. */
    let stallTimer: NodeJS.Timeout | undefined;
    function quiet(): void {
      const ms = run.stallMs ?? 0;
      if (ms <= 0 || settled || exit || stopping !== 'no') return;
      if (stallTimer) stallTimer.refresh();
      else
        timers.push(
          (stallTimer = setTimeout(() => {
            if (settled || exit || stopping !== 'no') return;
            stalled = true;
            stop();
          }, ms)),
        );
    }

    function onAbort(): void {
      if (settled || exit || stopping !== 'no') return;
      aborted = true;
      stop();
    }

    child.on('error', (e) => {
      // Only a failed start lands here in practice (kill errors are swallowed above).
      if (exit) return;
      spawnError = errText(e);
      finish();
    });

    child.on('exit', (code, sig) => {
      exit = { code, signal: sig };
      // What the command left in its group goes with it (the group outlives its leader while a
      // member lives, so the id is still the group's).
      if (run.reapGroup && pid !== undefined && stopping === 'no' && groupAlive(pid)) stop();
      // A background process may still hold the output open: give it a moment, then let go.
      if (!outputDone) later(DRAIN_MS, () => out?.destroy());
      finish();
    });

    const outputEnded = (): void => {
      outputDone = true;
      finish();
    };
    if (out) {
      out.on('data', (chunk: Buffer) => {
        tail.push(chunk);
        readable.push(chunk);
        lines?.push(chunk);
        quiet();
        if (!log.destroyed && !log.write(chunk)) {
          out.pause();
          log.once('drain', () => out.resume());
        }
      });
      out.on('close', outputEnded);
      out.on('error', () => undefined);
      // If the log stops accepting writes, keep draining the child so it never blocks on a full pipe.
      log.on('close', () => out.resume());
    } else outputDone = true;

    // EPIPE and friends: a command need not read its input at all.
    child.stdin?.on('error', () => undefined);

    if (pid === undefined) return; // 'error' follows
    try {
      run.onSpawn?.(pid);
    } catch {
      // A caller's callback must not break the run.
    }
    run.signal?.addEventListener('abort', onAbort, { once: true });
    if (run.signal?.aborted) onAbort();
    if (run.timeoutMs > 0)
      later(run.timeoutMs, () => {
        if (settled || exit || stopping !== 'no') return;
        timedOut = true;
        stop();
      });
    quiet();
    child.stdin?.end(run.prompt);
  });
};

/** A duration in a few characters: `300ms`, `1.5s`, `5m30s`. */
export const duration = (ms: number): string => {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))}s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return s ? `${m}m${s}s` : `${m}m`;
};

/** The last non-empty line of an output tail, trimmed. */
export const lastLine = (tail: string): string | undefined =>
  tail
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .pop();

const clipped = (line: string | undefined): string | undefined =>
  line && line.length > 200 ? `${line.slice(0, 197)}...` : line;

/** "not valid UTF-8" from "output is not valid UTF-8". */
const unreadableWhy = (u: string): string => u.replace(/^output (is )?/, '');

/** One clear line saying why a run did not succeed, or undefined when it did (exit 0 and readable output). */
export const failureReason = (o: CliOutcome, timeoutMs: number, stallMs = 0): string | undefined => {
  if (o.spawnError) return `could not start: ${o.spawnError}`;
  if (o.aborted) return 'stopped before it finished (aborted)';
  if (o.timedOut) return `timed out after ${duration(timeoutMs)}`;
  if (o.stalled) return `no output for ${duration(stallMs)}`;
  const line = o.unreadable ? undefined : clipped(lastLine(o.tail));
  const said = o.unreadable
    ? ` (printed unreadable output: ${unreadableWhy(o.unreadable)})`
    : line
      ? `: ${line}`
      : '';
  if (o.signal) return `killed by ${o.signal}${said}`;
  if (o.exitCode === null) return 'ended without an exit status';
  if (o.exitCode !== 0) return `exited with code ${o.exitCode}${said || ' (no output)'}`;
  if (o.unreadable) return `printed unreadable output (${unreadableWhy(o.unreadable)})`;
  return undefined;
};

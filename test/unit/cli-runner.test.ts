import { mkdtempSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  failureReason,
  runCli,
  TAIL_BYTES,
  type CliOutcome,
  type CliRun,
} from '../../source/runtime/cli-runner.js';

const dir = mkdtempSync(join(tmpdir(), 'tt-cli-runner-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
const run = (command: string, o: Partial<CliRun> = {}): Promise<CliOutcome> =>
  runCli({ command, prompt: '', cwd: dir, env, logFile: join(dir, `run-${++n}.log`), timeoutMs: 5000, ...o });

/** Alive and not a zombie (a reparented zombie may never be reaped inside a container). */
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

const readPid = (file: string): number => {
  const pid = Number(readFileSync(file, 'utf8').trim());
  expect(pid).toBeGreaterThan(1);
  return pid;
};

describe('runCli', () => {
  it('pipes the prompt to stdin and logs the output', async () => {
    const logFile = join(dir, 'logs', 'nested', 'cat.log');
    const o = await run('cat', { prompt: 'hello\nworld\n', logFile });
    expect(o).toMatchObject({
      exitCode: 0,
      signal: null,
      timedOut: false,
      aborted: false,
      tail: 'hello\nworld',
    });
    expect(o.unreadable).toBeUndefined();
    expect(o.spawnError).toBeUndefined();
    expect(failureReason(o, 5000)).toBeUndefined();
    expect(readFileSync(logFile, 'utf8')).toBe('hello\nworld\n');
  });

  it('appends to the log, stderr included in the order written', async () => {
    const logFile = join(dir, 'append.log');
    await run('echo one', { logFile });
    await run('echo two; echo three >&2; echo four', { logFile });
    expect(readFileSync(logFile, 'utf8')).toBe('one\ntwo\nthree\nfour\n');
  });

  it('gives the child exactly the environment it is handed', async () => {
    process.env.TT_RUNNER_LEAK = 'leaked';
    try {
      const o = await run('echo "$TT_AGENT_NAME ${TT_RUNNER_LEAK-unset}"', {
        env: { ...env, TT_AGENT_NAME: 'ada' },
      });
      expect(o.tail).toBe('ada unset');
    } finally {
      delete process.env.TT_RUNNER_LEAK;
    }
  });

  it('runs in cwd and reports the pid', async () => {
    let pid = 0;
    const o = await run('pwd; echo $$', { onSpawn: (p) => (pid = p) });
    const [cwd, shellPid] = o.tail.split('\n');
    expect(cwd).toBe(realpathSync(dir));
    expect(Number(shellPid)).toBe(pid);
  });

  it('reports exit codes, with the last output line as the reason', async () => {
    const o = await run('echo working; echo "boom: bad thing" >&2; echo; exit 3');
    expect(o.exitCode).toBe(3);
    expect(o.signal).toBeNull();
    expect(failureReason(o, 5000)).toBe('exited with code 3: boom: bad thing');
    const silent = await run('exit 7');
    expect(failureReason(silent, 5000)).toBe('exited with code 7 (no output)');
    const missing = await run('no-such-command-tt-xyz');
    expect(missing.exitCode).toBe(127);
    expect(failureReason(missing, 5000)).toMatch(
      /^exited with code 127: .*no-such-command-tt-xyz.*not found/,
    );
  });

  it('reports a death by signal', async () => {
    const o = await run('kill -KILL $$');
    expect(o).toMatchObject({ exitCode: null, signal: 'SIGKILL', timedOut: false });
    expect(failureReason(o, 5000)).toBe('killed by SIGKILL');
  });

  it('kills the whole process group on timeout, grandchildren included', async () => {
    const pidFile = join(dir, 'grandchild-term.pid');
    const o = await run(`sleep 30 & echo $! > ${pidFile}; echo started; wait`, { timeoutMs: 300 });
    expect(o.timedOut).toBe(true);
    expect(o.exitCode).toBeNull();
    expect(o.signal).toBe('SIGTERM');
    expect(o.durationMs).toBeGreaterThanOrEqual(290);
    expect(o.durationMs).toBeLessThan(1900);
    expect(o.tail).toBe('started');
    expect(failureReason(o, 300)).toBe('timed out after 300ms');
    expect(alive(readPid(pidFile))).toBe(false);
  });

  it('follows a SIGTERM that is ignored with SIGKILL after the grace', async () => {
    const pidFile = join(dir, 'grandchild-kill.pid');
    const o = await run(`trap '' TERM; sleep 30 & echo $! > ${pidFile}; wait`, {
      timeoutMs: 200,
      killGraceMs: 300,
    });
    expect(o).toMatchObject({ timedOut: true, signal: 'SIGKILL' });
    expect(o.durationMs).toBeGreaterThanOrEqual(480);
    expect(alive(readPid(pidFile))).toBe(false);
    expect(failureReason(o, 30_000)).toBe('timed out after 30s');
  });

  it('stops the group when the signal aborts', async () => {
    const ac = new AbortController();
    const pidFile = join(dir, 'grandchild-abort.pid');
    let pid = 0;
    const o = await run(`sleep 30 & echo $! > ${pidFile}; wait`, {
      signal: ac.signal,
      timeoutMs: 0,
      onSpawn: (p) => {
        pid = p;
        // Abort once the command has started its grandchild.
        // The shell creates the file before echo writes the pid: an empty read means not yet.
        const t = setInterval(() => {
          let written: string;
          try {
            written = readFileSync(pidFile, 'utf8').trim();
          } catch {
            return;
          }
          if (!written) return;
          clearInterval(t);
          ac.abort();
        }, 10);
      },
    });
    expect(pid).toBeGreaterThan(0);
    expect(o).toMatchObject({ aborted: true, timedOut: false, exitCode: null });
    expect(alive(readPid(pidFile))).toBe(false);
    expect(alive(pid)).toBe(false);
    expect(failureReason(o, 0)).toMatch(/aborted/);
  });

  it('never starts a command whose signal is already aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    let spawned = false;
    const marker = join(dir, 'should-not-exist');
    const o = await run(`touch ${marker}`, { signal: ac.signal, onSpawn: () => (spawned = true) });
    expect(o.aborted).toBe(true);
    expect(spawned).toBe(false);
    expect(() => statSync(marker)).toThrow();
  });

  it('survives a command that never reads a large prompt (EPIPE)', async () => {
    const prompt = 'x'.repeat(8 * 1024 * 1024);
    const o = await run('true', { prompt });
    expect(o.exitCode).toBe(0);
    expect(failureReason(o, 5000)).toBeUndefined();
    const early = await run('head -c 5', { prompt });
    expect(early).toMatchObject({ exitCode: 0, tail: 'xxxxx' });
  });

  it('flags binary output as unreadable', async () => {
    const o = await run('head -c 2000 /dev/urandom');
    expect(o.exitCode).toBe(0);
    expect(o.unreadable).toMatch(/^output (is not valid UTF-8|contains NUL bytes)$/);
    expect(failureReason(o, 5000)).toMatch(
      /^printed unreadable output \((not valid UTF-8|contains NUL bytes)\)$/,
    );
  });

  it('names the kind of unreadable output', async () => {
    const nul = await run("printf 'a\\000b'");
    expect(nul.unreadable).toBe('output contains NUL bytes');
    const bad = await run("printf 'ok \\377\\376 no'");
    expect(bad.unreadable).toBe('output is not valid UTF-8');
    expect(failureReason(bad, 5000)).toBe('printed unreadable output (not valid UTF-8)');
    // A character cut short at the very end is caught when the stream ends.
    const cut = await run("printf 'caf\\303'");
    expect(cut.unreadable).toBe('output is not valid UTF-8');
    const failing = await run("printf '\\377'; exit 2");
    expect(failureReason(failing, 5000)).toBe(
      'exited with code 2 (printed unreadable output: not valid UTF-8)',
    );
  });

  it('accepts multi-byte text split across reads', async () => {
    const o = await run(
      "printf 'caf\\303'; sleep 0.05; printf '\\251 \\342\\234'; sleep 0.05; printf '\\223\\n'",
    );
    expect(o.unreadable).toBeUndefined();
    expect(o.tail).toBe('café ✓');
  });

  it('keeps only a small tail of huge output and streams the rest to the log', async () => {
    const logFile = join(dir, 'huge.log');
    // Sample buffer memory while the output streams: a runner that kept the output would grow by ~50 MB.
    const before = process.memoryUsage().arrayBuffers;
    let peak = 0;
    const sampler = setInterval(
      () => (peak = Math.max(peak, process.memoryUsage().arrayBuffers - before)),
      2,
    );
    const o = await run('yes | head -c 50000000', { logFile, timeoutMs: 20_000 }).finally(() =>
      clearInterval(sampler),
    );
    expect(peak).toBeLessThan(16 * 1024 * 1024);
    expect(o.exitCode).toBe(0);
    expect(o.unreadable).toBeUndefined();
    expect(Buffer.byteLength(o.tail)).toBeLessThanOrEqual(TAIL_BYTES);
    expect(o.tail.split('\n')).toEqual(Array(20).fill('y'));
    expect(statSync(logFile).size).toBe(50_000_000);
  });

  it('cleans colour codes and redraws from the tail', async () => {
    const o = await run("printf '\\033[31mred\\033[0m\\nprogress 10%%\\rprogress 100%%\\n'");
    expect(o.tail).toBe('red\nprogress 100%');
  });

  it('does not wait for a background process that keeps the output open', async () => {
    const pidFile = join(dir, 'daemon.pid');
    const o = await run(`sleep 30 & echo $! > ${pidFile}; echo bye`);
    expect(o.exitCode).toBe(0);
    expect(o.tail).toBe('bye');
    expect(o.durationMs).toBeLessThan(3000);
    process.kill(readPid(pidFile), 'SIGKILL');
  });

  it('hands each output line over as it comes, a split character and an unended last line included', async () => {
    const lines: string[] = [];
    const o = await run(
      "printf '{\"a\":1}\\nca'; sleep 0.05; printf 'f\\303'; sleep 0.05; printf '\\251\\n\\nlast'",
      { onLine: (l) => lines.push(l) },
    );
    expect(o.exitCode).toBe(0);
    expect(lines).toEqual(['{"a":1}', 'café', '', 'last']);
    const thrown = await run('echo a; echo b', {
      onLine: () => {
        throw new Error('a broken callback');
      },
    });
    expect(thrown).toMatchObject({ exitCode: 0, tail: 'a\nb' });
  });

  it('stops a command that prints nothing for the stall time, and not one that keeps printing', async () => {
    const quiet = await run('echo started; sleep 30', { stallMs: 300 });
    expect(quiet).toMatchObject({ stalled: true, timedOut: false, signal: 'SIGTERM' });
    expect(quiet.durationMs).toBeLessThan(2500);
    expect(failureReason(quiet, 0, 300)).toBe('no output for 300ms');
    const busy = await run('for i in 1 2 3 4 5 6; do echo $i; sleep 0.2; done', { stallMs: 1000 });
    expect(busy.stalled).toBeUndefined();
    expect(busy.exitCode).toBe(0);
  });

  it('with reapGroup, ends what the command left running in its group before it returns', async () => {
    const pidFile = join(dir, 'reaped.pid');
    const o = await run(`sleep 30 >/dev/null 2>&1 & echo $! > ${pidFile}; echo bye`, { reapGroup: true });
    expect(o).toMatchObject({ exitCode: 0, tail: 'bye' });
    expect(alive(readPid(pidFile))).toBe(false);
  });

  it('describes a start that fails, without throwing', async () => {
    const o = await run('echo hi', { cwd: join(dir, 'no', 'such', 'dir') });
    expect(o.spawnError).toMatch(/does not exist/);
    expect(o.exitCode).toBeNull();
    expect(failureReason(o, 5000)).toMatch(/^could not start: working directory .* does not exist$/);
    const file = join(dir, 'a-file');
    await run(`touch ${file}`);
    const notDir = await run('echo hi', { cwd: file });
    expect(failureReason(notDir, 5000)).toMatch(/not a directory/);
    const badLog = await run('echo hi', { logFile: join(file, 'x.log') });
    expect(failureReason(badLog, 5000)).toMatch(/^could not start: cannot open log file/);
  });
});

describe('failureReason', () => {
  const base: CliOutcome = {
    exitCode: 0,
    signal: null,
    timedOut: false,
    aborted: false,
    durationMs: 1,
    tail: '',
  };
  it.each([
    [{}, 30_000, undefined],
    [{ timedOut: true, signal: 'SIGTERM', exitCode: null }, 30_000, 'timed out after 30s'],
    [{ timedOut: true, exitCode: null }, 1500, 'timed out after 1.5s'],
    [{ timedOut: true, exitCode: null }, 330_000, 'timed out after 5m30s'],
    [{ exitCode: 1, tail: 'a\nlast words\n\n' }, 0, 'exited with code 1: last words'],
    [{ exitCode: 1, tail: 'x'.repeat(500) }, 0, `exited with code 1: ${'x'.repeat(197)}...`],
    [{ exitCode: null, signal: 'SIGSEGV', tail: 'core' }, 0, 'killed by SIGSEGV: core'],
    [{ spawnError: 'spawn /bin/sh EACCES', exitCode: null }, 0, 'could not start: spawn /bin/sh EACCES'],
    [{ unreadable: 'output contains NUL bytes' }, 0, 'printed unreadable output (contains NUL bytes)'],
  ] as const)('%j -> %s', (patch, timeout, reason) => {
    expect(failureReason({ ...base, ...patch }, timeout)).toBe(reason);
  });
});

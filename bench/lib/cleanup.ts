/**
 * Cleanup registry for benchmark resources (child processes, temp dirs). Cleanups run in
 * reverse order at the end of a benchmark, on an error, and on SIGINT/SIGTERM; a last
 * synchronous pass on process exit kills any child still registered.
 */
type Cleanup = { run: () => Promise<void> | void; killSync?: () => void };

const stack: Cleanup[] = [];
let installed = false;
let signalled = false;

/** Whether a SIGINT/SIGTERM arrived (errors after it are the interruption's, not worth printing). */
export const interrupted = (): boolean => signalled;

/** Registers a cleanup; returns a function that runs it now (once) and unregisters it. */
export const onCleanup = (run: () => Promise<void> | void, killSync?: () => void): (() => Promise<void>) => {
  installSignalHandlers();
  const entry: Cleanup = killSync ? { run, killSync } : { run };
  stack.push(entry);
  return async () => {
    const i = stack.indexOf(entry);
    if (i < 0) return;
    stack.splice(i, 1);
    await entry.run();
  };
};

export const runCleanups = async (): Promise<void> => {
  while (stack.length) {
    const entry = stack.pop()!;
    try {
      await entry.run();
    } catch (e) {
      process.stderr.write(`bench: cleanup failed: ${(e as Error).message}\n`);
    }
  }
};

/** Sends a signal to a pid, ignoring "no such process". */
export const killPid = (pid: number | undefined, signal: NodeJS.Signals = 'SIGKILL'): void => {
  if (!pid) return;
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
};

const installSignalHandlers = () => {
  if (installed) return;
  installed = true;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      signalled = true;
      process.stderr.write(`\nbench: ${sig}, cleaning up\n`);
      void runCleanups().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
    });
  }
  process.once('exit', () => {
    for (const entry of stack) entry.killSync?.();
  });
};

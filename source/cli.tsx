#!/usr/bin/env node
import { run } from './commands/run.js';

// The process edge: real argv, streams and signals in; an exit code out.
const controller = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
    setTimeout(() => process.exit(130), 2000).unref();
  });
}

const code = await run(process.argv.slice(2), {
  out: (s) => process.stdout.write(`${s}\n`),
  err: (s) => process.stderr.write(`${s}\n`),
  cwd: process.cwd(),
  env: process.env,
  stdoutIsTTY: Boolean(process.stdout.isTTY),
  signal: controller.signal,
  setTitle: true,
  stdin: () => process.stdin,
  terminal: { stdout: process.stdout, stdin: process.stdin },
});
process.exitCode = code;
// Asked to stop and done stopping: leave now rather than wait out client-library timers
// (a cancelled blocking read's watchdog, say). Output to pipes and files is synchronous here.
if (controller.signal.aborted) process.exit(code);

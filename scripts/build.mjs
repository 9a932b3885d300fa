// Build: compile source/ to dist/, copy the Lua scripts beside their loader, mark the CLI
// executable; with --bench compile bench/ (and the sources it imports) to dist-bench/ instead.
// The compiler is TypeScript 7 (installed as `tsc7`); `typescript` 6 is there for the linter's API.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, rmSync } from 'node:fs';

const tsc = (project) =>
  execFileSync(process.execPath, ['node_modules/tsc7/bin/tsc', '-p', project], { stdio: 'inherit' });

if (process.argv.includes('--bench')) {
  rmSync('dist-bench', { recursive: true, force: true });
  tsc('bench/tsconfig.json');
  cpSync('source/store/lua', 'dist-bench/source/store/lua', { recursive: true });
} else {
  rmSync('dist', { recursive: true, force: true });
  tsc('tsconfig.build.json');
  cpSync('source/store/lua', 'dist/store/lua', { recursive: true });
  chmodSync('dist/cli.js', 0o755);
}

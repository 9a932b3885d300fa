// Build: compile source/ to dist/, copy the Lua scripts beside their loader,
// mark the CLI executable; with --bench also compile bench/ to dist-bench/.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, rmSync } from 'node:fs';

const tsc = (project) => execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', project], { stdio: 'inherit' });
rmSync('dist', { recursive: true, force: true });
tsc('tsconfig.build.json');
cpSync('source/store/lua', 'dist/store/lua', { recursive: true });
chmodSync('dist/cli.js', 0o755);
if (process.argv.includes('--bench')) {
  rmSync('dist-bench', { recursive: true, force: true });
  tsc('bench/tsconfig.json');
}

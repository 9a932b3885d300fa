import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Each test starts its own redis-server on a temporary unix socket, so files run in parallel.
    fileParallelism: true,
    // CI asks for a machine-readable report beside the usual output (.ci/run prints its totals).
    ...(process.env.TT_TEST_REPORT
      ? { reporters: ['default', 'json'], outputFile: { json: process.env.TT_TEST_REPORT } }
      : {}),
    projects: [
      // Pure code, the layer rule, and loopback fakes: no redis-server (npm run test:unit).
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.{ts,tsx}'] } },
      // Against real redis-server processes, the built CLI and tmux.
      { extends: true, test: { name: 'integration', include: ['test/*.test.{ts,tsx}'] } },
      // The real coding-agent CLIs against the stand-in model (npm run test:agents; they need the
      // pinned releases from scripts/agent-clis.sh). Not part of npm test: CI runs them as a step
      // of their own so their start-up load does not squeeze the console's tmux test.
      {
        extends: true,
        test: { name: 'agents', include: ['test/agents/**/*.test.ts'], testTimeout: 120_000 },
      },
    ],
  },
});

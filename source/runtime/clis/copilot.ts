import { baseClassify, textParser } from './common.js';
import type { CliAdapter } from './types.js';

/**
 * GitHub Copilot CLI (`@github/copilot`): plain text. Measured with 1.0.102 on this machine: a
 * prompt piped on stdin runs one non-interactive session without -p (no argument length limit),
 * and a session ends with a summary (`Changes`, `Duration`, `Resume copilot --resume=...`). Its
 * `--output-format json` leaves out tokens and cost, so text it is.
 */

/** The closing summary never says why a run failed. */
const NOISE = [/^(?:Changes|Duration|Resume|Requests|Tokens|Total usage|API time|Total session time)\b/];

export const copilot: CliAdapter = {
  name: 'copilot',
  bin: 'copilot',
  // --allow-all-tools: required for a non-interactive run. No self-update mid-round, no colour.
  args: ['--allow-all-tools', '--no-auto-update', '--no-color'],
  env: [],
  setup:
    'a login: run `copilot login` once, or COPILOT_GITHUB_TOKEN (or GH_TOKEN) of an account with Copilot',
  install: 'npm i -g @github/copilot@1.0.102',
  release: '1.0.102',
  judge: 'report',
  verify: 'contract',
  versionArgs: ['--version'],
  helpArgs: ['--help'],
  credentials: { env: ['COPILOT_GITHUB_TOKEN', 'GH_TOKEN', 'GITHUB_TOKEN'], files: [] },
  parser: () => textParser(),
  classify: (end) => baseClassify(end, { noise: NOISE, readTail: true }),
};

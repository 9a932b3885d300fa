import { baseClassify, textParser } from './common.js';
import type { CliAdapter } from './types.js';

/**
 * Any other command line (`make test`, `./my-agent.sh`): its output as text, its exit code as
 * the outcome, and a failure's reason the last line it printed.
 */
export const command: CliAdapter = {
  name: 'command',
  bin: '',
  args: [],
  env: [],
  setup: 'whatever the command itself needs',
  install: '',
  release: '',
  judge: 'exit',
  verify: 'none',
  versionArgs: [],
  helpArgs: [],
  parser: () => textParser(),
  classify: (end) => baseClassify(end),
};

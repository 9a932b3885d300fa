import type { AttemptEventInput } from '../../model/attempt.js';
import { baseClassify, errorEvent, textParser } from './common.js';
import type { CliAdapter } from './types.js';

/**
 * Augment's auggie (`@augmentcode/auggie`), `--print`: plain text. In print mode it takes piped
 * stdin as the instruction (0.36.0's bundle: "Using stdin input as instruction"). Its errors
 * start with ❌ (measured with 0.36.0 without a login: `❌ No auth provided. Please log in ...`).
 */

const special = (line: string): AttemptEventInput[] | undefined =>
  line.startsWith('❌')
    ? [{ kind: 'message', text: line }, errorEvent(line.replace(/^❌\s*/, ''), 'crash')]
    : undefined;

export const auggie: CliAdapter = {
  name: 'auggie',
  bin: 'auggie',
  args: ['--print'],
  env: [],
  setup: 'a login: run `auggie login` once, or AUGMENT_SESSION_AUTH',
  install: 'npm i -g @augmentcode/auggie@0.36.0',
  release: '0.36.0',
  judge: 'report',
  verify: 'contract',
  versionArgs: ['--version'],
  helpArgs: ['--help'],
  credentials: { env: ['AUGMENT_SESSION_AUTH'], files: ['.augment/session.json'] },
  parser: () => textParser(special),
  classify: (end) => baseClassify(end, { readTail: true }),
};

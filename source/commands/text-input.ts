import { open } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { UsageError } from '../model/errors.js';
import { REPORT_MAX_BYTES } from '../model/report.js';
import { kebab } from '../services/flags.js';
import { str, type Ctx, type FlagSpec } from './command.js';

/**
 * A text a verb takes inline, from a file, or from its standard input: `--result "..."`,
 * `--result-file F`, `--result -` (or `--result-file -`). A report written by a coding agent
 * travels through a file or a quoted heredoc, where no shell expands its backticks and `$()`,
 * and is stored byte for byte. Every refusal is a UsageError (one line, exit 2) raised before
 * anything is stored.
 */

/** The flags of a text: `<name>` (inline, or - for stdin) and `<name>File` (a path, or - for stdin). */
export const textFlags = (
  name: string,
  inline: string,
  file: string,
  extra: Partial<FlagSpec> = {},
): Record<string, FlagSpec> => ({
  [name]: { type: 'string', description: `${inline}; - reads it from stdin`, value: 'text', ...extra },
  [`${name}File`]: { type: 'string', description: `${file} (- for stdin)`, value: 'file' },
});

const tooBig = (label: string) =>
  new UsageError(
    `the ${label} is over ${REPORT_MAX_BYTES / 1024} KiB; nothing was stored (keep it to a summary and links)`,
  );

/** Reads at most max + 1 bytes from chunks: enough to tell that the text is too long. */
const readCapped = async (
  chunks: AsyncIterable<Uint8Array | string>,
  max: number,
): Promise<Buffer | undefined> => {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const c of chunks) {
    const b = typeof c === 'string' ? Buffer.from(c) : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
    parts.push(b);
    size += b.length;
    if (size > max) return undefined;
  }
  return Buffer.concat(parts, size);
};

const readFileCapped = async (path: string, max: number): Promise<Buffer | undefined> => {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(max + 1);
    let size = 0;
    while (size <= max) {
      const { bytesRead } = await fh.read(buf, size, max + 1 - size, null);
      if (bytesRead === 0) break;
      size += bytesRead;
    }
    return size > max ? undefined : buf.subarray(0, size);
  } finally {
    await fh.close();
  }
};

const REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
};

const decode = (bytes: Buffer, source: string): string => {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UsageError(`${source} is not UTF-8 text; nothing was stored`);
  }
};

/**
 * The text given by `--<name>`, `--<name> -` or `--<name>-file F`, or undefined when none was
 * given. `label` names it in messages ("result", "reason").
 */
export const readTextInput = async (
  ctx: Ctx,
  name: string,
  label: string,
  max = REPORT_MAX_BYTES,
): Promise<string | undefined> => {
  const inline = str(ctx.flags, name);
  const file = str(ctx.flags, `${name}File`);
  const flag = `--${kebab(name)}`;
  const fileFlag = `--${kebab(name)}-file`;
  if (inline !== undefined && file !== undefined)
    throw new UsageError(`give the ${label} once: ${flag} or ${fileFlag}, not both`);
  let text: string;
  if (inline === '-' || file === '-') {
    if (!ctx.io.stdin)
      throw new UsageError(`${inline === '-' ? flag : fileFlag} - reads stdin, and there is none`);
    const bytes = await readCapped(ctx.io.stdin(), max);
    if (!bytes) throw tooBig(label);
    text = decode(bytes, 'stdin');
  } else if (file !== undefined) {
    const path = isAbsolute(file) ? file : resolve(ctx.io.cwd, file);
    let bytes: Buffer | undefined;
    try {
      bytes = await readFileCapped(path, max);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      const why = REASONS[code] ?? (code || String((e as Error)?.message ?? e).replace(/\s+/g, ' '));
      throw new UsageError(`cannot read ${fileFlag} ${file}: ${why}`);
    }
    if (!bytes) throw tooBig(label);
    text = decode(bytes, `${fileFlag} ${file}`);
  } else if (inline !== undefined) {
    if (Buffer.byteLength(inline) > max) throw tooBig(label);
    text = inline;
  } else return undefined;
  if (!text.trim()) throw new UsageError(`the ${label} is empty; nothing was stored`);
  return text;
};

/** Aligns rows into columns (two spaces apart); the last column is left ragged. */
export const table = (rows: string[][]): string => {
  if (rows.length === 0) return '';
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
};

export { ago, hhmmss as clock } from '../model/format.js';

export { AGENT_GLYPH, TASK_GLYPH } from '../model/glyphs.js';

export const oneLine = (s: string, max: number): string => {
  const line = s.split('\n', 1)[0]!.trim();
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
};

// ESC sequences (CSI, OSC, two-byte), then any other C0/C1 control but tab.
const ESCAPES = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[@-_]?/g;
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * Untrusted text (a model's, a tool's) as one printable line: line breaks become " ⏎ ", terminal
 * escapes and other control characters are dropped. (Until model/ has the one sanitiser.)
 */
export const flatLine = (s: string): string =>
  s
    .replace(/\r?\n|\r/g, ' ⏎ ')
    .replace(ESCAPES, '')
    .replace(CONTROLS, '');

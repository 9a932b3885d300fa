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

/** The display sanitiser (model/format.ts): every text from an agent or a model goes through it. */
export { displaySafe, flatLine } from '../model/format.js';

/** Plain-text table formatting for benchmark reports. */

/** Formats rows of cells into aligned columns; the first column is left-aligned, the rest right-aligned. */
export const table = (header: string[], rows: (string[] | string)[]): string[] => {
  const cells = rows.filter((r): r is string[] => Array.isArray(r));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [fmt(header), rule, ...rows.map((r) => (Array.isArray(r) ? fmt(r) : r))];
};

/** An integer with thousands separators ("12,345"); "-" when not a number. */
export const int = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '-');

/** A number with fixed decimals; "-" when not a number. */
export const fixed = (x: number, digits = 3): string => (Number.isFinite(x) ? x.toFixed(digits) : '-');

/** A ratio as "0.123x". */
export const times = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(3)}x` : '-');

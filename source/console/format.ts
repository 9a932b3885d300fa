import { displaySafe } from '../model/format.js';

/**
 * Fixed-width text cells (the console lays rows out by hand, so a pane never grows). Every cell
 * goes through the one sanitiser (model/format.ts displaySafe): no escape reaches the terminal.
 */
export const cell = (s: string, width: number): string => {
  if (width <= 0) return '';
  const flat = displaySafe(s.replace(/[\r\n\t]+/g, ' '));
  return flat.length > width ? `${flat.slice(0, Math.max(0, width - 1))}~` : flat.padEnd(width);
};

export { ago as age, hhmmss } from '../model/format.js';

const SPARK = ' .:-=+*#';
/** A sparkline in ASCII, scaled to its own maximum. */
export const sparkline = (values: number[]): string => {
  const max = Math.max(...values, 0);
  if (max === 0) return ' '.repeat(values.length);
  return values
    .map((v) => SPARK[Math.min(SPARK.length - 1, Math.ceil((v / max) * (SPARK.length - 1)))])
    .join('');
};

/** Text and time formats shared by the CLI, the console, the worker's log and the GitHub client. */

/** "3s", "4m", "2h", "5d": a compact age. */
export const ago = (ms: number): string => {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
};

/** "14:03:27": the UTC time of day of an epoch-ms timestamp. */
export const hhmmss = (ts: number): string => new Date(ts).toISOString().slice(11, 19);

/** Whitespace runs folded to one space, trimmed, and cut to `max` characters with "...". */
export const oneLine = (s: string, max = 160): string => {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 3)}...` : t;
};

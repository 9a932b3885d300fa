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

// ESC sequences (CSI, OSC, two-byte), then any other C0/C1 control but tab and line feed.
const ESCAPES = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[@-_]?/g;
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * Untrusted text (an agent's, a model's, a tool's, an issue's) made safe for a terminal: terminal
 * escapes and control characters other than tab and line feed are dropped. The one sanitiser
 * for display: the CLI's text output and the console's cells go through it (JSON output keeps
 * the data as it is).
 */
export const displaySafe = (s: string): string => s.replace(ESCAPES, '').replace(CONTROLS, '');

/** Untrusted text as one printable line: line breaks become " ⏎ ", then displaySafe. */
export const flatLine = (s: string): string => displaySafe(s.replace(/\r?\n|\r/g, ' ⏎ '));

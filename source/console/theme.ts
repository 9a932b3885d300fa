/** Semantic colours: 16 named ANSI colours, or none at all (NO_COLOR, the mono theme). */
export interface Theme {
  focus?: string;
  border?: string;
  dim?: string;
  ok?: string;
  warn?: string;
  bad?: string;
  accent?: string;
}

export const COLOR: Theme = {
  focus: 'cyan',
  border: 'gray',
  dim: 'gray',
  ok: 'green',
  warn: 'yellow',
  bad: 'red',
  accent: 'blue',
};
export const MONO: Theme = {};

export const themeFor = (env: Record<string, string | undefined>, mono?: boolean): Theme =>
  mono || env.NO_COLOR !== undefined || env.TERM === 'dumb' ? MONO : COLOR;

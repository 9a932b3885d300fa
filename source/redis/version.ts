/** Redis versions: parse and compare. Pure. */
export const MIN_REDIS = '7.0.0';

export const parseVersion = (s: string): number[] | undefined => {
  const m = /(\d+)\.(\d+)\.(\d+)/.exec(s);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
};

export const versionAtLeast = (have: string, want: string): boolean => {
  const a = parseVersion(have);
  const b = parseVersion(want)!;
  if (!a) return false;
  for (let i = 0; i < 3; i++) if (a[i]! !== b[i]!) return a[i]! > b[i]!;
  return true;
};

/** The version from `redis-server --version` ("Redis server v=7.0.15 sha=..."). */
export const serverBinaryVersion = (output: string): string | undefined =>
  /v=(\d+\.\d+\.\d+)/.exec(output)?.[1];

/** The version from INFO server. */
export const infoVersion = (info: string): string | undefined => /redis_version:(\S+)/.exec(info)?.[1];

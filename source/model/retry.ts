/**
 * Retry delays: exponential from a base (5 s, 10 s, 20 s, ...), capped. Index k (0-based) is
 * the wait after the (k+1)-th failed attempt. The list is handed to the finishing script, which
 * looks the delay up by the task's persisted attempt count.
 */
export const retryDelaysMs = (maxAttempts: number, baseSecs: number, maxSecs: number): number[] =>
  Array.from({ length: Math.max(1, maxAttempts) }, (_, k) =>
    Math.round(Math.min(baseSecs * 2 ** k, maxSecs) * 1000),
  );

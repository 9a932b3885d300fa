/** Dispatcher settings, in milliseconds (from the town config's `dispatch` section). */
export interface DispatchConfig {
  tickMs: number;
  leaseTtlMs: number;
  helpRepeatSecs: number;
  helpBackoffCap: number;
  watchSnoozeSecs: number;
  watchMaxFailures: number;
  /** A pull request without any CI asks the operator instead of counting as green. */
  requireChecks: boolean;
  /** How many finished mission tasks one tick applies per mission. */
  completionsPerTick: number;
}

export const DEFAULT_DISPATCH: DispatchConfig = {
  tickMs: 30_000,
  leaseTtlMs: 90_000,
  helpRepeatSecs: 1800,
  helpBackoffCap: 8,
  watchSnoozeSecs: 180,
  watchMaxFailures: 5,
  requireChecks: false,
  completionsPerTick: 500,
};

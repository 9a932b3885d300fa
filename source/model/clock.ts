/** Time comes in from outside; model code never reads the clock itself. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(private t = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  set(t: number): void {
    this.t = t;
  }
}

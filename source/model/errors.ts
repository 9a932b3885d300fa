/** Errors that carry their exit code: 2 for bad usage, input or config; 1 for a failed operation. */
export class TtError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The caller asked for something malformed or unknown: exit code 2. */
export class UsageError extends TtError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** A state machine refused a move. Names both states. */
export class TransitionError extends TtError {
  constructor(
    readonly kind: string,
    readonly id: string,
    readonly from: string,
    readonly to: string,
  ) {
    super(`${kind} ${id} is ${from}; it cannot become ${to}`, 1);
  }
}

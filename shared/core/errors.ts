/**
 * One error base for the whole product. `retryable` tells the runtime whether to hand the input
 * back to the queue (throttling, 5xx, timeouts) or to acknowledge it with an audit record
 * (malformed input, a policy that cannot be parsed, a configuration mistake).
 */
export class RemediatorError extends Error {
  readonly retryable: boolean;

  constructor(message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryable = options.retryable ?? false;
  }
}

/**
 * The input cannot be understood; retrying cannot help. It carries no stack trace: it is an
 * expected outcome whose message names the field, and capturing a stack costs more than judging
 * a record (a trail with malformed records in it would pay that on every one).
 */
export class InvalidInputError extends RemediatorError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(message, options);
    } finally {
      Error.stackTraceLimit = limit;
    }
  }
}

/** The configuration (file, environment or CLI flags) is wrong. */
export class ConfigError extends RemediatorError {
  override readonly name = "ConfigError";
}

// Names on the prototypes: minified bundles rename classes, and these names reach logs and audits.
RemediatorError.prototype.name = "RemediatorError";
InvalidInputError.prototype.name = "InvalidInputError";

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * One error base for the whole product. `retryable` tells the runtime whether to hand the input
 * back to the queue (throttling, 5xx, timeouts) or to acknowledge it with an audit record
 * (malformed input, a policy that cannot be parsed, a configuration mistake).
 */
export class RemediatorError extends Error {
  override readonly name: string = "RemediatorError";
  readonly retryable: boolean;

  constructor(message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryable = options.retryable ?? false;
  }
}

/** The input cannot be understood; retrying cannot help. */
export class InvalidInputError extends RemediatorError {
  override readonly name = "InvalidInputError";
}

/** The configuration (file, environment or CLI flags) is wrong. */
export class ConfigError extends RemediatorError {
  override readonly name = "ConfigError";
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

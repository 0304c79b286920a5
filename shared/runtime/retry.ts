/**
 * One retry policy for every AWS call the runtime makes: throttling, 5xx and timeouts are retried
 * with exponential back-off and full jitter; anything else fails at once. When retries run out the
 * error becomes a retryable `RemediatorError`, which sends the message back to the queue (and in
 * the end to the dead-letter queue). The SDK clients of the adapters are built with
 * `maxAttempts: 1` so the two retry layers never multiply.
 */
import { errorMessage, RemediatorError } from "../core/errors.ts";

export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  /** Injected so tests do not wait. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Injected so tests are deterministic; `Math.random` by default. */
  readonly random?: () => number;
}

const MAX_DELAY_MS = 5_000;

const RETRYABLE_NAMES = new Set([
  "ThrottlingException",
  "Throttling",
  "ThrottledException",
  "RequestThrottled",
  "RequestThrottledException",
  "RequestLimitExceeded",
  "TooManyRequestsException",
  "ProvisionedThroughputExceededException",
  "RequestTimeout",
  "RequestTimeoutException",
  "TimeoutError",
  "InternalServerError",
  "InternalServerException",
  "InternalError",
  "InternalFailure",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "Unavailable",
  "EC2ThrottledException",
  "TransactionInProgressException",
]);

const RETRYABLE_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "ENOTFOUND",
]);

interface AwsErrorShape {
  name?: string;
  code?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number; requestId?: string };
}

/** The error's AWS name (`ThrottlingException`, `InvalidPermission.NotFound`, …). */
export function awsErrorName(error: unknown): string {
  const shape = (error ?? {}) as AwsErrorShape;
  return shape.name ?? shape.code ?? "Error";
}

export function httpStatusOf(error: unknown): number | undefined {
  return ((error ?? {}) as AwsErrorShape).$metadata?.httpStatusCode;
}

/** Throttling, a 5xx answer, a timeout or a dropped connection: worth trying again. */
export function isRetryableAwsError(error: unknown): boolean {
  if (error instanceof RemediatorError) return error.retryable;
  const shape = (error ?? {}) as AwsErrorShape;
  if (shape.$retryable) return true;
  if (shape.name && RETRYABLE_NAMES.has(shape.name)) return true;
  if (shape.code && RETRYABLE_CODES.has(shape.code)) return true;
  const status = shape.$metadata?.httpStatusCode;
  return status !== undefined && (status >= 500 || status === 429);
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The delay before attempt `attempt + 1` (attempt counts from 1). */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  const ceiling = Math.min(MAX_DELAY_MS, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round((policy.random ?? Math.random)() * ceiling);
}

/**
 * Runs `call`, retrying retryable failures. A non-retryable failure is rethrown as it is (the
 * caller decides: "already gone" may be success). Persistent retryable failures become a
 * retryable `RemediatorError` naming the operation.
 */
export async function withRetry<T>(
  operation: string,
  policy: RetryPolicy,
  call: () => Promise<T>,
): Promise<T> {
  const sleep = policy.sleep ?? realSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!isRetryableAwsError(error)) throw error;
      if (attempt >= policy.maxAttempts) {
        throw new RemediatorError(
          `${operation} failed after ${attempt} attempt(s): ${awsErrorName(error)}: ${errorMessage(error)}`,
          { retryable: true, cause: error },
        );
      }
      await sleep(backoffDelay(policy, attempt));
    }
  }
}

/**
 * One retry policy for every AWS call the runtime makes (reads, actions, the state table, the
 * ledger, the archive and the notifiers): throttling, 5xx, timeouts and dropped connections are
 * retried with exponential back-off and full jitter; anything else fails at once. When retries run
 * out the error becomes a retryable `RemediatorError`, which sends the message back to the queue
 * (and in the end to the dead-letter queue).
 *
 * Every SDK client is built with `maxAttempts: 1`, so this is the only retry layer: the two never
 * multiply, and the SDK's per-client retry quota (a token bucket that, once drained by earlier
 * failures, silently stops retrying for the rest of a warm container's life) is never consulted.
 * The budget is per call and fixed by the settings (`RETRY_MAX_ATTEMPTS`, `RETRY_BASE_DELAY_MS`,
 * `RETRY_MAX_DELAY_MS`).
 *
 * A {@link ThrottleGate} shared by the calls of one API bucket (EC2 throttles per account and
 * region, one token bucket for every caller) slows the whole container down when AWS answers
 * "throttled", instead of each call retrying on its own schedule into the same empty bucket.
 */
import { errorMessage, RemediatorError } from "../core/errors.ts";

export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  /** Longest single back-off; 5 s by default. */
  readonly maxDelayMs?: number;
  /** The send-rate limiter of the API bucket this call draws on; none by default. */
  readonly gate?: ThrottleGate;
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

/** Names that mean "the bucket is empty", as opposed to "the service failed". */
const THROTTLING_NAMES = new Set([
  "ThrottlingException",
  "Throttling",
  "ThrottledException",
  "RequestThrottled",
  "RequestThrottledException",
  "RequestLimitExceeded",
  "TooManyRequestsException",
  "ProvisionedThroughputExceededException",
  "EC2ThrottledException",
  "SlowDown",
]);

/** Reasons a DynamoDB transaction is cancelled that a later attempt can get past. */
const RETRYABLE_CANCELLATION_CODES = new Set([
  "ThrottlingError",
  "ProvisionedThroughputExceeded",
  "RequestLimitExceeded",
  "TransactionConflict",
]);

interface AwsErrorShape {
  name?: string;
  code?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number; requestId?: string };
  CancellationReasons?: readonly { Code?: string }[];
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
  if ((shape.CancellationReasons ?? []).some((r) => RETRYABLE_CANCELLATION_CODES.has(r.Code ?? ""))) {
    return true;
  }
  const status = shape.$metadata?.httpStatusCode;
  return status !== undefined && (status >= 500 || status === 429);
}

/** Throttling (the API bucket is empty), as opposed to a failure of the service. */
export function isThrottlingError(error: unknown): boolean {
  const shape = (error ?? {}) as AwsErrorShape & { $retryable?: { throttling?: boolean } };
  if (shape.name && THROTTLING_NAMES.has(shape.name)) return true;
  if (shape.$retryable?.throttling === true) return true;
  if ((shape.CancellationReasons ?? []).some((r) => r.Code === "ThrottlingError")) return true;
  return shape.$metadata?.httpStatusCode === 429;
}

/**
 * A send-rate limiter for one API bucket, shared by every call that draws on it in a container
 * (additive increase, multiplicative decrease, like the SDK's "adaptive" retry mode, but shared
 * across clients and with the runtime's own retry budget). Unlimited until AWS throttles; then the
 * rate drops to half of what was being sent over the last second, and every later call waits its
 * turn; each success raises it by one call per second until it no longer binds.
 */
export class ThrottleGate {
  static readonly MIN_RATE = 0.5;
  static readonly MAX_RATE = 100;
  /** Calls per second allowed; `undefined` while unlimited. */
  #rate: number | undefined;
  #nextAt = 0;
  readonly #sent: number[] = [];
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** The current limit (calls per second), or `undefined` while unlimited. */
  get rate(): number | undefined {
    return this.#rate;
  }

  /** How long the next call must wait (and books its slot). */
  reserve(): number {
    const now = this.#now();
    this.#sent.push(now);
    while (this.#sent.length > 0 && (this.#sent[0] ?? now) <= now - 1000) this.#sent.shift();
    if (this.#rate === undefined) return 0;
    const at = Math.max(now, this.#nextAt);
    this.#nextAt = at + 1000 / this.#rate;
    return at - now;
  }

  throttled(): void {
    const measured = Math.max(1, this.#sent.length);
    this.#rate = Math.max(ThrottleGate.MIN_RATE, Math.min(this.#rate ?? measured, measured) / 2);
  }

  succeeded(): void {
    if (this.#rate === undefined) return;
    this.#rate += 1;
    if (this.#rate >= ThrottleGate.MAX_RATE) this.#rate = undefined;
  }
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The delay before attempt `attempt + 1` (attempt counts from 1). */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  const ceiling = Math.min(policy.maxDelayMs ?? MAX_DELAY_MS, policy.baseDelayMs * 2 ** (attempt - 1));
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
  const { gate } = policy;
  for (let attempt = 1; ; attempt++) {
    try {
      const wait = gate?.reserve() ?? 0;
      if (wait > 0) await sleep(wait);
      const result = await call();
      gate?.succeeded();
      return result;
    } catch (error) {
      if (gate && isThrottlingError(error)) gate.throttled();
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

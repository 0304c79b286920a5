/**
 * Sends one decision to every notification channel at once. A channel that fails or hangs never
 * stops the others and never throws: its failure comes back in the result, for the pipeline to log,
 * count and, when it may pass, leave owed in the record's outbox. Each channel is tried under the
 * runtime's retry policy, each attempt under the timeout. The audit record is written before this
 * runs and does not depend on it.
 */
import { errorMessage, RemediatorError } from "../core/errors.ts";
import { DEFAULT_NOTIFY_VERDICTS } from "./notification-text.ts";
import type { AuditRecord, AuditVerdict, Notifier } from "./ports.ts";
import { isRetryableAwsError, type RetryPolicy, withRetry } from "./retry.ts";

export interface NotifierFailure {
  readonly notifier: string;
  readonly message: string;
  readonly error: unknown;
  /** Throttling, 5xx, a timeout or a dropped connection that outlasted the retries: may pass later. */
  readonly retryable: boolean;
}

export interface NotifyAllResult {
  /** Channels that accepted the notification. */
  readonly sent: readonly string[];
  /** Channels that were not asked, because the verdict does not notify them. */
  readonly skipped: readonly string[];
  readonly failures: readonly NotifierFailure[];
}

export interface NotifyAllOptions {
  /** Verdicts that notify every channel. Default: {@link DEFAULT_NOTIFY_VERDICTS}. */
  readonly verdicts?: readonly AuditVerdict[];
  /** Per-channel override by notifier name, e.g. `{ eventbridge: [every verdict] }` for routing. */
  readonly verdictsByNotifier?: Readonly<Record<string, readonly AuditVerdict[]>>;
  /** One attempt still pending after this long counts as failed, and may be retried (default 10 s). */
  readonly timeoutMs?: number;
  /** The runtime's retry policy; one attempt per channel without it. */
  readonly retry?: RetryPolicy;
  /**
   * Exactly these channels, whatever the verdict routing says now (the channels a record's outbox
   * owes were chosen when it was written).
   */
  readonly channels?: readonly string[];
}

/** Whether a record with this verdict goes to this channel. */
export function shouldNotify(
  notifier: string,
  verdict: AuditVerdict,
  options: NotifyAllOptions = {},
): boolean {
  const verdicts = options.verdictsByNotifier?.[notifier] ?? options.verdicts ?? DEFAULT_NOTIFY_VERDICTS;
  return verdicts.includes(verdict);
}

function withTimeout(work: Promise<void>, ms: number, name: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new RemediatorError(`${name} did not answer within ${ms} ms`, { retryable: true })),
      ms,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Notifies every channel in parallel; resolves once each has succeeded or failed for good. */
export async function notifyAll(
  notifiers: readonly Notifier[],
  record: AuditRecord,
  options: NotifyAllOptions = {},
): Promise<NotifyAllResult> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const { channels, retry } = options;
  const chosen = notifiers.filter((n) =>
    channels ? channels.includes(n.name) : shouldNotify(n.name, record.verdict, options),
  );
  const skipped = notifiers.filter((n) => !chosen.includes(n)).map((n) => n.name);
  const settled = await Promise.allSettled(
    chosen.map((notifier) => {
      // `Promise.resolve().then` also catches a notifier that throws synchronously.
      const attempt = () =>
        withTimeout(
          Promise.resolve().then(() => notifier.notify(record)),
          timeoutMs,
          notifier.name,
        );
      return retry ? withRetry(`notify ${notifier.name}`, retry, attempt) : attempt();
    }),
  );
  const sent: string[] = [];
  const failures: NotifierFailure[] = [];
  settled.forEach((result, i) => {
    const name = chosen[i]?.name ?? "unknown";
    if (result.status === "fulfilled") sent.push(name);
    else
      failures.push({
        notifier: name,
        message: errorMessage(result.reason),
        error: result.reason,
        retryable: isRetryableAwsError(result.reason),
      });
  });
  return { sent, skipped, failures };
}

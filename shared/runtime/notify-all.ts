/**
 * Sends one decision to every notification channel at once. A channel that fails or hangs never
 * stops the others and never throws: its failure comes back in the result, for the pipeline to log
 * and count. The audit record is written before this runs and does not depend on it.
 */
import { errorMessage } from "../core/errors.ts";
import { DEFAULT_NOTIFY_VERDICTS } from "./notification-text.ts";
import type { AuditRecord, AuditVerdict, Notifier } from "./ports.ts";

export interface NotifierFailure {
  readonly notifier: string;
  readonly message: string;
  readonly error: unknown;
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
  /** A channel still pending after this long counts as failed (default 10 s). */
  readonly timeoutMs?: number;
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
    timer = setTimeout(() => reject(new Error(`${name} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Notifies every channel in parallel; resolves once each has succeeded, failed or timed out. */
export async function notifyAll(
  notifiers: readonly Notifier[],
  record: AuditRecord,
  options: NotifyAllOptions = {},
): Promise<NotifyAllResult> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const chosen = notifiers.filter((n) => shouldNotify(n.name, record.verdict, options));
  const skipped = notifiers.filter((n) => !chosen.includes(n)).map((n) => n.name);
  const settled = await Promise.allSettled(
    chosen.map((notifier) =>
      // `Promise.resolve().then` also catches a notifier that throws synchronously.
      withTimeout(
        Promise.resolve().then(() => notifier.notify(record)),
        timeoutMs,
        notifier.name,
      ),
    ),
  );
  const sent: string[] = [];
  const failures: NotifierFailure[] = [];
  settled.forEach((result, i) => {
    const name = chosen[i]?.name ?? "unknown";
    if (result.status === "fulfilled") sent.push(name);
    else failures.push({ notifier: name, message: errorMessage(result.reason), error: result.reason });
  });
  return { sent, skipped, failures };
}

/**
 * The notification for machines: one event per decision on a configured EventBridge bus, with a
 * structured `detail` that rules can route on (verdict, outcome, severity, rules, account, …).
 */
import { type EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { RemediatorError } from "../core/errors.ts";
import { maxSeverity } from "../runtime/notification-text.ts";
import { type AuditRecord, decisionIdOf, type Notifier } from "../runtime/ports.ts";

export const DECISION_EVENT_SOURCE = "s3files-remediator";
export const DECISION_DETAIL_TYPE = "Remediation Decision";

/**
 * PutEvents caps an entry at 256 KB (source, detail-type, resources and detail together). Above
 * this, `before` and `after` are left out of the detail: the audit record keeps them.
 */
const MAX_DETAIL_BYTES = 200_000;

export interface EventBridgeNotifierOptions {
  /** Name or ARN of the bus. */
  readonly eventBusName: string;
  readonly source?: string;
  readonly detailType?: string;
}

/** The event's `detail`: the record, with the most severe finding spelt out for routing. */
export function decisionDetail(record: AuditRecord): Record<string, unknown> {
  const detail: Record<string, unknown> = {
    schemaVersion: 1,
    // The same for every copy of this decision: receivers drop a second one by it.
    decisionId: decisionIdOf(record),
    eventId: record.eventId,
    eventTime: record.eventTime ?? null,
    decidedAt: record.decidedAt,
    account: record.account ?? null,
    region: record.region ?? null,
    actor: record.actor ?? null,
    sourceIp: record.sourceIp ?? null,
    userAgent: record.userAgent ?? null,
    eventSource: record.eventSource ?? null,
    eventName: record.eventName ?? null,
    resource: record.resource ?? null,
    rules: record.rules,
    severity: maxSeverity(record) ?? null,
    verdict: record.verdict,
    mode: record.mode,
    outcome: record.outcome,
    reason: record.reason,
    error: record.error ?? null,
    findings: record.findings,
    plan: record.plan,
    requestIds: record.requestIds,
    before: record.before ?? null,
    after: record.after ?? null,
    stateOmitted: false,
  };
  if (Buffer.byteLength(JSON.stringify(detail)) > MAX_DETAIL_BYTES) {
    detail.before = null;
    detail.after = null;
    detail.stateOmitted = true;
  }
  return detail;
}

export class EventBridgeNotifier implements Notifier {
  readonly name = "eventbridge";
  readonly #client: EventBridgeClient;
  readonly #options: Required<EventBridgeNotifierOptions>;

  constructor(client: EventBridgeClient, options: EventBridgeNotifierOptions) {
    this.#client = client;
    this.#options = {
      source: DECISION_EVENT_SOURCE,
      detailType: DECISION_DETAIL_TYPE,
      ...options,
    };
  }

  async notify(record: AuditRecord): Promise<void> {
    const decidedAt = new Date(record.decidedAt);
    const answer = await this.#client.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: this.#options.eventBusName,
            Source: this.#options.source,
            DetailType: this.#options.detailType,
            Detail: JSON.stringify(decisionDetail(record)),
            // `resources` must be ARNs; an id-only resource stays in the detail.
            Resources: record.resource?.startsWith("arn:") ? [record.resource] : [],
            ...(Number.isNaN(decidedAt.getTime()) ? {} : { Time: decidedAt }),
          },
        ],
      }),
    );
    // PutEvents answers 200 even when the entry was refused: the failure is per entry.
    if ((answer.FailedEntryCount ?? 0) > 0) {
      const entry = answer.Entries?.[0];
      throw new RemediatorError(
        `EventBridge refused the decision event for ${record.eventId}: ${entry?.ErrorCode ?? "unknown"} ${entry?.ErrorMessage ?? ""}`.trim(),
        // Documented per-entry codes: ThrottlingException and InternalFailure pass on a retry.
        { retryable: entry?.ErrorCode === "ThrottlingException" || entry?.ErrorCode === "InternalFailure" },
      );
    }
  }
}

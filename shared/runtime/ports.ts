/**
 * The ports between the remediation pipeline and the world. The pipeline (`shared/runtime`) only
 * sees these interfaces; one adapter per AWS service implements them (`shared/adapters`), with its
 * SDK client injected by the composition root (the Lambda handler module or the CLI).
 */
import type { Finding, PlanStep, RuleMode } from "../core/types.ts";

/** The global switch: `enforce` acts, `notify` only tells, `dry-run` plans and records, `off` records only. */
export type RemediationMode = "enforce" | "notify" | "dry-run" | "off";

/** Every decision ends as exactly one of these. */
export type AuditVerdict = "violation" | "compliant" | "ignored" | "exempted" | "invalid" | "failed";

/** What was done about it. */
export type Outcome =
  /** The plan ran and the live state read back is compliant. */
  | "remediated"
  /** The live state was already compliant (a human fixed it, or the rule is gone): nothing to do. */
  | "already-compliant"
  /** A violation reported without acting (notify mode, notify-only rule, exemption, access point). */
  | "notified"
  /** Global dry-run: the plan was recorded, not executed. */
  | "dry-run"
  /** Nothing to act on: compliant, ignored or invalid input. */
  | "no-action"
  /** The plan failed or the verify step found the resource still unsafe. */
  | "failed";

/** One audit record per decision: the evidence auditors read. Field names are documented in docs/alerts-and-audit.md. */
export interface AuditRecord {
  readonly eventId: string;
  readonly eventTime: string | undefined;
  readonly decidedAt: string;
  readonly account: string | undefined;
  readonly region: string | undefined;
  readonly actor: string | undefined;
  readonly sourceIp: string | undefined;
  readonly userAgent: string | undefined;
  readonly eventName: string | undefined;
  readonly eventSource: string | undefined;
  readonly resource: string | undefined;
  /** Ids of the rules that found a violation. */
  readonly rules: readonly string[];
  readonly verdict: AuditVerdict;
  /** The effective mode: the global mode, or the rule's when it is stricter (notify/off). */
  readonly mode: RemediationMode | RuleMode;
  readonly findings: readonly Finding[];
  /** Live state read before acting (plain JSON). */
  readonly before: unknown;
  readonly plan: readonly PlanStep[];
  /** Live state read back after acting (plain JSON). */
  readonly after: unknown;
  readonly outcome: Outcome;
  /** AWS request ids of the calls the executor made. */
  readonly requestIds: readonly string[];
  readonly error: string | undefined;
  /** One sentence for people: why this verdict and outcome. */
  readonly reason: string;
}

/**
 * The stable id of a decision, which every notification carries so a receiver can drop a second
 * copy: the record's `eventId` (the ledger holds at most one record per `eventId`).
 */
export function decisionIdOf(record: Pick<AuditRecord, "eventId">): string {
  return record.eventId;
}

/** A decision as the ledger holds it, with the notification channels it still owes. */
export interface RecordedDecision {
  readonly record: AuditRecord;
  /** Channels not yet told (the outbox written with the record); empty once every one was. */
  readonly owed: readonly string[];
}

/**
 * The remediation log. Writing the same `eventId` twice must not create a second record. The
 * channels a record must notify (its outbox) are written in the same atomic write as the record,
 * so a committed decision always knows whom it still owes, whatever happens to the attempt that
 * wrote it.
 */
export interface AuditLedger {
  /**
   * Writes the record and its outbox at once. `"duplicate"`: a record for this `eventId` was
   * already there (written by another attempt); nothing was written.
   */
  record(entry: AuditRecord, owed?: readonly string[]): Promise<"written" | "duplicate">;
  /** The record of an `eventId` and the channels it still owes; `undefined` when none was written. */
  recorded(eventId: string): Promise<RecordedDecision | undefined>;
  /** After a delivery round: the channels still owed (empty: every one was told). */
  settle(eventId: string, owed: readonly string[]): Promise<void>;
}

/** An append-only copy of the ledger (the S3 archive): records only, no outbox. */
export interface AuditArchive {
  record(entry: AuditRecord): Promise<"written" | "duplicate">;
}

/**
 * One notification channel (EventBridge bus, SNS topic, Slack, Security Hub). A notifier failing
 * never costs the audit record: the pipeline records first and reports notifier errors in logs and
 * metrics.
 */
export interface Notifier {
  readonly name: string;
  notify(record: AuditRecord): Promise<void>;
}

/** The clock, injected so audit timestamps and exemption expiry are testable. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

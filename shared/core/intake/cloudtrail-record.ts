/**
 * The CloudTrail record at the boundary: unwrap an EventBridge envelope, validate the fields every
 * decision relies on, and pull out the evidence (who, when, where from).
 */
import { z } from "zod";
import { formatZodIssues } from "../config.ts";
import { InvalidInputError } from "../errors.ts";
import type { Actor, ChangeMeta } from "../types.ts";

export const CLOUDTRAIL_API_CALL = "AWS API Call via CloudTrail";
export const CLOUDTRAIL_SERVICE_EVENT = "AWS Service Event via CloudTrail";

const parameters = z.record(z.string(), z.unknown()).nullish();

export const cloudTrailRecordSchema = z.looseObject({
  eventID: z.string().min(1),
  eventName: z.string().min(1),
  eventSource: z.string().min(1),
  eventTime: z.string().min(1),
  eventType: z.string().optional(),
  awsRegion: z.string().optional(),
  recipientAccountId: z.string().optional(),
  errorCode: z.string().nullish(),
  errorMessage: z.string().nullish(),
  readOnly: z.boolean().optional(),
  userIdentity: z.record(z.string(), z.unknown()).nullish(),
  sourceIPAddress: z.string().optional(),
  userAgent: z.string().optional(),
  requestID: z.string().optional(),
  requestParameters: parameters,
  responseElements: parameters,
});

export type CloudTrailRecord = z.infer<typeof cloudTrailRecordSchema>;

const eventBridgeEnvelopeSchema = z.looseObject({
  "detail-type": z.string(),
  detail: z.record(z.string(), z.unknown()),
  account: z.string().optional(),
  region: z.string().optional(),
});

export type UnwrappedRecord =
  | {
      readonly kind: "record";
      readonly record: CloudTrailRecord;
      readonly envelopeAccount: string | undefined;
    }
  | { readonly kind: "service-event"; readonly detailType: string; readonly partial: PartialMeta };

/** What can be salvaged from a record that failed validation, so its audit line names it. */
export interface PartialMeta {
  readonly eventId: string | undefined;
  readonly eventName: string | undefined;
  readonly eventSource: string | undefined;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function optionalString(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

export function salvageMeta(raw: unknown): PartialMeta {
  const outer = asRecord(raw);
  const record = asRecord(outer?.detail) ?? outer;
  return {
    eventId: optionalString(record?.eventID) ?? optionalString(outer?.id),
    eventName: optionalString(record?.eventName),
    eventSource: optionalString(record?.eventSource),
  };
}

/**
 * Accepts a bare CloudTrail record or an EventBridge event that carries one in `detail`.
 * Throws `InvalidInputError` naming the offending field.
 */
export function unwrapRecord(raw: unknown): UnwrappedRecord {
  const outer = asRecord(raw);
  if (!outer)
    throw new InvalidInputError(
      `expected a JSON object, got ${Array.isArray(raw) ? "an array" : typeof raw}`,
    );
  let candidate: unknown = outer;
  let envelopeAccount: string | undefined;
  if ("detail-type" in outer || "detail" in outer) {
    const envelope = eventBridgeEnvelopeSchema.safeParse(outer);
    if (!envelope.success) {
      throw new InvalidInputError(`EventBridge event: ${formatZodIssues(envelope.error)}`);
    }
    const detailType = envelope.data["detail-type"];
    if (detailType === CLOUDTRAIL_SERVICE_EVENT) {
      return { kind: "service-event", detailType, partial: salvageMeta(outer) };
    }
    if (detailType !== CLOUDTRAIL_API_CALL) {
      throw new InvalidInputError(`detail-type: expected "${CLOUDTRAIL_API_CALL}", got "${detailType}"`);
    }
    candidate = envelope.data.detail;
    envelopeAccount = envelope.data.account;
  }
  const parsed = cloudTrailRecordSchema.safeParse(candidate);
  if (!parsed.success) throw new InvalidInputError(`CloudTrail record: ${formatZodIssues(parsed.error)}`);
  return { kind: "record", record: parsed.data, envelopeAccount };
}

/**
 * Reads a field whatever its key case: some pipelines (Panther, for one) lower-case the keys of
 * `userIdentity`, turning `sessionContext.sessionIssuer.arn` into `sessioncontext.sessionissuer.arn`.
 */
function field(object: Record<string, unknown> | undefined, name: string): unknown {
  if (!object) return undefined;
  return name in object ? object[name] : object[name.toLowerCase()];
}

export function actorOf(identity: Record<string, unknown> | null | undefined): Actor {
  const id = identity ?? undefined;
  const sessionContext = asRecord(field(id, "sessionContext"));
  const issuer = asRecord(field(sessionContext, "sessionIssuer"));
  return {
    arn: optionalString(field(id, "arn")),
    type: optionalString(field(id, "type")),
    accountId: optionalString(field(id, "accountId")),
    issuerArn: optionalString(field(issuer, "arn")),
    invokedBy: optionalString(field(id, "invokedBy")),
  };
}

/** A short, human name for the caller: the ARN when there is one. */
export function describeActor(actor: Actor): string {
  return actor.arn ?? actor.invokedBy ?? actor.issuerArn ?? actor.type ?? "unknown";
}

export function metaOf(record: CloudTrailRecord, envelopeAccount: string | undefined): ChangeMeta {
  const actor = actorOf(record.userIdentity);
  return {
    eventId: record.eventID,
    eventName: record.eventName,
    eventSource: record.eventSource,
    eventTime: record.eventTime,
    account: record.recipientAccountId ?? envelopeAccount ?? actor.accountId,
    region: record.awsRegion,
    actor,
    sourceIp: record.sourceIPAddress,
    userAgent: record.userAgent,
    requestId: record.requestID,
  };
}

/** `aws`, `aws-cn` or `aws-us-gov`, from the region name. */
export function partitionOf(region: string | undefined): string {
  if (region?.startsWith("cn-")) return "aws-cn";
  if (region?.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

/**
 * The CloudTrail record at the boundary: unwrap an EventBridge envelope, validate the fields every
 * decision relies on, and pull out the evidence (who, when, where from).
 */
import { InvalidInputError } from "../errors.ts";
import type { Actor, ChangeMeta } from "../types.ts";

export const CLOUDTRAIL_API_CALL = "AWS API Call via CloudTrail";
export const CLOUDTRAIL_SERVICE_EVENT = "AWS Service Event via CloudTrail";

/**
 * The fields of a CloudTrail record that decisions rely on, as checked by `readCloudTrailRecord`;
 * every other field is left as it is. CloudTrail writes `null` for absent bodies.
 */
export interface CloudTrailRecord {
  readonly eventID: string;
  readonly eventName: string;
  readonly eventSource: string;
  readonly eventTime: string;
  readonly eventType?: string | null;
  readonly awsRegion?: string | null;
  readonly recipientAccountId?: string | null;
  readonly errorCode?: string | null;
  readonly readOnly?: boolean | null;
  readonly userIdentity?: Record<string, unknown> | null;
  readonly sourceIPAddress?: string | null;
  readonly userAgent?: string | null;
  readonly requestID?: string | null;
  readonly requestParameters?: Record<string, unknown> | null;
  readonly responseElements?: Record<string, unknown> | null;
}

/*
 * The record envelope is checked by hand, in place, rather than with a schema: it is read for every
 * record of a trail, most of which are about other services, and a schema library's copy of each
 * record costs as much as the JSON parse itself. The per-event bodies are validated with schemas.
 */
const REQUIRED_STRINGS = ["eventID", "eventName", "eventSource", "eventTime"] as const;
const OPTIONAL_FIELDS = [
  ["eventType", "string"],
  ["awsRegion", "string"],
  ["recipientAccountId", "string"],
  ["errorCode", "string"],
  ["readOnly", "boolean"],
  ["userIdentity", "object"],
  ["sourceIPAddress", "string"],
  ["userAgent", "string"],
  ["requestID", "string"],
  ["requestParameters", "object"],
  ["responseElements", "object"],
] as const;

export function readCloudTrailRecord(candidate: unknown): CloudTrailRecord {
  const record = asRecord(candidate);
  if (!record) throw new InvalidInputError("CloudTrail record: expected a JSON object");
  for (const key of REQUIRED_STRINGS) {
    const value = record[key];
    if (typeof value !== "string" || value.length === 0) {
      throw new InvalidInputError(
        `CloudTrail record: ${key}: ${value === undefined ? "missing" : "expected a non-empty string"}`,
      );
    }
  }
  for (const [key, type] of OPTIONAL_FIELDS) {
    const value = record[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== type || (type === "object" && Array.isArray(value))) {
      throw new InvalidInputError(
        `CloudTrail record: ${key}: expected ${type === "object" ? "an object" : `a ${type}`}`,
      );
    }
  }
  return record as unknown as CloudTrailRecord;
}

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
    const detailType = outer["detail-type"];
    if (typeof detailType !== "string")
      throw new InvalidInputError("EventBridge event: detail-type: expected a string");
    if (detailType === CLOUDTRAIL_SERVICE_EVENT) {
      return { kind: "service-event", detailType, partial: salvageMeta(outer) };
    }
    if (detailType !== CLOUDTRAIL_API_CALL) {
      throw new InvalidInputError(`detail-type: expected "${CLOUDTRAIL_API_CALL}", got "${detailType}"`);
    }
    if (!asRecord(outer.detail)) throw new InvalidInputError("EventBridge event: detail: expected an object");
    candidate = outer.detail;
    envelopeAccount = optionalString(outer.account);
    const record = readCloudTrailRecord(candidate);
    checkEnvelope(outer, record);
    return { kind: "record", record, envelopeAccount };
  }
  return { kind: "record", record: readCloudTrailRecord(candidate), envelopeAccount };
}

/** Every source AWS itself emits begins so; EventBridge refuses `PutEvents` entries that use it. */
export const AWS_EVENT_SOURCE_PREFIX = "aws.";

/**
 * The envelope must be one AWS wrote about this record: an `aws.` source (which nobody else can put
 * on a bus), and the account and region EventBridge stamped must be the record's own. A principal
 * that may write to the bus could otherwise carry a made-up record (a fake actor in the evidence, a
 * chosen account to act in) inside a custom event.
 */
function checkEnvelope(outer: Record<string, unknown>, record: CloudTrailRecord): void {
  const source = outer.source;
  if (typeof source !== "string" || !source.startsWith(AWS_EVENT_SOURCE_PREFIX)) {
    throw new InvalidInputError(
      `EventBridge event: source ${JSON.stringify(source ?? null)} is not an AWS service ` +
        `(only AWS emits a source beginning with "${AWS_EVENT_SOURCE_PREFIX}"): not a CloudTrail record, not acted on`,
    );
  }
  // EventBridge stamps both on every event it delivers: an envelope without them is not one of its own.
  const account = optionalString(outer.account);
  const region = optionalString(outer.region);
  if (account === undefined || region === undefined) {
    throw new InvalidInputError(
      `EventBridge event: ${account === undefined ? "account" : "region"}: missing (EventBridge stamps it on every event)`,
    );
  }
  if (record.recipientAccountId && account !== record.recipientAccountId) {
    throw new InvalidInputError(
      `EventBridge event: account ${account} disagrees with the record's recipientAccountId ` +
        `${record.recipientAccountId}: a forged or altered event, not acted on`,
    );
  }
  if (record.awsRegion && region !== record.awsRegion) {
    throw new InvalidInputError(
      `EventBridge event: region ${region} disagrees with the record's awsRegion ${record.awsRegion}: ` +
        "a forged or altered event, not acted on",
    );
  }
}

/**
 * Reads a field whatever its key case: some pipelines (Panther, for one) lower-case the keys of
 * `userIdentity`, turning `sessionContext.sessionIssuer.arn` into `sessioncontext.sessionissuer.arn`.
 */
function field(object: Record<string, unknown> | undefined, name: string, lowerCased = name): unknown {
  if (!object) return undefined;
  const value = object[name];
  return value !== undefined ? value : object[lowerCased];
}

export function actorOf(identity: Record<string, unknown> | null | undefined): Actor {
  const id = identity ?? undefined;
  const sessionContext = asRecord(field(id, "sessionContext", "sessioncontext"));
  const issuer = asRecord(field(sessionContext, "sessionIssuer", "sessionissuer"));
  return {
    arn: optionalString(field(id, "arn")),
    type: optionalString(field(id, "type")),
    accountId: optionalString(field(id, "accountId", "accountid")),
    issuerArn: optionalString(field(issuer, "arn")),
    invokedBy: optionalString(field(id, "invokedBy", "invokedby")),
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
    region: record.awsRegion ?? undefined,
    actor,
    sourceIp: record.sourceIPAddress ?? undefined,
    userAgent: record.userAgent ?? undefined,
    requestId: record.requestID ?? undefined,
  };
}

/** `aws`, `aws-cn` or `aws-us-gov`, from the region name. */
export function partitionOf(region: string | undefined): string {
  if (region?.startsWith("cn-")) return "aws-cn";
  if (region?.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

/**
 * From one raw input (an EventBridge event or a bare CloudTrail record) to exactly one of:
 * a typed `Change` to judge, an `ignored` record with its reason, or an `invalid` record with a
 * plain message naming the field. Never throws for bad input.
 */
import { errorMessage, InvalidInputError } from "../errors.ts";
import type { IamIdentityChange } from "../iam/model.ts";
import type { Actor, Change, ChangeDetail, ChangeMeta, FileSystemService, Service } from "../types.ts";
import {
  type CloudTrailRecord,
  metaOf,
  type PartialMeta,
  partitionOf,
  salvageMeta,
  unwrapRecord,
} from "./cloudtrail-record.ts";
import { EC2_JUDGED_EVENTS, ec2Change } from "./ec2-security-groups.ts";
import {
  EFS_SOURCE,
  FILE_SYSTEM_JUDGED_EVENTS,
  fileSystemChange,
  isRecognisedUnjudged,
  S3FILES_SOURCE,
} from "./file-systems.ts";
import { IAM_JUDGED_EVENTS, IAM_SOURCE, iamChange, isRecognisedUnjudgedIam } from "./iam.ts";
import { BUCKET_JUDGED_EVENTS, bucketChange, S3_SOURCE } from "./s3-buckets.ts";

export const EC2_SOURCE = "ec2.amazonaws.com";

const SERVICE_BY_SOURCE: Record<string, Service> = {
  [EC2_SOURCE]: "ec2",
  [S3FILES_SOURCE]: "s3files",
  [EFS_SOURCE]: "efs",
  [IAM_SOURCE]: "iam",
  [S3_SOURCE]: "s3",
};

/** Every (eventSource, eventName) the engine judges: what the EventBridge rules must route. */
export const JUDGED_EVENTS: Readonly<Record<string, readonly string[]>> = {
  [EC2_SOURCE]: EC2_JUDGED_EVENTS,
  [S3FILES_SOURCE]: FILE_SYSTEM_JUDGED_EVENTS.s3files,
  [EFS_SOURCE]: FILE_SYSTEM_JUDGED_EVENTS.efs,
  [IAM_SOURCE]: IAM_JUDGED_EVENTS,
  [S3_SOURCE]: BUCKET_JUDGED_EVENTS,
};

export type IntakeResult =
  | { readonly status: "change"; readonly change: Change }
  | {
      readonly status: "ignored";
      readonly meta: ChangeMeta;
      readonly resource: string | undefined;
      readonly reason: string;
    }
  | { readonly status: "ignored-partial"; readonly partial: PartialMeta; readonly reason: string }
  | { readonly status: "invalid"; readonly partial: PartialMeta; readonly error: string };

export interface IntakeOptions {
  /** The remediator's own role ARNs (the account may be `*`): their changes are never acted on. */
  readonly selfRoleArns: readonly string[];
  /**
   * A PutFileSystemPolicy whose text cannot be parsed becomes a change (`unparsedProblem` set) for
   * the live policy to decide, instead of invalid input; so does an IAM call whose policy document
   * cannot be parsed (the live principals are judged, not the event's text). For callers that read
   * live state.
   */
  readonly judgeUnparsedPolicyLive?: boolean;
}

const READ_ONLY_PREFIXES = ["Describe", "Get", "List"];

/** A role pattern as regular expressions: the role itself and its STS sessions. `*` is any account. */
function rolePatternRegexes(pattern: string): RegExp[] {
  const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/\\\*/g, "\\d{12}");
  const role = /^arn:(aws[a-z-]*):iam::(\d{12}|\*):role\/(?:.*\/)?([^/]+)$/.exec(pattern);
  if (!role) return [new RegExp(`^${literal(pattern)}(/.*)?$`)]; // an assumed-role ARN, with or without session
  const sessions = `arn:${role[1]}:sts::${role[2]}:assumed-role/${role[3]}/`;
  return [new RegExp(`^${literal(pattern)}$`), new RegExp(`^${literal(sessions)}`)];
}

const compiledPatterns = new WeakMap<readonly string[], RegExp[]>();

/**
 * True when the caller is one of the remediator's own roles: the role itself, or a session of it
 * (`sessionContext.sessionIssuer.arn`, or an `assumed-role/<name>/…` session ARN).
 */
export function isOwnChange(actor: Actor, selfRoleArns: readonly string[]): boolean {
  let patterns = compiledPatterns.get(selfRoleArns);
  if (!patterns) {
    patterns = selfRoleArns.flatMap(rolePatternRegexes);
    compiledPatterns.set(selfRoleArns, patterns);
  }
  return patterns.some(
    (pattern) =>
      (actor.arn !== undefined && pattern.test(actor.arn)) ||
      (actor.issuerArn !== undefined && pattern.test(actor.issuerArn)),
  );
}

function arnOf(meta: ChangeMeta, service: string, path: string): string | undefined {
  if (!meta.region || !meta.account) return undefined;
  return `arn:${partitionOf(meta.region)}:${service}:${meta.region}:${meta.account}:${path}`;
}

function fsArnService(service: FileSystemService): string {
  return service === "s3files" ? "s3files" : "elasticfilesystem";
}

/** The resource a change is about, and every name it goes by (for exemptions). */
export function resourceNames(meta: ChangeMeta, detail: ChangeDetail): { resource: string; ids: string[] } {
  const named = (...names: (string | undefined)[]) => {
    const ids = [...new Set(names.filter((n): n is string => n !== undefined && n.length > 0))];
    return { resource: ids[0] ?? "unknown", ids };
  };
  switch (detail.kind) {
    case "sg-rules-added":
    case "sg-rules-modified":
    case "sg-rules-revoked":
    case "sg-created":
    case "sg-deleted":
      return named(
        detail.groupId ? arnOf(meta, "ec2", `security-group/${detail.groupId}`) : undefined,
        detail.groupId,
      );
    case "fs-policy-put":
    case "fs-policy-deleted":
      return named(
        arnOf(meta, fsArnService(detail.service), `file-system/${detail.fileSystemId}`),
        detail.fileSystemId,
      );
    case "access-point-created": {
      const fsArn = arnOf(meta, fsArnService(detail.service), `file-system/${detail.fileSystemId}`);
      return named(detail.accessPointArn, detail.accessPointId, fsArn, detail.fileSystemId);
    }
    case "mount-target-security-groups": {
      const mtArn =
        detail.service === "s3files" && detail.mountTargetId
          ? arnOf(meta, "s3files", `mount-target/${detail.mountTargetId}`)
          : undefined;
      const fsArn = detail.fileSystemId
        ? arnOf(meta, fsArnService(detail.service), `file-system/${detail.fileSystemId}`)
        : undefined;
      return named(mtArn, detail.mountTargetId, fsArn, detail.fileSystemId);
    }
    case "file-system-created":
      return named(
        detail.fileSystemArn ??
          (detail.fileSystemId
            ? arnOf(meta, fsArnService(detail.service), `file-system/${detail.fileSystemId}`)
            : undefined),
        detail.fileSystemId,
      );
    case "iam-identity":
      return named(...iamNames(meta, detail.trigger.target));
    case "bucket-state":
      // Bucket ARNs name neither region nor account.
      return named(`arn:${partitionOf(meta.region)}:s3:::${detail.bucket}`, detail.bucket);
  }
}

/** A role, user or group by its ARN (path unknown from the event: the name alone) and its name. */
function iamNames(meta: ChangeMeta, target: IamIdentityChange["trigger"]["target"]): (string | undefined)[] {
  if (target.kind === "policy") return [target.arn, target.name];
  const arn = meta.account
    ? `arn:${partitionOf(meta.region)}:iam::${meta.account}:${target.kind}/${target.name}`
    : undefined;
  return [arn, target.name];
}

/** Most records of a trail are other services' calls: one reason string per source, not per record. */
const otherSourceReasons = new Map<string, string>();
function otherSourceReason(eventSource: string): string {
  let reason = otherSourceReasons.get(eventSource);
  if (reason === undefined) {
    reason = `event source ${eventSource} is not one the remediator judges`;
    if (otherSourceReasons.size < 1024) otherSourceReasons.set(eventSource, reason);
  }
  return reason;
}

function ignored(meta: ChangeMeta, reason: string, resource?: string): IntakeResult {
  return { status: "ignored", meta, resource, reason };
}

function detailOf(service: Service, record: CloudTrailRecord, judgeLive = false): ChangeDetail | undefined {
  const unparsedPolicy = judgeLive ? "judge-live" : "invalid";
  if (service === "ec2")
    return ec2Change(record.eventName, record.requestParameters, record.responseElements);
  if (service === "iam")
    return iamChange(record.eventName, record.requestParameters, record.responseElements, { unparsedPolicy });
  if (service === "s3") return bucketChange(record.eventName, record.requestParameters, { unparsedPolicy });
  return fileSystemChange(service, record.eventName, record.requestParameters, record.responseElements, {
    unparsedPolicy,
  });
}

/** For the audit line of a failed call or a loop-guarded one: the resource it was about, when readable. */
function resourceOf(meta: ChangeMeta, service: Service, record: CloudTrailRecord): string | undefined {
  try {
    const detail = detailOf(service, record);
    return detail ? resourceNames(meta, detail).resource : undefined;
  } catch {
    return undefined; // a failed call may carry parameters AWS rejected; the reason still says why
  }
}

export function intakeRecord(raw: unknown, options: IntakeOptions): IntakeResult {
  let meta: ChangeMeta | undefined;
  try {
    const unwrapped = unwrapRecord(raw);
    if (unwrapped.kind === "service-event") {
      return {
        status: "ignored-partial",
        partial: unwrapped.partial,
        reason: `"${unwrapped.detailType}": an AWS service event, not an API call that changes configuration`,
      };
    }
    const { record } = unwrapped;
    meta = metaOf(record, unwrapped.envelopeAccount);
    const service = SERVICE_BY_SOURCE[record.eventSource];
    if (!service) return ignored(meta, otherSourceReason(record.eventSource));
    if (record.errorCode) {
      return ignored(
        meta,
        `the call failed (errorCode ${record.errorCode}): nothing changed`,
        resourceOf(meta, service, record),
      );
    }
    if (record.eventType === "AwsServiceEvent") {
      return ignored(meta, "an AWS service event (such as a client connection), not a configuration change");
    }
    if (record.readOnly === true || READ_ONLY_PREFIXES.some((p) => record.eventName.startsWith(p))) {
      return ignored(meta, "a read-only call: nothing changed");
    }
    if (isOwnChange(meta.actor, options.selfRoleArns)) {
      return ignored(
        meta,
        `made by the remediator's own role (${meta.actor.issuerArn ?? meta.actor.arn}): loop guard`,
        resourceOf(meta, service, record),
      );
    }
    const detail = detailOf(service, record, options.judgeUnparsedPolicyLive);
    if (!detail) {
      if (service === "ec2") return ignored(meta, `${record.eventName} is not a security-group change`);
      if (service === "iam") {
        return ignored(
          meta,
          isRecognisedUnjudgedIam(record.eventName)
            ? `${record.eventName} cannot give anyone root on a file system: recorded, not judged`
            : `${record.eventName} is not an IAM call the remediator judges`,
        );
      }
      if (service === "s3") {
        return ignored(
          meta,
          `${record.eventName} is not a bucket call that can weaken the bucket behind a file system (policy, versioning, Block Public Access, ACL)`,
        );
      }
      return ignored(
        meta,
        isRecognisedUnjudged(service, record.eventName)
          ? `${record.eventName} cannot open access to a file system: recorded, not judged`
          : `${record.eventName} is not a ${service === "efs" ? "EFS" : "S3 Files"} call the remediator judges`,
      );
    }
    const { resource, ids } = resourceNames(meta, detail);
    return { status: "change", change: { meta, resource, resourceIds: ids, detail } };
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    const partial = meta
      ? { eventId: meta.eventId, eventName: meta.eventName, eventSource: meta.eventSource }
      : salvageMeta(raw);
    return { status: "invalid", partial, error: errorMessage(error) };
  }
}

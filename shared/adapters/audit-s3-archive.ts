/**
 * The append-only copy of the audit ledger in S3: one JSON object per decision, in the Object Lock
 * bucket the infrastructure makes, for auditors who need records nobody can edit or delete.
 *
 * The DynamoDB ledger stays the source of truth; `ArchivingAuditLedger` (shared/runtime) writes it
 * first and this copy after. Each object is written with `If-None-Match: *`: a second write of the
 * same key (a redelivery, a retry whose first try did land) is refused by S3 and reported as
 * `"duplicate"`, so a record, once archived, is never replaced, not even by a newer version that
 * Object Lock would otherwise keep beside it.
 *
 * Key: `audit/YYYY/MM/DD/<eventId>.json`. The date is the CloudTrail event's (UTC), which every
 * redelivery of the event carries unchanged, so all of them meet the same key; a record without a
 * usable event time (invalid input) is dated by its decision instead.
 *
 * Object Lock buckets refuse a PutObject without an integrity checksum; the SDK adds a CRC32 one to
 * every PutObject by default (`requestChecksumCalculation: "WHEN_SUPPORTED"`), so none is set here.
 */
import { createHash } from "node:crypto";
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { errorMessage, RemediatorError } from "../core/errors.ts";
import type { AuditArchive, AuditRecord } from "../runtime/ports.ts";
import { awsErrorName, httpStatusOf, type RetryPolicy, withRetry } from "../runtime/retry.ts";

/** Bumped when the object layout changes, so readers can tell old objects from new ones. */
export const AUDIT_ARCHIVE_SCHEMA_VERSION = 1;

export const AUDIT_ARCHIVE_PREFIX = "audit/";

/**
 * CloudTrail event ids are UUIDs and reconcile's are `reconcile:<run>:<service>:<id>:<aspect>`;
 * anything else (poison input: slashes, spaces, very long) is keyed by its hash.
 */
const SAFE_EVENT_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;

export interface S3AuditArchiveOptions {
  readonly bucket: string;
  /**
   * The bucket's KMS key. When given, every object names it explicitly (and the S3 Bucket Key),
   * which a bucket policy demanding SSE-KMS headers accepts. Without it the bucket's default
   * encryption applies; `aws:kms` without a key id would fall back to the AWS managed key instead.
   */
  readonly kmsKeyArn?: string | undefined;
  readonly retry: RetryPolicy;
}

function validDate(text: string | undefined): Date | undefined {
  if (!text) return undefined;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** The object key of a record: `audit/YYYY/MM/DD/<eventId>.json`. */
export function archiveKey(entry: Pick<AuditRecord, "eventId" | "eventTime" | "decidedAt">): string {
  const date = validDate(entry.eventTime) ?? validDate(entry.decidedAt);
  if (!date) {
    throw new RemediatorError(`audit archive: event ${entry.eventId} has no usable eventTime or decidedAt`);
  }
  const day = date.toISOString().slice(0, 10).replaceAll("-", "/");
  const id = SAFE_EVENT_ID.test(entry.eventId)
    ? entry.eventId
    : `sha256-${createHash("sha256").update(entry.eventId).digest("hex")}`;
  return `${AUDIT_ARCHIVE_PREFIX}${day}/${id}.json`;
}

/** The object's body: the record as the pipeline decided it, whole (no field budgets in S3). */
export function archiveBody(entry: AuditRecord): string {
  return JSON.stringify({ schemaVersion: AUDIT_ARCHIVE_SCHEMA_VERSION, ...entry });
}

/** S3's answer to `If-None-Match: *` when the key already exists. */
function alreadyExists(error: unknown): boolean {
  return httpStatusOf(error) === 412 || awsErrorName(error) === "PreconditionFailed";
}

/** The audit ledger port over an S3 bucket: write-once JSON objects. */
export class S3AuditArchive implements AuditArchive {
  readonly #client: S3Client;
  readonly #options: S3AuditArchiveOptions;

  constructor(client: S3Client, options: S3AuditArchiveOptions) {
    if (!options.bucket) throw new RemediatorError("audit archive: no bucket name given");
    this.#client = client;
    this.#options = options;
  }

  async record(entry: AuditRecord): Promise<"written" | "duplicate"> {
    if (!entry.eventId) {
      throw new RemediatorError("audit archive: a record needs an eventId (the object key)");
    }
    const key = archiveKey(entry);
    const { bucket, kmsKeyArn, retry } = this.#options;
    try {
      await withRetry(`audit archive: PutObject ${key}`, retry, () =>
        this.#client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: archiveBody(entry),
            ContentType: "application/json",
            IfNoneMatch: "*",
            ...(kmsKeyArn
              ? { ServerSideEncryption: "aws:kms", SSEKMSKeyId: kmsKeyArn, BucketKeyEnabled: true }
              : {}),
          }),
        ),
      );
      return "written";
    } catch (error) {
      // Also a retried attempt whose first try did land: the object is there, which is the goal.
      if (alreadyExists(error)) return "duplicate";
      if (error instanceof RemediatorError) throw error;
      throw new RemediatorError(
        `audit archive: PutObject ${key} failed (${awsErrorName(error)}: ${errorMessage(error)})`,
        { retryable: false, cause: error },
      );
    }
  }
}

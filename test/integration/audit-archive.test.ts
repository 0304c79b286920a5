/**
 * The audit archive (S3, write-once JSON) on moto_server: the object's key and body, a second write
 * of the same eventId refused, the DynamoDB record first and never lost or doubled because of the
 * archive, and the wiring of `AUDIT_ARCHIVE_BUCKET` through the composition root.
 */

import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateVpcCommand, EC2Client } from "@aws-sdk/client-ec2";
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoDbAuditLedger } from "../../shared/adapters/audit-dynamodb.ts";
import { archiveKey, S3AuditArchive } from "../../shared/adapters/audit-s3-archive.ts";
import { ArchivingAuditLedger } from "../../shared/runtime/archiving-ledger.ts";
import { buildRuntime } from "../../shared/runtime/compose.ts";
import type { AuditRecord } from "../../shared/runtime/ports.ts";
import { createRemediateHandler } from "../../shared/runtime/remediate-handler.ts";
import { loadSettings } from "../../shared/runtime/settings.ts";
import { auditRecord } from "../helpers/audit-records.ts";
import { type Moto, startMoto } from "../helpers/moto.ts";
import {
  auditRecordsIn,
  authorizeIngressEvent,
  createInfra,
  createNfsGroup,
  type Infra,
  injectThrottling,
  lambdaContext,
  motoClients,
  runtimeEnv,
  sqsBatch,
} from "../helpers/runtime-env.ts";

const NO_WAIT = { maxAttempts: 3, baseDelayMs: 1, sleep: async () => {} };
let moto: Moto;
let s3: S3Client;
let infra: Infra;
let bucketCount = 0;

/** An Object Lock bucket, as the stack makes it (S3 then demands a checksum on every PutObject). */
async function lockedBucket(): Promise<string> {
  const Bucket = `audit-archive-${++bucketCount}`;
  await s3.send(new CreateBucketCommand({ Bucket, ObjectLockEnabledForBucket: true }));
  return Bucket;
}

async function objectText(Bucket: string, Key: string): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket, Key }));
  return (await object.Body?.transformToString("utf8")) ?? "";
}

async function keysIn(Bucket: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket }));
  return (listed.Contents ?? []).map((o) => o.Key ?? "");
}

beforeAll(async () => {
  moto = await startMoto();
  // moto answers on an IP address: path-style addressing (AWS itself needs no such setting).
  s3 = new S3Client({ ...moto.clientConfig, forcePathStyle: true, maxAttempts: 1 });
  infra = await createInfra(moto, "archive");
}, 60_000);

afterAll(async () => {
  s3?.destroy();
  await moto?.stop();
});

describe("S3AuditArchive", () => {
  it("writes the record as JSON under audit/YYYY/MM/DD/<eventId>.json, dated by the event", async () => {
    const bucket = await lockedBucket();
    const archive = new S3AuditArchive(s3, { bucket, retry: NO_WAIT });
    const entry = auditRecord({ eventTime: "2026-11-20T23:59:58Z", decidedAt: "2026-11-21T00:00:01.250Z" });

    expect(await archive.record(entry)).toBe("written");

    const key = "audit/2026/11/20/4b8e1c3a-2f6d-4e7a-9b1c-0d2e3f4a5b6c.json";
    expect(archiveKey(entry)).toBe(key);
    expect(await keysIn(bucket)).toEqual([key]);
    expect(JSON.parse(await objectText(bucket, key))).toEqual(
      JSON.parse(JSON.stringify({ schemaVersion: 1, ...entry })),
    );
  });

  it("never overwrites: a second write of the same eventId is a duplicate and the first body stays", async () => {
    const bucket = await lockedBucket();
    const archive = new S3AuditArchive(s3, { bucket, retry: NO_WAIT });
    const first = auditRecord();
    const again: AuditRecord = {
      ...first,
      decidedAt: "2026-11-20T10:05:00.000Z",
      outcome: "already-compliant",
    };

    expect(await archive.record(first)).toBe("written");
    expect(await archive.record(again)).toBe("duplicate");

    const key = archiveKey(first);
    expect(JSON.parse(await objectText(bucket, key)).outcome).toBe(first.outcome);
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
    expect(versions.Versions ?? []).toHaveLength(1);
  });

  it("keys an event id that is not a plain id by its hash, and an undated record by its decision", () => {
    const key = archiveKey({ eventId: "../../x y", eventTime: undefined, decidedAt: "2026-11-22T08:00:00Z" });
    expect(key).toMatch(/^audit\/2026\/11\/22\/sha256-[0-9a-f]{64}\.json$/);
    expect(
      archiveKey({
        eventId: "reconcile:run-1:efs:fs-0123:policy",
        eventTime: undefined,
        decidedAt: "2026-11-22T08:00:00Z",
      }),
    ).toBe("audit/2026/11/22/reconcile:run-1:efs:fs-0123:policy.json");
  });
});

describe("ArchivingAuditLedger (DynamoDB first, then the archive)", () => {
  const clock = { now: () => new Date("2026-11-22T12:00:00.000Z") };

  it("writes both, and a redelivery neither doubles the DynamoDB record nor rewrites the copy", async () => {
    const bucket = await lockedBucket();
    const primary = new DynamoDbAuditLedger(new DynamoDBClient(moto.clientConfig), {
      tableName: infra.auditTable,
      clock,
    });
    const failures: unknown[] = [];
    const ledger = new ArchivingAuditLedger({
      primary,
      archive: async () => new S3AuditArchive(s3, { bucket, retry: NO_WAIT }),
      archiveFailed: (_record, error) => failures.push(error),
    });
    const entry = auditRecord({ eventId: "both-1" });

    expect(await ledger.record(entry)).toBe("written");
    expect(await ledger.record({ ...entry, decidedAt: "2026-11-20T11:00:00.000Z" })).toBe("duplicate");

    expect((await auditRecordsIn(moto, infra.auditTable)).filter((r) => r.eventId === "both-1")).toHaveLength(
      1,
    );
    expect(await keysIn(bucket)).toEqual([archiveKey(entry)]);
    expect(failures).toEqual([]);
  });

  it("keeps the DynamoDB record when the archive keeps throttling, reports it, and stays one record on redelivery", async () => {
    const bucket = await lockedBucket();
    const throttled = new S3Client({ ...moto.clientConfig, forcePathStyle: true, maxAttempts: 1 });
    const throttling = injectThrottling(
      // The helper is typed for the EC2 client; the middleware it adds is the same for any client.
      throttled as unknown as Parameters<typeof injectThrottling>[0],
      () => Number.POSITIVE_INFINITY,
    );
    const failures: unknown[] = [];
    const ledger = new ArchivingAuditLedger({
      primary: new DynamoDbAuditLedger(new DynamoDBClient(moto.clientConfig), {
        tableName: infra.auditTable,
        clock,
      }),
      archive: async () => new S3AuditArchive(throttled, { bucket, retry: NO_WAIT }),
      archiveFailed: (_record, error) => failures.push(error),
    });
    const entry = auditRecord({ eventId: "throttled-1" });

    expect(await ledger.record(entry)).toBe("written");
    expect(throttling.calls()).toBe(NO_WAIT.maxAttempts);
    expect(failures).toHaveLength(1);
    expect(String(failures[0])).toMatch(/PutObject.*failed after 3 attempt/);

    expect(await ledger.record(entry)).toBe("duplicate");
    expect(
      (await auditRecordsIn(moto, infra.auditTable)).filter((r) => r.eventId === "throttled-1"),
    ).toHaveLength(1);
    expect(await keysIn(bucket)).toEqual([]);
  });

  it("archives nothing when the DynamoDB write fails (the copy never holds what the ledger lacks)", async () => {
    const bucket = await lockedBucket();
    let loaded = false;
    const ledger = new ArchivingAuditLedger({
      primary: new DynamoDbAuditLedger(new DynamoDBClient(moto.clientConfig), {
        tableName: "no-such-table",
        clock,
      }),
      archive: async () => {
        loaded = true;
        return new S3AuditArchive(s3, { bucket, retry: NO_WAIT });
      },
      archiveFailed: () => {},
    });

    await expect(ledger.record(auditRecord({ eventId: "lost-1" }))).rejects.toThrow(/audit ledger/);
    expect(loaded).toBe(false);
    expect(await keysIn(bucket)).toEqual([]);
  });
});

describe("AUDIT_ARCHIVE_BUCKET through the composition root", () => {
  it("archives the decision of a real revoke, loaded on first use", async () => {
    const bucket = await lockedBucket();
    const ec2 = new EC2Client(moto.clientConfig);
    const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.60.0.0/16" }))).Vpc?.VpcId ?? "";
    const { groupId, rules } = await createNfsGroup(ec2, vpcId, "archived", ["0.0.0.0/0"]);
    const event = authorizeIngressEvent(groupId, 2049, rules);
    const settings = loadSettings(runtimeEnv(moto, infra, { AUDIT_ARCHIVE_BUCKET: bucket }));
    const logger = new Logger({ logLevel: "SILENT" });
    const metrics = new Metrics({ namespace: "test" });
    const { pipeline } = buildRuntime(settings, { ...motoClients(moto), s3 }, { sleep: async () => {} });
    const handler = createRemediateHandler(pipeline, logger, metrics) as unknown as (
      event: unknown,
      context: unknown,
    ) => Promise<{ batchItemFailures: unknown[] }>;

    const result = await handler(sqsBatch([event]), lambdaContext());

    expect(result.batchItemFailures).toEqual([]);
    const [key] = await keysIn(bucket);
    expect(key).toMatch(/^audit\/\d{4}\/\d{2}\/\d{2}\/[^/]+\.json$/);
    const archived = JSON.parse(await objectText(bucket, key ?? "")) as AuditRecord;
    const stored = (await auditRecordsIn(moto, infra.auditTable)).find((r) => r.eventId === archived.eventId);
    expect(stored).toMatchObject({
      outcome: "remediated",
      verdict: archived.verdict,
      decidedAt: archived.decidedAt,
    });
    expect(archived.outcome).toBe("remediated");
  });
});

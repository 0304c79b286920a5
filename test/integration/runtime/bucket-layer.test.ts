/**
 * The bucket layer end to end: the S3 bucket behind an S3 Files file system, read and reverted in
 * moto_server (bucket policy, versioning, Block Public Access, ACLs over real HTTP), the state and
 * audit tables in moto too, and the S3 Files side (which file systems name the bucket, and their
 * roles) from aws-sdk-client-mock, since no emulator speaks S3 Files.
 */

import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { IAMClient } from "@aws-sdk/client-iam";
import {
  CreateBucketCommand,
  DeletePublicAccessBlockCommand,
  GetBucketPolicyCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import {
  GetFileSystemCommand,
  GetFileSystemPolicyCommand,
  ListAccessPointsCommand,
  ListFileSystemsCommand,
  ListMountTargetsCommand,
  ListTagsForResourceCommand,
  S3FilesClient,
} from "@aws-sdk/client-s3files";
import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { S3BucketAdapter } from "../../../shared/adapters/s3-buckets.ts";
import { buildRuntime, type Runtime } from "../../../shared/runtime/compose.ts";
import { loadSettings } from "../../../shared/runtime/settings.ts";
import { type Moto, startMoto } from "../../helpers/moto.ts";
import {
  ACCOUNT,
  auditRecordsIn,
  cloudTrailEvent,
  createInfra,
  type Infra,
  motoClients,
  runtimeEnv,
} from "../../helpers/runtime-env.ts";

const ROLE = `arn:aws:iam::${ACCOUNT}:role/s3files-sync`;
const FS_ID = "fs-0123456789abcdef0";

let moto: Moto;
let infra: Infra;
let s3: S3Client;
let runtime: Runtime;
const s3files = mockClient(S3FilesClient);
/** The S3 Files file systems of the region, as ListFileSystems answers: each names its bucket. */
let fileSystems: { fileSystemId: string; bucket: string }[] = [];
let bucketCount = 0;

function newBucketName(label: string): string {
  bucketCount++;
  return `fs-${label}-${bucketCount}`;
}

async function createBucket(name: string, options: { backing: boolean }): Promise<string> {
  await s3.send(
    new CreateBucketCommand({ Bucket: name, CreateBucketConfiguration: { LocationConstraint: "eu-west-1" } }),
  );
  await s3.send(
    new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: "Enabled" } }),
  );
  await s3.send(
    new PutPublicAccessBlockCommand({
      Bucket: name,
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        IgnorePublicAcls: true,
        BlockPublicPolicy: true,
        RestrictPublicBuckets: true,
      },
    }),
  );
  if (options.backing)
    fileSystems.push({ fileSystemId: `fs-${bucketCount.toString(16).padStart(17, "0")}`, bucket: name });
  return name;
}

function answerS3Files(): void {
  s3files.reset();
  const meta = { $metadata: { httpStatusCode: 200, requestId: "s3files-stub" } };
  s3files.on(ListFileSystemsCommand).callsFake(() => ({
    ...meta,
    fileSystems: fileSystems.map((fs) => ({
      fileSystemId: fs.fileSystemId,
      fileSystemArn: `arn:aws:s3files:eu-west-1:${ACCOUNT}:file-system/${fs.fileSystemId}`,
      bucket: `arn:aws:s3:::${fs.bucket}`,
      roleArn: ROLE,
      ownerId: ACCOUNT,
      status: "available",
      creationTime: new Date(),
    })),
  }));
  s3files.on(GetFileSystemCommand).callsFake((input: { fileSystemId: string }) => {
    const fs = fileSystems.find((f) => f.fileSystemId === input.fileSystemId);
    return {
      ...meta,
      fileSystemId: input.fileSystemId,
      fileSystemArn: `arn:aws:s3files:eu-west-1:${ACCOUNT}:file-system/${input.fileSystemId}`,
      bucket: fs ? `arn:aws:s3:::${fs.bucket}` : undefined,
      roleArn: ROLE,
      ownerId: ACCOUNT,
    };
  });
  s3files.on(ListTagsForResourceCommand).resolves({ ...meta, tags: [] });
  s3files.on(ListAccessPointsCommand).resolves({ ...meta, accessPoints: [] });
  s3files.on(ListMountTargetsCommand).resolves({ ...meta, mountTargets: [] });
  s3files.on(GetFileSystemPolicyCommand).resolves({ ...meta, fileSystemId: FS_ID, policy: "" });
}

function bucketEvent(eventName: string, requestParameters: Record<string, unknown>, eventId?: string) {
  return cloudTrailEvent("s3.amazonaws.com", eventName, requestParameters, null, eventId ? { eventId } : {});
}

function eventIdOf(event: Record<string, unknown>): string {
  return (event.detail as { eventID: string }).eventID;
}

async function recordsFor(eventId: string) {
  return (await auditRecordsIn(moto, infra.auditTable)).filter((r) => r.eventId === eventId);
}

async function versioningOf(bucket: string) {
  return (await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status;
}

async function blockOf(bucket: string) {
  return (await s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket }))).PublicAccessBlockConfiguration;
}

async function policyOf(bucket: string) {
  return JSON.parse((await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy ?? "{}");
}

beforeAll(async () => {
  moto = await startMoto();
  infra = await createInfra(moto, "bucket");
  s3 = new S3Client({ ...moto.clientConfig, forcePathStyle: true, maxAttempts: 1 });
  const settings = loadSettings(runtimeEnv(moto, infra));
  // The sweep also judges the account's identity layer (IAM is swept in this region): on moto too.
  const iam = new IAMClient({ ...moto.clientConfig, maxAttempts: 1 });
  runtime = buildRuntime(settings, { ...motoClients(moto), s3, iam }, { sleep: async () => {} });
}, 60_000);

afterAll(async () => {
  s3files.restore();
  await moto?.stop();
});

beforeEach(() => {
  answerS3Files();
});

describe("S3 bucket adapter against moto_server", () => {
  const adapter = () => new S3BucketAdapter(s3, { maxAttempts: 2, baseDelayMs: 1, sleep: async () => {} });

  it("reads a bucket with nothing configured: no policy, no Block Public Access, never versioned", async () => {
    const bucket = newBucketName("plain");
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        CreateBucketConfiguration: { LocationConstraint: "eu-west-1" },
      }),
    );

    const state = await adapter().readState(bucket, ACCOUNT);

    expect(state).toMatchObject({
      versioning: { status: "Unversioned" },
      publicAccessBlock: null,
      policyText: null,
    });
    expect(state?.aclGrants?.map((g) => g.permission)).toContain("FULL_CONTROL");
  });

  it("reads suspended versioning, partial Block Public Access, the policy and a public ACL grant", async () => {
    const bucket = await createBucket(newBucketName("read"), { backing: false });
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: "Suspended" } }),
    );
    await s3.send(
      new PutPublicAccessBlockCommand({
        Bucket: bucket,
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: false,
          IgnorePublicAcls: false,
          BlockPublicPolicy: true,
        },
      }),
    );
    await s3.send(new PutBucketAclCommand({ Bucket: bucket, ACL: "public-read" }));
    const policy = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        { Effect: "Deny", Principal: "*", Action: "s3:DeleteBucket", Resource: `arn:aws:s3:::${bucket}` },
      ],
    });
    await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policy }));

    const state = await adapter().readState(bucket, ACCOUNT);

    expect(state?.versioning?.status).toBe("Suspended");
    expect(state?.publicAccessBlock).toEqual({
      blockPublicAcls: false,
      ignorePublicAcls: false,
      blockPublicPolicy: true,
      restrictPublicBuckets: false,
    });
    expect(JSON.parse(state?.policyText ?? "{}")).toEqual(JSON.parse(policy));
    expect(state?.aclGrants).toContainEqual({
      granteeType: "Group",
      grantee: "http://acs.amazonaws.com/groups/global/AllUsers",
      permission: "READ",
    });
  });

  it("answers undefined for a bucket that does not exist", async () => {
    expect(await adapter().readState("no-such-bucket-anywhere", ACCOUNT)).toBeUndefined();
  });
});

describe("remediate: the bucket behind a file system", () => {
  it("re-enables versioning suspended on a backing bucket, reads it back and records the request id", async () => {
    const bucket = await createBucket(newBucketName("versioning"), { backing: true });
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: "Suspended" } }),
    );
    const event = bucketEvent("PutBucketVersioning", {
      bucketName: bucket,
      VersioningConfiguration: { Status: "Suspended" },
    });

    const result = await runtime.pipeline.handle(event, "test");

    expect(result.status).toBe("decided");
    expect(await versioningOf(bucket)).toBe("Enabled");
    const [record] = await recordsFor(eventIdOf(event));
    expect(record).toMatchObject({
      verdict: "violation",
      outcome: "remediated",
      rules: ["bucket-versioning-not-enabled"],
      resource: `arn:aws:s3:::${bucket}`,
    });
    expect(record?.plan.map((s) => s.api)).toEqual(["s3:PutBucketVersioning"]);
    expect(record?.plan[0]?.params).toMatchObject({ ExpectedBucketOwner: ACCOUNT });
    expect(record?.requestIds.length).toBe(1);
  });

  it("narrows only the public statement of the policy and keeps every other statement as it was", async () => {
    const bucket = await createBucket(newBucketName("policy"), { backing: true });
    const statements = [
      {
        Sid: "AppReadWrite",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/app` },
        Action: ["s3:GetObject", "s3:PutObject"],
        Resource: `arn:aws:s3:::${bucket}/*`,
      },
      {
        Sid: "PublicRead",
        Effect: "Allow",
        Principal: "*",
        Action: "s3:GetObject",
        Resource: `arn:aws:s3:::${bucket}/*`,
      },
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ];
    const policy = { Version: "2012-10-17", Statement: statements };
    // A person opened the bucket: Block Public Access off for policies, then the public policy.
    await s3.send(
      new PutPublicAccessBlockCommand({
        Bucket: bucket,
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true },
      }),
    );
    await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) }));
    const event = bucketEvent("PutBucketPolicy", { bucketName: bucket, bucketPolicy: policy });

    await runtime.pipeline.handle(event, "test");

    const live = await policyOf(bucket);
    expect(live.Statement).toHaveLength(3);
    expect(live.Statement[0]).toEqual(statements[0]);
    expect(live.Statement[2]).toEqual(statements[2]);
    expect(live.Statement[1]).toEqual({
      ...statements[1],
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
    });
    const [record] = await recordsFor(eventIdOf(event));
    expect(record?.outcome).toBe("remediated");
    expect(record?.rules).toContain("bucket-policy-public");
    expect(record?.findings.find((f) => f.rule === "bucket-policy-public")?.message).toMatch(
      /"PublicRead" is public by S3's definition: it allows s3:GetObject on .* by an anonymous caller/,
    );
    // The Block Public Access weakening of the same bucket was put back in the same decision.
    expect(await blockOf(bucket)).toMatchObject({ BlockPublicPolicy: true, RestrictPublicBuckets: true });
  });

  it("ignores a change to a bucket that backs no file system, and touches nothing", async () => {
    const bucket = await createBucket(newBucketName("other"), { backing: false });
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: "Suspended" } }),
    );
    const event = bucketEvent("PutBucketVersioning", {
      bucketName: bucket,
      VersioningConfiguration: { Status: "Suspended" },
    });

    await runtime.pipeline.handle(event, "test");

    expect(await versioningOf(bucket)).toBe("Suspended");
    const [record] = await recordsFor(eventIdOf(event));
    expect(record).toMatchObject({ verdict: "ignored", outcome: "no-action", plan: [] });
    expect(record?.reason).toMatch(new RegExp(`bucket ${bucket} backs no S3 Files file system`));
  });

  it("acts once on a duplicate delivery of the same event", async () => {
    const bucket = await createBucket(newBucketName("dup"), { backing: true });
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
    const event = bucketEvent("DeleteBucketPublicAccessBlock", { bucketName: bucket });

    const first = await runtime.pipeline.handle(event, "test");
    const second = await runtime.pipeline.handle(structuredClone(event), "test");

    expect(first.status).toBe("decided");
    expect(second).toEqual({ status: "duplicate", eventId: eventIdOf(event) });
    expect(await recordsFor(eventIdOf(event))).toHaveLength(1);
    expect(await blockOf(bucket)).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
  });

  it("records a bucket a person fixed before the event arrived as already compliant, and changes nothing", async () => {
    const bucket = await createBucket(newBucketName("fixed"), { backing: true });
    // The event says versioning was suspended; by now a person has turned it back on.
    const event = bucketEvent("PutBucketVersioning", {
      bucketName: bucket,
      VersioningConfiguration: { Status: "Suspended" },
    });

    await runtime.pipeline.handle(event, "test");

    const [record] = await recordsFor(eventIdOf(event));
    expect(record).toMatchObject({
      verdict: "compliant",
      outcome: "already-compliant",
      plan: [],
      requestIds: [],
    });
    expect(record?.reason).toMatch(/fixed before this event was handled/);
    // A bucket judged compliant is remembered: what a later weakening is restored to.
    const documents = DynamoDBDocumentClient.from(new DynamoDBClient(moto.clientConfig));
    const known = await documents.send(
      new GetCommand({
        TableName: infra.stateTable,
        Key: { pk: `bucket#${bucket}`, sk: "known-good-bucket" },
      }),
    );
    expect(known.Item).toMatchObject({
      versioningStatus: "Enabled",
      publicAccessBlock: {
        blockPublicAcls: true,
        ignorePublicAcls: true,
        blockPublicPolicy: true,
        restrictPublicBuckets: true,
      },
      policy: "none",
    });
  });

  it("restores the Block Public Access settings last known good, not more", async () => {
    const bucket = await createBucket(newBucketName("known"), { backing: true });
    const documents = DynamoDBDocumentClient.from(new DynamoDBClient(moto.clientConfig));
    await documents.send(
      new PutCommand({
        TableName: infra.stateTable,
        Item: {
          pk: `bucket#${bucket}`,
          sk: "known-good-bucket",
          publicAccessBlock: {
            blockPublicAcls: true,
            ignorePublicAcls: true,
            blockPublicPolicy: false,
            restrictPublicBuckets: false,
          },
        },
      }),
    );
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
    const event = bucketEvent("DeleteBucketPublicAccessBlock", { bucketName: bucket });

    await runtime.pipeline.handle(event, "test");

    expect(await blockOf(bucket)).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: false,
      RestrictPublicBuckets: false,
    });
  });

  it("notifies a Deny that blocks the file system's role, naming the statement and the role, and edits nothing", async () => {
    const bucket = await createBucket(newBucketName("deny"), { backing: true });
    const policy = {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "OnlyThroughOurEndpoint",
          Effect: "Deny",
          Principal: "*",
          Action: "s3:*",
          Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
          Condition: { StringNotEquals: { "aws:SourceVpce": "vpce-0a1b2c3d4e5f60718" } },
        },
      ],
    };
    await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) }));
    const event = bucketEvent("PutBucketPolicy", { bucketName: bucket, bucketPolicy: policy });

    await runtime.pipeline.handle(event, "test");

    const [record] = await recordsFor(eventIdOf(event));
    expect(record).toMatchObject({ verdict: "violation", outcome: "notified", plan: [] });
    const message =
      record?.findings.find((f) => f.rule === "bucket-policy-blocks-file-system")?.message ?? "";
    expect(message).toContain('"OnlyThroughOurEndpoint"');
    expect(message).toContain(ROLE);
    expect(message).toMatch(
      /with aws:SourceVpce absent from the request \(a negated condition on an absent key is true\)/,
    );
    expect(await policyOf(bucket)).toEqual(policy);
  });

  it("judges the bucket of a new file system: created on a bucket whose Block Public Access is gone", async () => {
    const bucket = await createBucket(newBucketName("newfs"), { backing: true });
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
    const fs = fileSystems.at(-1)?.fileSystemId ?? "";
    const event = cloudTrailEvent(
      "s3files.amazonaws.com",
      "CreateFileSystem",
      { bucket: `arn:aws:s3:::${bucket}`, roleArn: ROLE, clientToken: "t" },
      {
        fileSystemId: fs,
        fileSystemArn: `arn:aws:s3files:eu-west-1:${ACCOUNT}:file-system/${fs}`,
        bucket: `arn:aws:s3:::${bucket}`,
        roleArn: ROLE,
      },
    );

    await runtime.pipeline.handle(event, "test");

    const [record] = await recordsFor(eventIdOf(event));
    expect(record?.rules).toContain("bucket-public-access-block-weakened");
    expect(record?.outcome).toBe("remediated");
    expect(await blockOf(bucket)).toMatchObject({ BlockPublicPolicy: true, RestrictPublicBuckets: true });
  });
});

describe("reconcile: the bucket of each file system", () => {
  it("re-enables versioning found suspended on a file system's bucket by the sweep", async () => {
    fileSystems = [];
    const bucket = await createBucket(newBucketName("sweep"), { backing: true });
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: "Suspended" } }),
    );

    const summary = await runtime.reconciler.sweep("bucket-sweep");

    expect(summary.errors).toEqual({});
    expect(summary.remediated).toBeGreaterThanOrEqual(1);
    expect(await versioningOf(bucket)).toBe("Enabled");
  });
});

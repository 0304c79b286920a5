/**
 * The S3 Files adapter against aws-sdk-client-mock (no emulator speaks S3 Files), answered with the
 * documented request and response shapes (camelCase restJson1 bodies; ResourceNotFound for "no
 * policy"; ListMountTargets items without security groups).
 */
import {
  DeleteAccessPointCommand,
  GetAccessPointCommand,
  GetFileSystemCommand,
  GetFileSystemPolicyCommand,
  GetMountTargetCommand,
  ListAccessPointsCommand,
  ListFileSystemsCommand,
  ListMountTargetsCommand,
  ListTagsForResourceCommand,
  PutFileSystemPolicyCommand,
  ResourceNotFoundException,
  S3FilesClient,
  ThrottlingException,
  UpdateMountTargetCommand,
} from "@aws-sdk/client-s3files";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { S3FilesFileSystemAdapter } from "../../../shared/adapters/s3files-file-systems.ts";
import { PlanExecutor } from "../../../shared/runtime/executor.ts";

const s3files = mockClient(S3FilesClient);
const client = new S3FilesClient({
  region: "eu-west-1",
  credentials: { accessKeyId: "a", secretAccessKey: "b" },
});
const retry = { maxAttempts: 3, baseDelayMs: 1, sleep: async () => {} };
const adapter = new S3FilesFileSystemAdapter(client, retry);
const FS = "fs-0123456789abcdef0";
const ARN = `arn:aws:s3files:eu-west-1:111122223333:file-system/${FS}`;
const meta = { $metadata: { httpStatusCode: 200, requestId: "req-1" } };
const notFound = () =>
  new ResourceNotFoundException({
    message: "not found",
    errorCode: "ResourceNotFound",
    $metadata: { httpStatusCode: 404 },
  });

beforeEach(() => {
  s3files.reset();
});

describe("S3 Files adapter: reads", () => {
  it("reads a policy, and treats ResourceNotFound as no policy", async () => {
    s3files
      .on(GetFileSystemPolicyCommand, { fileSystemId: FS })
      .resolves({ ...meta, fileSystemId: FS, policy: "{}" });
    s3files.on(GetFileSystemPolicyCommand, { fileSystemId: "fs-none" }).rejects(notFound());

    expect(await adapter.getPolicy(FS)).toBe("{}");
    expect(await adapter.getPolicy("fs-none")).toBeUndefined();
  });

  it("lists file systems page by page, each with its bucket and role", async () => {
    s3files.on(ListFileSystemsCommand).resolves({
      ...meta,
      nextToken: "t2",
      fileSystems: [
        {
          fileSystemId: FS,
          fileSystemArn: ARN,
          bucket: "arn:aws:s3:::data",
          status: "available",
          ownerId: "111122223333",
          roleArn: "arn:aws:iam::111122223333:role/s3files",
          creationTime: new Date(),
        },
      ],
    });

    const page = await adapter.listFileSystems(undefined);

    expect(page).toEqual({
      items: [
        {
          fileSystemId: FS,
          fileSystemArn: ARN,
          ownerId: "111122223333",
          kmsKeyId: undefined,
          encrypted: true,
          bucketArn: "arn:aws:s3:::data",
          roleArn: "arn:aws:iam::111122223333:role/s3files",
        },
      ],
      nextToken: "t2",
    });
  });

  it("reads a file system's customer key", async () => {
    s3files
      .on(GetFileSystemCommand)
      .resolves({ ...meta, fileSystemId: FS, fileSystemArn: ARN, kmsKeyId: "key-1" });
    expect((await adapter.getFileSystem(FS))?.kmsKeyId).toBe("key-1");
  });

  it("reads each mount target for its groups, since list items carry none", async () => {
    s3files.on(ListMountTargetsCommand).resolves({
      ...meta,
      mountTargets: [
        { mountTargetId: "fsmt-1", ownerId: "111122223333", subnetId: "subnet-1", fileSystemId: FS },
      ],
    });
    s3files.on(GetMountTargetCommand, { mountTargetId: "fsmt-1" }).resolves({
      ...meta,
      mountTargetId: "fsmt-1",
      ownerId: "111122223333",
      subnetId: "subnet-1",
      fileSystemId: FS,
      vpcId: "vpc-1",
      securityGroups: ["sg-1", "sg-2"],
    });

    expect(await adapter.listMountTargets(FS)).toEqual([
      { mountTargetId: "fsmt-1", fileSystemId: FS, vpcId: "vpc-1", securityGroups: ["sg-1", "sg-2"] },
    ]);
  });

  it("maps access points (POSIX user, root directory, creation permissions)", async () => {
    const ap = {
      accessPointId: "fsap-1",
      accessPointArn: `${ARN}/access-point/fsap-1`,
      fileSystemId: FS,
      status: "available" as const,
      ownerId: "111122223333",
      posixUser: { uid: 0, gid: 0 },
      rootDirectory: { path: "/", creationPermissions: { ownerUid: 0, ownerGid: 0, permissions: "777" } },
    };
    s3files.on(ListAccessPointsCommand).resolves({ ...meta, accessPoints: [ap] });
    s3files.on(GetAccessPointCommand).resolves({ ...meta, ...ap, clientToken: "x" });

    const [listed] = await adapter.listAccessPoints(FS);
    expect(listed?.posixUser).toEqual({ uid: 0, gid: 0, secondaryGids: [] });
    expect(listed?.rootDirectory?.creationPermissions?.permissions).toBe("777");
    expect((await adapter.getAccessPoint("fsap-1"))?.accessPointArn).toBe(ap.accessPointArn);
  });

  it("reads tags with camelCase keys", async () => {
    s3files.on(ListTagsForResourceCommand).resolves({
      ...meta,
      tags: [{ key: "remediator:exempt", value: "reason=migration;expires=2026-12-31" }],
    });
    expect(await adapter.tags(FS)).toEqual({ "remediator:exempt": "reason=migration;expires=2026-12-31" });
  });
});

describe("S3 Files adapter: actions through the executor", () => {
  const executor = new PlanExecutor(adapter.operations);

  it("puts a policy with the exact command input of the plan", async () => {
    s3files.on(PutFileSystemPolicyCommand).resolves(meta);

    const result = await executor.run([
      { api: "s3files:PutFileSystemPolicy", params: { fileSystemId: FS, policy: "{}" }, reason: "narrow" },
    ]);

    expect(result).toEqual({
      steps: [{ api: "s3files:PutFileSystemPolicy", requestId: "req-1", alreadyGone: false }],
      error: undefined,
    });
    expect(s3files.commandCalls(PutFileSystemPolicyCommand)[0]?.args[0].input).toEqual({
      fileSystemId: FS,
      policy: "{}",
    });
  });

  it("replaces a mount target's whole group set with UpdateMountTarget", async () => {
    s3files
      .on(UpdateMountTargetCommand)
      .resolves({ ...meta, mountTargetId: "fsmt-1", ownerId: "1", subnetId: "s" });

    await executor.run([
      {
        api: "s3files:UpdateMountTarget",
        params: { mountTargetId: "fsmt-1", securityGroups: ["sg-safe"] },
        reason: "restore",
      },
    ]);

    expect(s3files.commandCalls(UpdateMountTargetCommand)[0]?.args[0].input).toEqual({
      mountTargetId: "fsmt-1",
      securityGroups: ["sg-safe"],
    });
  });

  it("counts deleting an access point that is already gone as success", async () => {
    s3files.on(DeleteAccessPointCommand).rejects(notFound());

    const result = await executor.run([
      { api: "s3files:DeleteAccessPoint", params: { accessPointId: "fsap-gone" }, reason: "delete" },
    ]);

    expect(result.error).toBeUndefined();
    expect(result.steps[0]?.alreadyGone).toBe(true);
  });

  it("retries throttling, then succeeds", async () => {
    const throttled = new ThrottlingException({
      message: "slow down",
      errorCode: "Throttling",
      $metadata: { httpStatusCode: 429 },
    });
    s3files.on(PutFileSystemPolicyCommand).rejectsOnce(throttled).rejectsOnce(throttled).resolves(meta);

    const result = await executor.run([
      { api: "s3files:PutFileSystemPolicy", params: { fileSystemId: FS, policy: "{}" }, reason: "narrow" },
    ]);

    expect(result.error).toBeUndefined();
    expect(s3files.commandCalls(PutFileSystemPolicyCommand)).toHaveLength(3);
  });

  it("hands persistent throttling back as a retryable error", async () => {
    s3files.on(PutFileSystemPolicyCommand).rejects(
      new ThrottlingException({
        message: "slow down",
        errorCode: "Throttling",
        $metadata: { httpStatusCode: 429 },
      }),
    );

    await expect(
      executor.run([
        { api: "s3files:PutFileSystemPolicy", params: { fileSystemId: FS, policy: "{}" }, reason: "x" },
      ]),
    ).rejects.toMatchObject({ retryable: true });
  });

  it("records access denied as a failure of the plan without retrying", async () => {
    s3files.on(PutFileSystemPolicyCommand).rejects(
      Object.assign(new Error("denied"), {
        name: "AccessDeniedException",
        $metadata: { httpStatusCode: 403 },
      }),
    );

    const result = await executor.run([
      { api: "s3files:PutFileSystemPolicy", params: { fileSystemId: FS, policy: "{}" }, reason: "x" },
    ]);

    expect(result.error).toContain("AccessDeniedException");
    expect(s3files.commandCalls(PutFileSystemPolicyCommand)).toHaveLength(1);
  });

  it("refuses an operation outside the allowed set", async () => {
    const result = await executor.run([
      { api: "s3files:DeleteFileSystem", params: { fileSystemId: FS }, reason: "x" },
    ]);
    expect(result.error).toContain("not an operation the remediator may run");
  });
});

/**
 * EFS adapter: file systems, their policy, access points and mount targets (with their security
 * groups) through the EFS API. The client is injected; every call goes through the retry policy.
 */
import {
  type AccessPointDescription,
  DeleteAccessPointCommand,
  type DeleteAccessPointCommandInput,
  DescribeAccessPointsCommand,
  DescribeFileSystemPolicyCommand,
  DescribeFileSystemsCommand,
  DescribeMountTargetSecurityGroupsCommand,
  DescribeMountTargetsCommand,
  type EFSClient,
  type FileSystemDescription,
  ListTagsForResourceCommand,
  ModifyMountTargetSecurityGroupsCommand,
  type ModifyMountTargetSecurityGroupsCommandInput,
  type MountTargetDescription,
  PutFileSystemPolicyCommand,
  type PutFileSystemPolicyCommandInput,
} from "@aws-sdk/client-efs";
import type {
  AccessPointState,
  CallResult,
  FileSystemApi,
  FileSystemSummary,
  MountTargetState,
  Page,
} from "../runtime/live-ports.ts";
import { awsErrorName, type RetryPolicy, withRetry } from "../runtime/retry.ts";
import { act, allPages, present, readOrMissing } from "./aws-calls.ts";

const NOT_FOUND = new Set([
  "FileSystemNotFound",
  "PolicyNotFound",
  "AccessPointNotFound",
  "MountTargetNotFound",
  "ResourceNotFoundException",
]);

function isNotFound(error: unknown): boolean {
  return NOT_FOUND.has(awsErrorName(error));
}

function summaryOf(fs: FileSystemDescription): FileSystemSummary | undefined {
  if (!fs.FileSystemId) return undefined;
  return {
    fileSystemId: fs.FileSystemId,
    fileSystemArn: fs.FileSystemArn,
    ownerId: fs.OwnerId,
    kmsKeyId: fs.KmsKeyId,
    encrypted: fs.Encrypted,
  };
}

function accessPointOf(ap: AccessPointDescription): AccessPointState | undefined {
  if (!ap.AccessPointId || !ap.FileSystemId) return undefined;
  const creation = ap.RootDirectory?.CreationInfo;
  return {
    accessPointId: ap.AccessPointId,
    accessPointArn: ap.AccessPointArn,
    fileSystemId: ap.FileSystemId,
    posixUser: ap.PosixUser
      ? { uid: ap.PosixUser.Uid, gid: ap.PosixUser.Gid, secondaryGids: ap.PosixUser.SecondaryGids ?? [] }
      : undefined,
    rootDirectory: ap.RootDirectory
      ? {
          path: ap.RootDirectory.Path,
          creationPermissions: creation
            ? { ownerUid: creation.OwnerUid, ownerGid: creation.OwnerGid, permissions: creation.Permissions }
            : undefined,
        }
      : undefined,
  };
}

export class EfsFileSystemAdapter implements FileSystemApi {
  readonly service = "efs" as const;
  readonly operations;

  constructor(
    private readonly client: EFSClient,
    private readonly retry: RetryPolicy,
  ) {
    this.operations = {
      "elasticfilesystem:PutFileSystemPolicy": (params: Readonly<Record<string, unknown>>) =>
        this.act("elasticfilesystem:PutFileSystemPolicy", () =>
          this.client.send(
            new PutFileSystemPolicyCommand(params as unknown as PutFileSystemPolicyCommandInput),
          ),
        ),
      "elasticfilesystem:DeleteAccessPoint": (params: Readonly<Record<string, unknown>>) =>
        this.act(
          "elasticfilesystem:DeleteAccessPoint",
          () =>
            this.client.send(
              new DeleteAccessPointCommand(params as unknown as DeleteAccessPointCommandInput),
            ),
          isNotFound,
        ),
      "elasticfilesystem:ModifyMountTargetSecurityGroups": (params: Readonly<Record<string, unknown>>) =>
        this.act("elasticfilesystem:ModifyMountTargetSecurityGroups", () =>
          this.client.send(
            new ModifyMountTargetSecurityGroupsCommand(
              params as unknown as ModifyMountTargetSecurityGroupsCommandInput,
            ),
          ),
        ),
    };
  }

  private act(
    name: string,
    call: () => Promise<{ $metadata: { requestId?: string } }>,
    goneIsSuccess?: (error: unknown) => boolean,
  ): Promise<CallResult> {
    return act(name, this.retry, call, goneIsSuccess);
  }

  private read<T>(name: string, call: () => Promise<T>): Promise<T | undefined> {
    return readOrMissing(name, this.retry, isNotFound, call);
  }

  async getFileSystem(fileSystemId: string): Promise<FileSystemSummary | undefined> {
    const answer = await this.read("elasticfilesystem:DescribeFileSystems", () =>
      this.client.send(new DescribeFileSystemsCommand({ FileSystemId: fileSystemId })),
    );
    const fs = answer?.FileSystems?.[0];
    return fs ? summaryOf(fs) : undefined;
  }

  async listFileSystems(nextToken: string | undefined): Promise<Page<FileSystemSummary>> {
    const answer = await withRetry("elasticfilesystem:DescribeFileSystems", this.retry, () =>
      this.client.send(new DescribeFileSystemsCommand({ Marker: nextToken })),
    );
    return {
      items: (answer.FileSystems ?? []).map(summaryOf).filter((fs) => fs !== undefined),
      nextToken: answer.NextMarker || undefined,
    };
  }

  async getPolicy(fileSystemId: string): Promise<string | undefined> {
    const answer = await this.read("elasticfilesystem:DescribeFileSystemPolicy", () =>
      this.client.send(new DescribeFileSystemPolicyCommand({ FileSystemId: fileSystemId })),
    );
    return answer?.Policy || undefined;
  }

  async getAccessPoint(accessPointId: string): Promise<AccessPointState | undefined> {
    const answer = await this.read("elasticfilesystem:DescribeAccessPoints", () =>
      this.client.send(new DescribeAccessPointsCommand({ AccessPointId: accessPointId })),
    );
    const ap = answer?.AccessPoints?.[0];
    return ap ? accessPointOf(ap) : undefined;
  }

  async listAccessPoints(fileSystemId: string): Promise<readonly AccessPointState[]> {
    const points = await allPages(async (token) => {
      const answer = await this.read("elasticfilesystem:DescribeAccessPoints", () =>
        this.client.send(new DescribeAccessPointsCommand({ FileSystemId: fileSystemId, NextToken: token })),
      );
      return { items: answer?.AccessPoints ?? [], next: answer?.NextToken };
    });
    return present(points.map(accessPointOf));
  }

  private async withGroups(mt: MountTargetDescription): Promise<MountTargetState | undefined> {
    if (!mt.MountTargetId || !mt.FileSystemId) return undefined;
    const mountTargetId = mt.MountTargetId;
    const groups = await this.read("elasticfilesystem:DescribeMountTargetSecurityGroups", () =>
      this.client.send(new DescribeMountTargetSecurityGroupsCommand({ MountTargetId: mountTargetId })),
    );
    if (!groups) return undefined;
    return {
      mountTargetId,
      fileSystemId: mt.FileSystemId,
      vpcId: mt.VpcId,
      securityGroups: groups.SecurityGroups ?? [],
    };
  }

  async getMountTarget(mountTargetId: string): Promise<MountTargetState | undefined> {
    const answer = await this.read("elasticfilesystem:DescribeMountTargets", () =>
      this.client.send(new DescribeMountTargetsCommand({ MountTargetId: mountTargetId })),
    );
    const mt = answer?.MountTargets?.[0];
    return mt ? this.withGroups(mt) : undefined;
  }

  async listMountTargets(fileSystemId: string): Promise<readonly MountTargetState[]> {
    const described = await allPages(async (marker) => {
      const answer = await this.read("elasticfilesystem:DescribeMountTargets", () =>
        this.client.send(new DescribeMountTargetsCommand({ FileSystemId: fileSystemId, Marker: marker })),
      );
      return { items: answer?.MountTargets ?? [], next: answer?.NextMarker };
    });
    const targets: (MountTargetState | undefined)[] = [];
    for (const mt of described) targets.push(await this.withGroups(mt));
    return present(targets);
  }

  async tags(resourceId: string): Promise<Readonly<Record<string, string>>> {
    const tags = await allPages(async (token) => {
      const answer = await this.read("elasticfilesystem:ListTagsForResource", () =>
        this.client.send(new ListTagsForResourceCommand({ ResourceId: resourceId, NextToken: token })),
      );
      return { items: answer?.Tags ?? [], next: answer?.NextToken };
    });
    return Object.fromEntries(tags.flatMap((tag) => (tag.Key ? [[tag.Key, tag.Value ?? ""]] : [])));
  }
}

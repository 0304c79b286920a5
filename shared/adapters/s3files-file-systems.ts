/**
 * S3 Files adapter (`@aws-sdk/client-s3files`, restJson1, camelCase bodies). Differences from EFS
 * that matter here: `ResourceNotFoundException` also means "this file system has no policy";
 * `ListMountTargets` items carry no security groups (`GetMountTarget` does); a mount target's group
 * set is replaced whole with `UpdateMountTarget`.
 */
import {
  DeleteAccessPointCommand,
  type DeleteAccessPointCommandInput,
  GetAccessPointCommand,
  GetFileSystemCommand,
  GetFileSystemPolicyCommand,
  GetMountTargetCommand,
  type GetMountTargetCommandOutput,
  ListAccessPointsCommand,
  type ListAccessPointsDescription,
  ListFileSystemsCommand,
  ListMountTargetsCommand,
  ListTagsForResourceCommand,
  PutFileSystemPolicyCommand,
  type PutFileSystemPolicyCommandInput,
  type RootDirectory,
  type S3FilesClient,
  type PosixUser as S3FilesPosixUser,
  UpdateMountTargetCommand,
  type UpdateMountTargetCommandInput,
} from "@aws-sdk/client-s3files";
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

function isNotFound(error: unknown): boolean {
  return awsErrorName(error) === "ResourceNotFoundException";
}

function accessPointOf(ap: {
  accessPointId?: string | undefined;
  accessPointArn?: string | undefined;
  fileSystemId?: string | undefined;
  posixUser?: S3FilesPosixUser | undefined;
  rootDirectory?: RootDirectory | undefined;
}): AccessPointState | undefined {
  if (!ap.accessPointId || !ap.fileSystemId) return undefined;
  const creation = ap.rootDirectory?.creationPermissions;
  return {
    accessPointId: ap.accessPointId,
    accessPointArn: ap.accessPointArn,
    fileSystemId: ap.fileSystemId,
    posixUser: ap.posixUser
      ? { uid: ap.posixUser.uid, gid: ap.posixUser.gid, secondaryGids: ap.posixUser.secondaryGids ?? [] }
      : undefined,
    rootDirectory: ap.rootDirectory
      ? {
          path: ap.rootDirectory.path,
          creationPermissions: creation
            ? { ownerUid: creation.ownerUid, ownerGid: creation.ownerGid, permissions: creation.permissions }
            : undefined,
        }
      : undefined,
  };
}

function mountTargetOf(mt: GetMountTargetCommandOutput): MountTargetState | undefined {
  if (!mt.mountTargetId || !mt.fileSystemId) return undefined;
  return {
    mountTargetId: mt.mountTargetId,
    fileSystemId: mt.fileSystemId,
    vpcId: mt.vpcId,
    securityGroups: mt.securityGroups ?? [],
  };
}

export class S3FilesFileSystemAdapter implements FileSystemApi {
  readonly service = "s3files" as const;
  readonly operations;

  constructor(
    private readonly client: S3FilesClient,
    private readonly retry: RetryPolicy,
  ) {
    this.operations = {
      "s3files:PutFileSystemPolicy": (params: Readonly<Record<string, unknown>>) =>
        this.act("s3files:PutFileSystemPolicy", () =>
          this.client.send(
            new PutFileSystemPolicyCommand(params as unknown as PutFileSystemPolicyCommandInput),
          ),
        ),
      "s3files:DeleteAccessPoint": (params: Readonly<Record<string, unknown>>) =>
        this.act(
          "s3files:DeleteAccessPoint",
          () =>
            this.client.send(
              new DeleteAccessPointCommand(params as unknown as DeleteAccessPointCommandInput),
            ),
          isNotFound,
        ),
      "s3files:UpdateMountTarget": (params: Readonly<Record<string, unknown>>) =>
        this.act("s3files:UpdateMountTarget", () =>
          this.client.send(new UpdateMountTargetCommand(params as unknown as UpdateMountTargetCommandInput)),
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
    const fs = await this.read("s3files:GetFileSystem", () =>
      this.client.send(new GetFileSystemCommand({ fileSystemId })),
    );
    if (!fs?.fileSystemId) return undefined;
    return {
      fileSystemId: fs.fileSystemId,
      fileSystemArn: fs.fileSystemArn,
      ownerId: fs.ownerId,
      kmsKeyId: fs.kmsKeyId,
      // S3 Files always encrypts; `kmsKeyId` says whether the key is the customer's.
      encrypted: true,
      bucketArn: fs.bucket,
      roleArn: fs.roleArn,
    };
  }

  async listFileSystems(nextToken: string | undefined): Promise<Page<FileSystemSummary>> {
    const answer = await withRetry("s3files:ListFileSystems", this.retry, () =>
      this.client.send(new ListFileSystemsCommand({ nextToken })),
    );
    const items: FileSystemSummary[] = [];
    for (const fs of answer.fileSystems ?? []) {
      if (!fs.fileSystemId) continue;
      items.push({
        fileSystemId: fs.fileSystemId,
        fileSystemArn: fs.fileSystemArn,
        ownerId: fs.ownerId,
        kmsKeyId: undefined,
        encrypted: true,
        bucketArn: fs.bucket,
        roleArn: fs.roleArn,
      });
    }
    return { items, nextToken: answer.nextToken || undefined };
  }

  async getPolicy(fileSystemId: string): Promise<string | undefined> {
    const answer = await this.read("s3files:GetFileSystemPolicy", () =>
      this.client.send(new GetFileSystemPolicyCommand({ fileSystemId })),
    );
    return answer?.policy || undefined;
  }

  async getAccessPoint(accessPointId: string): Promise<AccessPointState | undefined> {
    const ap = await this.read("s3files:GetAccessPoint", () =>
      this.client.send(new GetAccessPointCommand({ accessPointId })),
    );
    return ap ? accessPointOf(ap) : undefined;
  }

  async listAccessPoints(fileSystemId: string): Promise<readonly AccessPointState[]> {
    const points = await allPages(async (token) => {
      const answer = await this.read("s3files:ListAccessPoints", () =>
        this.client.send(new ListAccessPointsCommand({ fileSystemId, nextToken: token })),
      );
      return {
        items: answer?.accessPoints ?? ([] as ListAccessPointsDescription[]),
        next: answer?.nextToken,
      };
    });
    return present(points.map(accessPointOf));
  }

  async getMountTarget(mountTargetId: string): Promise<MountTargetState | undefined> {
    const mt = await this.read("s3files:GetMountTarget", () =>
      this.client.send(new GetMountTargetCommand({ mountTargetId })),
    );
    return mt ? mountTargetOf(mt) : undefined;
  }

  async listMountTargets(fileSystemId: string): Promise<readonly MountTargetState[]> {
    const listed = await allPages(async (token) => {
      const answer = await this.read("s3files:ListMountTargets", () =>
        this.client.send(new ListMountTargetsCommand({ fileSystemId, nextToken: token })),
      );
      return { items: answer?.mountTargets ?? [], next: answer?.nextToken };
    });
    // List items carry no security groups: read each mount target.
    const targets: (MountTargetState | undefined)[] = [];
    for (const item of listed)
      if (item.mountTargetId) targets.push(await this.getMountTarget(item.mountTargetId));
    return present(targets);
  }

  async tags(resourceId: string): Promise<Readonly<Record<string, string>>> {
    const tags: Record<string, string> = {};
    let nextToken: string | undefined;
    do {
      const answer = await this.read("s3files:ListTagsForResource", () =>
        this.client.send(new ListTagsForResourceCommand({ resourceId, nextToken })),
      );
      for (const tag of answer?.tags ?? []) if (tag.key) tags[tag.key] = tag.value ?? "";
      nextToken = answer?.nextToken;
    } while (nextToken);
    return tags;
  }
}

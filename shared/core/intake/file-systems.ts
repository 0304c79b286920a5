/**
 * S3 Files and EFS calls. Both services share one model (file system, resource policy, access
 * points, mount targets guarded by security groups); their CloudTrail bodies are camelCase.
 * S3 Files replaces a mount target's whole group set with `UpdateMountTarget`; EFS does the same
 * with `ModifyMountTargetSecurityGroups`. EFS names an access point's creation permissions
 * `creationInfo`, S3 Files `creationPermissions`.
 */
import { z } from "zod";
import { formatZodIssues } from "../config.ts";
import { InvalidInputError } from "../errors.ts";
import { parsePolicy, policyLengthProblem } from "../policy/document.ts";
import type { ChangeDetail, FileSystemService } from "../types.ts";

export const S3FILES_SOURCE = "s3files.amazonaws.com";
export const EFS_SOURCE = "elasticfilesystem.amazonaws.com";

/** The calls whose judgement changes the verdict; each is routed to the remediator. */
export const FILE_SYSTEM_JUDGED_EVENTS: Record<FileSystemService, readonly string[]> = {
  s3files: [
    "PutFileSystemPolicy",
    "DeleteFileSystemPolicy",
    "CreateAccessPoint",
    "CreateMountTarget",
    "UpdateMountTarget",
    "CreateFileSystem",
  ],
  efs: [
    "PutFileSystemPolicy",
    "DeleteFileSystemPolicy",
    "CreateAccessPoint",
    "CreateMountTarget",
    "ModifyMountTargetSecurityGroups",
    "CreateFileSystem",
  ],
};

/** Known mutating calls that no rule judges: recorded as ignored with this reason, not as unknown. */
const RECOGNISED_UNJUDGED: Record<FileSystemService, readonly string[]> = {
  s3files: [
    "DeleteFileSystem",
    "DeleteAccessPoint",
    "DeleteMountTarget",
    "TagResource",
    "UntagResource",
    "PutSynchronizationConfiguration",
  ],
  efs: [
    "DeleteFileSystem",
    "DeleteAccessPoint",
    "DeleteMountTarget",
    "TagResource",
    "UntagResource",
    "CreateTags",
    "DeleteTags",
    "UpdateFileSystem",
    "UpdateFileSystemProtection",
    "PutLifecycleConfiguration",
    "PutBackupPolicy",
    "PutAccountPreferences",
    "CreateReplicationConfiguration",
    "DeleteReplicationConfiguration",
  ],
};

export function isRecognisedUnjudged(service: FileSystemService, eventName: string): boolean {
  return RECOGNISED_UNJUDGED[service].includes(eventName);
}

// Schemas name only the fields the engine reads; every other key of a record is dropped, not
// copied (CloudTrail bodies carry many), which keeps validation off the hot path's profile.
const uid = z.number().int().min(0);

const policyParametersSchema = z.object({
  fileSystemId: z.string().min(1),
  // A policy is a JSON string; tolerate a pipeline that already parsed it.
  policy: z.union([z.string(), z.record(z.string(), z.unknown()).transform((p) => JSON.stringify(p))]),
  bypassPolicyLockoutSafetyCheck: z.boolean().optional(),
});

const fileSystemIdSchema = z.object({ fileSystemId: z.string().min(1) });

const accessPointParametersSchema = z.object({
  fileSystemId: z.string().min(1),
  posixUser: z
    .object({ uid: uid.optional(), gid: uid.optional(), secondaryGids: z.array(uid).optional() })
    .nullish(),
  rootDirectory: z
    .object({
      path: z.string().optional(),
      creationPermissions: z
        .object({
          ownerUid: uid.optional(),
          ownerGid: uid.optional(),
          permissions: z.string().optional(),
        })
        .optional(),
      creationInfo: z
        .object({
          ownerUid: uid.optional(),
          ownerGid: uid.optional(),
          permissions: z.string().optional(),
        })
        .optional(),
    })
    .nullish(),
});

const accessPointResponseSchema = z
  .object({ accessPointId: z.string().optional(), accessPointArn: z.string().optional() })
  .nullish();

const mountTargetParametersSchema = z.object({
  fileSystemId: z.string().optional(),
  mountTargetId: z.string().optional(),
  securityGroups: z.array(z.string()).optional(),
});

const mountTargetResponseSchema = z
  .object({
    fileSystemId: z.string().optional(),
    mountTargetId: z.string().optional(),
    vpcId: z.string().optional(),
    securityGroups: z.array(z.string()).optional(),
  })
  .nullish();

const createFileSystemParametersSchema = z
  .object({
    kmsKeyId: z.string().optional(),
    encrypted: z.boolean().optional(),
    // S3 Files: the bucket the file system is built on, and the role it syncs with.
    bucket: z.string().optional(),
    roleArn: z.string().optional(),
  })
  .nullish();

const createFileSystemResponseSchema = z
  .object({
    fileSystemId: z.string().optional(),
    fileSystemArn: z.string().optional(),
    kmsKeyId: z.string().optional(),
    encrypted: z.boolean().optional(),
    bucket: z.string().optional(),
    roleArn: z.string().optional(),
  })
  .nullish();

function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw new InvalidInputError(`${where}: ${formatZodIssues(result.error)}`);
  return result.data;
}

/**
 * Why a policy text cannot be parsed, or `undefined` when it parses. A policy AWS accepted always
 * parses; one that does not (truncated by a log pipeline, say) cannot be judged and must not be
 * edited. Remembered per text, bounded: trails repeat the same policies, bad ones included.
 */
function policyProblem(text: string): string | undefined {
  // Too long for AWS to have accepted: answered before hashing a long text for the memo.
  const tooLong = policyLengthProblem(text);
  if (tooLong) return tooLong;
  if (policyProblems.has(text)) return policyProblems.get(text);
  let problem: string | undefined;
  try {
    parsePolicy(text);
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    problem = error.message;
  }
  if (policyProblems.size >= POLICY_MEMO_LIMIT) policyProblems.clear();
  policyProblems.set(text, problem);
  return problem;
}

const POLICY_MEMO_LIMIT = 256;
const policyProblems = new Map<string, string | undefined>();

/**
 * Where in the record a policy problem is: the `policy` parameter, then the place inside the policy
 * text (`Statement[0].Effect`), never a field of `requestParameters` that does not exist.
 */
function policyProblemAt(problem: string): string {
  if (problem.startsWith("policy:")) return `requestParameters.${problem}`;
  return `requestParameters.policy, in the policy text at ${problem.replace(/^policy\./, "")}`;
}

/** Normalises a judged S3 Files / EFS call; `undefined` when the call is not one of those. */
export function fileSystemChange(
  service: FileSystemService,
  eventName: string,
  requestParameters: unknown,
  responseElements: unknown,
  options: { readonly unparsedPolicy?: "invalid" | "judge-live" } = {},
): ChangeDetail | undefined {
  if (!FILE_SYSTEM_JUDGED_EVENTS[service].includes(eventName)) return undefined;
  switch (eventName) {
    case "PutFileSystemPolicy": {
      const params = parseOrThrow(policyParametersSchema, requestParameters, "requestParameters");
      // A policy AWS accepted always parses; one that does not (truncated by a log pipeline, say)
      // cannot be judged and must not be edited: the record is invalid input.
      const problem = policyProblem(params.policy);
      if (problem !== undefined && options.unparsedPolicy !== "judge-live") {
        throw new InvalidInputError(policyProblemAt(problem));
      }
      return {
        kind: "fs-policy-put",
        service,
        fileSystemId: params.fileSystemId,
        policyText: params.policy,
        bypassPolicyLockoutSafetyCheck: params.bypassPolicyLockoutSafetyCheck ?? false,
        // Only live judgement reads the policy now: the event still says which file system changed.
        ...(problem !== undefined ? { unparsedProblem: policyProblemAt(problem) } : {}),
      };
    }
    case "DeleteFileSystemPolicy": {
      const params = parseOrThrow(fileSystemIdSchema, requestParameters, "requestParameters");
      return { kind: "fs-policy-deleted", service, fileSystemId: params.fileSystemId };
    }
    case "CreateAccessPoint": {
      const params = parseOrThrow(accessPointParametersSchema, requestParameters, "requestParameters");
      const response = parseOrThrow(accessPointResponseSchema, responseElements, "responseElements");
      const root = params.rootDirectory ?? undefined;
      const creation = root?.creationPermissions ?? root?.creationInfo;
      return {
        kind: "access-point-created",
        service,
        fileSystemId: params.fileSystemId,
        accessPointId: response?.accessPointId,
        accessPointArn: response?.accessPointArn,
        posixUser: params.posixUser
          ? {
              uid: params.posixUser.uid,
              gid: params.posixUser.gid,
              secondaryGids: params.posixUser.secondaryGids ?? [],
            }
          : undefined,
        rootDirectory: root
          ? {
              path: root.path,
              creationPermissions: creation
                ? {
                    ownerUid: creation.ownerUid,
                    ownerGid: creation.ownerGid,
                    permissions: creation.permissions,
                  }
                : undefined,
            }
          : undefined,
      };
    }
    case "CreateMountTarget":
    case "UpdateMountTarget":
    case "ModifyMountTargetSecurityGroups": {
      const params = parseOrThrow(mountTargetParametersSchema, requestParameters, "requestParameters");
      const response = parseOrThrow(mountTargetResponseSchema, responseElements, "responseElements");
      const action = eventName === "CreateMountTarget" ? "create" : "update";
      if (action === "update" && !params.mountTargetId) {
        throw new InvalidInputError("requestParameters.mountTargetId: missing");
      }
      if (action === "create" && !params.fileSystemId) {
        throw new InvalidInputError("requestParameters.fileSystemId: missing");
      }
      return {
        kind: "mount-target-security-groups",
        service,
        action,
        fileSystemId: params.fileSystemId ?? response?.fileSystemId,
        mountTargetId: params.mountTargetId ?? response?.mountTargetId,
        vpcId: response?.vpcId,
        // With no groups in the request, AWS attaches the VPC's default group; the response tells which.
        securityGroups: params.securityGroups ?? response?.securityGroups ?? [],
      };
    }
    case "CreateFileSystem": {
      const params = parseOrThrow(createFileSystemParametersSchema, requestParameters, "requestParameters");
      const response = parseOrThrow(createFileSystemResponseSchema, responseElements, "responseElements");
      return {
        kind: "file-system-created",
        service,
        fileSystemId: response?.fileSystemId,
        fileSystemArn: response?.fileSystemArn,
        kmsKeyId: params?.kmsKeyId ?? response?.kmsKeyId,
        encrypted: params?.encrypted ?? response?.encrypted,
        ...(service === "s3files"
          ? {
              bucketArn: params?.bucket ?? response?.bucket,
              roleArn: params?.roleArn ?? response?.roleArn,
            }
          : {}),
      };
    }
    default:
      return undefined;
  }
}

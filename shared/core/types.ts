/**
 * The plain-data model shared by intake, rules, plans and the runtime.
 * Nothing here touches AWS, the clock or the environment.
 */
import type { IamIdentityChange } from "./iam/model.ts";
import type { PortRange, Protocol } from "./net/ports.ts";

export type Service = "ec2" | "s3files" | "efs" | "iam" | "s3";

/** Who made the call, as CloudTrail's `userIdentity` tells it. */
export interface Actor {
  /** The caller's ARN (for an assumed role, the session ARN). */
  readonly arn: string | undefined;
  readonly type: string | undefined;
  readonly accountId: string | undefined;
  /** For an assumed-role session: the role behind it (`sessionContext.sessionIssuer.arn`). */
  readonly issuerArn: string | undefined;
  /** For a call made by an AWS service on the caller's behalf. */
  readonly invokedBy: string | undefined;
}

/** What every judged record says about itself: the evidence an auditor needs. */
export interface ChangeMeta {
  readonly eventId: string;
  readonly eventName: string;
  readonly eventSource: string;
  readonly eventTime: string;
  readonly account: string | undefined;
  readonly region: string | undefined;
  readonly actor: Actor;
  readonly sourceIp: string | undefined;
  readonly userAgent: string | undefined;
  readonly requestId: string | undefined;
}

/** Where a security-group rule lets traffic come from (ingress) or go to (egress). */
export type SgPeer =
  | { readonly kind: "cidr"; readonly cidr: string }
  | { readonly kind: "security-group"; readonly groupId: string; readonly ownerId?: string }
  | { readonly kind: "prefix-list"; readonly prefixListId: string };

/** One security-group rule: one protocol/port range and exactly one peer. */
export interface SgRule {
  readonly groupId: string;
  readonly direction: "ingress" | "egress";
  /**
   * ModifySecurityGroupRules does not say whether a rule is ingress or egress. Such rules are
   * judged as ingress (the stricter reading) and the runtime confirms the direction live.
   */
  readonly directionAssumed?: boolean;
  readonly protocol: Protocol;
  /** The protocol exactly as the caller wrote it, needed to revoke by `IpPermissions`. */
  readonly rawProtocol: string;
  readonly ports: PortRange;
  readonly fromPort: number | undefined;
  readonly toPort: number | undefined;
  readonly peer: SgPeer;
  /** `sgr-…` when the record tells it (Authorize response set, ModifySecurityGroupRules). */
  readonly ruleId?: string;
  readonly description?: string;
}

export type FileSystemService = "s3files" | "efs";

export interface PosixUser {
  readonly uid: number | undefined;
  readonly gid: number | undefined;
  readonly secondaryGids: readonly number[];
}

export interface AccessPointRootDirectory {
  readonly path: string | undefined;
  readonly creationPermissions:
    | {
        readonly ownerUid: number | undefined;
        readonly ownerGid: number | undefined;
        readonly permissions: string | undefined;
      }
    | undefined;
}

/** The four Block Public Access settings of a bucket. */
export interface PublicAccessBlock {
  readonly blockPublicAcls: boolean;
  readonly ignorePublicAcls: boolean;
  readonly blockPublicPolicy: boolean;
  readonly restrictPublicBuckets: boolean;
}

/** One grant of a bucket ACL: a group URI, a canonical user id or an e-mail, and the permission. */
export interface BucketAclGrant {
  readonly granteeType: string;
  readonly grantee: string;
  readonly permission: string;
}

/**
 * The bucket-layer settings the rules judge. A field left out is not known (offline, only what the
 * event carried); `null` means known to be absent (no policy, no Block Public Access configuration).
 */
export interface BucketState {
  readonly versioning?: {
    readonly status: "Enabled" | "Suspended" | "Unversioned";
    readonly mfaDelete: boolean | undefined;
  };
  readonly publicAccessBlock?: PublicAccessBlock | null;
  readonly policyText?: string | null;
  readonly aclGrants?: readonly BucketAclGrant[];
}

/** What changed, normalised from one CloudTrail record. */
export type ChangeDetail =
  | { readonly kind: "sg-rules-added"; readonly groupId: string; readonly rules: readonly SgRule[] }
  | { readonly kind: "sg-rules-modified"; readonly groupId: string; readonly rules: readonly SgRule[] }
  | {
      readonly kind: "sg-rules-revoked";
      readonly groupId: string;
      readonly direction: "ingress" | "egress";
      readonly ruleIds: readonly string[];
    }
  | { readonly kind: "sg-created"; readonly groupId: string | undefined; readonly vpcId: string | undefined }
  | { readonly kind: "sg-deleted"; readonly groupId: string | undefined }
  | {
      readonly kind: "fs-policy-put";
      readonly service: FileSystemService;
      readonly fileSystemId: string;
      /** The policy exactly as sent; parsing and judging it is the policy engine's job. */
      readonly policyText: string;
      readonly bypassPolicyLockoutSafetyCheck: boolean;
      /**
       * Why the text as sent cannot be parsed (cut by a log pipeline, say), when intake was asked
       * to let the live policy decide rather than record the event as invalid.
       */
      readonly unparsedProblem?: string;
    }
  | { readonly kind: "fs-policy-deleted"; readonly service: FileSystemService; readonly fileSystemId: string }
  | {
      readonly kind: "access-point-created";
      readonly service: FileSystemService;
      readonly fileSystemId: string;
      readonly accessPointId: string | undefined;
      readonly accessPointArn: string | undefined;
      readonly posixUser: PosixUser | undefined;
      readonly rootDirectory: AccessPointRootDirectory | undefined;
    }
  | {
      readonly kind: "mount-target-security-groups";
      readonly service: FileSystemService;
      /** CreateMountTarget, UpdateMountTarget (S3 Files), ModifyMountTargetSecurityGroups (EFS). */
      readonly action: "create" | "update";
      readonly fileSystemId: string | undefined;
      readonly mountTargetId: string | undefined;
      readonly vpcId: string | undefined;
      readonly securityGroups: readonly string[];
    }
  | {
      readonly kind: "file-system-created";
      readonly service: FileSystemService;
      readonly fileSystemId: string | undefined;
      readonly fileSystemArn: string | undefined;
      readonly kmsKeyId: string | undefined;
      readonly encrypted: boolean | undefined;
      /** S3 Files: the bucket the file system is built on (its ARN) and the role it syncs with. */
      readonly bucketArn?: string | undefined;
      readonly roleArn?: string | undefined;
    }
  | {
      readonly kind: "bucket-state";
      /** The bucket's name. */
      readonly bucket: string;
      /** The call that brought the bucket up (`PutBucketPolicy`, …, `CreateFileSystem`, `Reconcile`). */
      readonly trigger: string;
      /** What is known of the bucket: from the event offline, read live by the runtime. */
      readonly state: BucketState;
      /** A PutBucketPolicy whose policy text could not be parsed: why (the live policy is judged). */
      readonly unparsedProblem?: string;
    }
  | IamIdentityChange;

export type ChangeKind = ChangeDetail["kind"];

export interface Change<D extends ChangeDetail = ChangeDetail> {
  readonly meta: ChangeMeta;
  /** The resource the change is about: an ARN when the record allows building one, else its id. */
  readonly resource: string;
  /**
   * Every name the resource goes by (ids and ARNs, and those of its file system for an access
   * point or mount target), for matching exemptions.
   */
  readonly resourceIds: readonly string[];
  readonly detail: D;
}

export type Severity = "critical" | "high" | "medium" | "low";

export interface Finding {
  readonly rule: string;
  readonly severity: Severity;
  readonly message: string;
}

/** One API call of a remediation, as plain data: what the executor will send, and why. */
export interface PlanStep {
  /** `Service:Operation`, e.g. `ec2:RevokeSecurityGroupIngress`. */
  readonly api: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly reason: string;
}

export type Verdict = "violation" | "compliant" | "ignored" | "invalid";

export type RuleMode = "enforce" | "notify" | "off";

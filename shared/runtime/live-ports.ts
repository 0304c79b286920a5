/**
 * The ports through which the pipeline reads live state and acts: one per AWS service family, plus
 * the state table. Adapters in `shared/adapters` implement them with an injected SDK client.
 * Reads return plain data; "not there" is `undefined`, never an exception.
 */
import type { KnownGoodBucket, MountTargetGuard } from "../core/rules/rule.ts";
import type {
  AccessPointRootDirectory,
  BucketState,
  FileSystemService,
  Finding,
  PlanStep,
  PosixUser,
} from "../core/types.ts";

/** What one executed API call left behind, for the audit record. */
export interface CallResult {
  readonly requestId: string | undefined;
  /** The target was already gone (rule revoked, access point deleted): the call counts as success. */
  readonly alreadyGone: boolean;
}

/** An operation the executor may run, keyed by `Service:Operation`; params are the exact SDK input. */
export type Operations = Readonly<
  Record<string, (params: Readonly<Record<string, unknown>>) => Promise<CallResult>>
>;

/** One security-group rule as `DescribeSecurityGroupRules` returns it. */
export interface LiveSgRule {
  readonly ruleId: string;
  readonly groupId: string;
  readonly isEgress: boolean;
  readonly ipProtocol: string;
  readonly fromPort: number | undefined;
  readonly toPort: number | undefined;
  readonly cidrIpv4?: string;
  readonly cidrIpv6?: string;
  readonly prefixListId?: string;
  readonly referencedGroupId?: string;
  readonly description?: string;
}

export interface SecurityGroupApi {
  /** Every rule of the group; `undefined` when the group no longer exists. */
  describeRules(groupId: string): Promise<readonly LiveSgRule[] | undefined>;
  /** The CIDRs of a managed prefix list; `undefined` when it no longer exists. */
  prefixListCidrs(prefixListId: string): Promise<readonly string[] | undefined>;
  /** IPv4 and IPv6 CIDRs associated with a VPC. */
  vpcCidrs(vpcId: string): Promise<readonly string[]>;
  tags(groupId: string): Promise<Readonly<Record<string, string>>>;
  readonly operations: Operations;
}

export interface FileSystemSummary {
  readonly fileSystemId: string;
  readonly fileSystemArn: string | undefined;
  readonly ownerId: string | undefined;
  readonly kmsKeyId: string | undefined;
  readonly encrypted: boolean | undefined;
  /** S3 Files: the ARN of the bucket the file system is built on, and the role it syncs with. */
  readonly bucketArn?: string | undefined;
  readonly roleArn?: string | undefined;
}

export interface AccessPointState {
  readonly accessPointId: string;
  readonly accessPointArn: string | undefined;
  readonly fileSystemId: string;
  readonly posixUser: PosixUser | undefined;
  readonly rootDirectory: AccessPointRootDirectory | undefined;
}

export interface MountTargetState {
  readonly mountTargetId: string;
  readonly fileSystemId: string;
  readonly vpcId: string | undefined;
  readonly securityGroups: readonly string[];
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly nextToken: string | undefined;
}

/** S3 Files and EFS share one model; each has its adapter behind this port. */
export interface FileSystemApi {
  readonly service: FileSystemService;
  getFileSystem(fileSystemId: string): Promise<FileSystemSummary | undefined>;
  listFileSystems(nextToken: string | undefined): Promise<Page<FileSystemSummary>>;
  /** The policy text; `undefined` when the file system has none (or is gone). */
  getPolicy(fileSystemId: string): Promise<string | undefined>;
  getAccessPoint(accessPointId: string): Promise<AccessPointState | undefined>;
  listAccessPoints(fileSystemId: string): Promise<readonly AccessPointState[]>;
  getMountTarget(mountTargetId: string): Promise<MountTargetState | undefined>;
  /** Mount targets with their security groups. */
  listMountTargets(fileSystemId: string): Promise<readonly MountTargetState[]>;
  /** Tags of a file system or access point (id or ARN). */
  tags(resourceId: string): Promise<Readonly<Record<string, string>>>;
  readonly operations: Operations;
}

/** The S3 bucket behind an S3 Files file system. */
export interface BucketApi {
  /**
   * The bucket's versioning, Block Public Access, policy and ACL; `undefined` when the bucket no
   * longer exists. `expectedOwner`: the account that must own it (the call fails otherwise).
   */
  readState(bucket: string, expectedOwner: string | undefined): Promise<BucketState | undefined>;
  readonly operations: Operations;
}

/** A mount target a security group was seen on, so a later event can confirm it is still there. */
export interface GuardedMountTarget {
  readonly service: FileSystemService;
  readonly mountTargetId: string;
  readonly fileSystemId: string;
}

/** A guard as stored: the facts the rules use, and the mount targets they were learnt from. */
export interface StoredGuard extends MountTargetGuard {
  readonly mountTargets?: readonly GuardedMountTarget[];
}

/** What the reconcile sweep keeps a cursor for: each file-system service, and the identity layer. */
export type SweptService = FileSystemService | "iam";

/**
 * Outcome of claiming an eventID before acting on it. `reclaimed`: claimed, but an earlier attempt
 * held it before (it gave it back, or died and its lease ran out; or the claim's own answer was
 * lost, which reads the same): that attempt may have acted, or recorded, before it stopped.
 */
export type Claim = "claimed" | "reclaimed" | "done" | "in-progress";

/**
 * What an attempt is about to do for one eventID, written before it acts: the decision as judged
 * (plan, findings, state before) and, once the plan ran, the request ids of its calls. A later
 * attempt of the same event that finds it knows the guardrail acted, and finishes that decision
 * instead of mistaking the guardrail's own fix for someone else's.
 */
export interface DecisionIntent {
  readonly plan: readonly PlanStep[];
  readonly findings: readonly Finding[];
  readonly rules: readonly string[];
  readonly mode: string;
  readonly reason: string;
  readonly before: unknown;
  /** Set once the plan ran (the request ids of its calls); absent while it was about to run. */
  readonly requestIds?: readonly string[];
  readonly at: string;
}

/**
 * The state table (key `pk`/`sk`): what must survive between invocations to restore a deleted
 * policy or a swapped group set, and the eventIDs already handled.
 */
export interface StateStore {
  lastKnownGoodPolicy(service: FileSystemService, fileSystemId: string): Promise<string | undefined>;
  saveKnownGoodPolicy(
    service: FileSystemService,
    fileSystemId: string,
    policy: string,
    at: Date,
  ): Promise<void>;
  knownGoodSecurityGroups(
    service: FileSystemService,
    mountTargetId: string,
  ): Promise<readonly string[] | undefined>;
  saveKnownGoodSecurityGroups(
    service: FileSystemService,
    mountTargetId: string,
    groups: readonly string[],
    at: Date,
  ): Promise<void>;
  /** Which file systems each security group guards (written when mount targets are read). */
  guards(groupIds: readonly string[]): Promise<ReadonlyMap<string, StoredGuard>>;
  /** Adds what one mount target read showed to what the group is known to guard. */
  saveGuard(groupId: string, guard: StoredGuard, at: Date): Promise<void>;
  /**
   * Replaces a group's guard with what was confirmed live; `undefined` when it guards no mount
   * target any more (written with PutItem, so no delete permission is needed).
   */
  replaceGuard(groupId: string, guard: StoredGuard | undefined, at: Date): Promise<void>;
  /** The settings a bucket had when it was last judged compliant. */
  lastKnownGoodBucket(bucket: string): Promise<KnownGoodBucket | undefined>;
  saveKnownGoodBucket(bucket: string, settings: KnownGoodBucket, at: Date): Promise<void>;
  /** Conditional write: only one invocation may act on an eventID at a time, and only once. */
  claimEvent(eventId: string, at: Date): Promise<Claim>;
  completeEvent(eventId: string, summary: string, at: Date): Promise<void>;
  /** Gives the claim back after a retryable failure, so the redelivery may act. */
  releaseEvent(eventId: string): Promise<void>;
  /** Saves what the attempt holding the claim is about to do (or, with request ids, has done). */
  saveIntent(eventId: string, intent: DecisionIntent): Promise<void>;
  /** The intent an earlier attempt of this eventID saved; `undefined` when none acted. */
  intent(eventId: string): Promise<DecisionIntent | undefined>;
  /** Where the last reconcile run stopped, per service (and per member account, when given). */
  reconcileCursor(service: SweptService, account?: string): Promise<string | undefined>;
  saveReconcileCursor(
    service: SweptService,
    nextToken: string | undefined,
    at: Date,
    account?: string,
  ): Promise<void>;
  /**
   * The fingerprint of the last decision the reconcile sweep notified for one swept resource
   * (`undefined`: none, or cleared since), so a finding left in place is not notified every run.
   */
  notifiedFingerprint(key: string): Promise<string | undefined>;
  /** `undefined` clears it (written with PutItem: the reconcile role has no DeleteItem). */
  saveNotifiedFingerprint(key: string, fingerprint: string | undefined, at: Date): Promise<void>;
}

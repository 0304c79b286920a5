/**
 * The contract every rule implements (one rule per file, named by its id), and the facts a rule
 * may use beyond the change itself. Offline (the CLI) the facts are empty and a rule says what it
 * would check live; the runtime fills them from AWS before judging.
 */
import type { Config } from "../config.ts";
import type {
  Change,
  ChangeKind,
  Finding,
  PlanStep,
  PublicAccessBlock,
  RuleMode,
  Severity,
  SgRule,
} from "../types.ts";

/** What the runtime read from AWS for this change. Every field is optional: offline, none is known. */
export interface LiveFacts {
  /** Entries of managed prefix lists, by id. */
  readonly prefixListCidrs?: ReadonlyMap<string, readonly string[]>;
  /**
   * Security groups attached to a mount target: the file systems they guard and the CIDRs of the
   * VPC the mount target lives in (NFS from outside them is a violation, however narrow).
   */
  readonly mountTargetGuards?: ReadonlyMap<string, MountTargetGuard>;
  /** The last policy known to be good, per file-system id (restored when a policy is deleted). */
  readonly lastKnownGoodPolicy?: ReadonlyMap<string, string>;
  /** Inbound rules of security groups, by group id (for judging the groups put on a mount target). */
  readonly securityGroupIngressRules?: ReadonlyMap<string, readonly SgRule[]>;
  /** CIDRs of each VPC, by VPC id (when no mount-target guard has them yet). */
  readonly vpcCidrs?: ReadonlyMap<string, readonly string[]>;
  /** The security groups a mount target had before an update, by mount-target id (restored on a violation). */
  readonly previousMountTargetGroups?: ReadonlyMap<string, readonly string[]>;
  /** For a bucket: the file systems built on it and its last known good settings, by bucket name. */
  readonly buckets?: ReadonlyMap<string, BucketContext>;
}

/** What the runtime knows of a bucket besides its live settings. */
export interface BucketContext {
  /** The S3 Files file systems of the region that name the bucket, with the role each syncs with. */
  readonly fileSystems: readonly { readonly fileSystemId: string; readonly roleArn: string | undefined }[];
  readonly lastKnownGood?: KnownGoodBucket;
}

/** A bucket's settings when it was last judged compliant: what a restore puts back. */
export interface KnownGoodBucket {
  readonly versioningStatus?: string;
  readonly publicAccessBlock?: PublicAccessBlock | null;
  readonly policyText?: string | null;
}

export interface MountTargetGuard {
  readonly fileSystemIds: readonly string[];
  readonly vpcCidrs: readonly string[];
}

export interface JudgeContext {
  readonly config: Config;
  readonly facts: LiveFacts;
  /**
   * True when an unexpired exemption covers this change for that rule. Rules that share one
   * remediation (the combined policy edit) leave an exempted rule's goal out of it.
   */
  readonly isExempt?: (ruleId: string) => boolean;
}

export type RuleOutcome =
  | { readonly status: "not-applicable" }
  | { readonly status: "compliant"; readonly notes?: readonly string[] }
  | {
      readonly status: "violation";
      readonly findings: readonly Finding[];
      /** The remediation when the rule is enforced; empty for notify-only rules. */
      readonly plan: readonly PlanStep[];
      readonly notes?: readonly string[];
    };

export interface Rule {
  /** Stable, kebab-case id: the file name, the config key, the audit key. */
  readonly id: string;
  readonly title: string;
  readonly severity: Severity;
  readonly defaultMode: RuleMode;
  /** Why the rule exists: shown by `remediator rules` and in notifications. */
  readonly rationale: string;
  /**
   * The AWS documentation page on the control the rule guards: the "learn more" link of alerts and
   * Security Hub's `Remediation.Recommendation.Url`. Optional: alerts fall back to one per resource type.
   */
  readonly docsUrl?: string;
  readonly appliesTo: readonly ChangeKind[];
  evaluate(change: Change, context: JudgeContext): RuleOutcome;
}

export const NOT_APPLICABLE: RuleOutcome = { status: "not-applicable" };

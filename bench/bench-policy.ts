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

/** A CloudTrail PutFileSystemPolicy record that puts `policy` on `fileSystemId` (S3 Files, or EFS). */
export function putPolicyRecord(
  fileSystemId: string,
  policy: unknown,
  service: "s3files" | "efs" = "s3files",
) {
  return {
    eventVersion: "1.11",
    userIdentity: {
      type: "AssumedRole",
      arn: `arn:aws:sts::${OWNER}:assumed-role/Admin/alice`,
      accountId: OWNER,
    },
    eventTime: "2026-11-22T12:00:00Z",
    eventSource: service === "efs" ? "elasticfilesystem.amazonaws.com" : "s3files.amazonaws.com",
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

/** The file system of variant `i` (a new one each round: no memo serves the next). */
function variantFileSystem(i: number): string {
  return `fs-${(0x10000000 + i).toString(16)}`;
}

/**
 * The bench policy with every value changed by `i` (file system, partner account, organization,
 * VPC pattern, office range, role): the same shape, but nothing a judgement remembers from one
 * variant (formulas, checks, matches) serves the next, so judging variants measures cold work.
 */
export function benchPolicyVariant(i: number): { fileSystemId: string; policy: unknown } {
  const fileSystemId = variantFileSystem(i);
  const text = JSON.stringify(benchPolicy(fileSystemId))
    .replaceAll("444455556666", String(400000000000 + i))
    .replaceAll("o-a1b2c3d4e5", `o-${(1e11 + i).toString(36)}`)
    .replaceAll("vpc-*", `vpc-${i.toString(36)}*`)
    .replaceAll("203.0.113.0/24", `10.${(i >> 8) & 255}.${i & 255}.0/24`)
    .replaceAll("role/app", `role/app-${i}`);
  return { fileSystemId, policy: JSON.parse(text) };
}

/**
 * Other shapes people write, each as a record of variant `i` (every value that can change does,
 * so no memo serves the next): the cold judgement rate is measured on each, not only on the bench
 * policy. Synthetic, built here.
 */
export const POLICY_SHAPES: readonly { readonly name: string; readonly record: (i: number) => unknown }[] = [
  {
    name: "public, no condition",
    record: (i) =>
      s3files(i, (fs) => [
        allow("*", ["s3files:ClientMount", "s3files:ClientWrite"], fs),
        allow({ AWS: `arn:aws:iam::${OWNER}:role/app-${i}` }, "s3files:*", fs),
      ]),
  },
  {
    name: "a partner account's root",
    record: (i) =>
      s3files(i, (fs) => [allow({ AWS: `arn:aws:iam::${400000000000 + i}:root` }, "s3files:Client*", fs)]),
  },
  {
    name: "EFS console: via mount targets, TLS Deny",
    record: (i) =>
      efs(i, () => [
        {
          Sid: `efs-statement-${i}`,
          ...allow({ AWS: "*" }, [
            "elasticfilesystem:ClientRootAccess",
            "elasticfilesystem:ClientWrite",
            "elasticfilesystem:ClientMount",
          ]),
          Condition: { Bool: { "elasticfilesystem:AccessedViaMountTarget": "true" } },
        },
        TLS_DENY,
      ]),
  },
  {
    name: "EFS: a private source range, TLS Deny",
    record: (i) =>
      efs(i, (fs) => [
        {
          ...allow("*", "elasticfilesystem:Client*", fs),
          Condition: { IpAddress: { "aws:SourceIp": `10.${i & 255}.0.0/16` } },
        },
        TLS_DENY,
      ]),
  },
  {
    name: 'Principal "*", aws:PrincipalArn like the owner\'s roles',
    record: (i) =>
      s3files(i, (fs) => [
        {
          ...allow("*", "s3files:Client*", fs),
          Condition: { ArnLike: { "aws:PrincipalArn": `arn:aws:iam::${OWNER}:role/app-${i}-*` } },
        },
      ]),
  },
  {
    name: "ten statements: principals, patterns, Denies",
    record: (i) =>
      s3files(i, (fs) =>
        Array.from({ length: 10 }, (_, k) => ({
          Sid: `S${k}`,
          ...allow(
            k % 3 === 0 ? "*" : { AWS: `arn:aws:iam::${k % 2 ? OWNER : 400000000000 + i}:role/r${k}` },
            k % 2 ? "s3files:ClientMount" : ["s3files:ClientWrite", "s3files:ClientRootAccess"],
            fs,
          ),
          Effect: k % 4 === 3 ? "Deny" : "Allow",
          ...(k % 3 === 0 ? { Condition: { StringLike: { "aws:SourceVpc": `vpc-${i}${k}*` } } } : {}),
        })),
      ),
  },
];

const TLS_DENY = {
  Effect: "Deny",
  Principal: { AWS: "*" },
  Action: "*",
  Condition: { Bool: { "aws:SecureTransport": "false" } },
};

function allow(principal: unknown, action: string | string[], resource?: string) {
  return {
    Effect: "Allow",
    Principal: principal,
    Action: action,
    ...(resource ? { Resource: resource } : {}),
  };
}

/** The record putting `statements` (given the file system's ARN) on variant `i`'s file system. */
function shapeRecord(service: "s3files" | "efs", i: number, statements: (fs: string) => unknown[]) {
  const fileSystemId = variantFileSystem(i);
  const arn = `arn:aws:${service === "efs" ? "elasticfilesystem" : "s3files"}:us-west-2:${OWNER}:file-system/${fileSystemId}`;
  return putPolicyRecord(fileSystemId, { Version: "2012-10-17", Statement: statements(arn) }, service);
}

const s3files = (i: number, statements: (fs: string) => unknown[]) => shapeRecord("s3files", i, statements);
const efs = (i: number, statements: (fs: string) => unknown[]) => shapeRecord("efs", i, statements);

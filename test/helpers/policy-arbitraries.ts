// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables are written ${key}
/**
 * fast-check arbitraries for S3 Files policies and requests, drawn from the shapes that matter:
 * every principal form, wildcard and exact actions, NotAction, resource patterns, and conditions
 * on the keys that decide "public" (with fixed, wildcard and variable values, IfExists and set
 * qualifiers).
 */
import fc from "fast-check";
import type { RequestPrincipal } from "../../shared/core/policy/index.ts";
import { OWNER, PARTNER, S3FS_ARN } from "./policies.ts";

export const OTHER = "999988887777";

const principalValue = fc.constantFrom<unknown>(
  "*",
  { AWS: "*" },
  { AWS: OWNER },
  { AWS: `arn:aws:iam::${PARTNER}:root` },
  { AWS: `arn:aws:iam::${PARTNER}:role/reader` },
  { AWS: [`arn:aws:iam::${OWNER}:role/app`, `arn:aws:iam::${PARTNER}:role/reader`] },
  { AWS: `arn:aws:iam::${OTHER}:role/admin` },
);

const actionValue = fc.constantFrom<string | string[]>(
  "s3files:ClientMount",
  "s3files:ClientWrite",
  "s3files:ClientRootAccess",
  "s3files:Client*",
  "s3files:*",
  "*",
  ["s3files:ClientMount", "s3files:ClientRootAccess"],
  "S3FILES:clientwrite",
);

const resourceValue = fc.constantFrom<string | undefined>(
  S3FS_ARN,
  "*",
  `arn:aws:s3files:us-west-2:${OWNER}:file-system/*`,
  `arn:aws:s3files:us-west-2:${OWNER}:file-system/fs-9`,
);

const clause = fc.constantFrom<Record<string, Record<string, unknown>>>(
  { StringEquals: { "aws:SourceVpc": "vpc-1" } },
  { StringLike: { "aws:SourceVpc": "vpc-*" } },
  { StringNotEquals: { "aws:SourceVpc": ["vpc-1", "vpc-2"] } },
  { StringEqualsIfExists: { "aws:SourceVpc": "vpc-2" } },
  { IpAddress: { "aws:SourceIp": "203.0.113.0/24" } },
  { NotIpAddress: { "aws:SourceIp": "198.51.100.7/32" } },
  { IpAddress: { "aws:SourceIp": "0.0.0.0/0" } },
  { StringEquals: { "aws:PrincipalOrgID": "o-a1b2c3d4e5" } },
  { StringNotEquals: { "aws:PrincipalOrgID": "o-a1b2c3d4e5" } },
  { StringEquals: { "aws:PrincipalAccount": OWNER } },
  { StringNotEquals: { "aws:PrincipalAccount": [OWNER, PARTNER] } },
  { ArnLike: { "aws:PrincipalArn": "arn:aws:iam::*:role/admin" } },
  { ArnNotEquals: { "aws:PrincipalArn": `arn:aws:iam::${PARTNER}:role/reader` } },
  { Bool: { "aws:SecureTransport": "false" } },
  { BoolIfExists: { "aws:SecureTransport": "true" } },
  { Null: { "aws:SourceVpce": "true" } },
  { StringEquals: { "aws:SourceVpce": "vpce-1" } },
  { "ForAnyValue:StringLike": { "aws:PrincipalOrgPaths": "o-a1b2c3d4e5/*" } },
  { "ForAllValues:StringEquals": { "aws:PrincipalOrgPaths": ["o-a1b2c3d4e5/r-1/"] } },
  { StringEquals: { "aws:SourceAccount": "${aws:PrincipalAccount}" } },
  { StringLike: { "s3files:AccessPointArn": `${S3FS_ARN}/access-point/*` } },
);

function mergeClauses(
  list: Record<string, Record<string, unknown>>[],
): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const item of list) {
    for (const [operator, block] of Object.entries(item))
      out[operator] = { ...(out[operator] ?? {}), ...block };
  }
  return out;
}

export const statementArb = fc
  .record({
    effect: fc.constantFrom("Allow", "Allow", "Deny"),
    notPrincipal: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
    principal: principalValue,
    notAction: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
    action: actionValue,
    resource: resourceValue,
    conditions: fc.array(clause, { maxLength: 2 }),
    sid: fc.option(fc.constantFrom("A", "B", "Keep"), { nil: undefined }),
  })
  .map((s) => {
    const statement: Record<string, unknown> = {};
    if (s.sid !== undefined) statement.Sid = s.sid;
    statement.Effect = s.effect;
    if (
      s.notPrincipal &&
      s.principal !== "*" &&
      !(typeof s.principal === "object" && (s.principal as { AWS?: unknown }).AWS === "*")
    ) {
      statement.NotPrincipal = s.principal;
    } else statement.Principal = s.principal;
    statement[s.notAction ? "NotAction" : "Action"] = s.action;
    if (s.resource !== undefined) statement.Resource = s.resource;
    if (s.conditions.length > 0) statement.Condition = mergeClauses(s.conditions);
    return statement;
  });

export const policyArb = fc
  .array(statementArb, { minLength: 1, maxLength: 4 })
  .map((statements) => ({ Version: "2012-10-17", Statement: statements }));

/** Callers the oracle can judge on the resource policy alone: anonymous, or outside the owner's account. */
export const principalArb = fc.constantFrom<RequestPrincipal>(
  { kind: "anonymous" },
  { kind: "aws", arn: `arn:aws:iam::${PARTNER}:role/reader`, account: PARTNER },
  { kind: "aws", arn: `arn:aws:iam::${OTHER}:role/admin`, account: OTHER },
  { kind: "aws", arn: `arn:aws:iam::${OTHER}:role/worker`, account: OTHER },
);

export const contextArb = fc
  .record(
    {
      "aws:SourceVpc": fc.constantFrom("vpc-1", "vpc-2", "vpc-77"),
      "aws:SourceVpce": fc.constantFrom("vpce-1", "vpce-9"),
      "aws:SourceIp": fc.constantFrom("203.0.113.7", "198.51.100.7", "8.8.8.8", "10.0.0.5"),
      "aws:PrincipalOrgID": fc.constantFrom("o-a1b2c3d4e5", "o-zzzzzzzzzz"),
      "aws:PrincipalOrgPaths": fc.constantFrom(
        ["o-a1b2c3d4e5/r-1/"],
        ["o-a1b2c3d4e5/r-1/", "o-zzzzzzzzzz/r-2/"],
      ),
      "aws:SecureTransport": fc.constantFrom("true", "false"),
      "aws:SourceAccount": fc.constantFrom(OWNER, PARTNER, OTHER),
      "s3files:AccessPointArn": fc.constantFrom(`${S3FS_ARN}/access-point/fsap-1`),
    },
    { requiredKeys: [] },
  )
  .map((context) => context as Record<string, string | string[]>);

export const actionArb = fc.constantFrom(
  "s3files:ClientMount",
  "s3files:ClientWrite",
  "s3files:ClientRootAccess",
);

// ---------------------------------------------------------------------------------------------
// Adversarial file-system policies: every shape that a finite set of representative requests
// misjudges (principal kinds and the keys derived from them, account patterns, two patterns on one
// key, a Deny of the very instance a sampler would pick, case variants, gaps between numbers,
// dates and address ranges, Resource wildcards that cross colons, NotResource, NotPrincipal, set
// operators, Null, IfExists, many AND-ed fixed keys), for the S3 Files and EFS prefixes. Synthetic.

/** A third account, and constants a sampling engine might use for "any other" values. */
export const STRANGER = "222233334444";
const ENGINE_CONSTANTS = ["999999999999", "x0", "remediator-unmentioned-value", "52.94.76.10"];

export type FileSystemServiceName = "s3files" | "efs";

export interface GeneratedCase {
  readonly service: FileSystemServiceName;
  readonly trustedAccounts: readonly string[];
  readonly adminPrincipals: readonly string[];
  readonly policy: { readonly Version: string; readonly Statement: readonly Record<string, unknown>[] };
}

type Clause = Record<string, Record<string, unknown>>;

function prefixFor(service: FileSystemServiceName): string {
  return service === "efs" ? "elasticfilesystem" : "s3files";
}

/** The file system every generated case guards (its ARN is what the policies name). */
export function generatedFileSystemArn(service: FileSystemServiceName): string {
  return service === "efs"
    ? `arn:aws:elasticfilesystem:eu-west-1:${OWNER}:file-system/fs-2`
    : `arn:aws:s3files:us-west-2:${OWNER}:file-system/fs-1`;
}

const adversarialPrincipal = fc.constantFrom<unknown>(
  "*",
  { AWS: "*" },
  { AWS: OWNER },
  { AWS: PARTNER },
  { AWS: `arn:aws:iam::${PARTNER}:root` },
  { AWS: `arn:aws:iam::${STRANGER}:user/alice` },
  { AWS: `arn:aws:iam::${OWNER}:role/admin` },
  { AWS: `arn:aws:iam::${PARTNER}:role/reader` },
  { AWS: `arn:aws:sts::${OTHER}:assumed-role/worker/s1` },
  { AWS: `arn:aws:sts::${STRANGER}:federated-user/bob` },
  { AWS: "999999999999" },
  { AWS: [`arn:aws:iam::${OWNER}:role/app`, `arn:aws:iam::${PARTNER}:role/reader`] },
  { Service: "elasticfilesystem.amazonaws.com" },
);

function adversarialAction(prefix: string) {
  return fc.constantFrom<string | string[]>(
    `${prefix}:ClientMount`,
    `${prefix}:ClientWrite`,
    `${prefix}:ClientRootAccess`,
    `${prefix}:Client*`,
    `${prefix}:*`,
    "*",
    `${prefix}:Client?ount`,
    `${prefix.toUpperCase()}:clientwrite`,
    [`${prefix}:ClientMount`, `${prefix}:ClientRootAccess`],
  );
}

function adversarialResource(prefix: string, fsArn: string) {
  return fc.constantFrom<{ Resource?: string | string[]; NotResource?: string | string[] }>(
    {},
    { Resource: fsArn },
    { Resource: "*" },
    { Resource: `arn:aws:${prefix}:*` },
    { Resource: `arn:aws:${prefix}:*:${OWNER}:file-system/*` },
    { Resource: `arn:aws:*:*:*:*` },
    { Resource: `${fsArn}-other` },
    { Resource: `${fsArn}/access-point/*` },
    { NotResource: `arn:aws:${prefix}:*` },
    { NotResource: `${fsArn}-other` },
    { NotResource: fsArn },
  );
}

const ANDED_FIXED_KEYS: Clause = {
  StringEquals: Object.fromEntries(
    [...Array(9).keys()].map((i) => [`aws:RequestTag/team${i}`, i % 2 === 0 ? `t${i}` : [`t${i}`, `u${i}`]]),
  ),
};

function adversarialClause(prefix: string, fsArn: string) {
  return fc.constantFrom<Clause>(
    // Keys derived from the caller.
    { StringEquals: { "aws:PrincipalType": "User" } },
    { StringEquals: { "aws:PrincipalType": ["Account", "FederatedUser"] } },
    { StringNotEquals: { "aws:PrincipalType": "AssumedRole" } },
    { StringEquals: { "aws:PrincipalType": "Anonymous" } },
    { StringLike: { "aws:PrincipalAccount": "2*" } },
    { StringEquals: { "aws:PrincipalAccount": OWNER } },
    { StringEquals: { "aws:PrincipalAccount": [OWNER, PARTNER] } },
    { StringNotEquals: { "aws:PrincipalAccount": "999999999999" } },
    { StringNotEquals: { "aws:PrincipalAccount": [OWNER, PARTNER] } },
    { ArnLike: { "aws:PrincipalArn": "arn:aws:iam::*:root" } },
    { ArnLike: { "aws:PrincipalArn": "*" } },
    { ArnLike: { "aws:PrincipalArn": "arn:aws:iam::*:user/*" } },
    { ArnEquals: { "aws:PrincipalArn": `arn:aws:iam::${PARTNER}:role/reader` } },
    { ArnNotLike: { "aws:PrincipalArn": "arn:aws:iam::*:role/remediator-probe" } },
    { StringEquals: { "aws:PrincipalOrgID": "o-a1b2c3d4e5" } },
    { StringLike: { "aws:PrincipalOrgID": "o-*" } },
    { StringNotEquals: { "aws:PrincipalOrgID": "o-a1b2c3d4e5" } },
    { StringLike: { "aws:userid": "AROAEXAMPLE:*" } },
    { StringEquals: { "aws:userid": OWNER } },
    { StringLike: { "aws:userid": "*" } },
    { StringEquals: { "aws:username": "alice" } },
    { Null: { "aws:PrincipalOrgID": "false" } },
    // Source keys, fixed and not.
    { StringEquals: { "aws:SourceVpc": "vpc-1" } },
    { StringLike: { "aws:SourceVpc": "vpc-*" } },
    { StringNotEquals: { "aws:SourceVpc": ["vpc-1", "vpc-2"] } },
    { StringEquals: { "aws:SourceVpc": ENGINE_CONSTANTS[1] } },
    { StringNotEquals: { "aws:SourceVpc": ENGINE_CONSTANTS[2] } },
    { StringLike: { "aws:SourceVpc": "a*" }, StringLikeIfExists: { "aws:SourceVpc": "*b" } },
    { StringEqualsIgnoreCase: { "aws:SourceVpce": "VPCE-1" } },
    { StringNotEqualsIgnoreCase: { "aws:SourceVpce": "vpce-1" } },
    { StringEquals: { "aws:SourceArn": `arn:aws:ec2:us-west-2:${OWNER}:instance/i-1` } },
    { ArnLike: { "aws:SourceArn": "arn:aws:ec2:*" } },
    { StringEquals: { "aws:SourceAccount": OWNER } },
    { StringEquals: { "aws:SourceAccount": "${aws:PrincipalAccount}" } },
    { StringEquals: { "aws:SourceOwner": STRANGER } },
    { IpAddress: { "aws:SourceIp": "203.0.113.0/24" } },
    { IpAddress: { "aws:SourceIp": "0.0.0.0/0" } },
    { IpAddress: { "aws:SourceIp": "8.0.0.0/7" } },
    { IpAddress: { "aws:SourceIp": "52.0.0.0/8" } },
    { IpAddress: { "aws:SourceIp": "10.0.0.0/8" } },
    { IpAddress: { "aws:SourceIp": ["2001:db8::/32", "2001:db8::/31"] } },
    { NotIpAddress: { "aws:SourceIp": "203.0.113.0/25" } },
    { NotIpAddress: { "aws:SourceIp": `${ENGINE_CONSTANTS[3]}/32` } },
    { Bool: { "elasticfilesystem:AccessedViaMountTarget": "true" } },
    { Bool: { "aws:SecureTransport": "false" } },
    { BoolIfExists: { "aws:SecureTransport": "true" } },
    { Null: { "aws:SourceVpce": "true" } },
    { StringEqualsIfExists: { "aws:SourceVpc": "vpc-2" } },
    { StringLike: { [`${prefix}:AccessPointArn`]: `${fsArn}/access-point/*` } },
    { StringEquals: { [`${prefix}:AccessPointArn`]: `${fsArn}/access-point/fsap-1` } },
    // Numbers and dates, with gaps.
    {
      NumericGreaterThan: { "aws:MultiFactorAuthAge": "5" },
      NumericLessThan: { "aws:MultiFactorAuthAge": "6" },
    },
    { NumericEquals: { "aws:MultiFactorAuthAge": "5.5" } },
    { NumericNotEquals: { "aws:MultiFactorAuthAge": ["5", "6"] } },
    { NumericLessThanEquals: { "aws:MultiFactorAuthAge": "3600" } },
    { DateGreaterThan: { "aws:CurrentTime": "2026-01-01T00:00:00Z" } },
    {
      DateGreaterThan: { "aws:CurrentTime": "2026-01-01T00:00:00Z" },
      DateLessThan: { "aws:CurrentTime": "2026-01-01T00:00:01Z" },
    },
    { DateNotEquals: { "aws:CurrentTime": "2026-01-01T00:00:00Z" } },
    // Multi-valued keys.
    { "ForAnyValue:StringLike": { "aws:PrincipalOrgPaths": "o-a1b2c3d4e5/*" } },
    { "ForAllValues:StringEquals": { "aws:PrincipalOrgPaths": ["o-a1b2c3d4e5/r-ab12/"] } },
    { "ForAnyValue:StringEquals": { "aws:TagKeys": ["a", "b"] } },
    { "ForAllValues:StringNotLike": { "aws:TagKeys": "x*" } },
    // Eight and more AND-ed fixed keys.
    ANDED_FIXED_KEYS,
  );
}

function mergeAll(list: readonly Clause[]): Clause {
  const out: Clause = {};
  for (const item of list)
    for (const [operator, block] of Object.entries(item))
      out[operator] = { ...(out[operator] ?? {}), ...block };
  return out;
}

function adversarialStatement(prefix: string, fsArn: string) {
  return fc
    .record({
      effect: fc.constantFrom("Allow", "Allow", "Deny"),
      notPrincipal: fc.integer({ min: 0, max: 6 }).map((n) => n === 0),
      principal: adversarialPrincipal,
      notAction: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
      action: adversarialAction(prefix),
      resource: adversarialResource(prefix, fsArn),
      conditions: fc.array(adversarialClause(prefix, fsArn), { maxLength: 3 }),
      sid: fc.option(fc.constantFrom("A", "B", "Keep"), { nil: undefined }),
    })
    .map((s) => {
      const statement: Record<string, unknown> = {};
      if (s.sid !== undefined) statement.Sid = s.sid;
      statement.Effect = s.effect;
      const wildcard = s.principal === "*" || (s.principal as { AWS?: unknown }).AWS === "*";
      if (s.notPrincipal && !wildcard) statement.NotPrincipal = s.principal;
      else statement.Principal = s.principal;
      statement[s.notAction ? "NotAction" : "Action"] = s.action;
      Object.assign(statement, s.resource);
      if (s.conditions.length > 0) statement.Condition = mergeAll(s.conditions);
      return statement;
    });
}

/** Pairs that sample-based judgement gets wrong: an open Allow and a Deny that takes back almost all of it. */
function adversarialPair(prefix: string, fsArn: string) {
  const open = (condition?: Clause) => ({
    Effect: "Allow",
    Principal: "*",
    Action: `${prefix}:Client*`,
    Resource: fsArn,
    ...(condition ? { Condition: condition } : {}),
  });
  const deny = (condition: Clause) => ({ Effect: "Deny", Principal: "*", Action: "*", Condition: condition });
  return fc.constantFrom<Record<string, unknown>[]>(
    // A Deny of exactly the instance a sampler would pick for the wildcard.
    [
      open({ StringLike: { "aws:SourceVpc": "vpc-*" } }),
      deny({ StringEquals: { "aws:SourceVpc": "vpc-x0" } }),
    ],
    // Every account but one is denied: the one left is named, not public.
    [open(), deny({ StringNotEquals: { "aws:PrincipalAccount": PARTNER } })],
    // Every account but the sampler's "other account" is denied.
    [open(), deny({ StringNotEquals: { "aws:PrincipalAccount": "999999999999" } })],
    // Only case variants of one VPC are left: a fixed value.
    [open(), deny({ StringNotEqualsIgnoreCase: { "aws:SourceVpc": "VPC-1" } })],
    // The open interval between two numbers, and between two instants.
    [
      open({ NumericGreaterThan: { "aws:MultiFactorAuthAge": "5" } }),
      deny({ NumericGreaterThanEquals: { "aws:MultiFactorAuthAge": "6" } }),
    ],
    [
      open({ DateGreaterThan: { "aws:CurrentTime": "2026-01-01T00:00:00Z" } }),
      deny({ DateGreaterThanEquals: { "aws:CurrentTime": "2026-01-01T00:00:01Z" } }),
    ],
    // Half the internet is denied; the other half is still the internet.
    [
      open({ IpAddress: { "aws:SourceIp": "0.0.0.0/0" } }),
      deny({ IpAddress: { "aws:SourceIp": "0.0.0.0/1" } }),
    ],
    // A Deny by principal type: only roles are left.
    [open(), deny({ StringNotEquals: { "aws:PrincipalType": "AssumedRole" } })],
    // A NotResource Deny that excludes nothing of the file system.
    [open(), { Effect: "Deny", Principal: "*", Action: "*", NotResource: `arn:aws:${prefix}:*` }],
    // Two patterns on one key, each broad, together still broad.
    [open({ StringLike: { "aws:SourceVpc": "a*" } }), deny({ StringNotLike: { "aws:SourceVpc": "*b" } })],
  );
}

/** A generated case: the service, whom the owner trusts, the admins, and a policy of 1-5 statements. */
export const adversarialCaseArb: fc.Arbitrary<GeneratedCase> = fc
  .record({
    service: fc.constantFrom<FileSystemServiceName>("s3files", "efs"),
    trusted: fc.constantFrom<readonly string[]>([], [], [PARTNER]),
    admins: fc.constantFrom<readonly string[]>(
      [],
      [`arn:aws:iam::${OWNER}:role/admin`],
      [`arn:aws:iam::${OWNER}:root`],
    ),
  })
  .chain(({ service, trusted, admins }) => {
    const prefix = prefixFor(service);
    const fsArn = generatedFileSystemArn(service);
    const block = fc.oneof(
      { weight: 4, arbitrary: adversarialStatement(prefix, fsArn).map((s) => [s]) },
      { weight: 1, arbitrary: adversarialPair(prefix, fsArn) },
    );
    return fc.array(block, { minLength: 1, maxLength: 3 }).map((blocks) => ({
      service,
      trustedAccounts: trusted,
      adminPrincipals: admins,
      policy: { Version: "2012-10-17", Statement: blocks.flat().slice(0, 5) },
    }));
  });

/** A concrete request of every kind of caller, with values drawn from those the adversarial policies mention (and others). */
export function concreteRequestArb(service: FileSystemServiceName) {
  const prefix = prefixFor(service);
  const account = fc.constantFrom(OWNER, PARTNER, OTHER, STRANGER, "999999999999", "200000000001");
  const principal = fc.oneof(
    fc.constant<RequestPrincipal>({ kind: "anonymous" }),
    account.map<RequestPrincipal>((a) => ({ kind: "aws", arn: `arn:aws:iam::${a}:root`, account: a })),
    fc
      .tuple(account, fc.constantFrom("alice", "bob"))
      .map<RequestPrincipal>(([a, n]) => ({ kind: "aws", arn: `arn:aws:iam::${a}:user/${n}`, account: a })),
    fc
      .tuple(account, fc.constantFrom("admin", "app", "reader", "worker", "remediator-probe"))
      .map<RequestPrincipal>(([a, r]) => ({
        kind: "aws",
        arn: `arn:aws:sts::${a}:assumed-role/${r}/s1`,
        account: a,
        roleArn: `arn:aws:iam::${a}:role/${r}`,
      })),
    account.map<RequestPrincipal>((a) => ({
      kind: "aws",
      arn: `arn:aws:sts::${a}:federated-user/bob`,
      account: a,
    })),
    fc.constant<RequestPrincipal>({ kind: "service", service: "elasticfilesystem.amazonaws.com" }),
  );
  const context = fc.record(
    {
      "aws:sourcevpc": fc.constantFrom(
        "vpc-1",
        "vpc-2",
        "vpc-x0",
        "VPC-1",
        "ab",
        "a-b",
        "remediator-unmentioned-value",
      ),
      "aws:sourcevpce": fc.constantFrom("vpce-1", "VPCE-1", "vpce-9"),
      "aws:sourceip": fc.constantFrom(
        "203.0.113.7",
        "203.0.113.200",
        "8.8.8.8",
        "10.0.0.5",
        "52.94.76.10",
        "2001:db8::1",
      ),
      "aws:principalorgid": fc.constantFrom("o-a1b2c3d4e5", "o-zzzzzzzzzz"),
      "aws:principalorgpaths": fc.constantFrom(
        ["o-a1b2c3d4e5/r-1/"],
        ["o-a1b2c3d4e5/r-1/", "o-zzzzzzzzzz/r-2/"],
      ),
      "aws:securetransport": fc.constantFrom("true", "false"),
      "aws:sourceaccount": fc.constantFrom(OWNER, PARTNER, STRANGER),
      "aws:multifactorauthage": fc.constantFrom("4", "5", "5.5", "6", "4000"),
      "aws:currenttime": fc.constantFrom(
        "2025-12-31T23:59:59Z",
        "2026-01-01T00:00:00.500Z",
        "2026-06-01T00:00:00Z",
      ),
      "aws:tagkeys": fc.constantFrom(["a"], ["x1"], ["a", "x2"]),
      "elasticfilesystem:accessedviamounttarget": fc.constantFrom("true", "false"),
      [`${prefix}:accesspointarn`]: fc.constantFrom(`${generatedFileSystemArn(service)}/access-point/fsap-1`),
    },
    { requiredKeys: [] },
  );
  return fc.record({
    principal,
    action: fc.constantFrom(`${prefix}:ClientMount`, `${prefix}:ClientWrite`, `${prefix}:ClientRootAccess`),
    context: context.map((values) => values as Record<string, string | string[]>),
  });
}

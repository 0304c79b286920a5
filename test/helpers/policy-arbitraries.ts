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

/**
 * The adversarial policies the worst-case benchmark judges (`policy-decision.bench.ts`), each within
 * the 20,000-character limit AWS sets on a file-system policy: the shapes a reviewer would try to
 * make a judgement slow or large (long backtracking-prone patterns, many values on one key, many
 * patterns of both polarities, many ranges, many set values, many keys, many statements).
 * Synthetic, built here.
 */
import type { GeneratedCase } from "../test/helpers/policy-arbitraries.ts";
import { benchPolicy, OWNER } from "./bench-policy.ts";

const FS = `arn:aws:s3files:us-west-2:${OWNER}:file-system/fs-1`;

/** The 5-statement bench policy as a case (the child's own footprint). */
export const BENCH_CASE: GeneratedCase = {
  service: "s3files",
  trustedAccounts: [],
  adminPrincipals: [],
  policy: benchPolicy("fs-1"),
};

const hex = (i: number, width: number) => i.toString(16).padStart(width, "0");

export function adversarialPolicies(): [string, GeneratedCase][] {
  const statement = (condition: Record<string, unknown>, sid?: string) => ({
    ...(sid ? { Sid: sid } : {}),
    Effect: "Allow",
    Principal: "*",
    Action: "s3files:Client*",
    Resource: FS,
    Condition: condition,
  });
  const deny = (condition: Record<string, unknown>) => ({
    Effect: "Deny",
    Principal: "*",
    Action: "*",
    Condition: condition,
  });
  const caseOf = (...statements: Record<string, unknown>[]): GeneratedCase => ({
    ...BENCH_CASE,
    policy: { Version: "2012-10-17", Statement: statements },
  });
  const backtracking = `${"*a".repeat(295)}*b`;
  const manyValues = [...Array(700).keys()].map((i) => `vpc-${hex(i, 8)}`);
  // Patterns of both polarities on one key, none of them a fixed value: the Allow's patterns and the
  // Deny's (a request outside all of them is denied) overlap only in part.
  const allowPatterns = [...Array(300).keys()].map((i) =>
    i % 3 === 0
      ? `vpc-${hex(i, 3)}*-us-west-2-endpoint`
      : i % 3 === 1
        ? `*-${hex(i, 3)}?e-prod-endpoint-us`
        : `vpc-*${hex(i, 3)}*-shared-services`,
  );
  const denyPatterns = [...Array(300).keys()].map((i) =>
    i % 3 === 0
      ? `vpc-?${hex(i, 3)}*-us-west-2-endpoint`
      : i % 3 === 1
        ? `*${hex(i, 3)}-*-prod-endpoint-us`
        : `v*-${hex(i + 7, 3)}-shared-services`,
  );
  const question = (i: number) => `${"?".repeat(40 + (i % 7))}${hex(i, 4).toUpperCase()}*`;
  const ranges = (base: number, count: number) =>
    [...Array(count).keys()].map((i) => `${base + (i >> 8)}.${(i * 7) & 255}.${i & 255}.0/${24 + (i % 8)}`);
  return [
    [
      "600-character *a*a…*b beside a long value",
      caseOf(
        statement({ StringLike: { "aws:SourceVpc": backtracking } }),
        deny({ StringEquals: { "aws:SourceVpc": "a".repeat(2_000) } }),
      ),
    ],
    [
      "15 KB of fixed values on one key",
      caseOf(statement({ StringEquals: { "aws:SourceVpc": manyValues } })),
    ],
    [
      "nine AND-ed fixed keys",
      caseOf(
        statement({
          StringEquals: Object.fromEntries(
            [...Array(9).keys()].map((i) => [`aws:RequestTag/team${i}`, [`t${i}`, `u${i}`, `v${i}`]]),
          ),
        }),
      ),
    ],
    [
      "40 statements of patterns, ranges and Denies",
      caseOf(
        ...[...Array(40).keys()].map((i) =>
          i % 4 === 3
            ? deny({ NotIpAddress: { "aws:SourceIp": `203.0.${i}.0/24` } })
            : statement({ StringLike: { "aws:SourceVpc": `vpc-${i}*`, "aws:SourceVpce": `*${i}` } }, `S${i}`),
        ),
      ),
    ],
    [
      "300 patterns allowed and 300 others required by a Deny, one key",
      caseOf(
        statement({ StringLike: { "aws:SourceVpc": allowPatterns } }),
        deny({ StringNotLike: { "aws:SourceVpc": denyPatterns } }),
      ),
    ],
    [
      "long ignore-case values and ?-patterns",
      caseOf(
        statement({
          StringEqualsIgnoreCase: {
            "aws:SourceVpce": [...Array(30).keys()].map((i) => `VpCe-${"?".repeat(150)}${hex(i, 4)}`),
          },
          StringLike: {
            "aws:PrincipalArn": [...Array(30).keys()].map((i) => `arn:aws:iam::*:role/${question(i)}`),
          },
        }),
        deny({
          StringNotEqualsIgnoreCase: {
            "aws:SourceVpce": [...Array(30).keys()].map((i) => `vPcE-${"?".repeat(150)}${hex(i * 3, 4)}`),
          },
        }),
        {
          Effect: "Deny",
          Principal: "*",
          NotAction: [...Array(20).keys()].map((i) => `S3FILES:${"?".repeat(6 + i)}*`),
          Resource: FS,
        },
      ),
    ],
    [
      "500 address ranges allowed, 500 others required by a Deny",
      caseOf(
        statement({ IpAddress: { "aws:SourceIp": ranges(10, 500) } }),
        deny({ NotIpAddress: { "aws:SourceIp": ranges(11, 250).concat(ranges(10, 250).slice(125)) } }),
      ),
    ],
    [
      "numbers and dates: hundreds of values and ranges",
      caseOf(
        statement({
          NumericLessThan: { "aws:MultiFactorAuthAge": [...Array(300).keys()].map((i) => `${i * 37}`) },
          DateGreaterThan: {
            "aws:CurrentTime": [...Array(200).keys()].map((i) =>
              new Date(Date.UTC(2020, 0, 1 + i * 3)).toISOString(),
            ),
          },
        }),
        deny({ NumericEquals: { "aws:MultiFactorAuthAge": [...Array(400).keys()].map((i) => `${i}`) } }),
        deny({
          DateLessThanEquals: {
            "aws:CurrentTime": [...Array(200).keys()].map((i) => `${1_700_000_000 + i * 86_400}`),
          },
        }),
      ),
    ],
    [
      "ForAnyValue / ForAllValues with hundreds of values",
      caseOf(
        statement({
          "ForAllValues:StringEquals": {
            "aws:TagKeys": [...Array(300).keys()].map((i) => `team-${hex(i, 3)}`),
          },
          "ForAnyValue:StringLike": {
            "aws:PrincipalOrgPaths": [...Array(300).keys()].map(
              (i) => `o-a1b2c3d4e5/r-ab12/ou-${hex(i, 3)}*/*`,
            ),
          },
        }),
        deny({
          "ForAnyValue:StringEquals": {
            "aws:TagKeys": [...Array(300).keys()].map((i) => `team-${hex(i * 2, 3)}`),
          },
        }),
      ),
    ],
  ];
}

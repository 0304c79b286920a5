/**
 * The Z3 oracle (`test/oracle/z3-policy-oracle.ts`) and the decision procedure on each adversarial
 * shape of "public" the sampling analysis misjudged, minimized: both must give the expected answer,
 * and every witness must be one the evaluator allows. Then a small differential run on generated
 * policies (`npm run oracle` runs 10,000). Z3 loads once per file (its WASM module takes a moment).
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { OWNER, PARTNER } from "../../helpers/policies.ts";
import { adversarialCaseArb, generatedFileSystemArn, STRANGER } from "../../helpers/policy-arbitraries.ts";
import {
  Differential,
  engineScopeOf,
  formatReport,
  oracleScopeOf,
  toOracleRequest,
} from "../../oracle/differential.ts";
import { decisionEngine } from "../../oracle/engine-under-test.ts";
import { PolicyOracle } from "../../oracle/z3-policy-oracle.ts";

const FS = generatedFileSystemArn("s3files");
const CASE = { service: "s3files", trustedAccounts: [], adminPrincipals: [] } as const;
const SCOPE = engineScopeOf({ ...CASE, policy: { Version: "2012-10-17", Statement: [] } });

let oracle: PolicyOracle;
beforeAll(async () => {
  oracle = await PolicyOracle.create({ timeoutMs: 30_000 });
}, 60_000);

function policy(...statements: Record<string, unknown>[]) {
  return { Version: "2012-10-17", Statement: statements };
}

const open = (condition?: Record<string, unknown>) => ({
  Effect: "Allow",
  Principal: "*",
  Action: "s3files:Client*",
  Resource: FS,
  ...(condition ? { Condition: condition } : {}),
});
const denyAll = (condition: Record<string, unknown>) => ({
  Effect: "Deny",
  Principal: "*",
  Action: "*",
  Condition: condition,
});

type Expectation = "public" | "not public";

const SHAPES: [string, ReturnType<typeof policy>, Expectation][] = [
  ["aws:PrincipalType = User", policy(open({ StringEquals: { "aws:PrincipalType": "User" } })), "public"],
  [
    "StringLike aws:PrincipalAccount 2*",
    policy(open({ StringLike: { "aws:PrincipalAccount": "2*" } })),
    "public",
  ],
  [
    "ArnLike aws:PrincipalArn arn:aws:iam::*:root",
    policy(open({ ArnLike: { "aws:PrincipalArn": "arn:aws:iam::*:root" } })),
    "public",
  ],
  ["ArnLike aws:PrincipalArn *", policy(open({ ArnLike: { "aws:PrincipalArn": "*" } })), "public"],
  [
    "StringNotEquals aws:PrincipalAccount of a sampler's constant",
    policy(open({ StringNotEquals: { "aws:PrincipalAccount": "999999999999" } })),
    "public",
  ],
  [
    "a Deny of the sampler's instance of a wildcard",
    policy(
      open({ StringLike: { "aws:SourceVpc": "vpc-*" } }),
      denyAll({ StringEquals: { "aws:SourceVpc": "vpc-x0" } }),
    ),
    "public",
  ],
  [
    "two patterns on one key (a* and *b)",
    policy(
      open({ StringLike: { "aws:SourceVpc": "a*" } }),
      denyAll({ StringNotLike: { "aws:SourceVpc": "*b" } }),
    ),
    "public",
  ],
  [
    "the open interval between two numbers",
    policy(
      open({ NumericGreaterThan: { "aws:MultiFactorAuthAge": "5" } }),
      denyAll({ NumericGreaterThanEquals: { "aws:MultiFactorAuthAge": "6" } }),
    ),
    "public",
  ],
  [
    "the second between two instants",
    policy(
      open({ DateGreaterThan: { "aws:CurrentTime": "2026-01-01T00:00:00Z" } }),
      denyAll({ DateGreaterThanEquals: { "aws:CurrentTime": "2026-01-01T00:00:01Z" } }),
    ),
    "public",
  ],
  [
    "half the internet denied",
    policy(
      open({ IpAddress: { "aws:SourceIp": "0.0.0.0/0" } }),
      denyAll({ IpAddress: { "aws:SourceIp": "0.0.0.0/1" } }),
    ),
    "public",
  ],
  [
    "Resource arn:aws:s3files:* (a * ending a segment spans colons)",
    policy({ ...open(), Resource: "arn:aws:s3files:*" }),
    "public",
  ],
  [
    "a NotResource Deny that excludes nothing of the file system",
    policy(open(), { Effect: "Deny", Principal: "*", Action: "*", NotResource: "arn:aws:s3files:*" }),
    "public",
  ],
  [
    "NotPrincipal with Allow",
    policy({ ...open(), Principal: undefined, NotPrincipal: { AWS: OWNER } }),
    "public",
  ],
  ["a fixed aws:SourceVpc", policy(open({ StringEquals: { "aws:SourceVpc": "vpc-1" } })), "not public"],
  [
    "a fixed aws:PrincipalOrgID (the owner's organization)",
    policy(open({ StringEquals: { "aws:PrincipalOrgID": "o-a1b2c3d4e5" } })),
    "not public",
  ],
  [
    "an organization id pattern too short for any real id (o- and 10 to 32 characters)",
    policy(open({ StringLike: { "aws:PrincipalOrgID": "o-???" } })),
    "not public",
  ],
  [
    "an organization path whose root id is too short for any real root",
    policy(open({ "ForAnyValue:StringEquals": { "aws:PrincipalOrgPaths": "o-a1b2c3d4e5/r-1/" } })),
    "not public",
  ],
  [
    "every account but a named one denied (cross-account, not public)",
    policy(open(), denyAll({ StringNotEquals: { "aws:PrincipalAccount": PARTNER } })),
    "not public",
  ],
  [
    "nine AND-ed fixed keys and a fixed aws:SourceVpce",
    policy(
      open({
        StringEquals: {
          "aws:SourceVpce": "vpce-1",
          ...Object.fromEntries(
            [...Array(9).keys()].map((i) => [`aws:RequestTag/team${i}`, [`t${i}`, `u${i}`]]),
          ),
        },
      }),
    ),
    "not public",
  ],
  [
    "a named account's user (cross-account, not public)",
    policy({ ...open(), Principal: { AWS: `arn:aws:iam::${STRANGER}:user/alice` } }),
    "not public",
  ],
];

describe("Z3 oracle and decision procedure on the adversarial shapes of 'public'", () => {
  it.each(SHAPES)("%s", async (_name, json, expected) => {
    // Act
    const theirs = await oracle.publicAccess(json, oracleScopeOf(SCOPE));
    const ours = decisionEngine.judge(json, SCOPE).publicAccess;
    // Assess
    expect(theirs.verdict).toBe(expected === "public" ? "sat" : "unsat");
    expect(ours.kind).toBe(expected === "public" ? "witness" : "proof");
    if (theirs.verdict === "sat") expect(decisionEngine.decide(json, theirs.witness, FS)).toBe("allowed");
    if (ours.kind === "witness" && ours.request) {
      expect(decisionEngine.decide(json, ours.request, FS)).toBe("allowed");
      const pinned = await oracle.publicAccess(json, oracleScopeOf(SCOPE), toOracleRequest(ours.request, FS));
      expect(pinned.verdict).toBe("sat");
    }
  });

  it("a named account outside the trusted ones is cross-account; root access outside the admins is found", async () => {
    // Prepare
    const json = policy({ ...open(), Principal: { AWS: `arn:aws:iam::${PARTNER}:role/reader` } });
    // Act
    const cross = await oracle.crossAccountAccess(json, oracleScopeOf(SCOPE));
    const root = await oracle.rootOutsideAdmins(json, oracleScopeOf(SCOPE));
    const trusted = await oracle.crossAccountAccess(json, {
      ...oracleScopeOf(SCOPE),
      trustedAccounts: [PARTNER],
    });
    // Assess
    expect(cross.verdict).toBe("sat");
    expect(root.verdict).toBe("sat");
    expect(trusted.verdict).toBe("unsat");
    expect(decisionEngine.judge(json, SCOPE).crossAccountAccess.kind).toBe("witness");
  });

  it("an edit that drops a Deny widens; one that narrows the Principal does not", async () => {
    // Prepare
    const before = policy(open(), denyAll({ Bool: { "aws:SecureTransport": "false" } }));
    const dropped = policy(open());
    const narrowed = policy(
      { ...open(), Principal: { AWS: `arn:aws:iam::${OWNER}:root` } },
      before.Statement[1] as never,
    );
    // Act / Assess
    expect((await oracle.widening(before, dropped, oracleScopeOf(SCOPE))).verdict).toBe("sat");
    expect((await oracle.widening(before, narrowed, oracleScopeOf(SCOPE))).verdict).toBe("unsat");
    expect(decisionEngine.widening(before, dropped, SCOPE).kind).toBe("witness");
    expect(decisionEngine.widening(before, narrowed, SCOPE).kind).toBe("proof");
  });
});

describe("the Z3 oracle's request model", () => {
  it("an anonymous caller carries aws:PrincipalType = Anonymous and aws:userid = anonymous, or neither", async () => {
    // Act
    const typed = await oracle.publicAccess(
      policy(open({ StringEquals: { "aws:PrincipalType": "Anonymous" } })),
      oracleScopeOf(SCOPE),
    );
    const bare = await oracle.publicAccess(
      policy(open({ Null: { "aws:userid": "true" } })),
      oracleScopeOf(SCOPE),
    );
    // Assess
    expect(typed.verdict === "sat" && typed.witness.kind).toBe("anonymous");
    expect(typed.verdict === "sat" && typed.witness.context.get("aws:principaltype")).toBe("Anonymous");
    expect(bare.verdict === "sat" && bare.witness.kind).toBe("anonymous");
    expect(bare.verdict === "sat" && bare.witness.context.has("aws:userid")).toBe(false);
  });

  it("only an authenticated caller carries MFA keys", async () => {
    // Act
    const answer = await oracle.publicAccess(
      policy(
        open({
          StringEquals: { "aws:PrincipalType": "Anonymous" },
          NumericLessThanEquals: { "aws:MultiFactorAuthAge": "3600" },
        }),
      ),
      oracleScopeOf(SCOPE),
    );
    // Assess
    expect(answer.verdict).toBe("unsat");
  });

  it("an S3 Files request carries no elasticfilesystem: key (S3 Files has no AccessedViaMountTarget)", async () => {
    // Prepare
    const viaNoMountTarget = { Bool: { "elasticfilesystem:AccessedViaMountTarget": "false" } };
    const efsPolicy = policy({
      ...open(viaNoMountTarget),
      Action: "elasticfilesystem:Client*",
      Resource: "*",
    });
    // Act
    const s3files = await oracle.publicAccess(policy(open(viaNoMountTarget)), oracleScopeOf(SCOPE));
    const efs = await oracle.publicAccess(efsPolicy, { ...oracleScopeOf(SCOPE), service: "efs" });
    // Assess
    expect(s3files.verdict).toBe("unsat");
    expect(efs.verdict).toBe("sat");
  });

  it("an organization's id and paths have AWS Organizations' shapes", async () => {
    // Act
    const answer = await oracle.publicAccess(
      policy(open({ "ForAnyValue:StringLike": { "aws:PrincipalOrgPaths": "o-a1b2c3d4e5/*" } })),
      oracleScopeOf(SCOPE),
    );
    // Assess
    if (answer.verdict !== "sat") throw new Error(`expected a witness, got ${answer.verdict}`);
    expect(answer.witness.context.get("aws:principalorgid")).toMatch(/^o-[a-z0-9]{10,32}$/);
    for (const path of answer.witness.context.get("aws:principalorgpaths") as string[])
      expect(path).toMatch(/^o-a1b2c3d4e5\/r-[0-9a-z]{4,32}\/(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}\/)*$/);
  });
});

describe("decision procedure vs the Z3 oracle on generated policies", () => {
  const COUNT = 25;

  it(`agrees on ${COUNT} adversarial policies (judgements, edits, widening of mutants)`, async () => {
    // Prepare
    const cases = fc.sample(adversarialCaseArb, { numRuns: COUNT, seed: 2018 });
    const differential = new Differential(oracle, decisionEngine);
    // Act
    for (const [i, c] of cases.entries()) await differential.compare(c, i);
    // Assess
    const { report } = differential;
    console.log(formatReport(report, "decision procedure vs Z3"));
    expect(report.examples.map((e) => `${e.kind}: ${JSON.stringify(e.policy)} ${e.detail}`)).toEqual([]);
    expect(report.compared).toBeGreaterThan(COUNT * 3);
    expect(report.oracleWitnessesAllowedByEvaluator).toBe(report.oracleWitnesses);
  }, 600_000);
});

import { describe, expect, it } from "vitest";
import { judge, plannedPolicy, putPolicy, S3_ARN, S3_FS } from "../../helpers/fs-records.ts";

const RULE = "fs-policy-protective-deny-dropped";
const ALLOW = {
  Sid: "Mount",
  Effect: "Allow",
  Principal: { AWS: "111122223333" },
  Action: ["s3files:ClientMount", "s3files:ClientWrite"],
  Resource: S3_ARN,
};
const NO_WRITE_OUTSIDE_VPC = {
  Sid: "NoWriteOutsideVpc",
  Effect: "Deny",
  Principal: "*",
  Action: "s3files:ClientWrite",
  Resource: S3_ARN,
  Condition: { StringNotEquals: { "aws:SourceVpc": "vpc-0a1b2c3d" } },
};
const lastGood = (statements: unknown[]) =>
  new Map([[S3_FS, JSON.stringify({ Version: "2012-10-17", Statement: statements })]]);

describe(RULE, () => {
  it("violation: the Deny that protected write is gone; it is put back as it was", () => {
    const result = judge(
      putPolicy([ALLOW]),
      {},
      { lastKnownGoodPolicy: lastGood([ALLOW, NO_WRITE_OUTSIDE_VPC]) },
    );
    expect(result.findings).toEqual([
      {
        rule: RULE,
        severity: "high",
        message: expect.stringContaining(
          'Deny statement "NoWriteOutsideVpc" of the last known good policy protected ClientWrite',
        ),
      },
    ]);
    expect(plannedPolicy(result.plan[0]).Statement).toEqual([ALLOW, NO_WRITE_OUTSIDE_VPC]);
  });

  it("violation: a Deny selected by principal type (IAM users) is gone, with an IAM user as the example", () => {
    const noUserRoot = {
      Sid: "NoRootForUsers",
      Effect: "Deny",
      Principal: "*",
      Action: "s3files:ClientRootAccess",
      Resource: S3_ARN,
      Condition: { StringEquals: { "aws:PrincipalType": "User" } },
    };
    const result = judge(putPolicy([ALLOW]), {}, { lastKnownGoodPolicy: lastGood([ALLOW, noUserRoot]) });
    expect(result.findings.map((f) => f.rule)).toEqual([RULE]);
    expect(result.findings[0]?.message).toMatch(
      /Deny statement "NoRootForUsers" .* protected ClientRootAccess and is gone \(for example, no longer denied: s3files:ClientRootAccess by an IAM user of account \d{12}/,
    );
  });

  it("compliant: a Deny replaced by a broader one is not gone", () => {
    const broader = { ...NO_WRITE_OUTSIDE_VPC, Sid: "NoWrite", Condition: undefined };
    const result = judge(
      putPolicy([ALLOW, broader]),
      {},
      { lastKnownGoodPolicy: lastGood([ALLOW, NO_WRITE_OUTSIDE_VPC]) },
    );
    expect(result.verdict).toBe("compliant");
  });

  it("compliant: the Deny is still there", () => {
    const result = judge(
      putPolicy([ALLOW, NO_WRITE_OUTSIDE_VPC]),
      {},
      { lastKnownGoodPolicy: lastGood([NO_WRITE_OUTSIDE_VPC, ALLOW]) },
    );
    expect(result.verdict).toBe("compliant");
  });

  it("compliant offline, saying what it would check", () => {
    const result = judge(putPolicy([ALLOW]));
    expect(result.verdict).toBe("compliant");
    expect(result.reason).toMatch(
      /dropped protective Denies would be checked against the last known good policy/,
    );
  });
});

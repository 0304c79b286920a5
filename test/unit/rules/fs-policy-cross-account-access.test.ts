import { describe, expect, it } from "vitest";
import { loadFixture } from "../../helpers/fixtures.ts";
import { judge, plannedPolicy, putPolicy, S3_ARN } from "../../helpers/fs-records.ts";

const RULE = "fs-policy-cross-account-access";
const PARTNER = "444455556666";

describe(RULE, () => {
  it("violation: a named principal of an untrusted account; the principal alone is removed", () => {
    const result = judge(loadFixture("synthetic-s3files-PutFileSystemPolicy-root-and-cross-account.json"));
    expect(result.findings.filter((f) => f.rule === RULE)).toEqual([
      {
        rule: RULE,
        severity: "high",
        message: expect.stringContaining(`to account ${PARTNER}, which is not a trusted account`),
      },
    ]);
    const edited = plannedPolicy(result.plan[0]);
    expect(edited.Statement[0].Principal).toEqual({ AWS: "arn:aws:iam::111122223333:role/app" });
  });

  it("violation: Principal * limited to another account by aws:PrincipalAccount", () => {
    const result = judge(
      putPolicy([
        {
          Effect: "Allow",
          Principal: "*",
          Action: "s3files:ClientMount",
          Resource: S3_ARN,
          Condition: { StringEquals: { "aws:PrincipalAccount": PARTNER } },
        },
      ]),
    );
    expect(result.findings.map((f) => f.rule)).toEqual([RULE]);
  });

  it("compliant: the account is trusted", () => {
    const result = judge(
      putPolicy([
        {
          Effect: "Allow",
          Principal: { AWS: `arn:aws:iam::${PARTNER}:root` },
          Action: "s3files:ClientMount",
          Resource: S3_ARN,
        },
      ]),
      { trustedAccounts: [PARTNER] },
    );
    expect(result.verdict).toBe("compliant");
  });

  it("compliant: the owner's own principals", () => {
    const result = judge(
      putPolicy([
        {
          Effect: "Allow",
          Principal: { AWS: "111122223333" },
          Action: ["s3files:ClientMount", "s3files:ClientWrite"],
          Resource: S3_ARN,
        },
      ]),
    );
    expect(result.verdict).toBe("compliant");
  });
});

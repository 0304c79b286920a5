import { describe, expect, it } from "vitest";
import { judge, plannedPolicy, putPolicy, S3_ARN } from "../../helpers/fs-records.ts";

const RULE = "fs-policy-root-access-outside-admins";
const ADMIN = "arn:aws:iam::111122223333:role/storage-admin";

describe(RULE, () => {
  it("violation: root granted to an owner-account role with no admin list; ClientRootAccess alone is removed", () => {
    const result = judge(
      putPolicy([
        {
          Sid: "App",
          Effect: "Allow",
          Principal: { AWS: "arn:aws:iam::111122223333:role/app" },
          Action: "s3files:Client*",
          Resource: S3_ARN,
        },
      ]),
    );
    expect(result.findings).toEqual([
      {
        rule: RULE,
        severity: "high",
        message: expect.stringContaining(
          'statement "App" grants ClientRootAccess to arn:aws:iam::111122223333:role/app',
        ),
      },
    ]);
    expect(plannedPolicy(result.plan[0]).Statement[0].Action).toEqual([
      "s3files:ClientMount",
      "s3files:ClientWrite",
    ]);
  });

  it("violation: a wildcard grant of root even with the admin listed (others get it too)", () => {
    const result = judge(
      putPolicy([
        {
          Effect: "Allow",
          Principal: { AWS: "111122223333" },
          Action: "s3files:ClientRootAccess",
          Resource: S3_ARN,
        },
      ]),
      { adminPrincipals: [ADMIN] },
    );
    expect(result.findings.map((f) => f.rule)).toEqual([RULE]);
  });

  it("compliant: root granted only to a configured admin principal", () => {
    const result = judge(
      putPolicy([
        { Effect: "Allow", Principal: { AWS: ADMIN }, Action: "s3files:ClientRootAccess", Resource: S3_ARN },
      ]),
      {
        adminPrincipals: [ADMIN],
      },
    );
    expect(result.verdict).toBe("compliant");
  });

  it("compliant: a Deny of root for everyone else takes it back", () => {
    const result = judge(
      putPolicy([
        {
          Effect: "Allow",
          Principal: { AWS: "111122223333" },
          Action: "s3files:ClientRootAccess",
          Resource: S3_ARN,
        },
        {
          Effect: "Deny",
          Principal: "*",
          Action: "s3files:ClientRootAccess",
          Resource: S3_ARN,
          Condition: { ArnNotEquals: { "aws:PrincipalArn": ADMIN } },
        },
      ]),
      { adminPrincipals: [ADMIN] },
    );
    expect(result.verdict).toBe("compliant");
  });
});

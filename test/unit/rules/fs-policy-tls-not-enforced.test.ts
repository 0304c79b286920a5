import { describe, expect, it } from "vitest";
import { loadFixture } from "../../helpers/fixtures.ts";
import { EFS_ARN, judge, plannedPolicy, putPolicy, S3_ARN } from "../../helpers/fs-records.ts";

const RULE = "fs-policy-tls-not-enforced";
const MOUNT = {
  Effect: "Allow",
  Principal: { AWS: "111122223333" },
  Action: "elasticfilesystem:ClientMount",
  Resource: EFS_ARN,
};

describe(RULE, () => {
  it("violation (notify by default): EFS policy without a Deny on aws:SecureTransport = false", () => {
    const result = judge(putPolicy([MOUNT], "efs"));
    expect(result.verdict).toBe("violation");
    expect(result.findings.map((f) => f.rule)).toEqual([RULE]);
    expect(result.plan).toEqual([]);
    expect(result.reason).toMatch(/Notify only: fs-policy-tls-not-enforced/);
  });

  it("enforced: the console's Deny is added and nothing else changes", () => {
    const result = judge(putPolicy([MOUNT], "efs"), { rules: { [RULE]: "enforce" } });
    const edited = plannedPolicy(result.plan[0]);
    expect(edited.Statement[0]).toEqual(MOUNT);
    expect(edited.Statement[1]).toMatchObject({
      Effect: "Deny",
      Action: "*",
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    });
  });

  it("compliant: the EFS console's recommended policy", () => {
    expect(judge(loadFixture("synthetic-efs-PutFileSystemPolicy-console-recommended.json")).verdict).toBe(
      "compliant",
    );
  });

  it("not applicable to S3 Files: TLS is always on", () => {
    const result = judge(
      putPolicy([
        {
          Effect: "Allow",
          Principal: { AWS: "111122223333" },
          Action: "s3files:ClientMount",
          Resource: S3_ARN,
        },
      ]),
    );
    expect(result.verdict).toBe("compliant");
  });
});

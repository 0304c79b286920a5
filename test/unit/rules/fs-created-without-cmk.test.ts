import { describe, expect, it } from "vitest";
import { loadFixture, variantOf } from "../../helpers/fixtures.ts";
import { judge } from "../../helpers/fs-records.ts";

const RULE = "fs-created-without-cmk";
const ON = { rules: { [RULE]: "notify" as const } };

describe(RULE, () => {
  it("off by default", () => {
    expect(judge(loadFixture("synthetic-efs-CreateFileSystem-aws-managed-key.json")).verdict).toBe("ignored");
  });

  it("violation: EFS with the AWS managed key; never a plan, even enforced", () => {
    const result = judge(loadFixture("synthetic-efs-CreateFileSystem-aws-managed-key.json"), {
      rules: { [RULE]: "enforce" },
    });
    expect(result.findings).toEqual([
      { rule: RULE, severity: "low", message: expect.stringContaining("alias/aws/elasticfilesystem") },
    ]);
    expect(result.plan).toEqual([]);
  });

  it("violation: S3 Files with no key named (the documented real record)", () => {
    expect(judge(loadFixture("s3files-CreateFileSystem-aws-docs-example.json"), ON).verdict).toBe(
      "violation",
    );
  });

  it("violation: EFS not encrypted at all", () => {
    const record = variantOf("synthetic-efs-CreateFileSystem-aws-managed-key.json", (r) => {
      r.requestParameters.encrypted = false;
      delete r.requestParameters.kmsKeyId;
    });
    expect(judge(record, ON).findings[0]).toMatchObject({
      severity: "medium",
      message: expect.stringContaining("not encrypted at rest"),
    });
  });

  it("compliant: a customer-managed key", () => {
    const record = variantOf("synthetic-efs-CreateFileSystem-aws-managed-key.json", (r) => {
      r.requestParameters.kmsKeyId =
        "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    });
    expect(judge(record, ON).verdict).toBe("compliant");
  });
});

import { describe, expect, it } from "vitest";
import { isPolicySafe } from "../../../shared/core/policy/index.ts";
import { loadFixture } from "../../helpers/fixtures.ts";
import { EFS_FS, judge, plannedPolicy, S3_ARN, S3_FS } from "../../helpers/fs-records.ts";

const RULE = "fs-policy-deleted";
const GOOD = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    { Effect: "Allow", Principal: { AWS: "111122223333" }, Action: "s3files:ClientMount", Resource: S3_ARN },
  ],
});

describe(RULE, () => {
  it("S3 Files, offline: the built-in deny-baseline, rendered for the file system", () => {
    const result = judge(loadFixture("synthetic-s3files-DeleteFileSystemPolicy.json"));
    expect(result.findings).toEqual([
      { rule: RULE, severity: "high", message: expect.stringContaining("identity policies alone") },
    ]);
    expect(result.plan[0]).toMatchObject({
      api: "s3files:PutFileSystemPolicy",
      params: { fileSystemId: S3_FS },
    });
    const baseline = plannedPolicy(result.plan[0]);
    expect(JSON.stringify(baseline)).not.toMatch(/\{(Partition|Region|Account|FileSystemId)\}/);
    expect(baseline.Statement[0].Resource).toBe(S3_ARN);
  });

  it("EFS: critical (any client may mount), baseline with the TLS Deny", () => {
    const result = judge(loadFixture("synthetic-efs-DeleteFileSystemPolicy.json"));
    expect(result.findings[0]?.severity).toBe("critical");
    expect(result.plan[0]).toMatchObject({
      api: "elasticfilesystem:PutFileSystemPolicy",
      params: { FileSystemId: EFS_FS },
    });
    expect(plannedPolicy(result.plan[0]).Statement.map((s: { Sid: string }) => s.Sid)).toContain(
      "DenyInsecureTransport",
    );
  });

  it("restores the last known good policy when the runtime knows it", () => {
    const result = judge(
      loadFixture("synthetic-s3files-DeleteFileSystemPolicy.json"),
      {},
      { lastKnownGoodPolicy: new Map([[S3_FS, GOOD]]) },
    );
    expect(result.plan).toEqual([
      {
        api: "s3files:PutFileSystemPolicy",
        params: { fileSystemId: S3_FS, policy: GOOD },
        reason: "restore the last known good policy",
      },
    ]);
  });

  it("an unsafe last known good policy is not restored: the baseline is", () => {
    const open = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: "*", Action: "s3files:*", Resource: S3_ARN }],
    });
    const result = judge(
      loadFixture("synthetic-s3files-DeleteFileSystemPolicy.json"),
      {},
      { lastKnownGoodPolicy: new Map([[S3_FS, open]]) },
    );
    expect(plannedPolicy(result.plan[0]).Id).toBe("s3files-remediator-deny-baseline");
  });

  it("a configured baseline is rendered; an unsafe one is refused", () => {
    const template = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Deny",
          Principal: "*",
          Action: "s3files:*",
          Resource: "arn:{Partition}:s3files:{Region}:{Account}:file-system/{FileSystemId}",
        },
      ],
    });
    const ok = judge(loadFixture("synthetic-s3files-DeleteFileSystemPolicy.json"), {
      denyBaselinePolicy: template,
    });
    expect(plannedPolicy(ok.plan[0]).Statement[0].Resource).toBe(S3_ARN);
    const unsafe = template.replace('"Deny"', '"Allow"');
    const refused = judge(loadFixture("synthetic-s3files-DeleteFileSystemPolicy.json"), {
      denyBaselinePolicy: unsafe,
    });
    expect(refused).toMatchObject({ verdict: "violation", plan: [] });
    expect(refused.reason).toMatch(/the configured deny-baseline is not safe/);
  });

  it("the built-in baselines are safe by the engine's own check", () => {
    for (const name of [
      "synthetic-s3files-DeleteFileSystemPolicy.json",
      "synthetic-efs-DeleteFileSystemPolicy.json",
    ]) {
      const result = judge(loadFixture(name));
      const service = name.includes("efs") ? "efs" : "s3files";
      const scope = {
        service: service as "efs" | "s3files",
        ownerAccount: "111122223333",
        partition: "aws",
        region: service === "efs" ? "eu-west-1" : "us-west-2",
        fileSystemId: service === "efs" ? EFS_FS : S3_FS,
        trustedAccounts: [],
        adminPrincipals: [],
      };
      expect(
        isPolicySafe(JSON.stringify(plannedPolicy(result.plan[0])), scope, { requireTls: true }).safe,
      ).toBe(true);
    }
  });
});

import { describe, expect, it } from "vitest";
import { loadFixture, variantOf } from "../../helpers/fixtures.ts";
import { judge } from "../../helpers/fs-records.ts";

const RULE = "access-point-unsafe-posix";

describe(RULE, () => {
  it("S3 Files: uid/gid 0, root directory /, world-writable creation: notify by default (no plan)", () => {
    const result = judge(loadFixture("synthetic-s3files-CreateAccessPoint-root-uid.json"));
    expect(result.verdict).toBe("violation");
    expect(result.findings.map((f) => f.message.replace(/^fsap-\w+: /, ""))).toEqual([
      "POSIX user uid 0 (root): every client is root and bypasses permission checks",
      "POSIX group gid 0 (root group)",
      'root directory "/": the access point exposes the whole file system',
      "creation permissions 0777 are world-writable",
    ]);
    expect(result.plan).toEqual([]);
  });

  it("enforced: DeleteAccessPoint with the SDK's own parameter names (S3 Files camelCase, EFS PascalCase)", () => {
    const s3 = judge(loadFixture("synthetic-s3files-CreateAccessPoint-root-uid.json"), {
      rules: { [RULE]: "enforce" },
    });
    expect(s3.plan).toEqual([
      {
        api: "s3files:DeleteAccessPoint",
        params: { accessPointId: "fsap-0a1b2c3d4e5f60718" },
        reason: expect.any(String),
      },
    ]);
    const efs = judge(loadFixture("synthetic-efs-CreateAccessPoint-no-posix-user.json"), {
      rules: { [RULE]: "enforce" },
    });
    expect(efs.plan).toEqual([
      {
        api: "elasticfilesystem:DeleteAccessPoint",
        params: { AccessPointId: "fsap-0123456789abcdef0" },
        reason: expect.any(String),
      },
    ]);
  });

  it("EFS: no POSIX user is a violation", () => {
    const result = judge(loadFixture("synthetic-efs-CreateAccessPoint-no-posix-user.json"));
    expect(result.findings[0]?.message).toMatch(/no POSIX user/);
  });

  it("a missing root directory defaults to /", () => {
    const record = variantOf("synthetic-efs-CreateAccessPoint-app-user.json", (r) => {
      delete r.requestParameters.rootDirectory;
    });
    expect(judge(record).findings.map((f) => f.message)).toEqual([
      expect.stringContaining("not set (defaults to /)"),
    ]);
  });

  it("compliant: an application uid, a subdirectory, 750", () => {
    expect(judge(loadFixture("synthetic-efs-CreateAccessPoint-app-user.json")).verdict).toBe("compliant");
  });
});

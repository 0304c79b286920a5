import { describe, expect, it } from "vitest";
import { BUCKET, backing, judge, judgeLive, liveChange, OWNER } from "../../helpers/bucket-records.ts";
import { loadFixture } from "../../helpers/fixtures.ts";

const RULE = "bucket-versioning-not-enabled";
const RECORD = "synthetic-s3-PutBucketVersioning-suspended.json";

describe(RULE, () => {
  it("offline: suspended versioning is a violation; the plan re-enables it for the expected owner only", () => {
    const result = judge(loadFixture(RECORD));
    expect(result.verdict).toBe("violation");
    expect(result.findings).toEqual([
      {
        rule: RULE,
        severity: "high",
        message: expect.stringMatching(/^fs-data-bucket: versioning is Suspended/),
      },
    ]);
    expect(result.plan).toEqual([
      {
        api: "s3:PutBucketVersioning",
        params: {
          Bucket: BUCKET,
          VersioningConfiguration: { Status: "Enabled" },
          ExpectedBucketOwner: OWNER,
        },
        reason: "re-enable versioning (S3 Files needs it)",
      },
    ]);
    expect(result.reason).toContain("whether the bucket backs a file system is checked live");
  });

  it("live: enabled is compliant; a bucket never versioned is a violation", () => {
    expect(
      judgeLive(liveChange(RECORD, { versioning: { status: "Enabled", mfaDelete: false } })).verdict,
    ).toBe("compliant");
    const never = judgeLive(
      liveChange(RECORD, { versioning: { status: "Unversioned", mfaDelete: undefined } }),
    );
    expect(never.findings.map((f) => f.message)).toEqual([
      expect.stringContaining("versioning is Unversioned"),
    ]);
    expect(never.plan.map((s) => s.api)).toEqual(["s3:PutBucketVersioning"]);
  });

  it("MFA delete on: notified, nothing planned (re-enabling needs the owner's MFA device)", () => {
    const result = judgeLive(liveChange(RECORD, { versioning: { status: "Suspended", mfaDelete: true } }));
    expect(result.verdict).toBe("violation");
    expect(result.plan).toEqual([]);
    expect(result.reason).toContain("MFA delete is enabled");
  });

  it("notify mode and an exemption plan nothing; off judges nothing", () => {
    const change = liveChange(RECORD, { versioning: { status: "Suspended", mfaDelete: false } });
    expect(judgeLive(change, backing(), { rules: { [RULE]: "notify" } }).plan).toEqual([]);
    const exempted = judgeLive(change, backing(), {
      exemptions: [
        { resource: BUCKET, rules: [RULE], reason: "migration", owner: "data", expires: "2999-01-01" },
      ],
    });
    expect(exempted).toMatchObject({ verdict: "violation", plan: [], exemption: { owner: "data" } });
    expect(judgeLive(change, backing(), { rules: { [RULE]: "off" } }).findings).toEqual([]);
  });

  it("does not judge what the record does not tell: a policy deletion says nothing of versioning", () => {
    const result = judge(loadFixture("synthetic-s3-DeleteBucketPolicy.json"));
    expect(result.findings.filter((f) => f.rule === RULE)).toEqual([]);
  });
});

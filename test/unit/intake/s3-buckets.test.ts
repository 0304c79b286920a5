/** The S3 bucket calls, from their CloudTrail shapes to one `bucket-state` change (or a plain reason). */
import { describe, expect, it } from "vitest";
import { intakeRecord } from "../../../shared/core/intake/intake.ts";
import { loadFixture, variantOf } from "../../helpers/fixtures.ts";

const NO_SELF = { selfRoleArns: [] };

function detailOf(raw: unknown) {
  const result = intakeRecord(raw, NO_SELF);
  if (result.status !== "change") throw new Error(`expected a change, got ${JSON.stringify(result)}`);
  return { change: result.change, detail: result.change.detail };
}

describe("S3 bucket intake", () => {
  it("PutBucketPolicy: the policy object becomes its text; the bucket ARN names the resource", () => {
    const { change, detail } = detailOf(loadFixture("synthetic-s3-PutBucketPolicy-public-read.json"));
    expect(change.resource).toBe("arn:aws:s3:::fs-data-bucket");
    expect(change.resourceIds).toEqual(["arn:aws:s3:::fs-data-bucket", "fs-data-bucket"]);
    expect(detail).toMatchObject({
      kind: "bucket-state",
      bucket: "fs-data-bucket",
      trigger: "PutBucketPolicy",
    });
    const state = detail.kind === "bucket-state" ? detail.state : {};
    expect(JSON.parse(state.policyText ?? "")).toMatchObject({
      Statement: [{ Sid: "AppRoleReadWrite" }, {}, {}],
    });
    expect(Object.keys(state)).toEqual(["policyText"]);
  });

  it("PutBucketPolicy from a pipeline that kept the policy as text", () => {
    const raw = variantOf("synthetic-s3-PutBucketPolicy-vpc-limited.json", (r) => {
      r.requestParameters.bucketPolicy = JSON.stringify(r.requestParameters.bucketPolicy);
    });
    const { detail } = detailOf(raw);
    expect(
      detail.kind === "bucket-state" && JSON.parse(detail.state.policyText ?? "").Statement,
    ).toHaveLength(1);
  });

  it("a truncated policy is invalid input that names the field", () => {
    expect(intakeRecord(loadFixture("synthetic-s3-PutBucketPolicy-truncated.json"), NO_SELF)).toMatchObject({
      status: "invalid",
      error: expect.stringMatching(/^requestParameters\.bucketPolicy: policy: not valid JSON/),
    });
  });

  it("a truncated policy, at runtime: the bucket is judged live and the change says why the text was not used", () => {
    const result = intakeRecord(loadFixture("synthetic-s3-PutBucketPolicy-truncated.json"), {
      ...NO_SELF,
      judgeUnparsedPolicyLive: true,
    });
    expect(result).toMatchObject({
      status: "change",
      change: {
        detail: {
          kind: "bucket-state",
          state: {},
          unparsedProblem: expect.stringMatching(/^requestParameters\.bucketPolicy: policy: not valid JSON/),
        },
      },
    });
  });

  it("DeleteBucketPolicy: known to have no policy", () => {
    const { detail } = detailOf(loadFixture("synthetic-s3-DeleteBucketPolicy.json"));
    expect(detail).toMatchObject({ kind: "bucket-state", state: { policyText: null } });
  });

  it("PutBucketVersioning: the status, and MFA delete when the request sets it", () => {
    expect(detailOf(loadFixture("synthetic-s3-PutBucketVersioning-suspended.json")).detail).toMatchObject({
      state: { versioning: { status: "Suspended", mfaDelete: undefined } },
    });
    const mfa = variantOf("synthetic-s3-PutBucketVersioning-suspended.json", (r) => {
      r.requestParameters.VersioningConfiguration.MfaDelete = "Enabled";
    });
    expect(detailOf(mfa).detail).toMatchObject({
      state: { versioning: { status: "Suspended", mfaDelete: true } },
    });
  });

  it("PutBucketPublicAccessBlock: every setting, a left-out one as off (as S3 documents)", () => {
    expect(
      detailOf(loadFixture("synthetic-s3-PutBucketPublicAccessBlock-policy-unblocked.json")).detail,
    ).toMatchObject({
      state: {
        publicAccessBlock: {
          blockPublicAcls: true,
          ignorePublicAcls: true,
          blockPublicPolicy: false,
          restrictPublicBuckets: false,
        },
      },
    });
    const partial = variantOf("synthetic-s3-PutBucketPublicAccessBlock-policy-unblocked.json", (r) => {
      r.requestParameters.PublicAccessBlockConfiguration = { BlockPublicAcls: "true" };
    });
    expect(detailOf(partial).detail).toMatchObject({
      state: {
        publicAccessBlock: {
          blockPublicAcls: true,
          ignorePublicAcls: false,
          blockPublicPolicy: false,
          restrictPublicBuckets: false,
        },
      },
    });
  });

  it("DeleteBucketPublicAccessBlock: known to have none", () => {
    expect(detailOf(loadFixture("synthetic-s3-DeleteBucketPublicAccessBlock.json")).detail).toMatchObject({
      state: { publicAccessBlock: null },
    });
  });

  it("PutBucketAcl with an AccessControlPolicy body: each grant with its grantee", () => {
    const { detail } = detailOf(loadFixture("synthetic-s3-PutBucketAcl-all-users-read.json"));
    expect(detail.kind === "bucket-state" && detail.state.aclGrants).toEqual([
      {
        granteeType: "CanonicalUser",
        grantee: "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be",
        permission: "FULL_CONTROL",
      },
      {
        granteeType: "Group",
        grantee: "http://acs.amazonaws.com/groups/global/AllUsers",
        permission: "READ",
      },
    ]);
  });

  it("PutBucketAcl with a canned ACL (a real record): private grants nobody else", () => {
    const { detail } = detailOf(loadFixture("s3-PutBucketAcl-panther-analysis-canned-private.json"));
    expect(detail).toMatchObject({ kind: "bucket-state", bucket: "bucket", state: { aclGrants: [] } });
  });

  it("PutBucketAcl with a public canned ACL, and with grant headers", () => {
    const canned = variantOf("s3-PutBucketAcl-panther-analysis-canned-private.json", (r) => {
      r.requestParameters["x-amz-acl"] = ["public-read-write"];
    });
    expect(detailOf(canned).detail).toMatchObject({
      state: {
        aclGrants: [
          { grantee: "http://acs.amazonaws.com/groups/global/AllUsers", permission: "READ" },
          { grantee: "http://acs.amazonaws.com/groups/global/AllUsers", permission: "WRITE" },
        ],
      },
    });
    const headers = variantOf("s3-PutBucketAcl-panther-analysis-canned-private.json", (r) => {
      delete r.requestParameters["x-amz-acl"];
      r.requestParameters["x-amz-grant-read"] = [
        'uri="http://acs.amazonaws.com/groups/global/AuthenticatedUsers", id="abc"',
      ];
    });
    expect(detailOf(headers).detail).toMatchObject({
      state: {
        aclGrants: [
          {
            granteeType: "Group",
            grantee: "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
            permission: "READ",
          },
          { granteeType: "CanonicalUser", grantee: "abc", permission: "READ" },
        ],
      },
    });
  });

  it("an unknown canned ACL, or no bucket name, is invalid input", () => {
    const unknown = variantOf("s3-PutBucketAcl-panther-analysis-canned-private.json", (r) => {
      r.requestParameters["x-amz-acl"] = ["everyone-please"];
    });
    expect(intakeRecord(unknown, NO_SELF)).toMatchObject({
      status: "invalid",
      error: expect.stringContaining('unknown canned ACL "everyone-please"'),
    });
    const nameless = variantOf("synthetic-s3-DeleteBucketPolicy.json", (r) => {
      delete r.requestParameters.bucketName;
    });
    expect(intakeRecord(nameless, NO_SELF)).toMatchObject({
      status: "invalid",
      error: expect.stringContaining("requestParameters: bucketName"),
    });
  });

  it("a failed call changed nothing; other S3 calls are not judged; the remediator's own call is loop-guarded", () => {
    const failed = variantOf("synthetic-s3-PutBucketVersioning-suspended.json", (r) => {
      r.errorCode = "AccessDenied";
    });
    expect(intakeRecord(failed, NO_SELF)).toMatchObject({
      status: "ignored",
      resource: "arn:aws:s3:::fs-data-bucket",
      reason: expect.stringContaining("errorCode AccessDenied"),
    });
    const other = variantOf("synthetic-s3-DeleteBucketPolicy.json", (r) => {
      r.eventName = "PutBucketTagging";
    });
    expect(intakeRecord(other, NO_SELF)).toMatchObject({
      status: "ignored",
      reason: expect.stringContaining("PutBucketTagging is not a bucket call"),
    });
    const own = loadFixture("synthetic-s3-PutBucketVersioning-suspended.json");
    expect(
      intakeRecord(own, { selfRoleArns: ["arn:aws:iam::111122223333:role/platform-admin"] }),
    ).toMatchObject({ status: "ignored", reason: expect.stringContaining("loop guard") });
  });

  it("CreateFileSystem (S3 Files, the AWS documentation's record): the bucket and the role", () => {
    const { detail } = detailOf(loadFixture("s3files-CreateFileSystem-aws-docs-example.json"));
    expect(detail).toMatchObject({
      kind: "file-system-created",
      bucketArn: "arn:aws:s3:::amzn-s3-demo-bucket",
      roleArn: "arn:aws:iam::111122223333:role/myS3FilesRole",
    });
  });
});

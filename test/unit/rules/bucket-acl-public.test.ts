import { describe, expect, it } from "vitest";
import { ALL_ON, BUCKET, judge, judgeLive, liveChange } from "../../helpers/bucket-records.ts";
import { loadFixture, variantOf } from "../../helpers/fixtures.ts";

const RULE = "bucket-acl-public";
const RECORD = "synthetic-s3-PutBucketAcl-all-users-read.json";
const ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers";

describe(RULE, () => {
  it("a grant to AllUsers: public; S3 is told to ignore public ACLs (no ACL is rewritten)", () => {
    const result = judge(loadFixture(RECORD));
    expect(result.findings).toEqual([
      {
        rule: RULE,
        severity: "critical",
        message: `${BUCKET}: the bucket ACL grants READ to everyone (AllUsers)`,
      },
    ]);
    expect(result.plan.map((s) => s.api)).toEqual(["s3:PutPublicAccessBlock"]);
    expect(result.plan[0]?.params.PublicAccessBlockConfiguration).toMatchObject({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
    });
  });

  it("a grant to every AWS account (AuthenticatedUsers) is public too", () => {
    const raw = variantOf(RECORD, (r) => {
      r.requestParameters.AccessControlPolicy.AccessControlList.Grant[1].Grantee.URI =
        "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
    });
    expect(judge(raw).findings[0]?.message).toContain("every AWS account (AuthenticatedUsers)");
  });

  it("a private canned ACL (a real record) is compliant", () => {
    expect(judge(loadFixture("s3-PutBucketAcl-panther-analysis-canned-private.json")).verdict).toBe(
      "compliant",
    );
  });

  it("IgnorePublicAcls on neutralises the grant: compliant, with the reason", () => {
    const change = liveChange(RECORD, {
      aclGrants: [{ granteeType: "Group", grantee: ALL_USERS, permission: "READ" }],
      publicAccessBlock: ALL_ON,
    });
    const result = judgeLive(change);
    expect(result.verdict).toBe("compliant");
    expect(result.reason).toContain("IgnorePublicAcls is on");
  });
});

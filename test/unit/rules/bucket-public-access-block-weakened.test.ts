import { describe, expect, it } from "vitest";
import {
  ALL_ON,
  BUCKET,
  backing,
  judge,
  judgeLive,
  liveChange,
  OWNER,
} from "../../helpers/bucket-records.ts";
import { loadFixture } from "../../helpers/fixtures.ts";

const RULE = "bucket-public-access-block-weakened";
const DELETED = "synthetic-s3-DeleteBucketPublicAccessBlock.json";
const PUT = "synthetic-s3-PutBucketPublicAccessBlock-policy-unblocked.json";
const allOnParams = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true,
};

describe(RULE, () => {
  it("deleted, none known before: all four put back on", () => {
    const result = judge(loadFixture(DELETED));
    expect(result.findings).toEqual([
      {
        rule: RULE,
        severity: "high",
        message: expect.stringContaining(
          "Block Public Access removed: BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets off",
        ),
      },
    ]);
    expect(result.plan).toEqual([
      {
        api: "s3:PutPublicAccessBlock",
        params: { Bucket: BUCKET, PublicAccessBlockConfiguration: allOnParams, ExpectedBucketOwner: OWNER },
        reason: expect.stringContaining("keeping every setting already on"),
      },
    ]);
  });

  it("two settings turned off: the finding names them; the settings still on stay on", () => {
    const result = judge(loadFixture(PUT));
    expect(result.findings[0]?.message).toContain("weakened: BlockPublicPolicy, RestrictPublicBuckets off");
    expect(result.plan[0]?.params.PublicAccessBlockConfiguration).toEqual(allOnParams);
  });

  it("restores the last known good settings, not more", () => {
    const known = {
      blockPublicAcls: true,
      ignorePublicAcls: true,
      blockPublicPolicy: false,
      restrictPublicBuckets: false,
    };
    const result = judgeLive(
      liveChange(DELETED, { publicAccessBlock: null }),
      backing({ lastKnownGood: { publicAccessBlock: known } }),
    );
    expect(result.findings[0]?.message).toContain("on in the last known good settings");
    expect(result.plan[0]?.params.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: false,
      RestrictPublicBuckets: false,
    });
  });

  it("as strict as the last known good settings (or all on) is compliant", () => {
    const known = {
      blockPublicAcls: true,
      ignorePublicAcls: false,
      blockPublicPolicy: false,
      restrictPublicBuckets: false,
    };
    const partial = { ...known, ignorePublicAcls: true };
    expect(
      judgeLive(
        liveChange(PUT, { publicAccessBlock: partial }),
        backing({ lastKnownGood: { publicAccessBlock: known } }),
      ).verdict,
    ).toBe("compliant");
    expect(judgeLive(liveChange(PUT, { publicAccessBlock: ALL_ON })).verdict).toBe("compliant");
  });

  it("one call, not two, when a public ACL also wants settings on", () => {
    const result = judgeLive(
      liveChange(PUT, {
        publicAccessBlock: {
          blockPublicAcls: false,
          ignorePublicAcls: false,
          blockPublicPolicy: true,
          restrictPublicBuckets: true,
        },
        aclGrants: [
          {
            granteeType: "Group",
            grantee: "http://acs.amazonaws.com/groups/global/AllUsers",
            permission: "READ",
          },
        ],
      }),
    );
    expect(result.findings.map((f) => f.rule).sort()).toEqual(["bucket-acl-public", RULE]);
    expect(result.plan).toHaveLength(1);
    expect(result.plan[0]?.params.PublicAccessBlockConfiguration).toEqual(allOnParams);
  });
});

// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables are written ${key}
import { describe, expect, it } from "vitest";
import {
  ALL_ON,
  BUCKET,
  judge,
  judgeLive,
  liveChange,
  OWNER,
  putBucketPolicy,
} from "../../helpers/bucket-records.ts";
import { loadFixture } from "../../helpers/fixtures.ts";

const RULE = "bucket-policy-public";
const OBJECTS = `arn:aws:s3:::${BUCKET}/*`;
const open = (extra: Record<string, unknown> = {}) => ({
  Sid: "Open",
  Effect: "Allow",
  Principal: "*",
  Action: "s3:GetObject",
  Resource: OBJECTS,
  ...extra,
});

function policyFindings(raw: unknown) {
  return judge(raw).findings.filter((f) => f.rule === RULE);
}

describe(RULE, () => {
  it("a public statement: the finding has its witness; only that statement is narrowed, everything else kept", () => {
    const raw = loadFixture("synthetic-s3-PutBucketPolicy-public-read.json") as any;
    const result = judge(raw);
    expect(result.findings).toEqual([
      {
        rule: RULE,
        severity: "critical",
        message: `${BUCKET}: bucket policy statement "PublicRead" is public by S3's definition: it allows s3:GetObject on arn:aws:s3:::${BUCKET}/ by an anonymous caller`,
      },
    ]);
    expect(result.plan).toHaveLength(1);
    expect(result.plan[0]).toMatchObject({
      api: "s3:PutBucketPolicy",
      params: { Bucket: BUCKET, ExpectedBucketOwner: OWNER },
    });
    const sent = JSON.parse(result.plan[0]?.params.Policy as string);
    const before = raw.requestParameters.bucketPolicy;
    expect(sent.Statement[0]).toEqual(before.Statement[0]);
    expect(sent.Statement[2]).toEqual(before.Statement[2]);
    expect(sent.Statement[1]).toEqual({
      ...before.Statement[1],
      Principal: { AWS: `arn:aws:iam::${OWNER}:root` },
    });
    expect(result.plan[0]?.reason).toContain(
      "to allow nothing the current policy denies, and no longer public",
    );
  });

  it("trusted accounts keep their access through the narrowed statement", () => {
    const result = judge(putBucketPolicy([open()]), { trustedAccounts: ["444455556666"] });
    expect(JSON.parse(result.plan[0]?.params.Policy as string).Statement[0].Principal).toEqual({
      AWS: [`arn:aws:iam::${OWNER}:root`, "arn:aws:iam::444455556666:root"],
    });
  });

  it.each([
    ["a fixed aws:SourceVpc", { StringEquals: { "aws:SourceVpc": "vpc-0123456789abcdef0" } }],
    ["a fixed aws:SourceVpce", { StringEquals: { "aws:SourceVpce": "vpce-0a1b2c3d" } }],
    ["aws:SourceIp no broader than /8", { IpAddress: { "aws:SourceIp": ["10.0.0.0/8", "203.0.113.0/24"] } }],
    ["a fixed aws:SourceAccount", { StringEquals: { "aws:SourceAccount": OWNER } }],
    ["a fixed s3:DataAccessPointAccount", { StringEquals: { "s3:DataAccessPointAccount": OWNER } }],
  ])("not public: limited by %s", (_label, condition) => {
    expect(policyFindings(putBucketPolicy([open({ Condition: condition })]))).toEqual([]);
  });

  it.each([
    ["StringLike aws:SourceVpc vpc-*", { StringLike: { "aws:SourceVpc": "vpc-*" } }],
    ["aws:SourceIp broader than /8", { IpAddress: { "aws:SourceIp": "0.0.0.0/1" } }],
    ["a policy variable", { StringEquals: { "aws:SourceVpc": "${aws:SourceVpc}" } }],
    ["StringNotEquals (the opposite of a limit)", { StringNotEquals: { "aws:SourceVpc": "vpc-1" } }],
    ["...IfExists (true when the key is absent)", { StringEqualsIfExists: { "aws:SourceVpc": "vpc-1" } }],
    ["a key S3 does not count", { StringEquals: { "aws:RequestedRegion": "eu-west-1" } }],
    // S3's list names no principal-derived key (unlike EFS's): the statement is narrowed instead.
    ["aws:PrincipalOrgID, not on S3's list", { StringEquals: { "aws:PrincipalOrgID": "o-abc123def4" } }],
  ])("never called safe: %s", (_label, condition) => {
    const findings = policyFindings(putBucketPolicy([open({ Condition: condition })]));
    expect(findings.length).toBe(1);
  });

  it("NotPrincipal with Allow is public; narrowing it is proved to widen nothing", () => {
    const raw = putBucketPolicy([
      {
        Sid: "AllButOne",
        Effect: "Allow",
        NotPrincipal: { AWS: "arn:aws:iam::999988887777:root" },
        Action: "s3:GetObject",
        Resource: OBJECTS,
      },
    ]);
    const result = judge(raw);
    expect(result.findings).toEqual([
      expect.objectContaining({ rule: RULE, message: expect.stringContaining('"AllButOne" is public') }),
    ]);
    const sent = JSON.parse(result.plan[0]?.params.Policy as string);
    expect(sent.Statement[0].NotPrincipal).toBeUndefined();
    expect(sent.Statement[0].Principal).toEqual({ AWS: `arn:aws:iam::${OWNER}:root` });
  });

  it("an edit that would let in a principal the policy kept out is not made: Block Public Access instead, the policy kept", () => {
    // NotPrincipal excluded one of the owner's roles: narrowing to the owner would let it in.
    const raw = putBucketPolicy([
      {
        Sid: "AllButBlocked",
        Effect: "Allow",
        NotPrincipal: { AWS: `arn:aws:iam::${OWNER}:role/blocked` },
        Action: "s3:GetObject",
        Resource: OBJECTS,
      },
    ]);
    const result = judge(raw);
    expect(result.findings.map((f) => f.rule)).toEqual([RULE]);
    expect(result.plan.map((s) => s.api)).toEqual(["s3:PutPublicAccessBlock"]);
    expect(result.reason).toContain("the edit could widen access");
    expect(result.reason).toContain("the policy itself is never deleted");
  });

  it("the fallback keeps every Block Public Access setting already on and adds the policy ones", () => {
    const change = liveChange("synthetic-s3-PutBucketPolicy-public-read.json", {
      policyText: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "X",
            Effect: "Allow",
            NotPrincipal: { AWS: `arn:aws:iam::${OWNER}:role/blocked` },
            Action: "s3:*",
            Resource: OBJECTS,
          },
        ],
      }),
      publicAccessBlock: {
        blockPublicAcls: true,
        ignorePublicAcls: false,
        blockPublicPolicy: false,
        restrictPublicBuckets: false,
      },
    });
    const result = judgeLive(change, undefined, { rules: { "bucket-public-access-block-weakened": "off" } });
    expect(result.plan).toEqual([
      expect.objectContaining({
        api: "s3:PutPublicAccessBlock",
        params: expect.objectContaining({
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            IgnorePublicAcls: false,
            BlockPublicPolicy: true,
            RestrictPublicBuckets: true,
          },
        }),
      }),
    ]);
  });

  it("a Deny that takes the grant back counts: entirely, or down to one fixed endpoint; a Deny on another key does not", () => {
    const denyAll = { Effect: "Deny", Principal: "*", Action: "s3:GetObject", Resource: OBJECTS };
    expect(policyFindings(putBucketPolicy([open(), denyAll]))).toEqual([]);
    const unlessEndpoint = { ...denyAll, Condition: { StringNotEquals: { "aws:SourceVpce": "vpce-1" } } };
    expect(policyFindings(putBucketPolicy([open(), unlessEndpoint]))).toEqual([]);
    const unlessRegion = {
      ...denyAll,
      Condition: { StringNotEquals: { "aws:RequestedRegion": "eu-west-1" } },
    };
    expect(policyFindings(putBucketPolicy([open(), unlessRegion]))).toHaveLength(1);
  });

  it("fixed principals, even of another account or a service, are not public", () => {
    const named = {
      Effect: "Allow",
      Principal: { AWS: "arn:aws:iam::999988887777:role/partner" },
      Action: "s3:GetObject",
      Resource: OBJECTS,
    };
    const service = {
      Effect: "Allow",
      Principal: { Service: "logging.s3.amazonaws.com" },
      Action: "s3:PutObject",
      Resource: OBJECTS,
    };
    expect(policyFindings(putBucketPolicy([named, service]))).toEqual([]);
  });

  it("RestrictPublicBuckets on neutralises a public policy: compliant, with the reason", () => {
    const change = liveChange("synthetic-s3-PutBucketPolicy-public-read.json", {
      policyText: JSON.stringify({ Version: "2012-10-17", Statement: [open()] }),
      publicAccessBlock: ALL_ON,
    });
    const result = judgeLive(change);
    expect(result.findings.filter((f) => f.rule === RULE)).toEqual([]);
    expect(result.reason).toContain("RestrictPublicBuckets is on");
  });

  it("no policy is compliant", () => {
    expect(judgeLive(liveChange("synthetic-s3-DeleteBucketPolicy.json", { policyText: null })).verdict).toBe(
      "compliant",
    );
  });
});

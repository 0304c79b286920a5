import { describe, expect, it } from "vitest";
import {
  BUCKET,
  backing,
  FS_ROLE,
  judge,
  judgeLive,
  liveChange,
  OWNER,
} from "../../helpers/bucket-records.ts";
import { loadFixture } from "../../helpers/fixtures.ts";

const RULE = "bucket-policy-blocks-file-system";
const RECORD = "synthetic-s3-PutBucketPolicy-vpce-deny.json";
const ARNS = [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`];
const COMPUTE = `arn:aws:iam::${OWNER}:role/analytics`;

function withPolicy(statements: Record<string, unknown>[]) {
  return liveChange(RECORD, { policyText: JSON.stringify({ Version: "2012-10-17", Statement: statements }) });
}

function blockFindings(result: ReturnType<typeof judgeLive>) {
  return result.findings.filter((f) => f.rule === RULE);
}

describe(RULE, () => {
  it("a Deny unless through a VPC endpoint blocks the file system's role (the key is absent from its requests)", () => {
    const result = judgeLive(
      liveChange(RECORD, {
        policyText: JSON.stringify((loadFixture(RECORD) as any).requestParameters.bucketPolicy),
      }),
    );
    const [finding] = blockFindings(result);
    expect(finding?.message).toContain(
      'Deny statement "OnlyThroughOurEndpoint" blocks the role of file system fs-0123456789abcdef0',
    );
    expect(finding?.message).toContain(FS_ROLE);
    expect(finding?.message).toContain(
      "s3:ListBucket, s3:GetObject, s3:PutObject, s3:DeleteObject, s3:AbortMultipartUpload",
    );
    expect(finding?.message).toContain(
      "with aws:SourceVpce absent from the request (a negated condition on an absent key is true)",
    );
    // Notify by default: nothing is planned, the Deny is never edited.
    expect(result.plan).toEqual([]);
  });

  it("offline, the roles are not known: compliant, and it says what is checked live", () => {
    const result = judge(loadFixture(RECORD));
    expect(result.findings).toEqual([]);
    expect(result.reason).toContain("Deny statements are checked live against each file system's role");
  });

  it("a Deny that exempts the role by its ARN does not block it; one that names another role does", () => {
    const deny = { Sid: "OnlyListed", Effect: "Deny", Principal: "*", Action: "s3:*", Resource: ARNS };
    expect(
      blockFindings(
        judgeLive(withPolicy([{ ...deny, Condition: { ArnNotEquals: { "aws:PrincipalArn": FS_ROLE } } }])),
      ),
    ).toEqual([]);
    const other = judgeLive(
      withPolicy([
        { ...deny, Condition: { StringNotEquals: { "aws:PrincipalArn": `arn:aws:iam::${OWNER}:role/app` } } },
      ]),
    );
    expect(blockFindings(other)[0]?.message).toContain('"OnlyListed" blocks the role');
  });

  it("a Deny on a tag the role may lack can deny it: reported with the witness, never taken as safe", () => {
    const deny = {
      Sid: "Tagged",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:GetObject",
      Resource: ARNS[1],
      Condition: { StringNotEquals: { "aws:PrincipalTag/team": "data" } },
    };
    const [finding] = blockFindings(judgeLive(withPolicy([deny])));
    expect(finding?.message).toContain('"Tagged" blocks the role of file system');
    expect(finding?.message).toContain("it can deny s3:GetObject (");
  });

  it("a Deny of other actions, or for other principals, blocks nothing", () => {
    const acl = { Effect: "Deny", Principal: "*", Action: "s3:PutBucketAcl", Resource: ARNS[0] };
    const someoneElse = {
      Effect: "Deny",
      Principal: { AWS: "arn:aws:iam::999988887777:root" },
      Action: "s3:*",
      Resource: ARNS,
    };
    expect(blockFindings(judgeLive(withPolicy([acl, someoneElse])))).toEqual([]);
  });

  it("the compute role's direct reads are judged when configured, and said not to be when not", () => {
    const change = liveChange(RECORD, {
      policyText: JSON.stringify((loadFixture(RECORD) as any).requestParameters.bucketPolicy),
    });
    const configured = judgeLive(change, backing(), { computeRoleArns: [COMPUTE] });
    expect(blockFindings(configured).map((f) => f.message)).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `blocks direct reads by the compute role ${COMPUTE}: it can deny s3:GetObject, s3:GetObjectVersion .*aws:SourceVpce absent`,
        ),
      ),
    );
    expect(judgeLive(change).reason).toContain("no compute role is configured (computeRoleArns)");
  });
});

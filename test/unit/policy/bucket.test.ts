/**
 * S3 bucket policies on the decision procedure: S3's own meaning of "public" (its key list differs
 * from EFS's), the Denies that can block the file system's role, and edits that widen. Synthetic
 * policies, one per point.
 */
import { describe, expect, it } from "vitest";
import {
  bucketDenies,
  judgeBucketPolicy,
  narrowToAccounts,
  parsePolicy,
  proveBucketNoWidening,
} from "../../../shared/core/policy/index.ts";

const OWNER = "111122223333";
const SCOPE = { bucket: "data", ownerAccount: OWNER, partition: "aws" };
const BUCKET = "arn:aws:s3:::data";
const ROLE = `arn:aws:iam::${OWNER}:role/s3files-fs-role`;

function bucketPolicy(...statements: Record<string, unknown>[]) {
  return parsePolicy(JSON.stringify({ Version: "2012-10-17", Statement: statements }));
}

const publicRead = {
  Sid: "PublicRead",
  Effect: "Allow",
  Principal: "*",
  Action: "s3:GetObject",
  Resource: `${BUCKET}/*`,
};

describe("judgeBucketPolicy (S3's meaning of public)", () => {
  it("Principal * with s3:GetObject is public, with the statement and a witness", () => {
    const verdict = judgeBucketPolicy(bucketPolicy(publicRead), SCOPE);
    expect(verdict.public).toBe(true);
    if (verdict.public !== true) return;
    expect(verdict.publicStatements).toEqual(['statement "PublicRead"']);
    expect(verdict.witness.action.toLowerCase()).toBe("s3:getobject");
    expect(verdict.witness.resource.startsWith(`${BUCKET}/`)).toBe(true);
  });

  it("a fixed aws:SourceVpce or KMS key id (S3's list) makes it non-public", () => {
    for (const [key, value] of [
      ["aws:SourceVpce", "vpce-1a2b3c"],
      ["s3:x-amz-server-side-encryption-aws-kms-key-id", "arn:aws:kms:us-east-1:111122223333:key/k"],
    ]) {
      const doc = bucketPolicy({ ...publicRead, Condition: { StringEquals: { [key as string]: value } } });
      expect(judgeBucketPolicy(doc, SCOPE).public).toBe(false);
    }
  });

  it("elasticfilesystem:AccessedViaMountTarget is on EFS's list, not S3's: still public", () => {
    const doc = bucketPolicy({
      ...publicRead,
      Condition: { Bool: { "elasticfilesystem:AccessedViaMountTarget": "true" } },
    });
    expect(judgeBucketPolicy(doc, SCOPE).public).toBe(true);
  });

  it("a Deny that takes the access back counts", () => {
    const doc = bucketPolicy(publicRead, {
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Resource: [BUCKET, `${BUCKET}/*`],
      Condition: { StringNotEquals: { "aws:SourceVpce": "vpce-1a2b3c" } },
    });
    expect(judgeBucketPolicy(doc, SCOPE).public).toBe(false);
  });

  it("a named account is not public; a grant on another bucket does not count", () => {
    expect(
      judgeBucketPolicy(bucketPolicy({ ...publicRead, Principal: { AWS: "444455556666" } }), SCOPE).public,
    ).toBe(false);
    expect(
      judgeBucketPolicy(bucketPolicy({ ...publicRead, Resource: "arn:aws:s3:::other/*" }), SCOPE).public,
    ).toBe(false);
  });
});

describe("bucketDenies", () => {
  const query = { principalArn: ROLE, actions: ["s3:GetObject", "s3:PutObject"], resources: [`${BUCKET}/*`] };

  it("a Deny on a key the role's requests do not carry blocks it (StringNotEquals on an absent key is true)", () => {
    const doc = bucketPolicy({
      Sid: "OnlyFromVpce",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Resource: `${BUCKET}/*`,
      Condition: { StringNotEquals: { "aws:SourceVpce": "vpce-1a2b3c" } },
    });
    const denies = bucketDenies(doc, query);
    expect(denies).toHaveLength(1);
    expect(denies[0]).toMatchObject({ statement: 'statement "OnlyFromVpce"' });
  });

  it("a Deny that exempts the role, or names someone else, is not listed", () => {
    const exempt = bucketPolicy({
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Resource: `${BUCKET}/*`,
      Condition: { ArnNotEquals: { "aws:PrincipalArn": ROLE } },
    });
    const other = bucketPolicy({
      Effect: "Deny",
      Principal: { AWS: "arn:aws:iam::444455556666:root" },
      Action: "s3:*",
      Resource: `${BUCKET}/*`,
    });
    expect(bucketDenies(exempt, query)).toEqual([]);
    expect(bucketDenies(other, query)).toEqual([]);
  });
});

describe("proveBucketNoWidening", () => {
  it("dropping a Deny widens; narrowing a public grant to the owner does not", () => {
    const guarded = bucketPolicy(publicRead, {
      Effect: "Deny",
      Principal: "*",
      Action: "s3:DeleteObject",
      Resource: `${BUCKET}/*`,
    });
    expect(proveBucketNoWidening(guarded, bucketPolicy(publicRead), SCOPE).ok).toBe(false);
    const narrowed = bucketPolicy({ ...publicRead, Principal: { AWS: `arn:aws:iam::${OWNER}:root` } });
    expect(proveBucketNoWidening(bucketPolicy(publicRead), narrowed, SCOPE)).toEqual({ ok: true });
  });
});

describe("narrowToAccounts (edits through the Principal element)", () => {
  it("narrows a public statement to the owner's principals, proved not to widen and no longer public", () => {
    const doc = bucketPolicy(publicRead);
    const edit = narrowToAccounts(doc, [0], [OWNER], "aws");
    expect(edit?.changes).toEqual(['statement "PublicRead": Principal narrowed to account(s) 111122223333']);
    if (!edit) return;
    expect(proveBucketNoWidening(doc, edit.policy, SCOPE)).toEqual({ ok: true });
    expect(judgeBucketPolicy(edit.policy, SCOPE).public).toBe(false);
    expect(narrowToAccounts(doc, [0], [], "aws")).toBeUndefined();
  });
});

/**
 * The identity-root judgement, one policy form at a time: managed policies as AWS publishes them,
 * inline wildcards, NotAction, NotResource, Deny (total, partial, conditional), conditions on the
 * Allow, permissions boundaries, and a user's group policies. "Undecided" is never "no root".
 */
import { describe, expect, it } from "vitest";
import { parseIdentityPolicy } from "../../../shared/core/iam/identity-policy.ts";
import type { IamPrincipalState } from "../../../shared/core/iam/model.ts";
import { judgePrincipal } from "../../../shared/core/iam/principal-root.ts";
import { judgeIdentityRoot } from "../../../shared/core/policy/index.ts";

const ACCOUNT = "111122223333";
const doc = (...Statement: Record<string, unknown>[]) => JSON.stringify({ Version: "2012-10-17", Statement });
const policy = (label: string, ...statements: Record<string, unknown>[]) => ({
  label,
  document: parseIdentityPolicy(doc(...statements)),
});
const judge = (policies: ReturnType<typeof policy>[], boundary?: ReturnType<typeof policy>) =>
  judgeIdentityRoot({
    policies,
    ...(boundary ? { boundary } : {}),
    partition: "aws",
    account: ACCOUNT,
    principalArn: `arn:aws:iam::${ACCOUNT}:role/app`,
  });

// The documents of the AWS managed policies as IAM serves them (moto's copy of the AWS data).
const CLIENT_FULL = policy("AmazonS3FilesClientFullAccess", {
  Sid: "S3FilesPermissions",
  Effect: "Allow",
  Action: ["s3files:ClientMount", "s3files:ClientWrite", "s3files:ClientRootAccess"],
  Resource: "*",
});
const CLIENT_READ_WRITE = policy("AmazonS3FilesClientReadWriteAccess", {
  Sid: "S3FilesPermissions",
  Effect: "Allow",
  Action: ["s3files:ClientMount", "s3files:ClientWrite"],
  Resource: "*",
});
const POWER_USER = policy("PowerUserAccess", {
  Effect: "Allow",
  NotAction: ["iam:*", "organizations:*", "account:*"],
  Resource: "*",
});

describe("judgeIdentityRoot", () => {
  it("managed AmazonS3FilesClientFullAccess: root on every file system, with the statement as witness", () => {
    const verdict = judge([CLIENT_FULL]);
    expect(verdict.grantsRoot).toBe(true);
    if (verdict.grantsRoot !== true) return;
    expect(verdict.witness.action).toBe("s3files:ClientRootAccess");
    expect(verdict.witness.policy).toBe("AmazonS3FilesClientFullAccess");
    expect(verdict.witness.statement).toBe('statement "S3FilesPermissions"');
    expect(verdict.witness.resource).toMatch(new RegExp(`^arn:aws:s3files:[^:]+:${ACCOUNT}:file-system/`));
  });

  it("managed AmazonS3FilesClientReadWriteAccess: no root, proved", () => {
    expect(judge([CLIENT_READ_WRITE]).grantsRoot).toBe(false);
  });

  it("inline s3files:* and s3files:Client* both give root; elasticfilesystem:* gives EFS root", () => {
    for (const action of ["s3files:*", "s3files:Client*", "S3FILES:clientroot*", "*"]) {
      expect(
        judge([policy("inline", { Effect: "Allow", Action: action, Resource: "*" })]).grantsRoot,
        action,
      ).toBe(true);
    }
    const efs = judge([policy("inline", { Effect: "Allow", Action: "elasticfilesystem:*", Resource: "*" })]);
    expect(efs.grantsRoot === true && efs.witness.action).toBe("elasticfilesystem:ClientRootAccess");
  });

  it("NotAction (PowerUserAccess): root, unless the NotAction names the root actions", () => {
    expect(judge([POWER_USER]).grantsRoot).toBe(true);
    const excluded = policy("inline", {
      Effect: "Allow",
      NotAction: ["s3files:ClientRootAccess", "elasticfilesystem:Client*"],
      Resource: "*",
    });
    expect(judge([excluded]).grantsRoot).toBe(false);
  });

  it("a Resource of one file system of the account is root there; one of another account or service is not", () => {
    const fs = `arn:aws:s3files:eu-west-1:${ACCOUNT}:file-system/fs-0123456789abcdef0`;
    const here = judge([
      policy("inline", { Effect: "Allow", Action: "s3files:ClientRootAccess", Resource: fs }),
    ]);
    expect(here.grantsRoot === true && here.witness.resource).toBe(fs);
    const elsewhere = [
      "arn:aws:s3files:eu-west-1:999988887777:file-system/fs-0123456789abcdef0",
      "arn:aws:s3:::bucket/*",
      `arn:aws:elasticfilesystem:eu-west-1:${ACCOUNT}:file-system/fs-1`,
    ];
    expect(
      judge([policy("inline", { Effect: "Allow", Action: "s3files:ClientRootAccess", Resource: elsewhere })])
        .grantsRoot,
    ).toBe(false);
  });

  it("a wildcard Resource that can reach a file system is a witness of a concrete ARN", () => {
    const verdict = judge([
      policy("inline", {
        Effect: "Allow",
        Action: "s3files:*",
        Resource: `arn:aws:s3files:eu-*:${ACCOUNT}:file-system/fs-*`,
      }),
    ]);
    expect(verdict.grantsRoot).toBe(true);
    if (verdict.grantsRoot === true) {
      expect(verdict.witness.resource).toMatch(
        new RegExp(`^arn:aws:s3files:eu-[^:]*:${ACCOUNT}:file-system/fs-`),
      );
    }
  });

  it("NotResource that leaves file systems in is root; one that takes every file system out is not", () => {
    const leaves = policy("inline", { Effect: "Allow", Action: "s3files:*", NotResource: "arn:aws:s3:::*" });
    expect(judge([leaves]).grantsRoot).toBe(true);
    const takesOut = policy("inline", {
      Effect: "Allow",
      Action: "*",
      NotResource: ["arn:aws:s3files:*:*:file-system/*", "arn:aws:elasticfilesystem:*:*:*"],
    });
    expect(judge([takesOut]).grantsRoot).toBe(false);
  });

  it("an unconditional Deny of the root actions on every resource takes root away (the guardrail's deny policy)", () => {
    const deny = policy("deny", {
      Effect: "Deny",
      Action: ["s3files:ClientRootAccess", "elasticfilesystem:ClientRootAccess"],
      Resource: "*",
    });
    expect(judge([POWER_USER, deny]).grantsRoot).toBe(false);
  });

  it("a conditional or partial Deny leaves root where it does not apply: the witness avoids it", () => {
    const apArn = `arn:aws:s3files:eu-west-1:${ACCOUNT}:file-system/fs-1/access-point/fsap-1`;
    const conditional = policy("deny", {
      Effect: "Deny",
      Action: "s3files:ClientRootAccess",
      Resource: "*",
      Condition: { StringNotEquals: { "s3files:AccessPointArn": apArn } },
    });
    const through = judge([CLIENT_FULL, conditional]);
    expect(through.grantsRoot).toBe(true);
    if (through.grantsRoot === true) expect(JSON.stringify(through.witness.context)).toContain(apArn);
    const fs1 = `arn:aws:s3files:eu-west-1:${ACCOUNT}:file-system/fs-1`;
    const oneFileSystem = policy("deny", {
      Effect: "Deny",
      Action: "s3files:ClientRootAccess",
      Resource: fs1,
    });
    const elsewhere = judge([CLIENT_FULL, oneFileSystem]);
    expect(elsewhere.grantsRoot).toBe(true);
    if (elsewhere.grantsRoot === true) expect(elsewhere.witness.resource).not.toBe(fs1);
  });

  it("a condition on the Allow that a request can meet is root, with the context that meets it", () => {
    const conditional = policy("inline", {
      Effect: "Allow",
      Action: "s3files:ClientRootAccess",
      Resource: "*",
      Condition: { StringEquals: { "aws:SourceVpc": "vpc-0abc" } },
    });
    const verdict = judge([conditional]);
    expect(verdict.grantsRoot).toBe(true);
    if (verdict.grantsRoot === true) expect(JSON.stringify(verdict.witness.context)).toContain("vpc-0abc");
  });

  it("a policy variable in the Resource is never read as 'no root'", () => {
    const variable = policy("inline", {
      Effect: "Allow",
      Action: "s3files:*",
      Resource: `arn:aws:s3files:*:${ACCOUNT}:file-system/\${aws:PrincipalTag/fs}`,
    });
    expect(judge([variable]).grantsRoot).not.toBe(false);
  });

  it("a permissions boundary without root takes it away; one with root keeps it", () => {
    expect(judge([CLIENT_FULL], CLIENT_READ_WRITE).grantsRoot).toBe(false);
    expect(judge([POWER_USER], CLIENT_FULL).grantsRoot).toBe(true);
  });

  it("an Allow in the boundary alone gives nothing", () => {
    expect(judge([CLIENT_READ_WRITE], CLIENT_FULL).grantsRoot).toBe(false);
  });
});

describe("judgePrincipal", () => {
  const user = (policies: IamPrincipalState["policies"]): IamPrincipalState => ({
    kind: "user",
    name: "bob",
    arn: `arn:aws:iam::${ACCOUNT}:user/bob`,
    path: "/",
    policies,
    boundary: undefined,
  });

  it("a user's group policy counts, and the witness names the group's policy", () => {
    const { verdict, witnessSource } = judgePrincipal(
      user([
        {
          label: "managed policy AmazonS3FilesFullAccess (attached to group developers)",
          arn: "arn:aws:iam::aws:policy/AmazonS3FilesFullAccess",
          via: "developers",
          document: doc({ Effect: "Allow", Action: "s3files:*", Resource: "*" }),
        },
      ]),
      "aws",
      ACCOUNT,
    );
    expect(verdict.grantsRoot).toBe(true);
    expect(witnessSource?.via).toBe("developers");
  });

  it("reads URL-encoded documents, as IAM's Get APIs return them", () => {
    const encoded = encodeURIComponent(doc({ Effect: "Allow", Action: "s3files:*", Resource: "*" }));
    const { verdict } = judgePrincipal(
      user([{ label: "inline x", arn: undefined, via: undefined, document: encoded }]),
      "aws",
      ACCOUNT,
    );
    expect(verdict.grantsRoot).toBe(true);
  });

  it("a document that cannot be read is undecided, never safe", () => {
    const { verdict } = judgePrincipal(
      user([{ label: "inline broken", arn: undefined, via: undefined, document: '{"Statement": [' }]),
      "aws",
      ACCOUNT,
    );
    expect(verdict.grantsRoot).toBe("undecided");
  });
});

/**
 * Identity policies on the decision procedure: does a principal's set of policies (and boundary)
 * allow ClientRootAccess on a file system of its account? Synthetic policies shaped like the AWS
 * managed policies the design facts name (AmazonS3FilesFullAccess grants s3files:*).
 */
import { describe, expect, it } from "vitest";
import {
  evaluatePolicy,
  judgeIdentityRoot,
  type LabelledPolicy,
  parsePolicy,
} from "../../../shared/core/policy/index.ts";

const ACCOUNT = "111122223333";
const ROLE = `arn:aws:iam::${ACCOUNT}:role/app`;

function identity(label: string, ...statements: Record<string, unknown>[]): LabelledPolicy {
  return {
    label,
    document: parsePolicy(JSON.stringify({ Version: "2012-10-17", Statement: statements }), "identity"),
  };
}

function judge(policies: LabelledPolicy[], boundary?: LabelledPolicy) {
  return judgeIdentityRoot({
    policies,
    ...(boundary ? { boundary } : {}),
    partition: "aws",
    account: ACCOUNT,
    principalArn: ROLE,
  });
}

describe("judgeIdentityRoot", () => {
  it("s3files:* on * grants root, with a witness the evaluator allows", () => {
    const full = identity("AmazonS3FilesFullAccess", { Effect: "Allow", Action: "s3files:*", Resource: "*" });
    const verdict = judge([full]);
    expect(verdict.grantsRoot).toBe(true);
    if (verdict.grantsRoot !== true) return;
    expect(verdict.witness).toMatchObject({
      action: "s3files:ClientRootAccess",
      policy: "AmazonS3FilesFullAccess",
      statement: "statement #1",
    });
    expect(verdict.witness.resource).toMatch(/^arn:aws:s3files:[^:]+:111122223333:file-system\//);
  });

  it("a Deny in another policy of the set takes it back: a proof", () => {
    const verdict = judge([
      identity("full", { Effect: "Allow", Action: "*", Resource: "*" }),
      identity("guard", {
        Effect: "Deny",
        Action: ["s3files:ClientRootAccess", "elasticfilesystem:ClientRoot*"],
        Resource: "*",
      }),
    ]);
    expect(verdict.grantsRoot).toBe(false);
  });

  it("a Deny limited to one region leaves the others", () => {
    const verdict = judge([
      identity("full", { Effect: "Allow", Action: "s3files:ClientRootAccess", Resource: "*" }),
      identity("guard", {
        Effect: "Deny",
        Action: "s3files:ClientRootAccess",
        Resource: `arn:aws:s3files:us-east-1:${ACCOUNT}:file-system/*`,
      }),
    ]);
    expect(verdict.grantsRoot).toBe(true);
    if (verdict.grantsRoot === true) expect(verdict.witness.resource).not.toMatch(/us-east-1/);
  });

  it("a permissions boundary without the action keeps root away", () => {
    const verdict = judge(
      [identity("full", { Effect: "Allow", Action: "*", Resource: "*" })],
      identity("boundary", {
        Effect: "Allow",
        Action: ["s3files:ClientMount", "s3files:ClientWrite"],
        Resource: "*",
      }),
    );
    expect(verdict.grantsRoot).toBe(false);
  });

  it("NotAction and NotResource are read as what they leave", () => {
    expect(judge([identity("p", { Effect: "Allow", NotAction: "iam:*", Resource: "*" })]).grantsRoot).toBe(
      true,
    );
    expect(
      judge([
        identity("p", { Effect: "Allow", Action: "elasticfilesystem:*", NotResource: "arn:aws:s3files:*" }),
      ]).grantsRoot,
    ).toBe(true);
    expect(
      judge([
        identity("p", {
          Effect: "Allow",
          Action: "*",
          NotResource: ["arn:aws:s3files:*", "arn:aws:elasticfilesystem:*"],
        }),
      ]).grantsRoot,
    ).toBe(false);
  });

  it("a grant on another account's file systems is not root here", () => {
    const other = identity("p", {
      Effect: "Allow",
      Action: "s3files:ClientRootAccess",
      Resource: "arn:aws:s3files:*:444455556666:file-system/*",
    });
    expect(judge([other])).toMatchObject({ grantsRoot: false });
  });

  it("a condition is satisfied by the witness's context", () => {
    const tagged = identity("p", {
      Effect: "Allow",
      Action: "s3files:ClientRootAccess",
      Resource: "*",
      Condition: {
        StringEquals: { "aws:ResourceTag/team": "storage" },
        Bool: { "aws:SecureTransport": "true" },
      },
    });
    const verdict = judge([tagged]);
    expect(verdict.grantsRoot).toBe(true);
    if (verdict.grantsRoot !== true) return;
    expect(verdict.witness.context["aws:resourcetag/team"]).toBe("storage");
    const request = {
      principal: {
        kind: "aws" as const,
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/app/s`,
        account: ACCOUNT,
        roleArn: ROLE,
      },
      action: verdict.witness.action,
      resource: verdict.witness.resource,
      context: new Map(Object.entries(verdict.witness.context)),
    };
    expect(evaluatePolicy(tagged.document, request).decision).toBe("allowed");
  });

  it("an identity policy with a Principal is rejected as input", () => {
    expect(() =>
      parsePolicy(
        JSON.stringify({ Statement: [{ Effect: "Allow", Principal: "*", Action: "*" }] }),
        "identity",
      ),
    ).toThrow(/cannot name a Principal/);
  });
});

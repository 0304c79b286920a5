import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decisionRank, evaluatePolicy } from "../../../shared/core/policy/evaluate.ts";
import {
  analyzePolicy,
  type EditGoals,
  editPolicy,
  NO_EDIT_GOALS,
  policyFromJson,
  principalContext,
  problemsOf,
  proveEdit,
  proveNoWidening,
} from "../../../shared/core/policy/index.ts";
import { allow, deny, OWNER, PARTNER, policy, S3FS_ARN, scope } from "../../helpers/policies.ts";
import { actionArb, contextArb, policyArb, principalArb } from "../../helpers/policy-arbitraries.ts";

const ALL_GOALS: EditGoals = {
  ...NO_EDIT_GOALS,
  publicAccess: true,
  crossAccountAccess: true,
  rootOutsideAdmins: true,
};

describe("editPolicy", () => {
  it("narrows a public statement through its Principal element and keeps every other statement, Sid and Deny", () => {
    // Prepare
    const doc = policy(
      { ...allow({ AWS: `arn:aws:iam::${OWNER}:role/app` }, "s3files:ClientWrite"), Sid: "App" },
      { ...allow("*", "s3files:ClientMount"), Sid: "Open" },
      { ...deny("*", "s3files:ClientRootAccess"), Sid: "NoRoot" },
    );
    // Act
    const edit = editPolicy(doc, scope(), ALL_GOALS);
    // Assess
    const statements = edit.policy.raw.Statement as Record<string, unknown>[];
    expect(statements.map((s) => s.Sid)).toEqual(["App", "Open", "NoRoot"]);
    expect(statements[0]).toEqual(doc.statements[0]?.raw);
    expect(statements[2]).toEqual(doc.statements[2]?.raw);
    // The Principal element is evaluated for every client request; aws:PrincipalAccount is not on
    // the EFS guide's list of keys enforced for NFS clients, so the edit never relies on it.
    expect(statements[1]?.Principal).toEqual({ AWS: `arn:aws:iam::${OWNER}:root` });
    expect(statements[1]?.Condition).toBeUndefined();
    expect(edit.changes).toEqual([
      `statement "Open": Principal narrowed to the principals of account(s) ${OWNER}`,
    ]);
    expect(proveEdit(doc, edit.policy, scope(), ALL_GOALS).ok).toBe(true);
  });

  it("narrows to the owner and the trusted accounts, keeping the statement's own conditions", () => {
    const condition = { StringEquals: { "aws:PrincipalAccount": [OWNER, "999988887777"] } };
    const doc = policy(allow("*", "s3files:ClientMount", condition));
    const s = scope({ trustedAccounts: [PARTNER] });
    const edit = editPolicy(doc, s, ALL_GOALS);
    const statement = (edit.policy.raw.Statement as Record<string, unknown>[])[0];
    expect(statement?.Principal).toEqual({
      AWS: [`arn:aws:iam::${OWNER}:root`, `arn:aws:iam::${PARTNER}:root`],
    });
    expect(statement?.Condition).toEqual(condition);
    expect(proveEdit(doc, edit.policy, s, ALL_GOALS).ok).toBe(true);
  });

  it("a wildcard account in a principal ARN becomes each trusted account", () => {
    const doc = policy(allow({ AWS: "arn:aws:iam::*:role/reader" }, "s3files:ClientMount"));
    const s = scope({ trustedAccounts: [PARTNER] });
    const edit = editPolicy(doc, s, ALL_GOALS);
    expect((edit.policy.raw.Statement as Record<string, unknown>[])[0]?.Principal).toEqual({
      AWS: [`arn:aws:iam::${OWNER}:role/reader`, `arn:aws:iam::${PARTNER}:role/reader`],
    });
    expect(proveEdit(doc, edit.policy, s, ALL_GOALS).ok).toBe(true);
  });

  it("a NotPrincipal that excluded an owner principal cannot be narrowed: the statement goes", () => {
    const doc = policy({
      Effect: "Allow",
      NotPrincipal: { AWS: OWNER },
      NotAction: "s3files:ClientMount",
      Resource: S3FS_ARN,
    });
    const edit = editPolicy(doc, scope(), ALL_GOALS);
    expect(edit.policy.statements.some((st) => st.effect === "Allow")).toBe(false);
    expect(proveEdit(doc, edit.policy, scope(), ALL_GOALS).ok).toBe(true);
  });

  it("a NotPrincipal that excluded a whole trusted account narrows to the other allowed accounts", () => {
    const doc = policy({
      Effect: "Allow",
      NotPrincipal: { AWS: PARTNER },
      Action: "s3files:ClientMount",
      Resource: S3FS_ARN,
    });
    const s = scope({ trustedAccounts: [PARTNER] });
    const edit = editPolicy(doc, s, ALL_GOALS);
    expect((edit.policy.raw.Statement as Record<string, unknown>[])[0]?.Principal).toEqual({
      AWS: `arn:aws:iam::${OWNER}:root`,
    });
    expect(edit.changes.join("; ")).toContain(`Principal narrowed to the principals of account(s) ${OWNER}`);
    expect(edit.changes.join("; ")).not.toContain(PARTNER);
    expect(proveEdit(doc, edit.policy, s, ALL_GOALS).ok).toBe(true);
  });

  it("a NotPrincipal that excluded one role of an allowed account cannot be narrowed: the statement goes", () => {
    const doc = policy({
      Effect: "Allow",
      NotPrincipal: { AWS: `arn:aws:iam::${PARTNER}:role/intern` },
      Action: "s3files:ClientMount",
      Resource: S3FS_ARN,
    });
    const edit = editPolicy(doc, scope({ trustedAccounts: [PARTNER] }), ALL_GOALS);
    expect(edit.policy.statements.some((st) => st.effect === "Allow")).toBe(false);
  });

  it("makes no edit for outside access without a known owner account", () => {
    const doc = policy({ ...allow("*", "s3files:ClientMount"), Resource: "*" });
    expect(() => editPolicy(doc, scope({ ownerAccount: undefined, region: undefined }), ALL_GOALS)).toThrow(
      /owner account is unknown/,
    );
  });

  it("takes a named untrusted principal out of its statement", () => {
    const doc = policy(
      allow(
        { AWS: [`arn:aws:iam::${PARTNER}:root`, `arn:aws:iam::${OWNER}:role/app`] },
        "s3files:ClientMount",
      ),
    );
    const edit = editPolicy(doc, scope(), ALL_GOALS);
    expect((edit.policy.raw.Statement as Record<string, unknown>[])[0]?.Principal).toEqual({
      AWS: `arn:aws:iam::${OWNER}:role/app`,
    });
  });

  it("takes ClientRootAccess out of the actions, spelling out a wildcard without it", () => {
    const doc = policy(allow({ AWS: OWNER }, "s3files:Client*"));
    const edit = editPolicy(doc, scope(), ALL_GOALS);
    expect((edit.policy.raw.Statement as Record<string, unknown>[])[0]?.Action).toEqual([
      "s3files:ClientMount",
      "s3files:ClientWrite",
    ]);
  });

  it("adds ClientRootAccess to a NotAction list", () => {
    const doc = policy({
      Effect: "Allow",
      Principal: { AWS: OWNER },
      NotAction: "s3files:DeleteFileSystem",
      Resource: S3FS_ARN,
    });
    const edit = editPolicy(doc, scope(), ALL_GOALS);
    expect((edit.policy.raw.Statement as Record<string, unknown>[])[0]?.NotAction).toEqual([
      "s3files:DeleteFileSystem",
      "s3files:ClientRootAccess",
    ]);
  });

  it("removes a statement that granted only root, and keeps a valid policy when nothing is left", () => {
    const doc = policy(allow("*", "s3files:ClientRootAccess"));
    const edit = editPolicy(doc, scope(), ALL_GOALS);
    expect(edit.policy.statements.every((s) => s.effect === "Deny")).toBe(true);
    expect(proveEdit(doc, edit.policy, scope(), ALL_GOALS).ok).toBe(true);
  });

  it("the proof rejects an edit that widens access, naming the request", () => {
    const before = policy(allow({ AWS: OWNER }, "s3files:ClientMount"));
    const after = policy(allow("*", "s3files:ClientMount"));
    const proof = proveNoWidening(before, after, scope());
    expect(proof.ok).toBe(false);
    expect(proof.failure).toMatch(/would be allowed instead of implicit-deny/);
  });

  it("a Principal narrowed from everyone is covered; the same text under another original Principal is not", () => {
    const condition = { StringLike: { "aws:SourceVpc": "vpc-*" } };
    const narrowed = policy(allow({ AWS: `arn:aws:iam::${OWNER}:root` }, "s3files:ClientWrite", condition));
    expect(proveNoWidening(policy(allow("*", "s3files:ClientWrite", condition)), narrowed, scope()).ok).toBe(
      true,
    );
    // An original that names someone else, or excludes with NotPrincipal, covers nothing of it.
    const partner = policy(allow({ AWS: PARTNER }, "s3files:ClientWrite", condition));
    expect(proveNoWidening(partner, narrowed, scope()).ok).toBe(false);
    const allButOwner = policy({
      Effect: "Allow",
      NotPrincipal: { AWS: `arn:aws:iam::${OWNER}:root` },
      Action: "s3files:ClientWrite",
      Resource: S3FS_ARN,
      Condition: condition,
    });
    expect(proveNoWidening(allButOwner, narrowed, scope()).ok).toBe(false);
    // Nor does "*" cover a statement whose other elements differ.
    const otherCondition = policy(
      allow("*", "s3files:ClientWrite", { StringLike: { "aws:SourceVpc": "vpc-1*" } }),
    );
    expect(proveNoWidening(otherCondition, narrowed, scope()).ok).toBe(false);
  });

  it("actions taken out of a statement are covered; an action added, or a NotAction dropped, is not", () => {
    const condition = { StringLike: { "aws:SourceVpc": "vpc-*" } };
    const before = policy(allow("*", "s3files:Client*", condition));
    const narrowed = policy(
      allow({ AWS: `arn:aws:iam::${OWNER}:root` }, ["s3files:ClientMount", "s3files:ClientWrite"], condition),
    );
    expect(proveNoWidening(before, narrowed, scope()).ok).toBe(true);
    // The same shape with an action the original never granted is widening.
    const mountOnly = policy(allow("*", "s3files:ClientMount", condition));
    const proof = proveNoWidening(mountOnly, narrowed, scope());
    expect(proof.ok).toBe(false);
    expect(proof.witness?.action).toBe("s3files:ClientWrite");
    // NotAction: excluding more is covered, excluding less is not.
    const notAction = (excluded: string[]) =>
      policy({
        Effect: "Allow",
        Principal: "*",
        NotAction: excluded,
        Resource: S3FS_ARN,
        Condition: condition,
      });
    const rootExcluded = notAction(["s3files:ClientRootAccess"]);
    const writeExcluded = notAction(["s3files:ClientWrite"]);
    const both = notAction(["s3files:ClientRootAccess", "s3files:ClientWrite"]);
    expect(proveNoWidening(rootExcluded, both, scope()).ok).toBe(true);
    expect(proveNoWidening(rootExcluded, writeExcluded, scope()).ok).toBe(false);
  });

  it("the proof rejects dropping a Deny: an identity policy could then allow the request", () => {
    const before = policy(allow({ AWS: OWNER }, "s3files:ClientMount"), deny("*", "s3files:ClientWrite"));
    const after = policy(allow({ AWS: OWNER }, "s3files:ClientMount"));
    expect(proveNoWidening(before, after, scope()).ok).toBe(false);
  });
});

describe("proofs cover every kind of caller", () => {
  it("dropping a Deny that only IAM users meet is widening, with an IAM user as the witness", () => {
    const before = policy(
      allow("*", "s3files:ClientWrite"),
      deny("*", "s3files:ClientWrite", { StringEquals: { "aws:PrincipalType": "User" } }),
    );
    const after = policy(allow("*", "s3files:ClientWrite"));
    const proof = proveNoWidening(before, after, scope());
    expect(proof.ok).toBe(false);
    expect(proof.witness?.kind).toBe("user");
    expect(proof.failure).toMatch(
      /an IAM user of account \d{12}.* would be allowed instead of explicit-deny/,
    );
  });

  it("an edit that keeps such a Deny is proved", () => {
    const before = policy(
      allow("*", "s3files:ClientWrite"),
      deny("*", "s3files:ClientWrite", { StringEquals: { "aws:PrincipalType": "User" } }),
    );
    const edit = editPolicy(before, scope(), ALL_GOALS);
    expect(proveEdit(before, edit.policy, scope(), ALL_GOALS)).toMatchObject({ ok: true });
  });
});

describe("an edit never widens access (property)", () => {
  it("for any policy, the edited policy is no more permissive on any request, and meets its goals", () => {
    fc.assert(
      fc.property(
        policyArb,
        fc.array(fc.tuple(principalArb, contextArb, actionArb), { minLength: 20, maxLength: 20 }),
        fc.boolean(),
        (json, requests, trustPartner) => {
          const s = scope({ trustedAccounts: trustPartner ? [PARTNER] : [] });
          const before = policyFromJson(json);
          const edit = editPolicy(before, s, ALL_GOALS);
          // The edit's own proof: never wider. It is refused only when it would lock out a
          // principal of the owner's or a trusted account (e.g. a NotPrincipal grant that excluded
          // one of them cannot be narrowed and goes), and then it names that request.
          expect(proveNoWidening(before, edit.policy, s)).toMatchObject({ ok: true });
          const proof = proveEdit(before, edit.policy, s, ALL_GOALS);
          if (!proof.ok) {
            expect(proof.failure).toMatch(/^the edited policy would no longer allow /);
            const caller = proof.witness?.principal;
            expect([OWNER, ...s.trustedAccounts]).toContain(caller?.kind === "aws" ? caller.account : "");
          }
          expect(problemsOf(analyzePolicy(edit.policy, s)).publicGrants).toEqual([]);
          // And independently, on requests drawn at random (owner-account callers included).
          for (const [principal, context, action] of [
            ...requests,
            [
              { kind: "aws", arn: `arn:aws:iam::${OWNER}:role/app`, account: OWNER },
              {},
              "s3files:ClientWrite",
            ] as const,
          ]) {
            const request = {
              principal,
              action,
              resource: S3FS_ARN,
              context: principalContext(principal, Object.entries(context)),
            };
            const a = evaluatePolicy(before, request).decision;
            const b = evaluatePolicy(edit.policy, request).decision;
            expect(decisionRank(b)).toBeLessThanOrEqual(decisionRank(a));
          }
        },
      ),
      { numRuns: 150, seed: 20261122 },
    );
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isAdminPrincipal } from "../../../shared/core/policy/analysis.ts";
import {
  type EditGoals,
  editPolicy,
  evaluatePolicy,
  findLockout,
  NO_EDIT_GOALS,
  policyFromJson,
  principalContext,
  proveEdit,
  proveKeeps,
  type RequestPrincipal,
  withJudgementBudget,
  witnessRequest,
} from "../../../shared/core/policy/index.ts";
import {
  allow,
  deny,
  EFS_ARN,
  efsScope,
  OWNER,
  PARTNER,
  policy,
  S3FS_ARN,
  scope,
} from "../../helpers/policies.ts";
import {
  adversarialCaseArb,
  concreteRequestArb,
  generatedFileSystemArn,
} from "../../helpers/policy-arbitraries.ts";
import { engineScopeOf } from "../../oracle/differential.ts";

const ALL_GOALS: EditGoals = {
  ...NO_EDIT_GOALS,
  publicAccess: true,
  crossAccountAccess: true,
  rootOutsideAdmins: true,
};
const OTHER = "777788889999";

function session(account: string, role: string): RequestPrincipal {
  return {
    kind: "aws",
    arn: `arn:aws:sts::${account}:assumed-role/${role}/s1`,
    account,
    roleArn: `arn:aws:iam::${account}:role/${role}`,
  };
}

function decide(doc: ReturnType<typeof policy>, principal: RequestPrincipal, action: string, context = {}) {
  return evaluatePolicy(doc, {
    principal,
    action,
    resource: S3FS_ARN,
    context: principalContext(principal, Object.entries({ "aws:SecureTransport": "true", ...context })),
  }).decision;
}

describe("an edit keeps what the owner's and trusted accounts were allowed", () => {
  it("an edit that removes the owner's only grant (a NotPrincipal statement) is not proved, and names the request", () => {
    // Prepare: everyone but the auditor role may write, the owner's app role included.
    const before = policy({
      Effect: "Allow",
      NotPrincipal: { AWS: `arn:aws:iam::${OWNER}:role/auditor` },
      Action: ["s3files:ClientMount", "s3files:ClientWrite"],
      Resource: S3FS_ARN,
    });
    const edit = editPolicy(before, scope(), ALL_GOALS);
    // The NotPrincipal excluded an owner's principal: it cannot be narrowed, so the edit removes it.
    expect(edit.changes[0]).toMatch(/removed \(its principals cannot be narrowed/);
    // Act
    const proof = proveEdit(before, edit.policy, scope(), ALL_GOALS);
    // Assess
    expect(proof.ok).toBe(false);
    expect(proof.failure).toMatch(
      new RegExp(`^the edited policy would no longer allow s3files:Client(Mount|Write) by .* ${OWNER}`),
    );
    const witness = proof.witness;
    if (!witness) throw new Error("a witness request was expected");
    expect(witness.principal.kind === "aws" && witness.principal.account).toBe(OWNER);
    expect(evaluatePolicy(before, witnessRequest(witness)).decision).toBe("allowed");
    expect(evaluatePolicy(edit.policy, witnessRequest(witness)).decision).not.toBe("allowed");
  });

  it("a trusted account locked out by the edit is named as well", () => {
    // Everyone but the owner's account and one partner role may write: the partner is trusted, and
    // no Principal element says "the partner but that role", so the edit removes it all.
    const before = policy({
      Effect: "Allow",
      NotPrincipal: { AWS: [OWNER, `arn:aws:iam::${PARTNER}:role/intern`] },
      NotAction: "s3files:ClientMount",
      Resource: S3FS_ARN,
    });
    const s = scope({ trustedAccounts: [PARTNER] });
    const edit = editPolicy(before, s, ALL_GOALS);
    const proof = proveEdit(before, edit.policy, s, ALL_GOALS);
    expect(proof.ok).toBe(false);
    expect(proof.failure).toMatch(`would no longer allow s3files:ClientWrite by`);
    expect(proof.witness?.principal).toMatchObject({ kind: "aws", account: PARTNER });
    // Without the partner trusted, nobody the policy is for had write: nothing to keep.
    const untrusted = editPolicy(before, scope(), ALL_GOALS);
    expect(proveEdit(before, untrusted.policy, scope(), ALL_GOALS)).toEqual({ ok: true });
  });

  it("a grant the current policy already denies to the owner is nothing to keep (Deny interplay)", () => {
    const before = policy(
      {
        Effect: "Allow",
        NotPrincipal: { AWS: `arn:aws:iam::${OWNER}:role/auditor` },
        Action: "s3files:ClientWrite",
        Resource: S3FS_ARN,
      },
      deny({ AWS: `arn:aws:iam::${OWNER}:root` }, "s3files:ClientWrite"),
    );
    const edit = editPolicy(before, scope(), ALL_GOALS);
    expect(edit.policy.statements.filter((st) => st.effect === "Allow")).toEqual([]);
    expect(proveEdit(before, edit.policy, scope(), ALL_GOALS)).toEqual({ ok: true });
  });

  it("a Deny of one owner's role leaves the owner's other principals to keep", () => {
    const before = policy(
      {
        Effect: "Allow",
        NotPrincipal: { AWS: `arn:aws:iam::${OWNER}:role/auditor` },
        Action: "s3files:ClientWrite",
        Resource: S3FS_ARN,
      },
      deny({ AWS: `arn:aws:iam::${OWNER}:role/app` }, "s3files:ClientWrite"),
    );
    const edit = editPolicy(before, scope(), ALL_GOALS);
    const proof = proveEdit(before, edit.policy, scope(), ALL_GOALS);
    expect(proof.ok).toBe(false);
    const witness = proof.witness;
    if (!witness) throw new Error("a witness request was expected");
    expect(witness.principal).toMatchObject({ kind: "aws", account: OWNER });
    expect(witness.principal.kind === "aws" && witness.principal.roleArn).not.toBe(
      `arn:aws:iam::${OWNER}:role/app`,
    );
    expect(evaluatePolicy(before, witnessRequest(witness)).decision).toBe("allowed");
  });

  it("taking ClientRootAccess from a statement keeps it for the admin principals it let in, with proof", () => {
    const admin = `arn:aws:iam::${OWNER}:role/admin`;
    const before = policy({
      ...allow("*", ["s3files:ClientWrite", "s3files:ClientRootAccess"], {
        IpAddress: { "aws:SourceIp": "10.0.0.0/8" },
      }),
      Sid: "Open",
    });
    const s = scope({ adminPrincipals: [admin, "arn:aws:iam::777788889999:role/admin"] });
    // Act
    const edit = editPolicy(before, s, ALL_GOALS);
    // Assess: the admin of the owner's account keeps root, under the statement's own conditions;
    // the admin of an untrusted account is no insider and gets nothing.
    const kept = (edit.policy.raw.Statement as Record<string, unknown>[])[1];
    expect(kept).toEqual({
      Sid: "OpenAdminRoot",
      Effect: "Allow",
      Principal: { AWS: admin },
      Action: "s3files:ClientRootAccess",
      Resource: S3FS_ARN,
      Condition: { IpAddress: { "aws:SourceIp": "10.0.0.0/8" } },
    });
    expect(edit.changes).toContain(
      `statement "Open": s3files:ClientRootAccess kept for the admin principal(s) ${admin} in a statement of their own`,
    );
    expect(proveEdit(before, edit.policy, s, ALL_GOALS)).toEqual({ ok: true });
    const fromOffice = { "aws:SourceIp": "10.1.2.3" };
    expect(decide(edit.policy, session(OWNER, "admin"), "s3files:ClientRootAccess", fromOffice)).toBe(
      "allowed",
    );
    expect(decide(edit.policy, session(OWNER, "app"), "s3files:ClientRootAccess", fromOffice)).toBe(
      "implicit-deny",
    );
    // Without that statement, the admin's root is lost: the edit would not be proved.
    const withoutIt = policyFromJson({
      ...edit.policy.raw,
      Statement: (edit.policy.raw.Statement as unknown[]).filter((_, i) => i !== 1),
    });
    const proof = proveEdit(before, withoutIt, s, ALL_GOALS);
    expect(proof.ok).toBe(false);
    expect(proof.failure).toMatch(/would no longer allow s3files:ClientRootAccess by .*role\/admin/);
  });

  it("a principal the statement names in an account whose root is an admin keeps root when a partner's root goes", () => {
    // Prepare: the owner's app role and a partner's role share root; the admin is the owner's account root.
    const before = policy(
      allow({ AWS: [`arn:aws:iam::${OWNER}:role/app`, `arn:aws:iam::${PARTNER}:role/reader`] }, [
        "s3files:ClientMount",
        "s3files:ClientRootAccess",
      ]),
    );
    const s = scope({ adminPrincipals: [`arn:aws:iam::${OWNER}:root`] });
    // Act
    const edit = editPolicy(before, s, ALL_GOALS);
    // Assess: the partner loses everything, the owner's app keeps mount and root.
    expect(proveEdit(before, edit.policy, s, ALL_GOALS)).toEqual({ ok: true });
    expect(decide(edit.policy, session(OWNER, "app"), "s3files:ClientRootAccess")).toBe("allowed");
    expect(decide(edit.policy, session(OWNER, "app"), "s3files:ClientMount")).toBe("allowed");
    expect(decide(edit.policy, session(PARTNER, "reader"), "s3files:ClientRootAccess")).toBe("implicit-deny");
  });

  it("narrowing a public statement to the owner's account keeps the owner's access, and takes it from other accounts' organization members", () => {
    // Prepare: write from any VPC (public: a wildcard limits nothing).
    const before = policy({
      ...allow("*", "s3files:ClientWrite", { StringLike: { "aws:SourceVpc": "vpc-*" } }),
      Sid: "AnyVpc",
    });
    const edit = editPolicy(before, scope(), ALL_GOALS);
    // Act / Assess
    expect(proveEdit(before, edit.policy, scope(), ALL_GOALS)).toEqual({ ok: true });
    const inVpc = { "aws:SourceVpc": "vpc-1" };
    expect(decide(edit.policy, session(OWNER, "app"), "s3files:ClientWrite", inVpc)).toBe("allowed");
    // An organization member of another account loses it: outside the trusted accounts, on purpose.
    const member = session(OTHER, "app");
    const org = { ...inVpc, "aws:PrincipalOrgID": "o-a1b2c3d4e5" };
    expect(decide(before, member, "s3files:ClientWrite", org)).toBe("allowed");
    expect(decide(edit.policy, member, "s3files:ClientWrite", org)).toBe("implicit-deny");
  });
});

describe("what the goals take away on purpose", () => {
  const owner = allow({ AWS: `arn:aws:iam::${OWNER}:root` }, "s3files:Client*");

  it("a new Deny that refuses the owner is a lockout; the same refusal by a restored protective Deny is not", () => {
    const protective = deny({ AWS: `arn:aws:iam::${OWNER}:role/app` }, "s3files:ClientWrite");
    const before = policy(owner);
    const after = policy(owner, protective);
    const locked = findLockout(before, after, scope(), NO_EDIT_GOALS);
    expect(locked.status).toBe("witness");
    if (locked.status === "witness") {
      expect(locked.witness.action).toBe("s3files:ClientWrite");
      expect(locked.witness.principal).toMatchObject({ roleArn: `arn:aws:iam::${OWNER}:role/app` });
    }
    const restored = { ...NO_EDIT_GOALS, restoreDenies: [protective] };
    expect(findLockout(before, after, scope(), restored)).toEqual({ status: "proved" });
  });

  it("requests without TLS are taken away only when enforcing TLS is a goal", () => {
    const s = efsScope();
    const grant = {
      ...owner,
      Action: "elasticfilesystem:Client*",
      Resource: EFS_ARN,
    };
    const before = policy(grant);
    const goals: EditGoals = { ...NO_EDIT_GOALS, enforceTls: true };
    const edit = editPolicy(before, s, goals);
    expect(proveEdit(before, edit.policy, s, goals)).toEqual({ ok: true });
    const locked = proveKeeps(before, edit.policy, s, NO_EDIT_GOALS);
    expect(locked.ok).toBe(false);
    expect(locked.failure).toMatch(/would no longer allow elasticfilesystem:Client\w+ by .*, without TLS$/);
  });

  it("ClientRootAccess outside the admins is taken on purpose; the admins' root is kept", () => {
    const admin = `arn:aws:iam::${OWNER}:role/admin`;
    const before = policy(owner);
    const after = policy({ ...owner, Action: ["s3files:ClientMount", "s3files:ClientWrite"] });
    const s = scope({ adminPrincipals: [admin] });
    const goals = { ...NO_EDIT_GOALS, rootOutsideAdmins: true };
    const outcome = findLockout(before, after, s, goals);
    expect(outcome.status).toBe("witness");
    if (outcome.status === "witness") {
      expect(outcome.witness.action).toBe("s3files:ClientRootAccess");
      expect(outcome.witness.principal).toMatchObject({ roleArn: admin });
    }
    // Root kept for the admin role by a statement of its own: nothing lost but what the goal takes.
    const kept = policy(
      { ...owner, Action: ["s3files:ClientMount", "s3files:ClientWrite"] },
      allow({ AWS: admin }, "s3files:ClientRootAccess"),
    );
    expect(findLockout(before, kept, s, goals)).toEqual({ status: "proved" });
  });

  it("a Principal narrowed to the owner alone locks out a trusted account; one naming only outsiders keeps nobody", () => {
    const open = allow("*", "s3files:ClientWrite");
    const toOwner = allow({ AWS: `arn:aws:iam::${OWNER}:root` }, "s3files:ClientWrite");
    const trusted = scope({ trustedAccounts: [PARTNER] });
    expect(findLockout(policy(open), policy(toOwner), scope(), NO_EDIT_GOALS)).toEqual({ status: "proved" });
    const locked = findLockout(policy(open), policy(toOwner), trusted, NO_EDIT_GOALS);
    expect(locked.status === "witness" && locked.witness.principal).toMatchObject({ account: PARTNER });
    // A statement of the partner's role alone, removed: a lockout only when the partner is trusted.
    const partner = allow({ AWS: `arn:aws:iam::${PARTNER}:role/reader` }, "s3files:ClientMount");
    expect(findLockout(policy(toOwner, partner), policy(toOwner), scope(), NO_EDIT_GOALS)).toEqual({
      status: "proved",
    });
    const lost = findLockout(policy(toOwner, partner), policy(toOwner), trusted, NO_EDIT_GOALS);
    expect(lost.status === "witness" && lost.witness.principal).toMatchObject({
      roleArn: `arn:aws:iam::${PARTNER}:role/reader`,
    });
  });

  it("an action taken out of a statement is a lockout unless a goal takes it", () => {
    const both = allow({ AWS: `arn:aws:iam::${OWNER}:root` }, ["s3files:ClientMount", "s3files:ClientWrite"]);
    const mountOnly = { ...both, Action: "s3files:ClientMount" };
    const outcome = findLockout(policy(both), policy(mountOnly), scope(), ALL_GOALS);
    expect(outcome.status === "witness" && outcome.witness.action).toBe("s3files:ClientWrite");
    // The same write granted by another statement of the edited policy: nothing lost.
    const elsewhere = allow({ AWS: `arn:aws:iam::${OWNER}:root` }, "s3files:ClientWrite");
    expect(findLockout(policy(both), policy(mountOnly, elsewhere), scope(), ALL_GOALS)).toEqual({
      status: "proved",
    });
  });

  it("a keep question left undecided is no proof", () => {
    const both = allow({ AWS: `arn:aws:iam::${OWNER}:root` }, ["s3files:ClientMount", "s3files:ClientWrite"]);
    const mountOnly = { ...both, Action: "s3files:ClientMount" };
    // The judgement's whole budget is one search step: the question cannot be finished.
    const { result } = withJudgementBudget(
      () => proveKeeps(policy(both), policy(mountOnly), scope(), ALL_GOALS),
      1,
    );
    expect(result.ok).toBe(false);
    expect(result.failure).toMatch(
      /^whether the edited policy keeps the insiders' access: too complex to decide/,
    );
  });

  it("a policy that allowed only other accounts' principals has nothing to keep: proved without a search; with a trusted account it does", () => {
    const partner = allow({ AWS: `arn:aws:iam::${PARTNER}:root` }, "s3files:Client*");
    const denyAll = deny("*", "s3files:Client*");
    const { result, steps } = withJudgementBudget(() =>
      findLockout(policy(partner), policy(denyAll), scope(), NO_EDIT_GOALS),
    );
    expect(result).toEqual({ status: "proved" });
    expect(steps).toBe(0);
    const locked = findLockout(
      policy(partner),
      policy(denyAll),
      scope({ trustedAccounts: [PARTNER] }),
      NO_EDIT_GOALS,
    );
    expect(locked.status === "witness" && locked.witness.principal).toMatchObject({ account: PARTNER });
  });

  it("an edit that changes no Allow and adds no Deny asks nothing", () => {
    const before = policy(owner, deny("*", "s3files:ClientRootAccess"));
    expect(
      findLockout(before, policy(owner, deny("*", "s3files:ClientRootAccess")), scope(), NO_EDIT_GOALS),
    ).toEqual({
      status: "proved",
    });
  });
});

describe("every proved edit keeps every insider request allowed (property)", () => {
  it("on random concrete requests of the owner's and trusted accounts, judged by the evaluator", () => {
    let proved = 0;
    let refused = 0;
    const caseWithRequests = adversarialCaseArb.chain((c) =>
      fc.tuple(fc.constant(c), fc.array(concreteRequestArb(c.service), { minLength: 40, maxLength: 40 })),
    );
    fc.assert(
      fc.property(caseWithRequests, ([c, requests]) => {
        // Prepare
        const s = engineScopeOf(c);
        const before = policyFromJson(c.policy);
        let edit: ReturnType<typeof editPolicy>;
        try {
          edit = editPolicy(before, s, ALL_GOALS);
        } catch {
          return; // left for a person: nothing is applied
        }
        // Act
        const proof = proveEdit(before, edit.policy, s, ALL_GOALS);
        if (!proof.ok) {
          // A refusal for a lockout names a request of an insider the evaluator confirms.
          if (proof.failure?.includes("would no longer allow")) {
            refused++;
            const w = proof.witness;
            if (!w) throw new Error("a lockout names its request");
            expect(evaluatePolicy(before, witnessRequest(w)).decision).toBe("allowed");
            expect(evaluatePolicy(edit.policy, witnessRequest(w)).decision).not.toBe("allowed");
          }
          return;
        }
        proved++;
        // Assess
        const insiders = [OWNER, ...s.trustedAccounts];
        for (const r of requests) {
          if (r.principal.kind !== "aws" || !insiders.includes(r.principal.account)) continue;
          const onPurpose =
            r.action.endsWith(":ClientRootAccess") && !isAdminPrincipal(r.principal, s.adminPrincipals);
          if (onPurpose) continue;
          const request = {
            principal: r.principal,
            action: r.action,
            resource: generatedFileSystemArn(c.service),
            context: principalContext(r.principal, Object.entries(r.context)),
          };
          const was = evaluatePolicy(before, request).decision;
          const now = evaluatePolicy(edit.policy, request).decision;
          if (was === "allowed") expect(now, JSON.stringify(r)).toBe("allowed");
        }
      }),
      { numRuns: 80, seed: 88 },
    );
    expect(proved).toBeGreaterThan(10);
    expect(refused).toBeGreaterThan(0);
  });
});

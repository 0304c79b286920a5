/**
 * The policy engine's answers to the oracle's questions, through its public API
 * (`shared/core/policy/index.ts`): is a client action public, cross-account, or root outside the
 * admins (a witness request, a proof, or "undecided"); the minimal edit and its proof; and whether
 * one policy widens another.
 */
import {
  analyzePolicy,
  editPolicy,
  evaluatePolicy,
  type PolicyScope,
  policyFromJson,
  problemsOf,
  proveEdit,
  proveNoWidening,
  type RequestPrincipal,
} from "../../shared/core/policy/index.ts";

export interface EngineRequest {
  readonly principal: RequestPrincipal;
  readonly action: string;
  readonly context: ReadonlyMap<string, string | readonly string[]>;
}

export type EngineAnswer =
  /** A request that answers "yes"; `request` is absent when the engine names it only in words. */
  | { readonly kind: "witness"; readonly request?: EngineRequest; readonly text: string }
  | { readonly kind: "proof" }
  | { readonly kind: "undecided"; readonly reason: string };

export interface EngineJudgement {
  readonly publicAccess: EngineAnswer;
  readonly crossAccountAccess: EngineAnswer;
  readonly rootOutsideAdmins: EngineAnswer;
}

export interface EngineEdit {
  readonly edited: unknown;
  /** The engine's own proof: no widening, every goal met. */
  readonly proved: boolean;
  readonly failure?: string;
}

export interface EngineUnderTest {
  readonly name: string;
  judge(policy: unknown, scope: PolicyScope): EngineJudgement;
  /** The edit that removes public, cross-account and root-outside-admins access; undefined when none is needed. */
  edit(policy: unknown, scope: PolicyScope): EngineEdit | undefined;
  /** Does `after` allow (or stop explicitly denying) a request `before` denies? A witness, or a proof it does not. */
  widening(before: unknown, after: unknown, scope: PolicyScope): EngineAnswer;
  /** The engine's concrete evaluator, for confirming witnesses. */
  decide(
    policy: unknown,
    request: EngineRequest,
    resource: string,
  ): "allowed" | "explicit-deny" | "implicit-deny";
}

const ALL_GOALS = {
  publicAccess: true,
  crossAccountAccess: true,
  rootOutsideAdmins: true,
  enforceTls: false,
  restoreDenies: [],
};

function describe(grant: { principal: RequestPrincipal; action: string }): string {
  const p = grant.principal;
  return `${grant.action} by ${p.kind === "aws" ? p.arn : p.kind === "service" ? p.service : "anonymous"}`;
}

/** The engine as it is on this branch. */
export const currentEngine: EngineUnderTest = {
  name: "policy engine (shared/core/policy)",
  judge(policy, scope) {
    const analysis = analyzePolicy(policyFromJson(policy), scope);
    if (!analysis.complete) {
      const undecided = { kind: "undecided", reason: "too many condition combinations" } as const;
      return { publicAccess: undecided, crossAccountAccess: undecided, rootOutsideAdmins: undecided };
    }
    const problems = problemsOf(analysis);
    const answer = (grants: typeof problems.publicGrants): EngineAnswer => {
      const grant = grants[0];
      if (!grant) return { kind: "proof" };
      return {
        kind: "witness",
        request: { principal: grant.principal, action: grant.action, context: new Map(grant.context) },
        text: describe(grant),
      };
    };
    return {
      publicAccess: answer(problems.publicGrants),
      crossAccountAccess: answer(problems.crossAccountGrants),
      rootOutsideAdmins: answer(problems.rootOutsideAdmins),
    };
  },
  edit(policy, scope) {
    const document = policyFromJson(policy);
    const problems = problemsOf(analyzePolicy(document, scope));
    if (
      problems.publicGrants.length +
        problems.crossAccountGrants.length +
        problems.rootOutsideAdmins.length ===
      0
    )
      return undefined;
    const edit = editPolicy(document, scope, ALL_GOALS);
    const proof = proveEdit(document, edit.policy, scope, ALL_GOALS);
    return {
      edited: edit.policy.raw,
      proved: proof.ok,
      ...(proof.failure === undefined ? {} : { failure: proof.failure }),
    };
  },
  widening(before, after, scope) {
    const proof = proveNoWidening(policyFromJson(before), policyFromJson(after), scope);
    if (proof.ok) return { kind: "proof" };
    const failure = proof.failure ?? "widens";
    if (failure.startsWith("too many")) return { kind: "undecided", reason: failure };
    return { kind: "witness", text: failure };
  },
  decide(policy, request, resource) {
    return evaluatePolicy(policyFromJson(policy), { ...request, resource }).decision;
  },
};

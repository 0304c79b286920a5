/**
 * The policy engine's answers to the oracle's questions: is a client action public, cross-account,
 * or root outside the admins (a witness request, a proof, or "undecided"); an edit and its proof;
 * and whether one policy widens another. Two engines answer: the decision procedure
 * (`findRequest` / `findWidening` of `shared/core/policy/index.ts`, with the file-system questions
 * built from its formulas) and the product's own path (`analyzePolicy`, `editPolicy`, `proveEdit`),
 * which the rules call.
 */
import {
  AnalysisMemo,
  allowedF,
  and,
  anyAllowF,
  clientActions,
  editPolicy,
  evaluatePolicy,
  FILE_SYSTEM_PUBLIC,
  type Frame,
  fileSystemArn,
  findRequest,
  findWidening,
  multivaluedKeysOf,
  narrowToAccounts,
  not,
  type Outcome,
  type PolicyDocument,
  type PolicyScope,
  type PrincipalKind,
  policyFromJson,
  problemsOf,
  proveEdit,
  proveNoWidening,
  type RequestPrincipal,
  rootActionOf,
  type SearchSpace,
  type Witness,
  witnessRequest,
} from "../../shared/core/policy/index.ts";
import { type AccessClass, classF, mentionsOf } from "../../shared/core/policy/questions.ts";

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
  /** The questions the edit answers "no" to (its goals). */
  readonly goals: readonly ("publicAccess" | "crossAccountAccess" | "rootOutsideAdmins")[];
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

/**
 * The parsed policy and the analyses of the last policy the product path judged: the rule judges a
 * policy once for its findings, its edit and the edit's proof (one analysis), so `judge` and `edit`
 * of the same policy share them too.
 */
let lastJudged: { policy: unknown; document: PolicyDocument; memo: AnalysisMemo } | undefined;

function productJudgement(policy: unknown): { document: PolicyDocument; memo: AnalysisMemo } {
  if (lastJudged !== undefined && lastJudged.policy === policy) return lastJudged;
  const judged = { policy, document: policyFromJson(policy), memo: new AnalysisMemo() };
  lastJudged = judged;
  return judged;
}

/** The product's own path: `analyzePolicy`, `editPolicy`, `proveEdit`, `proveNoWidening` (a sampling analysis before the decision procedure took it over). */
export const productEngine: EngineUnderTest = {
  name: "product path (analyzePolicy, editPolicy, proveEdit)",
  judge(policy, scope) {
    const { document, memo } = productJudgement(policy);
    const analysis = memo.analyze(document, scope);
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
    const { document, memo } = productJudgement(policy);
    const problems = problemsOf(memo.analyze(document, scope));
    if (
      problems.publicGrants.length +
        problems.crossAccountGrants.length +
        problems.rootOutsideAdmins.length ===
      0
    )
      return undefined;
    const edit = editPolicy(document, scope, ALL_GOALS, memo);
    const proof = proveEdit(document, edit.policy, scope, ALL_GOALS, memo);
    return {
      edited: edit.policy.raw,
      goals: ["publicAccess", "crossAccountAccess", "rootOutsideAdmins"],
      proved: proof.ok,
      ...(proof.failure === undefined ? {} : { failure: proof.failure }),
    };
  },
  widening(before, after, scope) {
    const proof = proveNoWidening(policyFromJson(before), policyFromJson(after), scope);
    if (proof.ok) return { kind: "proof" };
    const failure = proof.failure ?? "widens";
    // No witness: the question was left undecided (the budget, or policy variables the evaluator
    // could not confirm a request of), which is no answer either way.
    if (proof.witness === undefined) return { kind: "undecided", reason: failure };
    const request = witnessRequest(proof.witness);
    return {
      kind: "witness",
      request: { principal: request.principal, action: request.action, context: request.context },
      text: failure,
    };
  },
  decide(policy, request, resource) {
    return evaluatePolicy(policyFromJson(policy), { ...request, resource }).decision;
  },
};

// ---------------------------------------------------------------------------------------------
// The decision procedure.

const AWS_AND_ANONYMOUS: readonly PrincipalKind[] = ["anonymous", "root", "user", "session", "federated"];
const ALL_KINDS: readonly PrincipalKind[] = [...AWS_AND_ANONYMOUS, "service"];

function spaceOf(
  scope: PolicyScope,
  kinds: readonly PrincipalKind[],
  actions: readonly string[],
): SearchSpace {
  return { partition: scope.partition, kinds, actions, resource: fileSystemArn(scope) };
}

function answerOf(outcome: Outcome): EngineAnswer {
  if (outcome.status === "proved") return { kind: "proof" };
  if (outcome.status === "undecided") return { kind: "undecided", reason: outcome.reason };
  const request = witnessRequest(outcome.witness);
  return {
    kind: "witness",
    request: { principal: request.principal, action: request.action, context: request.context },
    text: describe(request),
  };
}

/** The mentions of each policy the decision procedure is asked about (every question reads them). */
const mentionsByPolicy = new WeakMap<PolicyDocument, ReturnType<typeof mentionsOf>>();

/** Is some request of `cls` allowed (for the root question: by a caller outside the admins)? */
function classQuestion(policy: PolicyDocument, scope: PolicyScope, cls: AccessClass | "root"): Outcome {
  let mentions = mentionsByPolicy.get(policy);
  if (mentions === undefined) {
    mentions = mentionsOf([policy], FILE_SYSTEM_PUBLIC);
    mentionsByPolicy.set(policy, mentions);
  }
  const trust = { owner: scope.ownerAccount, trusted: scope.trustedAccounts };
  const confirm = (witness: Witness) =>
    evaluatePolicy(policy, witnessRequest(witness)).decision === "allowed" ? witness : undefined;
  const options = { confirm, multivalued: multivaluedKeysOf([policy]) };
  if (cls === "root") {
    // "Admin" as the Principal element reads it: a role covers its sessions, an account root the account.
    const admins =
      scope.adminPrincipals.length === 0
        ? undefined
        : policyFromJson({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Principal: { AWS: [...scope.adminPrincipals] }, Action: "*" }],
          });
    return findRequest(
      spaceOf(scope, AWS_AND_ANONYMOUS, [rootActionOf(scope.service)]),
      (frame: Frame) => and([allowedF(policy, frame), admins ? not(anyAllowF(admins, frame)) : true]),
      options,
    );
  }
  return findRequest(
    spaceOf(scope, AWS_AND_ANONYMOUS, clientActions(scope.service)),
    (frame: Frame) => and([allowedF(policy, frame), classF(cls, frame, trust, mentions, FILE_SYSTEM_PUBLIC)]),
    options,
  );
}

/**
 * The decision procedure. Its edit takes one witness at a time: an Allow with an open Principal
 * that grants it is narrowed through its Principal element (`narrowToAccounts`: the owner and the
 * trusted accounts), one that names outsiders is dropped; the result is proved with
 * `findWidening` and the same questions on the edited policy.
 */
export const decisionEngine: EngineUnderTest = {
  name: "decision procedure (findRequest)",
  judge(policy, scope) {
    const document = policyFromJson(policy);
    return {
      publicAccess: answerOf(classQuestion(document, scope, "public")),
      crossAccountAccess: answerOf(classQuestion(document, scope, "cross-account")),
      rootOutsideAdmins: answerOf(classQuestion(document, scope, "root")),
    };
  },
  edit(policy, scope) {
    const before = policyFromJson(policy);
    const accounts = [...(scope.ownerAccount ? [scope.ownerAccount] : []), ...scope.trustedAccounts];
    let current = before;
    let edited = false;
    for (let round = 0; round <= before.statements.length; round++) {
      const found = ["public", "cross-account"]
        .map((cls) => classQuestion(current, scope, cls as AccessClass))
        .find((o) => o.status !== "proved");
      if (!found) break;
      if (found.status === "undecided") throw new Error(`undecided: ${found.reason}`);
      const allowing = evaluatePolicy(current, witnessRequest(found.witness)).allowedBy;
      // An open Principal is narrowed to the owner's and trusted accounts (whom it already let in);
      // a statement that names outsiders is dropped (narrowing it would grant the owner something new).
      const open = allowing
        .filter((st) => st.notPrincipals !== undefined || st.principals?.some((p) => p.value === "*"))
        .map((st) => st.index);
      const named = new Set(allowing.map((st) => st.index).filter((i) => !open.includes(i)));
      const narrowed =
        open.length > 0 ? narrowToAccounts(current, open, accounts, scope.partition) : undefined;
      if (open.length > 0 && !narrowed) throw new Error("no account to narrow to");
      const kept = (narrowed?.policy ?? current).statements.filter((st) => !named.has(st.index));
      if (kept.length === 0) throw new Error("nothing would be left of the policy");
      current = policyFromJson({ ...current.raw, Statement: kept.map((st) => st.raw) });
      edited = true;
    }
    if (!edited) return undefined;
    const widening = findWidening(before, current, spaceOf(scope, ALL_KINDS, clientActions(scope.service)));
    const left = ["public", "cross-account"].map((cls) => classQuestion(current, scope, cls as AccessClass));
    const proved = widening.status === "proved" && left.every((o) => o.status === "proved");
    return {
      edited: current.raw,
      goals: ["publicAccess", "crossAccountAccess"],
      proved,
      ...(proved ? {} : { failure: widening.status === "proved" ? "a goal is not met" : "widens" }),
    };
  },
  widening(before, after, scope) {
    return answerOf(
      findWidening(
        policyFromJson(before),
        policyFromJson(after),
        spaceOf(scope, ALL_KINDS, clientActions(scope.service)),
      ),
    );
  },
  decide(policy, request, resource) {
    return evaluatePolicy(policyFromJson(policy), { ...request, resource }).decision;
  },
};

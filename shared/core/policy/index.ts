/**
 * The file-system policy engine's public API, for rules, the runtime and the CLI. Pure: no AWS, no
 * clock, no environment.
 */
import { analyzePolicy, enforcesTls, problemsOf } from "./analysis.ts";
import { type PolicyDocument, parsePolicy, statementLabel } from "./document.ts";
import { describeWitness } from "./questions.ts";
import type { PolicyScope } from "./scope.ts";

export type { AccessClass, AccessGrant, PolicyAnalysis, PolicyProblems } from "./analysis.ts";
/** Decides, per Allow statement, client action and kind of caller, who the policy lets in, each with a witness request. */
export { AnalysisMemo, analyzePolicy, enforcesTls, isAdminPrincipal, problemsOf } from "./analysis.ts";
/** The deny-baseline template and its placeholder substitution. */
export { builtInDenyBaseline, renderBaseline } from "./baseline.ts";
/**
 * The decision procedure and its three policy kinds. Every answer is a proof, a witness request the
 * evaluator confirms, or "undecided" (an explicit budget ran out): see `solver.ts`.
 */
export type {
  BucketDeny,
  BucketDenyQuery,
  BucketPublicVerdict,
  BucketScope,
  BucketWitness,
} from "./bucket.ts";
export { bucketDenies, judgeBucketPolicy, proveBucketNoWidening } from "./bucket.ts";
export type {
  ConditionClause,
  PolicyDocument,
  PolicyKind,
  PolicyStatement,
  PrincipalEntry,
} from "./document.ts";
/**
 * `parsePolicy(text)`: parses PutFileSystemPolicy text; throws `InvalidInputError` (plain message)
 * when it is malformed or truncated JSON, longer than 20,000 characters, or not an IAM policy.
 */
export { MAX_POLICY_CHARS, parsePolicy, policyFromJson, statementLabel } from "./document.ts";
export type { EditGoals, EditProof, PolicyEdit } from "./edit.ts";
/** Minimal edits and their proof (no widening, goals met, the owner's and trusted accounts' access kept). */
export { editPolicy, NO_EDIT_GOALS, proveEdit, proveKeeps, proveNoWidening } from "./edit.ts";
/** `evaluatePolicy(policy, request)`: allowed, explicitly denied or implicitly denied, with the deciding statements. */
export {
  type Decision,
  evaluatePolicy,
  type PolicyDecision,
  type PolicyRequest,
  principalContext,
  type RequestPrincipal,
} from "./evaluate.ts";
export type { ActionExplanation, GrantExplanation, PolicyExplanation } from "./explain.ts";
/** Who can mount, write and be root, and why. */
export { explainPolicy } from "./explain.ts";
export type { FixedPrincipal, Formula, Frame, PrincipalKind } from "./formula.ts";
export { allowedF, and, anyAllowF, anyDenyF, not, or, PRINCIPAL_KINDS, statementF } from "./formula.ts";
export type {
  IdentityRootQuery,
  IdentityRootVerdict,
  IdentityRootWitness,
  LabelledPolicy,
} from "./identity.ts";
export { fixedPrincipalOf, judgeIdentityRoot, ROOT_ACTIONS } from "./identity.ts";
/** "Does the edited policy still allow what it must keep?": a lockout witness, or a proof there is none. */
export { findLockout, type KeepExceptions } from "./keep.ts";
export type { NarrowedPolicy } from "./narrow.ts";
export { accountPrincipals, narrowToAccounts } from "./narrow.ts";
export { BUCKET_PUBLIC, describeWitness, FILE_SYSTEM_PUBLIC, witnessRequest } from "./questions.ts";
export type { PolicyScope } from "./scope.ts";
export { clientActions, fileSystemArn, ownerAccountOf, rootActionOf } from "./scope.ts";
export type { Outcome, SearchSpace, Witness } from "./solver.ts";
export {
  DEFAULT_BUDGET,
  findRequest,
  JUDGEMENT_BUDGET,
  multivaluedKeysOf,
  withJudgementBudget,
} from "./solver.ts";
export { describeWidening, findWidening } from "./widening.ts";

export interface SafetyVerdict {
  readonly safe: boolean;
  /** One plain sentence per problem, naming the statements. */
  readonly problems: readonly string[];
}

/**
 * The "is this policy safe" check the runtime uses on live state: no public client access, no
 * client access for accounts outside the owner and the trusted accounts, no `ClientRootAccess`
 * outside the admin principals, and (EFS, when `requireTls`) every request without TLS denied.
 * Accepts the policy text or an already parsed document; malformed text throws `InvalidInputError`.
 */
export function isPolicySafe(
  policy: string | PolicyDocument,
  scope: PolicyScope,
  options: { readonly requireTls?: boolean } = {},
): SafetyVerdict {
  if (typeof policy !== "string") return checkSafety(policy, scope, options);
  // Policy text is checked again and again (the deny-baseline on every deleted policy, the same
  // last known good policy): the verdict is pure, so remember it, bounded.
  const key = `${scopeKey(scope)}|${options.requireTls ?? false}\n${policy}`;
  let verdict = safetyByText.get(key);
  if (!verdict) {
    verdict = checkSafety(parsePolicy(policy), scope, options);
    if (safetyByText.size >= SAFETY_MEMO_LIMIT) safetyByText.clear();
    safetyByText.set(key, verdict);
  }
  return verdict;
}

/** Everything a scope holds, as one string (a memo key part; cheaper than JSON for hot paths). */
export function scopeKey(scope: PolicyScope): string {
  return [
    scope.service,
    scope.ownerAccount ?? "",
    scope.partition,
    scope.region ?? "",
    scope.fileSystemId ?? "",
    scope.trustedAccounts.join(","),
    scope.adminPrincipals.join(","),
  ].join("|");
}

const SAFETY_MEMO_LIMIT = 256;
const safetyByText = new Map<string, SafetyVerdict>();

function checkSafety(
  document: PolicyDocument,
  scope: PolicyScope,
  options: { readonly requireTls?: boolean },
): SafetyVerdict {
  const analysis = analyzePolicy(document, scope);
  const problems = problemsOf(analysis);
  const sentences: string[] = [];
  const statementsOf = (grants: typeof problems.publicGrants) =>
    [...new Set(grants.flatMap((g) => g.allowedBy.map(statementLabel)))].join(", ");
  const example = (grants: typeof problems.publicGrants) =>
    grants[0] ? `; for example ${describeWitness(grants[0].witness)}` : "";
  if (problems.publicGrants.length > 0)
    sentences.push(
      `public client access (${statementsOf(problems.publicGrants)}${example(problems.publicGrants)})`,
    );
  if (problems.crossAccountGrants.length > 0)
    sentences.push(
      `client access outside the trusted accounts (${statementsOf(problems.crossAccountGrants)}${example(problems.crossAccountGrants)})`,
    );
  if (problems.rootOutsideAdmins.length > 0)
    sentences.push(
      `root access outside the admin principals (${statementsOf(problems.rootOutsideAdmins)}${example(problems.rootOutsideAdmins)})`,
    );
  if (options.requireTls && scope.service === "efs" && !enforcesTls(document, scope).enforced)
    sentences.push("clients without TLS are not denied");
  for (const reason of analysis.undecided) sentences.push(`too complex to decide (${reason})`);
  return { safe: sentences.length === 0, problems: sentences };
}

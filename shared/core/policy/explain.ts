/**
 * Who a policy lets mount, write and be root, and why: the statements that allow each kind of
 * caller, the conditions under which they do, and the Denies that take access back.
 */
import {
  type AccessClass,
  analyzePolicy,
  describeContext,
  describePrincipal,
  enforcesTls,
  isAdminPrincipal,
  type PolicyAnalysis,
  problemsOf,
} from "./analysis.ts";
import { type PolicyDocument, statementLabel } from "./document.ts";
import { clientActions, type PolicyScope } from "./universe.ts";

export interface GrantExplanation {
  readonly who: string;
  readonly accessClass: AccessClass;
  /** Statements that allow it. */
  readonly allowedBy: readonly string[];
  /** Example contexts under which it is allowed ("always" when no condition key matters). */
  readonly when: readonly string[];
}

export interface ActionExplanation {
  readonly action: string;
  readonly grants: readonly GrantExplanation[];
  /** Deny statements that take this access back from some caller, with the kinds of callers. */
  readonly takenBack: readonly { readonly statement: string; readonly from: readonly AccessClass[] }[];
}

export interface PolicyExplanation {
  readonly scope: PolicyScope;
  readonly actions: readonly ActionExplanation[];
  /** Plain sentences: what is unsafe (empty when the policy is safe). */
  readonly problems: readonly string[];
  /** EFS only: whether clients without TLS are denied. */
  readonly tlsEnforced: boolean | undefined;
  readonly requestsEvaluated: number;
  readonly complete: boolean;
}

const MAX_EXAMPLES = 3;

function explainAction(analysis: PolicyAnalysis, action: string): ActionExplanation {
  const groups = new Map<
    string,
    { who: string; accessClass: AccessClass; allowedBy: Set<string>; when: Set<string> }
  >();
  for (const grant of analysis.grants) {
    if (grant.action !== action) continue;
    const who = describePrincipal(grant.principal);
    const key = `${grant.accessClass}|${who}`;
    const group = groups.get(key) ?? {
      who,
      accessClass: grant.accessClass,
      allowedBy: new Set(),
      when: new Set(),
    };
    for (const statement of grant.allowedBy) group.allowedBy.add(statementLabel(statement));
    if (group.when.size < MAX_EXAMPLES) group.when.add(describeContext(grant.context) || "always");
    groups.set(key, group);
  }
  const order: AccessClass[] = [
    "public",
    "cross-account",
    "organization",
    "restricted",
    "trusted",
    "owner",
    "aws-service",
  ];
  const grants = [...groups.values()]
    .sort((a, b) => order.indexOf(a.accessClass) - order.indexOf(b.accessClass) || a.who.localeCompare(b.who))
    .map((g) => ({ who: g.who, accessClass: g.accessClass, allowedBy: [...g.allowedBy], when: [...g.when] }));
  const takenBack: { statement: string; from: AccessClass[] }[] = [];
  for (const [index, list] of analysis.takenBack) {
    const from = [...new Set(list.filter((t) => t.action === action).map((t) => t.accessClass))];
    const statement = analysis.policy.statements[index];
    if (from.length > 0 && statement) takenBack.push({ statement: statementLabel(statement), from });
  }
  return { action, grants, takenBack };
}

/** Explains a policy for the file system described by `scope`. */
export function explainPolicy(policy: PolicyDocument, scope: PolicyScope): PolicyExplanation {
  const analysis = analyzePolicy(policy, scope);
  const problems = problemsOf(analysis);
  const sentences: string[] = [];
  const summarize = (label: string, grants: typeof problems.publicGrants) => {
    if (grants.length === 0) return;
    const actions = [...new Set(grants.map((g) => g.action))].join(", ");
    const statements = [...new Set(grants.flatMap((g) => g.allowedBy.map(statementLabel)))].join(", ");
    sentences.push(`${label}: ${actions} (${statements})`);
  };
  summarize("public access", problems.publicGrants);
  summarize("access from accounts outside the trusted ones", problems.crossAccountGrants);
  summarize(
    "root access outside the admin principals",
    problems.rootOutsideAdmins.filter((g) => !isAdminPrincipal(g.principal, scope.adminPrincipals)),
  );
  const tlsEnforced = scope.service === "efs" ? enforcesTls(policy, scope).enforced : undefined;
  if (tlsEnforced === false)
    sentences.push("clients without TLS are not denied (no Deny on aws:SecureTransport = false)");
  if (!analysis.complete)
    sentences.push("too many condition combinations: the policy could not be checked completely");
  return {
    scope,
    actions: clientActions(scope.service).map((action) => explainAction(analysis, action)),
    problems: sentences,
    tlsEnforced,
    requestsEvaluated: analysis.requestsEvaluated,
    complete: analysis.complete,
  };
}

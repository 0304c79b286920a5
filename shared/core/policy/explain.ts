/**
 * Who a policy lets mount, write and be root, and why: the statements that allow each kind of
 * caller, the conditions under which they do, and the Denies that take access back.
 */
import {
  type AccessClass,
  analyzePolicy,
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
  /** The condition values every such grant has in common (what the policy requires), or "always". */
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

function explainAction(analysis: PolicyAnalysis, action: string): ActionExplanation {
  interface Group {
    who: string;
    accessClass: AccessClass;
    allowedBy: Set<string>;
    count: number;
    /** Per condition key, the values seen across the group's grants ("" when absent). */
    values: Map<string, Set<string>>;
  }
  const groups = new Map<string, Group>();
  const keysSeen = new Set<string>();
  for (const grant of analysis.grants) {
    if (grant.action !== action) continue;
    for (const key of grant.context.keys()) keysSeen.add(key);
  }
  for (const grant of analysis.grants) {
    if (grant.action !== action) continue;
    const who = describePrincipal(grant.principal);
    const key = `${grant.accessClass}|${who}`;
    const group: Group = groups.get(key) ?? {
      who,
      accessClass: grant.accessClass,
      allowedBy: new Set(),
      count: 0,
      values: new Map(),
    };
    group.count++;
    for (const statement of grant.allowedBy) group.allowedBy.add(statementLabel(statement));
    for (const k of keysSeen) {
      if (k.startsWith("aws:principal")) continue;
      const value = grant.context.get(k);
      const set = group.values.get(k) ?? new Set<string>();
      set.add(value === undefined ? "" : Array.isArray(value) ? value.join(",") : String(value));
      group.values.set(k, set);
    }
    groups.set(key, group);
  }
  // What every grant of a group has in common is what the policy requires of it.
  const requirements = (group: Group): string[] => {
    const out: string[] = [];
    for (const [key, values] of group.values) {
      if (values.size !== 1) continue;
      const [value] = [...values];
      if (value !== undefined && value !== "") out.push(`${key}=${value}`);
    }
    return out.length > 0 ? [out.join(", ")] : ["always"];
  };
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
    .map((g) => ({
      who: g.who,
      accessClass: g.accessClass,
      allowedBy: [...g.allowedBy],
      when: requirements(g),
    }));
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

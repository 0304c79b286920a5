/**
 * Who a policy lets mount, write and be root, and why: per client action and kind of caller, the
 * statements that allow it, the conditions that limit each of them, an example request the
 * evaluator allows, and the Denies that take access back. Every line is decided by the solver.
 */
import { type AccessGrant, analyzePolicy, enforcesTls, problemsOf } from "./analysis.ts";
import type { ConditionClause, PolicyDocument, PolicyStatement } from "./document.ts";
import { statementLabel } from "./document.ts";
import { ACCESS_CLASSES, type AccessClass, describeWitness } from "./questions.ts";
import { clientActions, type PolicyScope } from "./scope.ts";

export interface GrantExplanation {
  /** The kind of caller, with an example. */
  readonly who: string;
  readonly accessClass: AccessClass;
  /** Statements that allow it. */
  readonly allowedBy: readonly string[];
  /** Per allowing statement, the conditions that limit its grant ("always" only for a statement without any). */
  readonly when: readonly string[];
  /** A request the evaluator allows, in words. */
  readonly example: string;
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
  /** Questions left undecided (too complex): each is a problem for a person to look at. */
  readonly undecided: readonly string[];
  readonly complete: boolean;
}

const WHO: Record<AccessClass, string> = {
  public: "anyone outside the trusted accounts",
  "cross-account": "principals of an account the policy names, outside the trusted ones",
  organization: "principals of the organization the policy names",
  restricted: "outsiders held to a fixed source",
  trusted: "principals of a trusted account",
  owner: "principals of the owner's account",
  "aws-service": "an AWS service",
};

function describeClause(clause: ConditionClause): string {
  const values = clause.values.length === 1 ? clause.values[0] : `[${clause.values.join(", ")}]`;
  return `${clause.operator} ${clause.key} ${values}`;
}

/** The limits a statement puts on its grant, in words. */
export function conditionsOf(statement: PolicyStatement): string {
  if (statement.conditions.length === 0) return "always";
  return statement.conditions.map(describeClause).join(" and ");
}

function explainAction(
  grants: readonly AccessGrant[],
  takenBack: ReadonlyMap<number, readonly { action: string; accessClass: AccessClass }[]>,
  policy: PolicyDocument,
  action: string,
): ActionExplanation {
  const out: GrantExplanation[] = [];
  for (const cls of ACCESS_CLASSES) {
    const mine = grants.filter((g) => g.action === action && g.accessClass === cls && !g.outsideAdmins);
    if (mine.length === 0) continue;
    const statements = [...new Map(mine.flatMap((g) => g.allowedBy).map((s) => [s.index, s])).values()];
    const example = describeWitness((mine[0] as AccessGrant).witness);
    out.push({
      who: `${WHO[cls]}, for example ${example}`,
      accessClass: cls,
      allowedBy: statements.map(statementLabel),
      when: statements.map((s) => `${statementLabel(s)}: ${conditionsOf(s)}`),
      example,
    });
  }
  const back: { statement: string; from: AccessClass[] }[] = [];
  for (const [index, list] of takenBack) {
    const from = [...new Set(list.filter((t) => t.action === action).map((t) => t.accessClass))];
    const statement = policy.statements[index];
    if (from.length > 0 && statement) back.push({ statement: statementLabel(statement), from });
  }
  return { action, grants: out, takenBack: back };
}

/** Explains a policy for the file system described by `scope`. */
export function explainPolicy(policy: PolicyDocument, scope: PolicyScope): PolicyExplanation {
  const analysis = analyzePolicy(policy, scope, { classes: ACCESS_CLASSES, takenBack: true });
  const problems = problemsOf(analysis);
  const sentences: string[] = [];
  const summarize = (label: string, grants: readonly AccessGrant[]) => {
    if (grants.length === 0) return;
    const actions = [...new Set(grants.map((g) => g.action))].join(", ");
    const statements = [...new Set(grants.flatMap((g) => g.allowedBy.map(statementLabel)))].join(", ");
    sentences.push(
      `${label}: ${actions} (${statements}); for example: ${describeWitness((grants[0] as AccessGrant).witness)}`,
    );
  };
  summarize("public access", problems.publicGrants);
  summarize("access from accounts outside the trusted ones", problems.crossAccountGrants);
  summarize("root access outside the admin principals", problems.rootOutsideAdmins);
  const tls = scope.service === "efs" ? enforcesTls(policy, scope) : undefined;
  if (tls && !tls.enforced)
    sentences.push(
      `clients without TLS are not denied (no Deny on aws:SecureTransport = false): ${tls.example}`,
    );
  for (const reason of analysis.undecided)
    sentences.push(`too complex to decide, left for a person: ${reason}`);
  return {
    scope,
    actions: clientActions(scope.service).map((action) =>
      explainAction(analysis.grants, analysis.takenBack, policy, action),
    ),
    problems: sentences,
    tlsEnforced: tls?.enforced,
    undecided: analysis.undecided,
    complete: analysis.complete,
  };
}

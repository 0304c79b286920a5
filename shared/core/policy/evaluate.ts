/**
 * Resource-policy evaluation for one request: allowed, explicitly denied, or implicitly denied.
 * As IAM's evaluation logic documents, an applicable Deny wins over any Allow, and a request no
 * statement allows is implicitly denied (for a same-account caller, identity policies may still
 * allow it; for anyone else it is refused).
 */
import { clauseMatches } from "./conditions.ts";
import type { PolicyDocument, PolicyStatement, PrincipalEntry } from "./document.ts";
import { type ContextValues, matchesAction, matchesPattern } from "./match.ts";

/** Who makes a request. NFS clients mounting without IAM are anonymous. */
export type RequestPrincipal =
  | { readonly kind: "anonymous" }
  | {
      readonly kind: "aws";
      /** The caller: a role, a user, an account root, or an assumed-role session. */
      readonly arn: string;
      readonly account: string;
      /** For an assumed-role session: the role, which a resource policy may name instead. */
      readonly roleArn?: string;
    }
  | { readonly kind: "service"; readonly service: string };

export interface PolicyRequest {
  readonly principal: RequestPrincipal;
  /** `service:Action`, e.g. `s3files:ClientMount`. */
  readonly action: string;
  /** The file-system ARN; when unknown, Allow statements apply whatever their Resource. */
  readonly resource: string | undefined;
  readonly context: ContextValues;
}

export type Decision = "allowed" | "explicit-deny" | "implicit-deny";

export interface PolicyDecision {
  readonly decision: Decision;
  /** Allow statements that apply to the request (they decide it unless a Deny applies). */
  readonly allowedBy: readonly PolicyStatement[];
  /** Deny statements that apply to the request. */
  readonly deniedBy: readonly PolicyStatement[];
}

const ACCOUNT_ID = /^\d{12}$/;
const ROOT_ARN = /^arn:[^:]+:iam::(\d{12}):root$/;

function partitionOfArn(arn: string): string {
  return arn.split(":")[1] ?? "aws";
}

function principalEntryMatches(entry: PrincipalEntry, principal: RequestPrincipal): boolean {
  if (entry.type === "AWS") {
    // "*" and {"AWS": "*"} both take in every caller, anonymous ones included.
    if (entry.value === "*") return true;
    if (principal.kind !== "aws") return false;
    const value = entry.value;
    if (ACCOUNT_ID.test(value)) return principal.account === value;
    const root = ROOT_ARN.exec(value);
    if (root) return principal.account === root[1];
    if (value.includes("*") || value.includes("?")) {
      // AWS rejects partial wildcards in principals; if one got through, read it as broadly as it can match.
      const rootArn = `arn:${partitionOfArn(principal.arn)}:iam::${principal.account}:root`;
      return [principal.arn, principal.roleArn, rootArn].some(
        (candidate) => candidate !== undefined && matchesPattern(value, candidate, "like"),
      );
    }
    return value === principal.arn || (principal.roleArn !== undefined && value === principal.roleArn);
  }
  if (entry.type === "Service") return principal.kind === "service" && principal.service === entry.value;
  // Federated and canonical-user principals never make NFS client requests.
  return false;
}

/** The caller is one of the principals these ARNs or account ids name (Principal-element semantics). */
export function principalNamed(values: readonly string[], principal: RequestPrincipal): boolean {
  return values.some((value) => principalEntryMatches({ type: "AWS", value }, principal));
}

export function principalApplies(statement: PolicyStatement, principal: RequestPrincipal): boolean {
  // An identity-policy statement names no principal: it applies to the identity it is attached to.
  if (statement.principals === undefined && statement.notPrincipals === undefined) return true;
  if (statement.principals)
    return statement.principals.some((entry) => principalEntryMatches(entry, principal));
  return !(statement.notPrincipals ?? []).some((entry) => principalEntryMatches(entry, principal));
}

export function actionApplies(statement: PolicyStatement, action: string): boolean {
  if (statement.actions) return statement.actions.some((pattern) => matchesAction(pattern, action));
  return !(statement.notActions ?? []).some((pattern) => matchesAction(pattern, action));
}

export function resourceApplies(
  statement: PolicyStatement,
  resource: string | undefined,
  variables: ContextValues | undefined,
): boolean {
  const { resources, notResources } = statement;
  if (resources === undefined && notResources === undefined) return true;
  if (resource === undefined) {
    // Unknown file system: read Allows broadly and Denies narrowly (the safe direction for both).
    if (statement.effect === "Allow") return true;
    return resources?.includes("*") ?? false;
  }
  if (resources)
    return resources.some(
      (pattern) => pattern === "*" || matchesPattern(pattern, resource, "resource", false, variables),
    );
  return !(notResources ?? []).some(
    (pattern) => pattern === "*" || matchesPattern(pattern, resource, "resource", false, variables),
  );
}

/** True when the statement applies to the request (principal, action, resource and every condition). */
export function statementApplies(
  statement: PolicyStatement,
  request: PolicyRequest,
  variablesEnabled: boolean,
): boolean {
  if (!principalApplies(statement, request.principal)) return false;
  if (!actionApplies(statement, request.action)) return false;
  if (!resourceApplies(statement, request.resource, variablesEnabled ? request.context : undefined))
    return false;
  for (const clause of statement.conditions) {
    if (!clauseMatches(clause, request.context, variablesEnabled)) return false;
  }
  return true;
}

/** Evaluates one request against one resource policy; an applicable Deny always wins. */
export function evaluatePolicy(policy: PolicyDocument, request: PolicyRequest): PolicyDecision {
  // Policy variables exist only in version 2012-10-17; in older policies `${...}` is literal text.
  const variablesEnabled = policy.version === "2012-10-17";
  const allowedBy: PolicyStatement[] = [];
  const deniedBy: PolicyStatement[] = [];
  for (const statement of policy.statements) {
    if (!statementApplies(statement, request, variablesEnabled)) continue;
    (statement.effect === "Deny" ? deniedBy : allowedBy).push(statement);
  }
  const decision: Decision =
    deniedBy.length > 0 ? "explicit-deny" : allowedBy.length > 0 ? "allowed" : "implicit-deny";
  return { decision, allowedBy, deniedBy };
}

/** Just the decision, without collecting statements: the hot path of analysis and proofs. */
export function decide(policy: PolicyDocument, request: PolicyRequest): Decision {
  const variablesEnabled = policy.version === "2012-10-17";
  let allowed = false;
  for (const statement of policy.statements) {
    if (statement.effect === "Allow" && allowed) continue;
    if (!statementApplies(statement, request, variablesEnabled)) continue;
    if (statement.effect === "Deny") return "explicit-deny";
    allowed = true;
  }
  return allowed ? "allowed" : "implicit-deny";
}

/** Orders decisions from most to least permissive, for "grants nothing more" comparisons. */
export function decisionRank(decision: Decision): number {
  return decision === "allowed" ? 2 : decision === "implicit-deny" ? 1 : 0;
}

/** `aws:PrincipalType` of a caller, as IAM sets it. */
export function principalTypeOf(principal: Extract<RequestPrincipal, { kind: "aws" }>): string {
  if (principal.roleArn) return "AssumedRole";
  if (principal.arn.endsWith(":root")) return "Account";
  if (/:user\//.test(principal.arn)) return "User";
  if (/:federated-user\//.test(principal.arn)) return "FederatedUser";
  return "AssumedRole";
}

/**
 * The context keys IAM derives from the caller: `aws:PrincipalArn` (the role for a session),
 * `aws:PrincipalAccount`, `aws:PrincipalType`, and `aws:username` for an IAM user; a service
 * carries `aws:PrincipalServiceName`. Anonymous callers carry none. (`aws:userid` and
 * `aws:PrincipalOrgID` are not derivable from the ARN: pass them in `extra`.)
 */
export function principalContext(
  principal: RequestPrincipal,
  extra: Iterable<[string, string | readonly string[]]> = [],
): Map<string, string | readonly string[]> {
  const context = new Map<string, string | readonly string[]>();
  if (principal.kind === "aws") {
    context.set("aws:principalarn", principal.roleArn ?? principal.arn);
    context.set("aws:principalaccount", principal.account);
    const type = principalTypeOf(principal);
    context.set("aws:principaltype", type);
    if (type === "User") context.set("aws:username", principal.arn.slice(principal.arn.lastIndexOf("/") + 1));
  } else if (principal.kind === "service") {
    context.set("aws:principalservicename", principal.service);
  }
  for (const [key, value] of extra) context.set(key.toLowerCase(), value);
  return context;
}

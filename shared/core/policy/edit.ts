/**
 * Minimal edits of a file-system policy, and the proof that an edit is safe.
 *
 * Only the offending Allow statements change: a wildcard or `NotPrincipal` grant is narrowed with
 * a fixed-value `aws:PrincipalAccount` condition (the owner and the trusted accounts), a named
 * untrusted principal is taken out of its statement, and `ClientRootAccess` is taken out of the
 * actions (a wildcard action is spelt out without it). Every other statement, every Sid and every
 * Deny stays as it was. Should a narrowed statement still grant what it must not, it is removed:
 * removing an Allow can never widen access.
 */
import { InvalidInputError } from "../errors.ts";
import {
  type AccessGrant,
  AnalysisMemo,
  isAdminPrincipal,
  type PolicyAnalysis,
  problemsOf,
} from "./analysis.ts";
import { MAX_POLICY_CHARS, type PolicyDocument, policyFromJson, statementLabel } from "./document.ts";
import { decisionRank, type RequestPrincipal } from "./evaluate.ts";
import type { ContextValues } from "./match.ts";
import { isFixedValue, matchesAction } from "./match.ts";
import { SERVICE_ACTIONS } from "./service-actions.generated.ts";
import {
  buildUniverse,
  clientActions,
  fileSystemArn,
  gatherMentions,
  type PolicyScope,
  prefixOf,
  rootActionOf,
} from "./universe.ts";
import { UniverseWalk } from "./walk.ts";

/** What an edit must fix. */
export interface EditGoals {
  readonly publicAccess: boolean;
  readonly crossAccountAccess: boolean;
  readonly rootOutsideAdmins: boolean;
  /** EFS: add a Deny for requests without TLS. */
  readonly enforceTls: boolean;
  /** Deny statements (raw JSON) to put back, e.g. protective Denies dropped from the last good policy. */
  readonly restoreDenies: readonly Readonly<Record<string, unknown>>[];
}

export const NO_EDIT_GOALS: EditGoals = {
  publicAccess: false,
  crossAccountAccess: false,
  rootOutsideAdmins: false,
  enforceTls: false,
  restoreDenies: [],
};

export interface PolicyEdit {
  readonly policy: PolicyDocument;
  /** The edited document as it will be sent (compact JSON). */
  readonly text: string;
  /** One line per change, naming the statement. */
  readonly changes: readonly string[];
}

export interface EditProof {
  readonly ok: boolean;
  /** Requests (caller, context, client action) compared between the two policies. */
  readonly requestsChecked: number;
  /** Why the proof failed, when it did. */
  readonly failure?: string;
}

type RawStatement = Record<string, unknown>;

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? [...value] : value === undefined ? [] : [value];
}

function single<T>(list: T[]): T | T[] {
  return list.length === 1 ? (list[0] as T) : list;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function findKey(record: Record<string, unknown>, wanted: string): string | undefined {
  const lower = wanted.toLowerCase();
  return Object.keys(record).find((key) => key.toLowerCase() === lower);
}

function allowedAccounts(scope: PolicyScope): string[] {
  return [...new Set([...(scope.ownerAccount ? [scope.ownerAccount] : []), ...scope.trustedAccounts])];
}

function principalIsOpen(raw: RawStatement): boolean {
  if (raw.NotPrincipal !== undefined) return true;
  const principal = raw.Principal;
  if (principal === "*") return true;
  if (!isRecord(principal)) return true;
  return asArray(principal.AWS).some((v) => typeof v === "string" && (v.includes("*") || v.includes("?")));
}

/**
 * Adds (or intersects) `StringEquals aws:PrincipalAccount` with the owner and trusted accounts.
 * Returns false when nothing would remain (the statement must then go).
 */
function limitToAccounts(raw: RawStatement, accounts: readonly string[]): boolean {
  if (accounts.length === 0) return false;
  const condition: Record<string, unknown> = isRecord(raw.Condition) ? { ...raw.Condition } : {};
  let operatorKey = findKey(condition, "StringEquals") ?? "StringEquals";
  const current = isRecord(condition[operatorKey]) ? (condition[operatorKey] as Record<string, unknown>) : {};
  const currentKey = findKey(current, "aws:PrincipalAccount");
  if (
    currentKey !== undefined &&
    asArray(current[currentKey]).some((v) => typeof v !== "string" || !isFixedValue(v))
  ) {
    // The statement already compares the account with a variable: keep that and add the fixed
    // limit under an operator of identical meaning for account ids (digits have no case).
    operatorKey = findKey(condition, "StringEqualsIgnoreCase") ?? "StringEqualsIgnoreCase";
  }
  const block: Record<string, unknown> = isRecord(condition[operatorKey])
    ? { ...(condition[operatorKey] as Record<string, unknown>) }
    : {};
  const key = findKey(block, "aws:PrincipalAccount") ?? "aws:PrincipalAccount";
  const existing = block[key];
  const values =
    existing === undefined
      ? [...accounts]
      : asArray(existing)
          .map(String)
          .filter((v) => accounts.includes(v));
  if (values.length === 0) return false;
  block[key] = single(values);
  condition[operatorKey] = block;
  raw.Condition = condition;
  return true;
}

function accountOfPrincipalValue(value: string): string | undefined {
  if (/^\d{12}$/.test(value)) return value;
  const account = value.split(":")[4];
  return account !== undefined && /^\d{12}$/.test(account) ? account : undefined;
}

/** Removes the named principals of untrusted accounts; false when none is left. */
function dropUntrustedPrincipals(
  raw: RawStatement,
  accounts: readonly string[],
): { kept: boolean; removed: string[] } {
  const principal = raw.Principal;
  if (!isRecord(principal)) return { kept: true, removed: [] };
  const next: Record<string, unknown> = {};
  const removed: string[] = [];
  let remaining = 0;
  for (const [type, values] of Object.entries(principal)) {
    if (type !== "AWS") {
      next[type] = values;
      remaining += asArray(values).length;
      continue;
    }
    const kept = asArray(values).filter((v) => {
      const account = typeof v === "string" ? accountOfPrincipalValue(v) : undefined;
      const ok = account !== undefined && accounts.includes(account);
      if (!ok) removed.push(String(v));
      return ok;
    });
    if (kept.length > 0) next[type] = single(kept);
    remaining += kept.length;
  }
  if (remaining === 0) return { kept: false, removed };
  raw.Principal = next;
  return { kept: true, removed };
}

/** Takes `ClientRootAccess` out of a statement's actions; false when no action is left. */
function dropRootAction(raw: RawStatement, scope: PolicyScope): boolean {
  const root = rootActionOf(scope.service);
  if (raw.NotAction !== undefined) {
    const list = asArray(raw.NotAction).map(String);
    if (!list.some((a) => matchesAction(a, root))) raw.NotAction = single([...list, root]);
    return true;
  }
  const table = SERVICE_ACTIONS[scope.service];
  const serviceActions = table.actions.map((name) => `${table.prefix}:${name}`);
  const next: string[] = [];
  for (const action of asArray(raw.Action).map(String)) {
    if (!matchesAction(action, root)) next.push(action);
    else if (action.toLowerCase() !== root.toLowerCase()) {
      // A wildcard that covers root access: spelt out as the service's other actions.
      for (const candidate of serviceActions)
        if (candidate !== root && matchesAction(action, candidate)) next.push(candidate);
    }
  }
  const unique = [...new Set(next)];
  if (unique.length === 0) return false;
  raw.Action = single(unique);
  return true;
}

function isRootViolation(grant: AccessGrant, scope: PolicyScope): boolean {
  return (
    grant.action === rootActionOf(scope.service) &&
    grant.accessClass !== "aws-service" &&
    !isAdminPrincipal(grant.principal, scope.adminPrincipals)
  );
}

/** The grants an edit with these goals must remove. */
export function violatingGrants(analysis: PolicyAnalysis, goals: EditGoals): AccessGrant[] {
  const problems = problemsOf(analysis);
  return [
    ...(goals.publicAccess ? problems.publicGrants : []),
    ...(goals.crossAccountAccess ? problems.crossAccountGrants : []),
    ...(goals.rootOutsideAdmins ? problems.rootOutsideAdmins : []),
  ];
}

/** The Deny the EFS console adds for "Enforce in-transit encryption for all clients". */
export function tlsDenyStatement(scope: PolicyScope): RawStatement {
  const resource = fileSystemArn(scope);
  return {
    Sid: "DenyInsecureTransport",
    Effect: "Deny",
    Principal: { AWS: "*" },
    Action: "*",
    ...(resource ? { Resource: resource } : {}),
    Condition: { Bool: { "aws:SecureTransport": "false" } },
  };
}

function denyOutsideAccounts(scope: PolicyScope): RawStatement {
  const resource = fileSystemArn(scope);
  return {
    Sid: "DenyClientsOutsideTrustedAccounts",
    Effect: "Deny",
    Principal: { AWS: "*" },
    Action: [...clientActions(scope.service)],
    ...(resource ? { Resource: resource } : {}),
    Condition: { StringNotEquals: { "aws:PrincipalAccount": single(allowedAccounts(scope)) } },
  };
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The smallest edit of `policy` that meets `goals`; `memo` shares the policy's analysis with the
 * rest of a judgement. Throws `InvalidInputError` when the result
 * would exceed the size AWS accepts.
 */
export function editPolicy(
  policy: PolicyDocument,
  scope: PolicyScope,
  goals: EditGoals,
  memo: AnalysisMemo = new AnalysisMemo(),
): PolicyEdit {
  const analysis = memo.analyze(policy, scope);
  const grants = violatingGrants(analysis, goals);
  const outside = new Set<number>();
  const root = new Set<number>();
  for (const grant of grants) {
    for (const statement of grant.allowedBy) {
      if (isRootViolation(grant, scope) && goals.rootOutsideAdmins) root.add(statement.index);
      if (
        (goals.publicAccess && grant.accessClass === "public") ||
        (goals.crossAccountAccess && grant.accessClass === "cross-account")
      ) {
        outside.add(statement.index);
      }
    }
  }
  const changes: string[] = [];
  const accounts = allowedAccounts(scope);
  let statements: (RawStatement | undefined)[] = policy.statements.map(
    (s) => structuredClone(s.raw) as RawStatement,
  );
  const labels = policy.statements.map(statementLabel);
  policy.statements.forEach((statement, i) => {
    const raw = statements[i];
    if (!raw) return;
    const label = labels[i] as string;
    if (outside.has(statement.index)) {
      if (principalIsOpen(raw)) {
        if (limitToAccounts(raw, accounts))
          changes.push(`${label}: limited to aws:PrincipalAccount ${accounts.join(", ")}`);
        else {
          statements[i] = undefined;
          changes.push(`${label}: removed (no trusted account left to grant)`);
          return;
        }
      } else {
        const { kept, removed } = dropUntrustedPrincipals(raw, accounts);
        if (!kept) {
          statements[i] = undefined;
          changes.push(`${label}: removed (every principal it names is outside the trusted accounts)`);
          return;
        }
        if (removed.length > 0) changes.push(`${label}: principal(s) ${removed.join(", ")} removed`);
        else if (limitToAccounts(raw, accounts))
          changes.push(`${label}: limited to aws:PrincipalAccount ${accounts.join(", ")}`);
      }
    }
    if (root.has(statement.index)) {
      if (dropRootAction(raw, scope))
        changes.push(`${label}: ${rootActionOf(scope.service)} removed from its actions`);
      else {
        statements[i] = undefined;
        changes.push(`${label}: removed (it granted only root access)`);
      }
    }
  });
  const added: RawStatement[] = [];
  for (const deny of goals.restoreDenies) {
    if (!statements.some((s) => s !== undefined && sameJson(s, deny))) {
      added.push(structuredClone(deny) as RawStatement);
      changes.push(`protective Deny ${typeof deny.Sid === "string" ? `"${deny.Sid}" ` : ""}restored`);
    }
  }
  if (goals.enforceTls) {
    added.push(tlsDenyStatement(scope));
    changes.push(`statement "DenyInsecureTransport" added: clients without TLS are denied`);
  }

  const build = (list: (RawStatement | undefined)[]): PolicyDocument => {
    const kept = [...list.filter((s): s is RawStatement => s !== undefined), ...added];
    if (kept.length === 0) {
      kept.push(denyOutsideAccounts(scope));
      const note = `statement "DenyClientsOutsideTrustedAccounts" added: a policy needs at least one statement`;
      if (!changes.includes(note)) changes.push(note);
    }
    const raw: Record<string, unknown> = { ...policy.raw, Statement: kept };
    return policyFromJson(raw);
  };

  let edited = build(statements);
  // A narrowed statement that still grants what it must not (a Deny interplay, NotAction) goes.
  for (let round = 0; round < policy.statements.length; round++) {
    const left = violatingGrants(memo.analyze(edited, scope), goals);
    if (left.length === 0) break;
    const offending = new Set(left.flatMap((g) => g.allowedBy.map((s) => s.index)));
    const survivors = statements.filter((s): s is RawStatement => s !== undefined);
    let removedAny = false;
    statements = survivors.map((s, i) => {
      if (offending.has(i) && s.Effect === "Allow") {
        changes.push(
          `${typeof s.Sid === "string" ? `statement "${s.Sid}"` : `statement #${i + 1}`}: removed (narrowing was not enough)`,
        );
        removedAny = true;
        return undefined;
      }
      return s;
    });
    if (!removedAny) break;
    edited = build(statements);
  }
  const text = JSON.stringify(edited.raw);
  if (text.length > MAX_POLICY_CHARS) {
    throw new InvalidInputError(
      `the edited policy would be ${text.length} characters, over the ${MAX_POLICY_CHARS} AWS accepts`,
    );
  }
  return { policy: edited, text, changes };
}

function describeRequest(principal: RequestPrincipal, action: string, context: ContextValues): string {
  const who =
    principal.kind === "aws" ? principal.arn : principal.kind === "service" ? principal.service : "anonymous";
  const keys = [...context]
    .filter(([k]) => !k.startsWith("aws:principal"))
    .map(([k, v]) => `${k}=${String(v)}`);
  return `${action} by ${who}${keys.length > 0 ? ` with ${keys.join(", ")}` : ""}`;
}

/**
 * Proves that `after` grants nothing `before` does not: for every client action and every
 * representative caller and context of either policy, `after` is no more permissive (allowed >
 * implicitly denied > explicitly denied; an explicit Deny must stay one, since without it an
 * identity policy could allow the request).
 */
export function proveNoWidening(
  before: PolicyDocument,
  after: PolicyDocument,
  scope: PolicyScope,
): EditProof {
  const universe = buildUniverse([before, after], scope, gatherMentions([before, after]));
  if (!universe.complete)
    return { ok: false, requestsChecked: 0, failure: "too many condition combinations to check" };
  const actions = clientActions(scope.service);
  const walk = new UniverseWalk(universe, [before, after], fileSystemArn(scope), actions);
  let checked = 0;
  let failure: string | undefined;
  walk.run(() => {
    for (let i = 0; i < actions.length; i++) {
      checked++;
      const a = walk.decision(0, i);
      // Nothing is more permissive than allowed: no need to look at the edited policy.
      if (a === "allowed") continue;
      const b = walk.decision(1, i);
      if (decisionRank(b) > decisionRank(a)) {
        failure = `${describeRequest(walk.principal, actions[i] as string, walk.context())} would be ${b} instead of ${a}`;
        return false;
      }
    }
    return undefined;
  });
  if (failure !== undefined) return { ok: false, requestsChecked: checked, failure };
  return { ok: true, requestsChecked: checked };
}

/**
 * Proves an edit: no widening, and the edited policy meets every goal. `memo` is the judgement's,
 * when the edit was made with it (the edited policy's analysis is then already there).
 */
export function proveEdit(
  before: PolicyDocument,
  after: PolicyDocument,
  scope: PolicyScope,
  goals: EditGoals,
  memo: AnalysisMemo = new AnalysisMemo(),
): EditProof {
  const widening = proveNoWidening(before, after, scope);
  if (!widening.ok) return widening;
  const analysis = memo.analyze(after, scope);
  if (!analysis.complete)
    return {
      ok: false,
      requestsChecked: widening.requestsChecked,
      failure: "the edited policy is too complex to check",
    };
  const left = violatingGrants(analysis, goals);
  if (left.length > 0) {
    const g = left[0] as AccessGrant;
    return {
      ok: false,
      requestsChecked: widening.requestsChecked,
      failure: `the edited policy still allows ${describeRequest(g.principal, g.action, g.context)}`,
    };
  }
  if (goals.enforceTls && scope.service === "efs") {
    const mount = `${prefixOf(scope.service)}:ClientMount`;
    const walk = new UniverseWalk(
      buildUniverse([after], scope),
      [after],
      fileSystemArn(scope),
      [mount],
      new Map([["aws:securetransport", "false"]]),
    );
    let denied = true;
    walk.run(() => {
      denied = walk.decision(0, 0) === "explicit-deny";
      return denied ? undefined : false;
    });
    if (!denied) {
      return {
        ok: false,
        requestsChecked: widening.requestsChecked,
        failure: "the edited policy does not deny clients without TLS",
      };
    }
  }
  return widening;
}

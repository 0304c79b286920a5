/**
 * Minimal edits of a file-system policy, and the proof that an edit is safe.
 *
 * Only the offending Allow statements change, and only through elements AWS evaluates for every
 * client request: a wildcard or `NotPrincipal` grant has its Principal narrowed to the owner's and
 * the trusted accounts' principals (a condition key such as `aws:PrincipalAccount` is not on the
 * EFS guide's list of keys enforced for NFS clients), a named untrusted principal is taken out of
 * its statement, and `ClientRootAccess` is taken out of the actions (a wildcard action is spelt
 * out without it; the admin principals it let in keep root through a statement of their own).
 * Every other statement, every Sid and every Deny stays as it was. Should a
 * narrowed statement still grant what it must not, it is removed: removing an Allow can never
 * widen access. No edit is made for outside access without a known owner account.
 *
 * The proof is the solver's, over every request (`widening.ts`, `keep.ts`): the edited policy
 * allows nothing the current one does not, keeps every explicit Deny, meets its goals, and still
 * allows every request of the owner's and trusted accounts' principals that the goals do not take
 * away on purpose.
 */
import { InvalidInputError } from "../errors.ts";
import {
  type AccessGrant,
  AnalysisMemo,
  enforcesTls,
  fileSystemDomain,
  fileSystemSpace,
  type PolicyAnalysis,
  problemsOf,
} from "./analysis.ts";
import {
  MAX_POLICY_CHARS,
  type PolicyDocument,
  type PolicyStatement,
  policyFromJson,
  sameJson,
  statementLabel,
} from "./document.ts";
import { principalApplies, type RequestPrincipal } from "./evaluate.ts";
import { accountNamedBy, wholeAccountOf } from "./formula.ts";
import { findLockout } from "./keep.ts";
import { matchesAction, matchesPattern } from "./match.ts";
import { accountPrincipals } from "./narrow.ts";
import { describeWitness } from "./questions.ts";
import { fileSystemArn, ownerAccountOf, type PolicyScope, rootActionOf } from "./scope.ts";
import { SERVICE_ACTIONS } from "./service-actions.generated.ts";
import type { Witness } from "./solver.ts";
import { describeWidening, findWidening } from "./widening.ts";

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
  /** Why the proof failed, when it did. */
  readonly failure?: string;
  /** The request the edited policy would treat more permissively, when there is one. */
  readonly witness?: Witness;
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

function allowedAccounts(owner: string | undefined, scope: PolicyScope): string[] {
  return [...new Set([...(owner ? [owner] : []), ...scope.trustedAccounts])];
}

function principalIsOpen(raw: RawStatement): boolean {
  if (raw.NotPrincipal !== undefined) return true;
  const principal = raw.Principal;
  if (principal === "*") return true;
  if (!isRecord(principal)) return true;
  return asArray(principal.AWS).some((v) => typeof v === "string" && (v.includes("*") || v.includes("?")));
}

/**
 * Narrows an open Principal to the owner's and trusted accounts: `*` becomes their principals (each
 * account's root ARN), a wildcard account in an ARN becomes each of those accounts, and
 * `NotPrincipal` becomes the principals of those it does not exclude as a whole account. Returns
 * the accounts it narrowed to; undefined when nothing narrower says the same (a `NotPrincipal`
 * excluding one principal of such an account), and the statement goes. The statement's conditions
 * stay, so it grants a subset of what it did; the proof checks it.
 */
function narrowPrincipal(
  raw: RawStatement,
  accounts: readonly string[],
  partition: string,
): readonly string[] | undefined {
  if (raw.NotPrincipal !== undefined) {
    const excluded = isRecord(raw.NotPrincipal) ? asArray(raw.NotPrincipal.AWS) : ["*"];
    const kept = new Set(accounts);
    for (const value of excluded) {
      const account = typeof value === "string" ? accountNamedBy(value) : undefined;
      if (account === undefined) return undefined;
      if (!kept.has(account)) continue;
      // A whole account excluded leaves the others; one principal of an allowed account cannot be
      // excepted by a Principal element.
      if (wholeAccountOf(value as string) === undefined) return undefined;
      kept.delete(account);
    }
    if (kept.size === 0) return undefined;
    delete raw.NotPrincipal;
    raw.Principal = accountPrincipals([...kept], partition);
    return [...kept];
  }
  const principal = raw.Principal;
  if (principal === "*" || !isRecord(principal)) {
    raw.Principal = accountPrincipals(accounts, partition);
    return accounts;
  }
  const narrowed: string[] = [];
  for (const value of asArray(principal.AWS).map(String)) {
    if (value === "*") narrowed.push(...asArray(accountPrincipals(accounts, partition).AWS).map(String));
    else if (value.includes("*") || value.includes("?")) {
      const parts = value.split(":");
      const accountPart = parts[4] ?? "";
      for (const account of accounts) {
        if (parts.length < 6 || !matchesPattern(accountPart, account, "like")) continue;
        narrowed.push([...parts.slice(0, 4), account, ...parts.slice(5)].join(":"));
      }
    } else narrowed.push(value);
  }
  const next: Record<string, unknown> = { ...principal };
  delete next.AWS;
  if (narrowed.length > 0) next.AWS = single([...new Set(narrowed)]);
  if (Object.keys(next).length === 0) return undefined;
  raw.Principal = next;
  return accounts;
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
      const account = typeof v === "string" ? accountNamedBy(v) : undefined;
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

/**
 * Root access the edit must not take: when `ClientRootAccess` leaves a statement, the admin
 * principals of the owner's and trusted accounts that the statement's Principal element let in (and
 * the principals it names in an account whose root is an admin) keep it through a statement of
 * their own, with the same Resource and conditions (a subset of what the statement granted; the
 * proof checks it). Undefined when the statement let no such admin in.
 */
function adminRootStatement(
  statement: PolicyStatement,
  raw: RawStatement,
  scope: PolicyScope,
  accounts: readonly string[],
): { statement: RawStatement; admins: string[] } | undefined {
  const letIn = scope.adminPrincipals.filter((arn) => {
    const principal = adminAsCaller(arn);
    return (
      principal !== undefined &&
      accounts.includes(principal.account) &&
      principalApplies(statement, principal)
    );
  });
  // An admin account root covers every principal of its account (`isAdminPrincipal`): the ones the
  // statement names keep root as well.
  const adminAccounts = scope.adminPrincipals.flatMap((arn) => {
    const account = wholeAccountOf(arn);
    return account === undefined ? [] : [account];
  });
  const covered = (statement.principals ?? [])
    .filter((e) => e.type === "AWS" && !e.value.includes("*") && !e.value.includes("?"))
    .map((e) => e.value)
    .filter((value) => {
      const account = accountNamedBy(value);
      return account !== undefined && accounts.includes(account) && adminAccounts.includes(account);
    });
  const admins = [...new Set([...letIn, ...covered])];
  if (admins.length === 0) return undefined;
  const { Sid, Principal, NotPrincipal, Action, NotAction, ...rest } = raw;
  return {
    statement: {
      ...(typeof Sid === "string" && /^[A-Za-z0-9]+$/.test(Sid) ? { Sid: `${Sid}AdminRoot` } : {}),
      ...rest,
      Effect: "Allow",
      Principal: { AWS: single(admins) },
      Action: rootActionOf(scope.service),
    },
    admins,
  };
}

/** An admin principal ARN as the caller it stands for (a role: one of its sessions). */
function adminAsCaller(arn: string): Extract<RequestPrincipal, { kind: "aws" }> | undefined {
  const parts = arn.split(":");
  const account = parts[4];
  const resource = parts[5] ?? "";
  if (account === undefined || !/^\d{12}$/.test(account)) return undefined;
  const role = /^role\/(?:.*\/)?([^/]+)$/.exec(resource);
  if (role)
    return {
      kind: "aws",
      arn: `arn:${parts[1]}:sts::${account}:assumed-role/${role[1]}/admin-session`,
      account,
      roleArn: arn,
    };
  return { kind: "aws", arn, account };
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
  const owner = ownerAccountOf(policy, scope);
  for (const grant of grants) {
    for (const statement of grant.allowedBy) {
      if (grant.outsideAdmins && goals.rootOutsideAdmins) root.add(statement.index);
      if (
        (goals.publicAccess && grant.accessClass === "public") ||
        (goals.crossAccountAccess && grant.accessClass === "cross-account")
      ) {
        outside.add(statement.index);
      }
    }
  }
  if (outside.size > 0 && owner === undefined)
    throw new InvalidInputError(
      "the owner account is unknown (not in the change, nor in the policy's Resource): no edit without it",
    );
  const changes: string[] = [];
  const adminRoot: RawStatement[] = [];
  const accounts = allowedAccounts(owner, scope);
  // Unchanged statements stay the current policy's own JSON objects (their formulas are already
  // built); a statement the edit changes is copied first.
  let statements: (RawStatement | undefined)[] = policy.statements.map((s) => s.raw as RawStatement);
  const labels = policy.statements.map(statementLabel);
  policy.statements.forEach((statement, i) => {
    if (!outside.has(statement.index) && !root.has(statement.index)) return;
    const raw = structuredClone(statement.raw) as RawStatement;
    statements[i] = raw;
    const label = labels[i] as string;
    if (outside.has(statement.index)) {
      if (principalIsOpen(raw)) {
        const narrowed = narrowPrincipal(raw, accounts, scope.partition);
        if (narrowed === undefined) {
          statements[i] = undefined;
          changes.push(`${label}: removed (its principals cannot be narrowed to the trusted accounts)`);
          return;
        }
        changes.push(`${label}: Principal narrowed to the principals of account(s) ${narrowed.join(", ")}`);
        const { removed } = dropUntrustedPrincipals(raw, accounts);
        if (removed.length > 0) changes.push(`${label}: principal(s) ${removed.join(", ")} removed`);
      } else {
        const { kept, removed } = dropUntrustedPrincipals(raw, accounts);
        if (!kept) {
          statements[i] = undefined;
          changes.push(`${label}: removed (every principal it names is outside the trusted accounts)`);
          return;
        }
        if (removed.length > 0) changes.push(`${label}: principal(s) ${removed.join(", ")} removed`);
      }
    }
    if (root.has(statement.index)) {
      const kept = adminRootStatement(statement, raw, scope, accounts);
      if (dropRootAction(raw, scope))
        changes.push(`${label}: ${rootActionOf(scope.service)} removed from its actions`);
      else {
        statements[i] = undefined;
        changes.push(`${label}: removed (it granted only root access)`);
      }
      if (kept && !adminRoot.some((s) => sameJson(s, kept.statement))) {
        adminRoot.push(kept.statement);
        changes.push(
          `${label}: ${rootActionOf(scope.service)} kept for the admin principal(s) ${kept.admins.join(", ")} in a statement of their own`,
        );
      }
    }
  });
  const added: RawStatement[] = [...adminRoot];
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
      // A policy needs a statement; a Deny of clients without TLS grants nothing and relies only
      // on aws:SecureTransport, a key enforced for NFS clients (S3 Files always uses TLS).
      kept.push(tlsDenyStatement(scope));
      const note = `statement "DenyInsecureTransport" added: a policy needs at least one statement`;
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

/**
 * Proves that `after` grants nothing `before` does not, over every request: every kind of caller
 * (anonymous, root, user, role session, federated user, service), every client action and every
 * context. Decisions are ranked allowed > implicitly denied > explicitly denied; an explicit Deny
 * must stay one, since without it an identity policy could allow the request.
 */
export function proveNoWidening(
  before: PolicyDocument,
  after: PolicyDocument,
  scope: PolicyScope,
): EditProof {
  const outcome = findWidening(before, after, fileSystemSpace(scope), fileSystemDomain(scope));
  if (outcome.status === "proved") return { ok: true };
  if (outcome.status === "undecided") return { ok: false, failure: outcome.reason };
  return { ok: false, failure: describeWidening(before, after, outcome.witness), witness: outcome.witness };
}

/**
 * Proves that `after` locks no insider out: every request of a principal of the owner's or a
 * trusted account that `before` allows stays allowed, except what `goals` take away on purpose
 * (`keep.ts`). Undecided is no proof.
 */
export function proveKeeps(
  before: PolicyDocument,
  after: PolicyDocument,
  scope: PolicyScope,
  goals: EditGoals,
): EditProof {
  const outcome = findLockout(before, after, scope, goals);
  if (outcome.status === "proved") return { ok: true };
  if (outcome.status === "undecided")
    return { ok: false, failure: `whether the edited policy keeps the insiders' access: ${outcome.reason}` };
  const w = outcome.witness;
  return {
    ok: false,
    failure: `the edited policy would no longer allow ${w.action} by ${describeWitness(w)}`,
    witness: w,
  };
}

/**
 * Proves an edit: no widening, the edited policy meets every goal (no grant left of the kinds it
 * removes, every question decided, and for TLS every client request without TLS denied), and it
 * keeps what the owner's and trusted accounts were allowed (`proveKeeps`).
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
      failure: `the edited policy is too complex to decide (${analysis.undecided.join("; ")})`,
    };
  const left = violatingGrants(analysis, goals);
  if (left.length > 0) {
    const g = left[0] as AccessGrant;
    return {
      ok: false,
      failure: `the edited policy still allows ${g.action} by ${describeWitness(g.witness)}`,
      witness: g.witness,
    };
  }
  if (goals.enforceTls && scope.service === "efs" && !enforcesTls(after, scope).enforced)
    return { ok: false, failure: "the edited policy does not deny clients without TLS" };
  return proveKeeps(before, after, scope, goals);
}

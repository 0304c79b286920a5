/**
 * Requests a file-system policy plainly grants, tried before a search: most questions about a
 * policy a person writes are answered by an obvious request (the partner account its Principal
 * names, an anonymous client from the VPC its condition names), and checking one with the evaluator
 * costs far less than a search. A request tried here is a witness only when the evaluator allows it,
 * the statement asked about applies to it and its caller is of the class asked; it never carries a
 * key its caller or service does not (`concreteRequest`). Anything else is left to the search, so
 * answers do not change, only how soon they come: "safe" is still always the search's proof.
 */
import type { ConditionClause, PolicyDocument, PolicyStatement } from "./document.ts";
import { actionApplies, evaluatePolicy, statementApplies } from "./evaluate.ts";
import {
  DERIVED_KEYS,
  type FrameTable,
  frameTable,
  identityOnlyKey,
  type Sym,
  variablesOf,
  wholeAccountOf,
} from "./formula.ts";
import { compileGlob, shortestInstance } from "./glob.ts";
import { type Mentions, witnessRequest } from "./questions.ts";
import { clientActions, fileSystemArn, type PolicyScope } from "./scope.ts";
import { alwaysPresentKey, concreteRequest, type Witness } from "./solver.ts";

/** Condition values in a policy, at most, for plain requests to be tried. */
const PLAIN_VALUES = 64;
/** Plain requests a statement applies to but the policy refuses, per policy, before they are no longer tried. */
const PLAIN_MISSES = 4;
/** Named accounts whose root users, and `aws:PrincipalArn` values whose callers, an open statement's plain requests include, at most (each). */
const PLAIN_ACCOUNTS = 4;
/** Plain requests per statement, at most: each costs an evaluation of the policy per question. */
const PLAIN_CALLERS = 8;

/** A statement whose principals are not all fixed: `NotPrincipal`, `*`, or a wildcard ARN. */
export function isOpen(statement: PolicyStatement): boolean {
  if (statement.principals === undefined) return true;
  return statement.principals.some(
    (e) => e.type === "AWS" && (e.value.includes("*") || e.value.includes("?")),
  );
}

export interface PlainAnswers {
  /** A request that answers the question about `statement` and `action` (`fits`: of the class asked), if one is plain. */
  answer(statement: PolicyStatement, action: string, fits: (w: Witness) => boolean): Witness | undefined;
  /** A witness the search found for `statement`: tried first for its other questions. */
  remember(statement: PolicyStatement, witness: Witness): void;
}

/**
 * The plain answers of one policy's analysis. None for a policy on a key every request carries
 * (the current time: a request built without it is not one AWS makes) or with more than a few dozen
 * condition values (the evaluator's first look, compiling every pattern, would cost more than the
 * search it saves); and none once a few plain requests have been refused (Denies everywhere).
 */
export function plainAnswers(
  policy: PolicyDocument,
  scope: PolicyScope,
  mentions: Mentions,
  multivalued: ReadonlySet<string>,
): PlainAnswers {
  const variables = variablesOf(policy);
  const conditions = policy.statements.flatMap((s) => s.conditions);
  const denies = policy.statements.filter((s) => s.effect === "Deny");
  const none =
    conditions.some((c) => alwaysPresentKey(c.keyLower) && c.keyLower !== "aws:securetransport") ||
    conditions.reduce((n, c) => n + c.values.length, 0) > PLAIN_VALUES;
  const resource = fileSystemArn(scope);
  const frames = resource === undefined ? undefined : frameTable(scope.partition, resource);
  const found = new Map<PolicyStatement, Witness[]>();
  // By statement and the Denies that apply to the action asked: only those need escaping (a value
  // escaping a Deny of another action, such as an address of its range, can make the caller
  // "restricted" for nothing).
  const plain = new Map<string, PlainRequests>();
  let misses = 0;
  const plainFor = (statement: PolicyStatement, action: string): PlainRequests | undefined => {
    if (none || frames === undefined || misses >= PLAIN_MISSES) return undefined;
    const applying = denies.filter((deny) => actionApplies(deny, action));
    const key = `${statement.index}:${applying.map((deny) => deny.index).join(",")}`;
    let requests = plain.get(key);
    if (requests === undefined) {
      requests = plainRequests(statement, applying, scope, mentions, multivalued, frames);
      plain.set(key, requests);
    }
    return requests;
  };
  // `candidate` for `action`, when it answers the question: its caller is of the class asked, the
  // statement applies to it and the policy allows it (a refusal counts as a miss).
  const tryOne = (
    statement: PolicyStatement,
    candidate: Witness,
    action: string,
    fits: (w: Witness) => boolean,
  ) => {
    const w = candidate.action === action ? candidate : { ...candidate, action };
    if (!fits(w)) return undefined;
    const request = witnessRequest(w);
    if (!statementApplies(statement, request, variables)) return undefined;
    if (evaluatePolicy(policy, request).decision === "allowed") return w;
    misses++;
    return undefined;
  };
  return {
    answer(statement, action, fits) {
      for (const candidate of found.get(statement) ?? []) {
        const w = tryOne(statement, candidate, action, fits);
        if (w !== undefined) return w;
      }
      const requests = plainFor(statement, action);
      for (let i = 0; requests !== undefined && i < requests.count; i++) {
        const candidate = requests.at(i);
        const w = candidate === undefined ? undefined : tryOne(statement, candidate, action, fits);
        if (w !== undefined) return w;
      }
      return undefined;
    },
    remember(statement, witness) {
      // A key of several values is classified by formulas only (`classifyWitness` reads single values).
      if ([...witness.context.values()].some((value) => Array.isArray(value))) return;
      const list = found.get(statement) ?? [];
      list.push(witness);
      found.set(statement, list);
    },
  };
}

/** A statement's plain requests, each built on first use (the first that fits usually ends the question). */
interface PlainRequests {
  readonly count: number;
  at(index: number): Witness | undefined;
}

/**
 * Requests `statement` plainly grants: the callers its Principal element names (an account's root
 * user, a session of a role named without a path), or for an open statement an anonymous caller,
 * the callers its `aws:PrincipalArn` condition names, and the root user of each account the policy
 * names and of one it does not; with the values of `plainContext`.
 */
function plainRequests(
  statement: PolicyStatement,
  denies: readonly PolicyStatement[],
  scope: PolicyScope,
  mentions: Mentions,
  multivalued: ReadonlySet<string>,
  frames: FrameTable,
): PlainRequests {
  const callers: Caller[] = [];
  if (isOpen(statement)) {
    callers.push({ kind: "anonymous", parts: {} });
    // The callers its own aws:PrincipalArn condition names (a role pattern's shortest instance).
    for (const clause of statement.conditions)
      if (
        clause.keyLower === "aws:principalarn" &&
        NAMES_CALLERS.has(clause.base) &&
        !clause.ifExists &&
        !clause.set
      )
        for (const value of clause.values.slice(0, PLAIN_ACCOUNTS)) callers.push(...callerNamedBy(value));
    const named = mentions.namedAccounts.slice(0, PLAIN_ACCOUNTS);
    for (const account of [...named, unnamedAccount(scope, mentions)])
      callers.push({ kind: "root", parts: { A: account } });
  } else {
    for (const entry of statement.principals ?? [])
      if (entry.type === "AWS") callers.push(...callerNamedBy(entry.value));
  }
  const chosen = callers.slice(0, PLAIN_CALLERS);
  const action = clientActions(scope.service)[0] as string;
  let context: [string, string][] | undefined;
  const built: (Witness | null)[] = [];
  return {
    count: chosen.length,
    at(index) {
      let request = built[index];
      if (request === undefined) {
        const caller = chosen[index] as (typeof chosen)[number];
        context ??= plainContext(statement, denies, multivalued);
        request = concreteRequest(frames, caller.kind, action, caller.parts, context) ?? null;
        built[index] = request;
      }
      return request ?? undefined;
    },
  };
}

interface Caller {
  readonly kind: Witness["kind"];
  readonly parts: Partial<Record<Sym, string>>;
}

/** Operators of `aws:PrincipalArn` whose values name the callers they admit. */
export const NAMES_CALLERS = new Set(["StringEquals", "StringLike", "ArnEquals", "ArnLike"]);

/**
 * The caller a Principal value or an `aws:PrincipalArn` value names, if it names one plainly: an
 * account (its root user), or a role (a session of it; wildcards in the role's name read as its
 * shortest instance, which the evaluator then checks like every other value).
 */
function callerNamedBy(value: string): Caller[] {
  const account = wholeAccountOf(value);
  if (account !== undefined) return [{ kind: "root", parts: { A: account } }];
  const role = /^arn:[^:*?]+:iam::(\d{12}):role\/([^/]+)$/.exec(value);
  if (!role) return [];
  const name = shortestInstance(compileGlob(role[2] as string, "like"));
  return name === "" ? [] : [{ kind: "session", parts: { A: role[1], N: name, U: "x", S: "x" } }];
}

/**
 * Operators whose first value names a value that satisfies them (or, for a negated one, a value
 * that escapes it), each with how that value is read off it.
 */
const PLAIN_READINGS: ReadonlyMap<string, "text" | "pattern" | "range"> = new Map([
  ["StringEquals", "text"],
  ["StringEqualsIgnoreCase", "text"],
  ["StringLike", "pattern"],
  ["ArnEquals", "text"],
  ["ArnLike", "pattern"],
  ["IpAddress", "range"],
  ["NumericEquals", "text"],
  ["DateEquals", "text"],
  ["Bool", "text"],
  ["StringNotEquals", "text"],
  ["StringNotEqualsIgnoreCase", "text"],
  ["StringNotLike", "pattern"],
  ["ArnNotEquals", "text"],
  ["ArnNotLike", "pattern"],
  ["NotIpAddress", "range"],
  ["NumericNotEquals", "text"],
  ["DateNotEquals", "text"],
]);
const NEGATED = new Set([
  "StringNotEquals",
  "StringNotEqualsIgnoreCase",
  "StringNotLike",
  "ArnNotEquals",
  "ArnNotLike",
  "NotIpAddress",
  "NumericNotEquals",
  "DateNotEquals",
]);

/**
 * A value for each plain positive condition of the statement on a key the request itself carries
 * (an equality's text, a pattern's shortest instance, a range's address), then, for keys still
 * free, one that escapes each negated condition of a Deny (a Deny of "not from this range" is
 * escaped from that range; a positive one is escaped by leaving its key out).
 */
function plainContext(
  statement: PolicyStatement,
  denies: readonly PolicyStatement[],
  multivalued: ReadonlySet<string>,
): [string, string][] {
  const context = new Map<string, string>();
  const take = (clause: ConditionClause) => {
    const key = clause.keyLower;
    const value = clause.values[0];
    const reading = PLAIN_READINGS.get(clause.base);
    if (value === undefined || value.includes("${") || clause.set !== undefined || clause.ifExists) return;
    if (reading === undefined || multivalued.has(key) || context.has(key)) return;
    // Principal-derived and organization keys come with the caller; TLS stays on.
    if (DERIVED_KEYS.has(key) || identityOnlyKey(key) || key === "aws:securetransport") return;
    if (reading === "pattern") context.set(key, shortestInstance(compileGlob(value, "like")));
    else if (reading === "range") context.set(key, value.split("/")[0] as string);
    else context.set(key, value);
  };
  for (const clause of statement.conditions) if (!NEGATED.has(clause.base)) take(clause);
  for (const deny of denies) for (const clause of deny.conditions) if (NEGATED.has(clause.base)) take(clause);
  return [...context];
}

/** An account id neither the scope nor the policy names (the caller of an account nobody trusts). */
function unnamedAccount(scope: PolicyScope, mentions: Mentions): string {
  const taken = new Set([scope.ownerAccount, ...scope.trustedAccounts, ...mentions.namedAccounts]);
  let account = "222222222222";
  for (let i = 1; taken.has(account); i++) account = String(222222222222 + i);
  return account;
}

/**
 * Every judgement the bucket rules make of a bucket policy, behind three functions:
 * `judgeBucketPolicyPublic` (public by S3's definition, with a witness request), `bucketDenials`
 * (the Deny statements that can deny a principal an action, with a witness) and
 * `narrowPublicStatements` (the minimal edit, with its never-widen proof).
 *
 * The judgements here are sound and deliberately incomplete. "Not public" is said only when it is
 * proved from the statements' text (fixed principals, or a fixed-value condition on one of the keys
 * S3 accepts as limiting); "public" only with a concrete request the policy allows and no Deny takes
 * back; everything else is "undecided", which the rules report and never treat as safe. A Deny is
 * said to block a principal only with a request it provably denies; one that may is reported as such.
 */
import { parseCidr } from "../net/cidr.ts";
import { clauseMatches } from "../policy/conditions.ts";
import {
  type ConditionClause,
  MAX_POLICY_CHARS,
  type PolicyDocument,
  type PolicyStatement,
  type PrincipalEntry,
  policyFromJson,
  statementLabel,
} from "../policy/document.ts";
import { isFixedValue, matchesAction, matchesPattern } from "../policy/match.ts";

/** Whose bucket a policy guards. */
export interface BucketScope {
  readonly bucket: string;
  readonly ownerAccount: string | undefined;
  readonly partition: string;
  /** Accounts besides the owner whose principals a narrowed statement keeps. */
  readonly trustedAccounts: readonly string[];
}

export type PublicJudgement =
  | {
      readonly status: "public";
      /** The statements that make the policy public, each with the request it allows. */
      readonly publicStatements: readonly { readonly statement: PolicyStatement; readonly witness: string }[];
      /** Statements that could not be decided either way (reported, never called safe). */
      readonly undecided: readonly { readonly statement: PolicyStatement; readonly reason: string }[];
    }
  | { readonly status: "not-public"; readonly proof: string }
  | {
      readonly status: "undecided";
      readonly undecided: readonly { readonly statement: PolicyStatement; readonly reason: string }[];
    };

/**
 * The condition keys that, compared with fixed values, make a statement non-public (S3 user guide,
 * "The meaning of public": a fixed AWS principal, `aws:SourceIp` CIDRs, `aws:SourceArn`,
 * `aws:SourceVpc`, `aws:SourceVpce`, `aws:SourceOwner`, `aws:SourceAccount`,
 * `s3:x-amz-server-side-encryption-aws-kms-key-id`, `aws:userid` outside `AROLEID:*`,
 * `s3:DataAccessPointArn`, `s3:DataAccessPointAccount`; `aws:PrincipalOrgID` and the other keys that
 * name the calling principal count as a fixed principal).
 */
const LIMITING_KEYS = new Set([
  "aws:principalorgid",
  "aws:principalaccount",
  "aws:principalarn",
  "aws:sourceip",
  "aws:sourcearn",
  "aws:sourcevpc",
  "aws:sourcevpce",
  "aws:sourceowner",
  "aws:sourceaccount",
  "aws:userid",
  "s3:x-amz-server-side-encryption-aws-kms-key-id",
  "s3:dataaccesspointarn",
  "s3:dataaccesspointaccount",
]);

/** Operators under which fixed values limit the request to those values. */
const LIMITING_OPERATORS = new Set([
  "StringEquals",
  "StringEqualsIgnoreCase",
  "StringLike",
  "ArnEquals",
  "ArnLike",
  "IpAddress",
]);

/**
 * Actions S3 counts as exposing data ("bad actions": `s3:Get*`, `s3:List*`, `s3:AbortMultipartUpload`,
 * `s3:Delete*`, `s3:Put*`, `s3:RestoreObject`), and the ones tried as witnesses, each with the kind
 * of resource it acts on.
 */
const BAD_ACTION_PATTERNS = [
  "s3:Get*",
  "s3:List*",
  "s3:AbortMultipartUpload",
  "s3:Delete*",
  "s3:Put*",
  "s3:RestoreObject",
];
const WITNESS_ACTIONS: readonly { readonly action: string; readonly on: "object" | "bucket" }[] = [
  { action: "s3:GetObject", on: "object" },
  { action: "s3:ListBucket", on: "bucket" },
  { action: "s3:PutObject", on: "object" },
  { action: "s3:DeleteObject", on: "object" },
  { action: "s3:GetObjectVersion", on: "object" },
  { action: "s3:AbortMultipartUpload", on: "object" },
  { action: "s3:RestoreObject", on: "object" },
  { action: "s3:PutBucketPolicy", on: "bucket" },
  { action: "s3:GetBucketPolicy", on: "bucket" },
  { action: "s3:DeleteBucket", on: "bucket" },
];

/** The resource an action acts on in this bucket: the bucket itself, or its objects. */
export function resourceKindOf(action: string): "object" | "bucket" {
  return /Bucket/.test(action) && !/Object/.test(action) ? "bucket" : "object";
}

function bucketArn(scope: BucketScope): string {
  return `arn:${scope.partition}:s3:::${scope.bucket}`;
}

/**
 * What a request is known to carry. `known` keys have exactly that value, `absent` keys are not in
 * the request; any other key could hold anything, so a condition on it cannot be decided.
 */
interface KnownContext {
  readonly known: ReadonlyMap<string, string>;
  readonly absent: ReadonlySet<string>;
}

type Tri = true | false | "unknown";

/** One clause, in three-valued logic: decided only when its key is known or known to be absent. */
function clauseHolds(clause: ConditionClause, context: KnownContext, variables: boolean): Tri {
  // A policy variable naming an undecided key cannot be resolved here.
  if (variables && clause.values.some((v) => v.includes("${"))) return "unknown";
  const key = clause.keyLower;
  if (context.known.has(key))
    return clauseMatches(clause, new Map([[key, context.known.get(key) as string]]), false);
  if (context.absent.has(key)) return clauseMatches(clause, new Map(), false);
  return "unknown";
}

function conditionsHold(statement: PolicyStatement, context: KnownContext, variables: boolean): Tri {
  let result: Tri = true;
  for (const clause of statement.conditions) {
    const holds = clauseHolds(clause, context, variables);
    if (holds === false) return false;
    if (holds === "unknown") result = "unknown";
  }
  return result;
}

function actionApplies(statement: PolicyStatement, action: string): boolean {
  if (statement.actions) return statement.actions.some((pattern) => matchesAction(pattern, action));
  return !(statement.notActions ?? []).some((pattern) => matchesAction(pattern, action));
}

function resourceApplies(statement: PolicyStatement, resource: string): boolean {
  if (statement.resources) return statement.resources.some((p) => matchesPattern(p, resource, "arn"));
  if (statement.notResources) return !statement.notResources.some((p) => matchesPattern(p, resource, "arn"));
  return true;
}

/**
 * Resources of this bucket a statement names, made concrete: each object pattern with its
 * wildcards filled in, else a made-up object key, and the bucket itself.
 */
function candidateResources(
  statement: PolicyStatement,
  scope: BucketScope,
  on: "object" | "bucket",
): string[] {
  const arn = bucketArn(scope);
  if (on === "bucket") return [arn];
  const fromPatterns = (statement.resources ?? [])
    .filter(
      (p) =>
        p.startsWith(`${arn}/`) ||
        p === "*" ||
        p.startsWith("arn:*:s3:::") ||
        p.startsWith(`arn:${scope.partition}:s3:::*`),
    )
    .map((p) =>
      p.startsWith(`${arn}/`)
        ? p.replace(/\*/g, "witness-object").replace(/\?/g, "x")
        : `${arn}/witness-object`,
    );
  return [...new Set([...fromPatterns, `${arn}/witness-object`])];
}

/** The anonymous request over HTTPS a witness is made of: no principal key is present. */
const ANONYMOUS: KnownContext = {
  known: new Map([
    ["aws:securetransport", "true"],
    ["aws:principaltype", "Anonymous"],
    ["aws:userid", "anonymous"],
  ]),
  absent: new Set([
    "aws:principalarn",
    "aws:principalaccount",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalservicename",
    "aws:sourcearn",
    "aws:sourceaccount",
    "aws:sourceowner",
  ]),
};

function isOpenValue(value: string): boolean {
  return value === "*";
}

/** Whether a principal entry admits every caller (anonymous included). */
function admitsEveryone(entries: readonly PrincipalEntry[]): boolean {
  return entries.some((e) => e.type === "AWS" && isOpenValue(e.value));
}

function isLimitingClause(clause: ConditionClause): boolean {
  if (!LIMITING_KEYS.has(clause.keyLower) || !LIMITING_OPERATORS.has(clause.base)) return false;
  if (clause.ifExists || clause.set === "all" || clause.values.length === 0) return false;
  if (!clause.values.every(isFixedValue)) return false;
  if (clause.keyLower === "aws:sourceip") {
    if (clause.base !== "IpAddress") return false;
    return clause.values.every((value) => {
      try {
        const cidr = parseCidr(value);
        return cidr.version === 4 ? cidr.prefix >= 8 : cidr.prefix >= 32;
      } catch {
        return false;
      }
    });
  }
  if (clause.base === "IpAddress") return false;
  // `aws:userid` limits only outside the pattern `AROLEID:*` (any session of one role).
  return clause.keyLower !== "aws:userid" || clause.values.every((v) => !v.endsWith(":*"));
}

type StatementVerdict =
  | { readonly status: "not-public"; readonly why: string }
  | { readonly status: "public"; readonly witness: string }
  | { readonly status: "undecided"; readonly reason: string };

/** Whether some action the statement allows is one S3 counts as exposing data. */
function grantsBadAction(statement: PolicyStatement): boolean | "unknown" {
  if (!statement.actions) return "unknown";
  let unknown = false;
  for (const pattern of statement.actions) {
    const lower = pattern.toLowerCase();
    if (lower === "*" || lower === "s3:*") return true;
    if (BAD_ACTION_PATTERNS.some((bad) => matchesAction(bad, pattern))) return true;
    if (!isFixedValue(pattern)) unknown = true;
  }
  return unknown ? "unknown" : false;
}

function judgeAllow(
  statement: PolicyStatement,
  document: PolicyDocument,
  scope: BucketScope,
): StatementVerdict {
  const variables = document.version !== "2008-10-17";
  const open = statement.notPrincipals !== undefined || admitsEveryone(statement.principals ?? []);
  if (!open) {
    const patterned = (statement.principals ?? []).some((e) => !isFixedValue(e.value));
    if (!patterned) return { status: "not-public", why: "names fixed principals only" };
  }
  const limiting = statement.conditions.find(isLimitingClause);
  if (limiting) {
    return { status: "not-public", why: `limited by ${limiting.operator} ${limiting.key} to fixed values` };
  }
  const bad = grantsBadAction(statement);
  if (bad === false) return { status: "not-public", why: "grants no action that exposes data" };
  if (!open || statement.notPrincipals !== undefined) {
    // A principal pattern or NotPrincipal: public by S3's definition, but no witness is built here.
    return { status: "undecided", reason: "a wildcard principal pattern or NotPrincipal: no witness built" };
  }
  for (const { action, on } of WITNESS_ACTIONS) {
    if (!actionApplies(statement, action)) continue;
    for (const resource of candidateResources(statement, scope, on)) {
      if (!resourceApplies(statement, resource)) continue;
      if (conditionsHold(statement, ANONYMOUS, variables) !== true) {
        return {
          status: "undecided",
          reason: `its conditions (${statement.conditions.map((c) => c.key).join(", ")}) could not be decided for an anonymous request`,
        };
      }
      const taken = denyTakesBack(document, action, resource, ANONYMOUS, { anonymous: true });
      if (taken === false) {
        return { status: "public", witness: `an anonymous request over HTTPS for ${action} on ${resource}` };
      }
    }
  }
  if (takenBackEntirely(statement, document)) {
    return { status: "not-public", why: "is taken back entirely by an unconditional Deny for everyone" };
  }
  return {
    status: "undecided",
    reason:
      "no anonymous request for an action that exposes data could be shown to be allowed (a Deny or a condition may take it back)",
  };
}

/** Whether a resource pattern of a Deny covers every resource an Allow pattern names. */
function resourceCovers(deny: string, allow: string): boolean {
  return deny === "*" || deny === allow || (deny.endsWith("/*") && allow.startsWith(deny.slice(0, -1)));
}

/**
 * An Allow whose every action (each named literally) is denied to everyone, unconditionally, on
 * every resource it names: an explicit Deny that removes the access counts (S3 user guide).
 */
function takenBackEntirely(allow: PolicyStatement, document: PolicyDocument): boolean {
  if (!allow.actions || !allow.resources || !allow.actions.every(isFixedValue)) return false;
  const denies = document.statements.filter(
    (s) =>
      s.effect === "Deny" &&
      s.conditions.length === 0 &&
      s.principals !== undefined &&
      admitsEveryone(s.principals) &&
      s.actions !== undefined,
  );
  return allow.actions.every((action) =>
    denies.some(
      (deny) =>
        deny.actions?.some((pattern) => matchesAction(pattern, action)) &&
        allow.resources?.every((r) => deny.resources?.some((d) => resourceCovers(d, r))),
    ),
  );
}

/** Whether a Deny of the policy denies the request: true, false, or not decided. */
function denyTakesBack(
  document: PolicyDocument,
  action: string,
  resource: string,
  context: KnownContext,
  who: { readonly anonymous: true } | { readonly principalArn: string; readonly account: string },
): Tri {
  let result: Tri = false;
  for (const statement of document.statements) {
    if (statement.effect !== "Deny") continue;
    const principal = principalApplies(statement, who);
    if (principal === false || !actionApplies(statement, action) || !resourceApplies(statement, resource))
      continue;
    const holds = conditionsHold(statement, context, document.version !== "2008-10-17");
    if (holds === false) continue;
    if (holds === true && principal === true) return true;
    result = "unknown";
  }
  return result;
}

/** Whether a statement's Principal/NotPrincipal covers the caller. */
function principalApplies(
  statement: PolicyStatement,
  who: { readonly anonymous: true } | { readonly principalArn: string; readonly account: string },
): Tri {
  const covers = (entry: PrincipalEntry): Tri => {
    if (entry.type !== "AWS") return false;
    if (isOpenValue(entry.value)) return true;
    if ("anonymous" in who) return false;
    const value = entry.value;
    if (value === who.principalArn || value === who.account || value.endsWith(`::${who.account}:root`))
      return true;
    if (!isFixedValue(value)) return matchesPattern(value, who.principalArn, "like") ? true : "unknown";
    // An STS session of the same role names the role by a session the request does not tell.
    const roleName = who.principalArn.slice(who.principalArn.lastIndexOf("/") + 1);
    if (value.startsWith(`arn:`) && value.includes(`:assumed-role/${roleName}/`)) return "unknown";
    return false;
  };
  const anyOf = (entries: readonly PrincipalEntry[]): Tri => {
    let result: Tri = false;
    for (const entry of entries) {
      const c = covers(entry);
      if (c === true) return true;
      if (c === "unknown") result = "unknown";
    }
    return result;
  };
  if (statement.principals) return anyOf(statement.principals);
  const excluded = anyOf(statement.notPrincipals ?? []);
  // NotPrincipal naming the caller in some form: whether a role session is excluded depends on
  // the session ARN being listed too, which is not decided here.
  return excluded === false ? true : "unknown";
}

/** Judges a bucket policy against S3's definition of public. */
export function judgeBucketPolicyPublic(document: PolicyDocument, scope: BucketScope): PublicJudgement {
  const publicStatements: { statement: PolicyStatement; witness: string }[] = [];
  const undecided: { statement: PolicyStatement; reason: string }[] = [];
  const reasons: string[] = [];
  for (const statement of document.statements) {
    if (statement.effect !== "Allow") continue;
    const verdict = judgeAllow(statement, document, scope);
    if (verdict.status === "public") publicStatements.push({ statement, witness: verdict.witness });
    else if (verdict.status === "undecided") undecided.push({ statement, reason: verdict.reason });
    else reasons.push(`${statementLabel(statement)} ${verdict.why}`);
  }
  if (publicStatements.length > 0) return { status: "public", publicStatements, undecided };
  if (undecided.length > 0) return { status: "undecided", undecided };
  return {
    status: "not-public",
    proof:
      reasons.length > 0
        ? `every Allow statement is limited: ${reasons.join("; ")}`
        : "the policy allows nothing",
  };
}

/** Who a denial check is about, and how their requests reach the bucket. */
export interface DeniedPrincipal {
  readonly principalArn: string;
  readonly actions: readonly string[];
  /**
   * `service-role`: the file system's own role, used by S3 Files itself: its requests never come
   * through a VPC endpoint of the account, so `aws:SourceVpce`, `aws:SourceVpc` and
   * `aws:VpcSourceIp` are absent. `client`: the compute role reading directly; those keys are absent
   * for a request that does not come through a VPC endpoint, which is one the role can make.
   */
  readonly requestKind: "service-role" | "client";
}

export interface Denial {
  readonly statement: PolicyStatement;
  readonly action: string;
  /** `denies`: a request of that principal for that action is denied (the witness); `may-deny`: not decided. */
  readonly status: "denies" | "may-deny";
  readonly detail: string;
}

const NOT_THROUGH_ENDPOINT = ["aws:sourcevpce", "aws:sourcevpc", "aws:vpcsourceip"];

/** The Deny statements that can deny the principal one of the actions on this bucket. */
export function bucketDenials(document: PolicyDocument, scope: BucketScope, who: DeniedPrincipal): Denial[] {
  const account = /^arn:[^:]+:(?:iam|sts)::(\d{12}):/.exec(who.principalArn)?.[1] ?? "";
  const context: KnownContext = {
    known: new Map([
      ["aws:principalarn", who.principalArn],
      ["aws:principalaccount", account],
      ["aws:principaltype", "AssumedRole"],
    ]),
    absent: new Set(NOT_THROUGH_ENDPOINT),
  };
  const variables = document.version !== "2008-10-17";
  const denials: Denial[] = [];
  for (const statement of document.statements) {
    if (statement.effect !== "Deny") continue;
    const principal = principalApplies(statement, { principalArn: who.principalArn, account });
    if (principal === false) continue;
    for (const action of who.actions) {
      if (!actionApplies(statement, action)) continue;
      const resource = candidateResources(statement, scope, resourceKindOf(action)).find((r) =>
        resourceApplies(statement, r),
      );
      if (!resource) continue;
      const holds = conditionsHold(statement, context, variables);
      if (holds === false) continue;
      const absentKeys = statement.conditions
        .filter((c) => NOT_THROUGH_ENDPOINT.includes(c.keyLower))
        .map((c) => c.key);
      const through =
        absentKeys.length === 0
          ? ""
          : who.requestKind === "service-role"
            ? ` (${absentKeys.join(", ")} is absent from the file system's own requests, so the negated condition is true)`
            : ` (for a read not made through a VPC endpoint, where ${absentKeys.join(", ")} is absent)`;
      if (holds === true && principal === true) {
        denials.push({ statement, action, status: "denies", detail: `${action} on ${resource}${through}` });
      } else {
        denials.push({
          statement,
          action,
          status: "may-deny",
          detail: `${action} on ${resource}: its principal or conditions (${statement.conditions.map((c) => c.key).join(", ") || "none"}) could not be decided`,
        });
      }
    }
  }
  return denials;
}

export interface BucketPolicyEdit {
  /** The edited policy as it will be sent (compact JSON). */
  readonly text: string;
  readonly changes: readonly string[];
  /** Why the edit cannot widen access, and why it meets its goal. */
  readonly proof: string;
}

function ownerRoots(scope: BucketScope): string[] {
  const accounts = [
    ...new Set([...(scope.ownerAccount ? [scope.ownerAccount] : []), ...scope.trustedAccounts]),
  ];
  return accounts.map((account) => `arn:${scope.partition}:iam::${account}:root`);
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

/**
 * The public statement with its wildcard principal replaced by the owner (and trusted) accounts,
 * keeping every fixed principal it named; `undefined` when no such narrowing exists (NotPrincipal,
 * or a principal pattern other than `*`, whose narrowing could not be shown to stay inside it).
 */
function narrowedStatement(raw: Readonly<Record<string, unknown>>, roots: readonly string[]) {
  if (raw.NotPrincipal !== undefined || roots.length === 0) return undefined;
  const principal = raw.Principal;
  const entries: Record<string, unknown> =
    principal === "*"
      ? { AWS: "*" }
      : typeof principal === "object" && principal !== null
        ? { ...(principal as Record<string, unknown>) }
        : {};
  const aws = asList(entries.AWS).filter((v): v is string => typeof v === "string");
  if (!aws.includes("*") || aws.some((v) => v !== "*" && !isFixedValue(v))) return undefined;
  const kept = [...new Set([...aws.filter((v) => v !== "*"), ...roots])];
  return { ...raw, Principal: { ...entries, AWS: kept.length === 1 ? kept[0] : kept } };
}

/**
 * Proves that `after` allows no request `before` denies: the same statements in the same order,
 * every Deny unchanged, and every changed Allow differing only in a Principal that was `*` and now
 * names fixed principals (a subset of everyone); nothing else may differ.
 */
export function proveNoWidening(
  before: PolicyDocument,
  after: PolicyDocument,
): { ok: boolean; reason: string } {
  if (before.statements.length !== after.statements.length)
    return { ok: false, reason: "the statement count changed" };
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  if (before.version !== after.version) return { ok: false, reason: "the policy Version changed" };
  for (let i = 0; i < before.statements.length; i++) {
    const b = before.statements[i] as PolicyStatement;
    const a = after.statements[i] as PolicyStatement;
    if (same(b.raw, a.raw)) continue;
    if (b.effect !== "Allow" || a.effect !== "Allow")
      return { ok: false, reason: `${statementLabel(b)}: a Deny changed` };
    const { Principal: _bp, ...bRest } = b.raw;
    const { Principal: _ap, ...aRest } = a.raw;
    if (!same(bRest, aRest))
      return { ok: false, reason: `${statementLabel(b)}: more than its Principal changed` };
    if (!b.principals || !admitsEveryone(b.principals))
      return { ok: false, reason: `${statementLabel(b)}: its Principal was not "*"` };
    const narrowed = a.principals ?? [];
    const stillInside = narrowed.every(
      (entry) =>
        (entry.type === "AWS" && isFixedValue(entry.value)) ||
        b.principals?.some((old) => old.type === entry.type && old.value === entry.value),
    );
    if (!stillInside)
      return { ok: false, reason: `${statementLabel(b)}: a new principal is not covered by "*"` };
  }
  return {
    ok: true,
    reason:
      'every Deny and every other statement is unchanged; each narrowed Allow only names fixed principals where it named "*"',
  };
}

/**
 * Narrows the public statements (and nothing else), proves the edit never widens access and that
 * the edited policy is no longer public. `failure` says why no edit could be proved.
 */
export function narrowPublicStatements(
  document: PolicyDocument,
  statements: readonly PolicyStatement[],
  scope: BucketScope,
): { readonly edit?: BucketPolicyEdit; readonly failure?: string } {
  const roots = ownerRoots(scope);
  if (roots.length === 0) return { failure: "the bucket owner's account is not known" };
  const targets = new Set(statements.map((s) => s.index));
  const changes: string[] = [];
  const rawStatements: unknown[] = [];
  for (const statement of document.statements) {
    if (!targets.has(statement.index)) {
      rawStatements.push(statement.raw);
      continue;
    }
    const narrowed = narrowedStatement(statement.raw, roots);
    if (!narrowed)
      return {
        failure: `${statementLabel(statement)}: NotPrincipal or a principal pattern cannot be narrowed provably`,
      };
    rawStatements.push(narrowed);
    changes.push(`${statementLabel(statement)}: Principal "*" narrowed to ${roots.join(", ")}`);
  }
  const raw = Array.isArray(document.raw.Statement)
    ? { ...document.raw, Statement: rawStatements }
    : { ...document.raw, Statement: rawStatements[0] };
  const text = JSON.stringify(raw);
  if (text.length > MAX_POLICY_CHARS) return { failure: "the edited policy would exceed 20 KB" };
  const after = policyFromJson(JSON.parse(text));
  const widening = proveNoWidening(document, after);
  if (!widening.ok) return { failure: widening.reason };
  const verdict = judgeBucketPolicyPublic(after, scope);
  const stillPublic =
    verdict.status === "public"
      ? verdict.publicStatements.map((p) => statementLabel(p.statement))
      : verdict.status === "undecided"
        ? verdict.undecided
            .filter((u) => targets.has(u.statement.index))
            .map((u) => statementLabel(u.statement))
        : [];
  if (stillPublic.length > 0)
    return { failure: `after the edit ${stillPublic.join(", ")} would still not be proved non-public` };
  return { edit: { text, changes, proof: widening.reason } };
}

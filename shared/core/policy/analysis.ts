/**
 * Who a file-system policy lets mount, write and be root, decided over the whole request space by
 * the solver (`solver.ts`): for every Allow statement, client action and kind of caller, either a
 * witness request (confirmed by the evaluator) or a proof that there is none.
 *
 * "Public" follows AWS's published definition for S3 and EFS resource policies (`questions.ts`,
 * `FILE_SYSTEM_PUBLIC`): a grant to a caller no Principal element names is public unless a
 * condition limits it to fixed values of `aws:PrincipalOrgID`, `aws:PrincipalAccount`,
 * `aws:PrincipalArn`, `aws:SourceIp` (no broader than /8 for IPv4 or /32 for IPv6; private ranges
 * never reach the internet), `aws:SourceArn`, `aws:SourceVpc`, `aws:SourceVpce`, `aws:SourceOwner`,
 * `aws:SourceAccount`, `aws:userid` (outside `ROLEID:*`), or for EFS
 * `elasticfilesystem:AccessedViaMountTarget`. An account the policy names explicitly is
 * cross-account, never public; a fixed `aws:PrincipalOrgID` is the owner's own organization.
 */
import { cidrContains, parseCidr } from "../net/cidr.ts";
import { parseIp } from "./conditions.ts";
import type { ConditionClause, PolicyDocument, PolicyStatement } from "./document.ts";
import {
  actionApplies,
  evaluatePolicy,
  principalNamed,
  type RequestPrincipal,
  resourceApplies,
} from "./evaluate.ts";
import {
  AWS_KINDS,
  accountIn,
  accountNamedBy,
  and,
  andThen,
  anyAllowF,
  anyDenyF,
  type Formula,
  type Frame,
  keyEquals,
  not,
  PRINCIPAL_KINDS,
  principalIn,
  resourceLike,
  statementF,
  variablesOf,
} from "./formula.ts";
import { globMatches } from "./glob.ts";
import type { ContextValues } from "./match.ts";
import { globOf, isFixedValue } from "./match.ts";
import { isOpen, NAMES_CALLERS, plainAnswers } from "./plain-requests.ts";
import {
  ACCESS_CLASSES,
  type AccessClass,
  classF,
  confirmWitness,
  describeCaller,
  describeWitness,
  FILE_SYSTEM_PUBLIC,
  type Mentions,
  mentionsOf,
  organizationF,
  witnessRequest,
} from "./questions.ts";
import { clientActions, fileSystemArn, fileSystemPattern, type PolicyScope, rootActionOf } from "./scope.ts";
import { findRequest, multivaluedKeysOf, type Outcome, type SearchSpace, type Witness } from "./solver.ts";

export type { AccessClass } from "./questions.ts";

export interface AccessGrant {
  readonly action: string;
  readonly principal: RequestPrincipal;
  readonly accessClass: AccessClass;
  readonly context: ContextValues;
  /** The Allow statement the grant was found for. */
  readonly allowedBy: readonly PolicyStatement[];
  /** The request that proves the grant (the evaluator allows it). */
  readonly witness: Witness;
  /** Found by the root question: a caller outside the admin principals. */
  readonly outsideAdmins?: boolean;
}

export interface PolicyAnalysis {
  readonly policy: PolicyDocument;
  readonly scope: PolicyScope;
  /** One witnessed grant per (Allow statement, client action, access class or named account). */
  readonly grants: readonly AccessGrant[];
  /** Deny statements that take access back from some caller (asked only for explanations). */
  readonly takenBack: ReadonlyMap<number, readonly { action: string; accessClass: AccessClass }[]>;
  /** Questions the solver left undecided (budget): nothing can then be called safe. */
  readonly undecided: readonly string[];
  /** False when a question was left undecided. */
  readonly complete: boolean;
}

export interface AnalysisOptions {
  /** Classes to look for (default: public and cross-account); `all` also finds Denies' take-backs. */
  readonly classes?: readonly AccessClass[];
  readonly takenBack?: boolean;
}

/** The requests a file-system question ranges over: every caller, the client actions, the file system. */
export function fileSystemSpace(scope: PolicyScope, actions = clientActions(scope.service)): SearchSpace {
  return { partition: scope.partition, kinds: PRINCIPAL_KINDS, actions, resource: fileSystemArn(scope) };
}

/** When the file system is not fully known, the resource ranges over the ones the scope allows. */
export function fileSystemDomain(scope: PolicyScope): (frame: Frame) => Formula {
  if (fileSystemArn(scope) !== undefined) return () => true;
  const pattern = fileSystemPattern(scope);
  return (frame) => resourceLike(frame, [pattern], "strict");
}

function trustOf(scope: PolicyScope) {
  return { owner: scope.ownerAccount, trusted: scope.trustedAccounts };
}

/** Finds a request of the file system's space satisfying `build`, confirmed by `accept`. */
export function askFileSystem(
  policies: readonly PolicyDocument[],
  scope: PolicyScope,
  build: (frame: Frame) => Formula,
  accept: (witness: Witness) => boolean,
  options: { actions?: readonly string[]; kinds?: SearchSpace["kinds"] } = {},
): Outcome {
  return fileSystemAsker(policies, scope, accept)(build, options);
}

/**
 * `askFileSystem` for many questions about the same policies: what every question shares (the
 * space, the domain, the witness check, the multivalued keys) is worked out once.
 */
export function fileSystemAsker(
  policies: readonly PolicyDocument[],
  scope: PolicyScope,
  accept: (witness: Witness) => boolean,
): (
  build: (frame: Frame) => Formula,
  options?: { actions?: readonly string[]; kinds?: SearchSpace["kinds"] },
) => Outcome {
  const domain = fileSystemDomain(scope);
  const whole = fileSystemSpace(scope);
  const findOptions = { confirm: confirmWitness(policies, accept), multivalued: multivaluedKeysOf(policies) };
  return (build, options = {}) => {
    const space = {
      ...whole,
      ...(options.actions ? { actions: options.actions } : {}),
      ...(options.kinds ? { kinds: options.kinds } : {}),
    };
    return findRequest(space, (frame) => andThen(domain(frame), () => [build(frame)]), findOptions);
  };
}

/**
 * True when one clause of the statement's own condition holds every request the statement allows
 * to a limit `limits` accepts: a clause without `IfExists` or a set operator, on a key with one
 * value per request. A proof by the statement's own condition, as `isOpen` is one by its Principal
 * element: the class formulas read the same limits from every clause of the policy, this one
 * included (see `limitsPublic`).
 */
function heldBy(
  statement: PolicyStatement,
  multivalued: ReadonlySet<string>,
  limits: (clause: ConditionClause) => boolean,
): boolean {
  return statement.conditions.some(
    (clause) =>
      !clause.ifExists &&
      clause.set === undefined &&
      clause.values.length > 0 &&
      !multivalued.has(clause.keyLower) &&
      limits(clause),
  );
}

const ORGANIZATION_KEY = "aws:principalorgid";
const MOUNT_TARGET_KEY = "elasticfilesystem:accessedviamounttarget";

/** `StringEquals` (case-sensitive) with fixed values only: the request carries one of them. */
function fixedValues(clause: ConditionClause): boolean {
  return clause.base === "StringEquals" && clause.values.every(isFixedValue);
}

/**
 * Clauses whose every request is not public (`limitedF`, `organizationF`): fixed values of a
 * limiting key or of `aws:PrincipalOrgID`; `IpAddress` ranges the policy's mentions count as
 * limiting (private, or no broader than /8 or /32); `elasticfilesystem:AccessedViaMountTarget`
 * = true (`Bool`, as the EFS console writes it).
 */
function limitsPublic(mentions: Mentions): (clause: ConditionClause) => boolean {
  return (clause) => {
    const key = clause.keyLower;
    if (key === MOUNT_TARGET_KEY)
      return clause.base === "Bool" && clause.values.every((value) => value.toLowerCase() === "true");
    if (clause.base === "IpAddress")
      return key === "aws:sourceip" && clause.values.every((range) => mentions.ipRanges.includes(range));
    return fixedValues(clause) && (key === ORGANIZATION_KEY || FILE_SYSTEM_PUBLIC.limitingKeys.includes(key));
  };
}

/** A fixed organization is the owner's: a caller in it is not cross-account (`classF`). */
function namesOrganization(clause: ConditionClause): boolean {
  return clause.keyLower === ORGANIZATION_KEY && fixedValues(clause);
}

/** The classes of callers outside the owner's and trusted accounts. */
const OUTSIDER_CLASSES: readonly AccessClass[] = ["public", "cross-account", "organization", "restricted"];

/** An ARN (or ARN pattern) whose text up to its account, the account included, is fixed. */
const FIXED_ACCOUNT_ARN = /^arn:[^:*?$]+:[^:*?$]*:[^:*?$]*:(\d{12}):/;

/**
 * Clauses that hold the caller to the given accounts: `aws:PrincipalAccount` equal to fixed ones,
 * or `aws:PrincipalArn` equal to or like ARNs whose account is fixed (a wildcard after the account
 * cannot change it). Every caller such a statement allows is of those accounts.
 */
function holdsCallerTo(accounts: readonly string[]): (clause: ConditionClause) => boolean {
  return (clause) => {
    if (clause.keyLower === "aws:principalaccount")
      return fixedValues(clause) && clause.values.every((account) => accounts.includes(account));
    if (clause.keyLower !== "aws:principalarn") return false;
    if (!NAMES_CALLERS.has(clause.base)) return false;
    return clause.values.every((arn) => {
      const account = FIXED_ACCOUNT_ARN.exec(arn)?.[1];
      return account !== undefined && accounts.includes(account);
    });
  };
}

/** True when `principal` is one of the configured admin principals (a role covers its sessions; an account root covers the account). */
export function isAdminPrincipal(principal: RequestPrincipal, admins: readonly string[]): boolean {
  if (principal.kind !== "aws") return false;
  return admins.some((admin) => {
    if (admin === principal.arn || admin === principal.roleArn) return true;
    const root = /^arn:[^:]+:iam::(\d{12}):root$/.exec(admin);
    return root !== null && root[1] === principal.account;
  });
}

/** The caller's `aws:PrincipalOrgID` is one the policy fixes (the same reading as `organizationF`). */
function inOrganization(witness: Witness, mentions: Mentions): boolean {
  const value = witness.context.get("aws:principalorgid");
  return typeof value === "string" && mentions.orgIds.includes(value);
}

/** The access class of a concrete request (the same reading as `classF`). */
export function classifyWitness(witness: Witness, scope: PolicyScope, mentions: Mentions): AccessClass {
  const { principal, context } = witness;
  if (principal.kind === "service") return "aws-service";
  const single = (key: string): string[] => {
    const raw = context.get(key);
    return raw === undefined ? [] : Array.isArray(raw) ? [...raw] : [raw as string];
  };
  if (principal.kind === "aws") {
    if (principal.account === scope.ownerAccount) return "owner";
    if (scope.trustedAccounts.includes(principal.account)) return "trusted";
    const inOrg = single("aws:principalorgid").some((v) => mentions.orgIds.includes(v));
    if (inOrg) return "organization";
    if (mentions.namedAccounts.includes(principal.account)) return "cross-account";
  }
  const limited =
    single("aws:sourceip").some((value) => {
      const address = parseIp(value);
      return address !== undefined && mentions.ipRanges.some((r) => cidrContains(parseCidr(r), address));
    }) ||
    FILE_SYSTEM_PUBLIC.limitingKeys.some((key) =>
      single(key).some((value) => {
        if (key === "elasticfilesystem:accessedviamounttarget") return value.toLowerCase() === "true";
        if (
          key === "aws:userid" &&
          mentions.userIdRoles.some((p) => globMatches(globOf(p, "like", false), value))
        )
          return true;
        return (mentions.fixed.get(key) ?? []).includes(value);
      }),
    );
  return limited ? "restricted" : "public";
}

function allowedByEvaluator(policy: PolicyDocument) {
  return (witness: Witness) => evaluatePolicy(policy, witnessRequest(witness)).decision === "allowed";
}

/**
 * Every witnessed grant of the policy by access class (default: public and cross-account per named
 * account), plus the root question (`ClientRootAccess` for a caller outside the admin principals).
 */
export function analyzePolicy(
  policy: PolicyDocument,
  scope: PolicyScope,
  options: AnalysisOptions = {},
): PolicyAnalysis {
  const classes = options.classes ?? ["public", "cross-account"];
  const mentions = mentionsOf([policy], FILE_SYSTEM_PUBLIC);
  const trust = trustOf(scope);
  const insiders = [...(scope.ownerAccount ? [scope.ownerAccount] : []), ...scope.trustedAccounts];
  const root = rootActionOf(scope.service);
  const variables = variablesOf(policy);
  // Set up on the first question that needs a search (an edited policy often asks none).
  let asker: ReturnType<typeof fileSystemAsker> | undefined;
  const ask: ReturnType<typeof fileSystemAsker> = (build, options) => {
    asker ??= fileSystemAsker([policy], scope, allowedByEvaluator(policy));
    return asker(build, options);
  };
  const resource = fileSystemArn(scope);
  // Every statement and action asks the same classes of the same frames: built once per analysis.
  const classFormulas: Map<AccessClass, Map<Frame, Formula>> = new Map();
  const classOf = (cls: AccessClass, frame: Frame): Formula => {
    let byFrame = classFormulas.get(cls);
    if (byFrame === undefined) {
      byFrame = new Map();
      classFormulas.set(cls, byFrame);
    }
    let formula = byFrame.get(frame);
    if (formula === undefined) {
      formula = classF(cls, frame, trust, mentions, FILE_SYSTEM_PUBLIC);
      byFrame.set(frame, formula);
    }
    return formula;
  };
  const grants: AccessGrant[] = [];
  const undecided = new Set<string>();
  const record = (
    outcome: Outcome,
    statement: PolicyStatement,
    extra: Partial<AccessGrant> & { accessClass?: AccessClass },
  ) => {
    if (outcome.status === "undecided") undecided.add(outcome.reason);
    if (outcome.status !== "witness") return;
    const w = outcome.witness;
    grants.push({
      action: w.action,
      principal: w.principal,
      context: w.context,
      allowedBy: [statement],
      witness: w,
      accessClass: extra.accessClass ?? classifyWitness(w, scope, mentions),
      ...(extra.outsideAdmins ? { outsideAdmins: true } : {}),
    });
  };
  // Before a search, a question tries the requests that answered an earlier question about the
  // same statement, then the ones the statement plainly grants (`plain-requests.ts`).
  const multivalued = multivaluedKeysOf([policy]);
  const plain = plainAnswers(policy, scope, mentions, multivalued);
  const publicLimits = limitsPublic(mentions);
  const callerLimits = holdsCallerTo(insiders);
  for (const statement of policy.statements) {
    if (statement.effect !== "Allow") continue;
    // A statement whose Action or Resource rules out a request grants nothing for it: proved
    // without a question (the element is concrete here, as the evaluator matches it).
    const patterns = statement.resources ?? statement.notResources ?? [];
    const concrete = resource !== undefined && !patterns.some((p) => p.includes("${"));
    if (concrete && !resourceApplies(statement, resource, undefined)) continue;
    const insidersOnly = heldBy(statement, multivalued, callerLimits);
    for (const action of clientActions(scope.service)) {
      if (!actionApplies(statement, action)) continue;
      const askFor = (extra: (frame: Frame) => Formula, fits: (w: Witness) => boolean): Outcome => {
        const answer = plain.answer(statement, action, fits);
        if (answer !== undefined) return { status: "witness", witness: answer };
        const outcome = ask(
          (frame) =>
            andThen(statementF(statement, frame, variables), () => [
              not(anyDenyF(policy, frame)),
              extra(frame),
            ]),
          { actions: [action] },
        );
        if (outcome.status === "witness") plain.remember(statement, outcome.witness);
        return outcome;
      };
      for (const cls of classes) {
        // A statement that names only fixed principals reaches no one but them: the classes of
        // outsiders it cannot reach need no question (a proof by the Principal element alone).
        if ((cls === "public" || cls === "restricted" || cls === "organization") && !isOpen(statement))
          continue;
        // One whose condition holds every caller to the owner's and trusted accounts reaches no
        // outsider at all.
        if (insidersOnly && OUTSIDER_CLASSES.includes(cls)) continue;
        if (cls === "public" && heldBy(statement, multivalued, publicLimits)) continue;
        if (cls === "cross-account" && heldBy(statement, multivalued, namesOrganization)) continue;
        if (cls === "cross-account") {
          // One question per untrusted account the statement's own principals name (each gets its
          // finding), and one for every other named account together.
          const own = [
            ...new Set((statement.principals ?? []).flatMap((e) => accountNamedBy(e.value) ?? [])),
          ].filter((a) => !insiders.includes(a));
          const others = isOpen(statement)
            ? mentions.namedAccounts.filter((a) => !insiders.includes(a) && !own.includes(a))
            : [];
          for (const accounts of [...own.map((a) => [a]), ...(others.length > 0 ? [others] : [])])
            record(
              askFor(
                (frame) => and([accountIn(frame, accounts), not(organizationF(frame, mentions))]),
                (w) =>
                  w.principal.kind === "aws" &&
                  accounts.includes(w.principal.account) &&
                  !inOrganization(w, mentions),
              ),
              statement,
              { accessClass: "cross-account" },
            );
          continue;
        }
        record(
          askFor(
            (frame) => classOf(cls, frame),
            (w) => classifyWitness(w, scope, mentions) === cls,
          ),
          statement,
          { accessClass: cls },
        );
      }
      if (action === root) {
        record(
          askFor(
            (frame) => and([frame.kind !== "service", not(principalIn(frame, scope.adminPrincipals))]),
            (w) => w.kind !== "service" && !principalNamed(scope.adminPrincipals, w.principal),
          ),
          statement,
          { outsideAdmins: true },
        );
      }
    }
  }
  const takenBack = new Map<number, { action: string; accessClass: AccessClass }[]>();
  if (options.takenBack) {
    for (const deny of policy.statements) {
      if (deny.effect !== "Deny") continue;
      for (const action of clientActions(scope.service)) {
        for (const cls of ACCESS_CLASSES) {
          const outcome = askFileSystem(
            [policy],
            scope,
            (frame) =>
              andThen(statementF(deny, frame, variables), () => [
                anyAllowF(policy, frame),
                classOf(cls, frame),
              ]),
            (w) => evaluatePolicy(policy, witnessRequest(w)).deniedBy.includes(deny),
            { actions: [action] },
          );
          if (outcome.status === "witness") {
            const list = takenBack.get(deny.index) ?? [];
            list.push({ action, accessClass: cls });
            takenBack.set(deny.index, list);
          }
        }
      }
    }
  }
  return { policy, scope, grants, takenBack, undecided: [...undecided], complete: undecided.size === 0 };
}

/** What is unsafe in a policy, by kind. */
export interface PolicyProblems {
  readonly publicGrants: readonly AccessGrant[];
  readonly crossAccountGrants: readonly AccessGrant[];
  readonly rootOutsideAdmins: readonly AccessGrant[];
}

export function problemsOf(analysis: PolicyAnalysis): PolicyProblems {
  return {
    publicGrants: analysis.grants.filter((g) => !g.outsideAdmins && g.accessClass === "public"),
    crossAccountGrants: analysis.grants.filter((g) => !g.outsideAdmins && g.accessClass === "cross-account"),
    rootOutsideAdmins: analysis.grants.filter((g) => g.outsideAdmins === true),
  };
}

/**
 * The analyses one judgement has made, by policy document and scope: the findings, the edit and
 * its proof ask for the same few (the policy, the edited policy), and the policy model is
 * immutable, so the first answer stands.
 */
export class AnalysisMemo {
  private readonly known = new Map<PolicyDocument, Map<string, PolicyAnalysis>>();

  analyze(policy: PolicyDocument, scope: PolicyScope): PolicyAnalysis {
    const key = JSON.stringify([
      scope.service,
      scope.ownerAccount,
      scope.partition,
      scope.region,
      scope.fileSystemId,
      scope.trustedAccounts,
      scope.adminPrincipals,
    ]);
    let byScope = this.known.get(policy);
    const known = byScope?.get(key);
    if (known) return known;
    const analysis = analyzePolicy(policy, scope);
    if (!byScope) {
      byScope = new Map();
      this.known.set(policy, byScope);
    }
    byScope.set(key, analysis);
    return analysis;
  }
}

export interface TlsVerdict {
  readonly enforced: boolean;
  /** A client request without TLS that no Deny refuses, in words. */
  readonly example?: string;
  readonly undecided?: string;
}

/**
 * EFS only: true when every client request without TLS is explicitly denied (a Deny on
 * `aws:SecureTransport` = false, as the EFS console's "enforce in-transit encryption" adds), for
 * every caller. An implicit deny is not enough: a same-account identity policy could still allow it.
 */
export function enforcesTls(policy: PolicyDocument, scope: PolicyScope): TlsVerdict {
  if (policy.statements.some((statement) => deniesEveryRequestWithoutTls(statement, scope)))
    return { enforced: true };
  const outcome = askFileSystem(
    [policy],
    scope,
    (frame) => and([keyEquals("aws:securetransport", ["false"]), not(anyDenyF(policy, frame))]),
    (w) => evaluatePolicy(policy, witnessRequest(w)).decision !== "explicit-deny",
  );
  if (outcome.status === "proved") return { enforced: true };
  if (outcome.status === "undecided")
    return { enforced: false, undecided: outcome.reason, example: outcome.reason };
  const w = outcome.witness;
  return { enforced: false, example: `${w.action} by ${describeWitness(w)} is not denied` };
}

/**
 * True when the statement alone denies every client request without TLS, read off its elements:
 * a Deny of every caller (`"*"`) and every client action, on the file system (no `Resource`, or
 * one that matches it without policy variables), whose only condition is `Bool`
 * `aws:SecureTransport` = false (the EFS console's statement). Anything else is left to the search.
 */
function deniesEveryRequestWithoutTls(statement: PolicyStatement, scope: PolicyScope): boolean {
  if (statement.effect !== "Deny") return false;
  if (!statement.principals?.some((entry) => entry.type === "AWS" && entry.value === "*")) return false;
  if (!clientActions(scope.service).every((action) => actionApplies(statement, action))) return false;
  const patterns = statement.resources ?? statement.notResources ?? [];
  if (patterns.some((pattern) => pattern.includes("${"))) return false;
  const resource = fileSystemArn(scope);
  const everyResource = statement.resources === undefined && statement.notResources === undefined;
  if (!everyResource && (resource === undefined || !resourceApplies(statement, resource, undefined)))
    return false;
  const [clause, ...others] = statement.conditions;
  return (
    others.length === 0 &&
    clause !== undefined &&
    clause.base === "Bool" &&
    clause.keyLower === "aws:securetransport" &&
    clause.set === undefined &&
    clause.values.length > 0 &&
    clause.values.every((value) => value.toLowerCase() === "false")
  );
}

/** A caller, in words. */
export function describePrincipal(principal: RequestPrincipal): string {
  if (principal.kind === "anonymous") return "an anonymous client (mounted without IAM)";
  if (principal.kind === "service") return `the service ${principal.service}`;
  return principal.arn;
}

export { describeCaller, describeWitness };

/** True for kinds with an IAM identity. */
export function isIdentityKind(kind: Witness["kind"]): boolean {
  return AWS_KINDS.includes(kind);
}

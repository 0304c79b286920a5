/**
 * Who a file-system policy lets mount, write and be root, found by evaluating the policy over the
 * representative requests of `universe.ts`, and what kind of access each grant is.
 *
 * "Public" follows AWS's published definition for S3 and EFS resource policies: a grant to a
 * wildcard principal is public unless a condition limits it to fixed values (no wildcard, no policy
 * variable) of `aws:PrincipalOrgID`, `aws:PrincipalAccount`, `aws:PrincipalArn`, `aws:SourceIp`
 * (no broader than /8 for IPv4 or /32 for IPv6; private ranges never reach the internet),
 * `aws:SourceArn`, `aws:SourceVpc`, `aws:SourceVpce`, `aws:SourceOwner`, `aws:SourceAccount`,
 * `aws:userid` (outside `ROLEID:*`), and for EFS `elasticfilesystem:AccessedViaMountTarget`.
 * Because every grant is found by evaluating the whole policy, a Deny that takes the access back
 * counts, `NotPrincipal` with Allow is public, and a wildcard value (`StringLike aws:SourceVpc
 * "vpc-*"`) limits nothing: an outsider can always pick a value that matches it.
 */
import { cidrContains, classifyCidr, parseCidr } from "../net/cidr.ts";
import { parseIp } from "./conditions.ts";
import type { PolicyDocument, PolicyStatement } from "./document.ts";
import type { RequestPrincipal } from "./evaluate.ts";
import type { ContextValues } from "./match.ts";
import { isFixedValue } from "./match.ts";
import {
  buildUniverse,
  clientActions,
  fileSystemArn,
  gatherMentions,
  type Mentions,
  type PolicyScope,
  rootActionOf,
  UNKNOWN_ACCOUNT,
  type Universe,
} from "./universe.ts";
import { type DeferredContext, UniverseWalk } from "./walk.ts";

/**
 * What kind of caller a grant reaches.
 * - `public`: anonymous, or any principal of an account the policy does not name, with no fixed-value limit;
 * - `cross-account`: a principal of an account the policy names that is neither the owner nor trusted;
 * - `organization`: a principal whose `aws:PrincipalOrgID` equals a fixed value of the policy (the owner's choice);
 * - `restricted`: an outsider held to a fixed source (IP range, VPC, endpoint, source ARN/account, user id);
 * - `owner`, `trusted`, `aws-service`.
 */
export type AccessClass =
  | "public"
  | "cross-account"
  | "organization"
  | "restricted"
  | "owner"
  | "trusted"
  | "aws-service";

export interface AccessGrant {
  readonly action: string;
  readonly principal: RequestPrincipal;
  readonly accessClass: AccessClass;
  readonly context: ContextValues;
  readonly allowedBy: readonly PolicyStatement[];
}

export interface PolicyAnalysis {
  readonly policy: PolicyDocument;
  readonly scope: PolicyScope;
  /** Every allowed (action, caller, context) of the representative set. */
  readonly grants: readonly AccessGrant[];
  /** Requests the policy lets through to someone, but a Deny takes back, by Deny statement index. */
  readonly takenBack: ReadonlyMap<number, readonly { action: string; accessClass: AccessClass }[]>;
  readonly requestsEvaluated: number;
  /** False when the representative set had to be cut: nothing can then be proved safe. */
  readonly complete: boolean;
}

/** Keys whose fixed values keep a wildcard-principal grant from being public (AWS's list). */
const LIMITING_SOURCE_KEYS = [
  "aws:sourceip",
  "aws:sourcearn",
  "aws:sourcevpc",
  "aws:sourcevpce",
  "aws:sourceowner",
  "aws:sourceaccount",
  "aws:userid",
  "elasticfilesystem:accessedviamounttarget",
] as const;

interface FixedValues {
  readonly byKey: ReadonlyMap<string, ReadonlySet<string>>;
  readonly ipRanges: readonly ReturnType<typeof parseCidr>[];
  /** Role ids of `aws:userid` patterns `AROA...:*`: a fixed role, any session. */
  readonly userIdRoles: readonly string[];
  readonly orgIds: ReadonlySet<string>;
}

function fixedValues(mentions: Mentions): FixedValues {
  const byKey = new Map<string, Set<string>>();
  const ipRanges: ReturnType<typeof parseCidr>[] = [];
  const userIdRoles: string[] = [];
  for (const [key, values] of mentions.values) {
    const set = new Set<string>();
    for (const value of values) {
      if (key === "aws:userid" && /^[A-Z0-9]+:\*$/.test(value)) userIdRoles.push(value.slice(0, -2));
      if (!isFixedValue(value)) continue;
      set.add(key === "elasticfilesystem:accessedviamounttarget" ? value.toLowerCase() : value);
      if (key === "aws:sourceip") {
        try {
          const cidr = parseCidr(value);
          // A range broader than /8 (IPv4) or /32 (IPv6) that reaches the internet limits nothing.
          if (classifyCidr(cidr) !== "internet") ipRanges.push(cidr);
        } catch {
          // not an address: limits nothing
        }
      }
    }
    byKey.set(key, set);
  }
  return { byKey, ipRanges, userIdRoles, orgIds: byKey.get("aws:principalorgid") ?? new Set() };
}

function isLimited(context: ContextValues, fixed: FixedValues): boolean {
  for (const key of LIMITING_SOURCE_KEYS) {
    const raw = context.get(key);
    if (raw === undefined) continue;
    const values: readonly string[] = Array.isArray(raw) ? raw : [raw as string];
    for (const value of values) {
      if (key === "aws:sourceip") {
        // Not an address: limits nothing.
        const address = parseIp(value);
        if (
          address !== undefined &&
          (classifyCidr(address) === "private" ||
            fixed.ipRanges.some((range) => cidrContains(range, address)))
        )
          return true;
        continue;
      }
      if (key === "elasticfilesystem:accessedviamounttarget") {
        // Only clients that reach a mount target in the file system's VPC (or a peered network).
        if (value.toLowerCase() === "true") return true;
        continue;
      }
      if (key === "aws:userid" && fixed.userIdRoles.some((role) => value.startsWith(`${role}:`))) return true;
      if (fixed.byKey.get(key)?.has(value)) return true;
    }
  }
  return false;
}

export function classifyRequest(
  principal: RequestPrincipal,
  context: ContextValues,
  scope: PolicyScope,
  mentions: Mentions,
  fixed: FixedValues = fixedValues(mentions),
): AccessClass {
  if (principal.kind === "service") return "aws-service";
  if (principal.kind === "aws") {
    if (principal.account === scope.ownerAccount) return "owner";
    if (scope.trustedAccounts.includes(principal.account)) return "trusted";
    const org = context.get("aws:principalorgid");
    if (typeof org === "string" && fixed.orgIds.has(org)) return "organization";
    if (principal.account !== UNKNOWN_ACCOUNT && mentions.namedAccounts.has(principal.account))
      return "cross-account";
  }
  return isLimited(context, fixed) ? "restricted" : "public";
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

/**
 * The analyses one judgement has made, by policy document and scope: the findings, the edit and
 * its proof ask for the same few (the policy, the edited policy), and the policy model is
 * immutable, so the first answer stands. Made per judgement and passed along, not kept globally:
 * held weakly, thousands of short-lived documents made the garbage collector's work dominate.
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
    const analysis = analyze(policy, scope);
    if (!byScope) {
      byScope = new Map();
      this.known.set(policy, byScope);
    }
    byScope.set(key, analysis);
    return analysis;
  }
}

/** Evaluates the policy over the representative requests and classifies every grant. */
export function analyzePolicy(
  policy: PolicyDocument,
  scope: PolicyScope,
  universeOverride?: Universe,
): PolicyAnalysis {
  return analyze(policy, scope, universeOverride);
}

function analyze(policy: PolicyDocument, scope: PolicyScope, universeOverride?: Universe): PolicyAnalysis {
  const mentions = gatherMentions([policy]);
  const universe = universeOverride ?? buildUniverse([policy], scope, mentions);
  const fixed = fixedValues(mentions);
  const actions = clientActions(scope.service);
  const grants: AccessGrant[] = [];
  const takenBack = new Map<number, { action: string; accessClass: AccessClass }[]>();
  let evaluated = 0;
  const walk = new UniverseWalk(universe, [policy], fileSystemArn(scope), actions);
  walk.run(() => {
    // Per context, shared by its actions, and built only when a grant's context is read.
    let context: DeferredContext | undefined;
    let accessClass: AccessClass | undefined;
    for (let a = 0; a < actions.length; a++) {
      evaluated++;
      const decision = walk.decision(0, a);
      if (decision === "implicit-deny") continue;
      const allowedBy = walk.applying(0, a, "Allow");
      if (allowedBy.length === 0) continue;
      const action = actions[a] as string;
      const { principal } = walk;
      if (!context) context = walk.deferredContext();
      if (accessClass === undefined)
        accessClass = classifyRequest(principal, context, scope, mentions, fixed);
      if (decision === "allowed") {
        grants.push({ action, principal, accessClass, context, allowedBy });
      } else {
        for (const deny of walk.applying(0, a, "Deny")) {
          const list = takenBack.get(deny.index) ?? [];
          const cls = accessClass;
          if (!list.some((t) => t.action === action && t.accessClass === cls))
            list.push({ action, accessClass: cls });
          takenBack.set(deny.index, list);
        }
      }
    }
    return undefined;
  });
  return { policy, scope, grants, takenBack, requestsEvaluated: evaluated, complete: universe.complete };
}

/** What is unsafe in a policy, by kind. */
export interface PolicyProblems {
  readonly publicGrants: readonly AccessGrant[];
  readonly crossAccountGrants: readonly AccessGrant[];
  readonly rootOutsideAdmins: readonly AccessGrant[];
}

export function problemsOf(analysis: PolicyAnalysis): PolicyProblems {
  const root = rootActionOf(analysis.scope.service);
  return {
    publicGrants: analysis.grants.filter((g) => g.accessClass === "public"),
    crossAccountGrants: analysis.grants.filter((g) => g.accessClass === "cross-account"),
    rootOutsideAdmins: analysis.grants.filter(
      (g) =>
        g.action === root &&
        g.accessClass !== "aws-service" &&
        !isAdminPrincipal(g.principal, analysis.scope.adminPrincipals),
    ),
  };
}

/**
 * EFS only: true when every client request without TLS is explicitly denied (a Deny on
 * `aws:SecureTransport` = false, as the EFS console's "enforce in-transit encryption" adds). An
 * implicit deny is not enough: a same-account identity policy could still allow the request.
 */
export function enforcesTls(
  policy: PolicyDocument,
  scope: PolicyScope,
): { enforced: boolean; example?: string } {
  const universe = buildUniverse([policy], scope, gatherMentions([policy]));
  const actions = clientActions(scope.service);
  const walk = new UniverseWalk(
    universe,
    [policy],
    fileSystemArn(scope),
    actions,
    new Map([["aws:securetransport", "false"]]),
  );
  let example: string | undefined;
  walk.run(() => {
    for (let a = 0; a < actions.length; a++) {
      if (walk.decision(0, a) !== "explicit-deny") {
        example = `${actions[a]} by ${describePrincipal(walk.principal)} without TLS is not denied`;
        return false;
      }
    }
    return undefined;
  });
  return example === undefined ? { enforced: true } : { enforced: false, example };
}

/** A caller, in words. */
export function describePrincipal(principal: RequestPrincipal): string {
  if (principal.kind === "anonymous") return "an anonymous client (mounted without IAM)";
  if (principal.kind === "service") return `the service ${principal.service}`;
  if (principal.account === UNKNOWN_ACCOUNT) return "any principal of any AWS account";
  if (principal.arn.endsWith(":role/remediator-probe"))
    return `any principal of account ${principal.account}`;
  return principal.arn;
}

/** The context values that made a grant possible, in words (principal-derived keys left out). */
export function describeContext(context: ContextValues): string {
  const parts: string[] = [];
  for (const [key, value] of context) {
    if (key === "aws:principalarn" || key === "aws:principalaccount" || key === "aws:principaltype") continue;
    parts.push(`${key}=${Array.isArray(value) ? value.join(",") : value}`);
  }
  return parts.join(", ");
}

export { fixedValues };

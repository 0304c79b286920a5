/**
 * The questions the rules ask of a resource policy, as formulas for the solver, and what a witness
 * means in words. Shared by the file-system, bucket and identity layers.
 *
 * "Public" follows AWS's published definitions (S3 "The meaning of public", EFS "Blocking public
 * access"): a grant to a caller no Principal element names is public unless a condition limits it
 * to fixed values (no wildcard, no policy variable) of a key on the service's list. The question
 * "is it public?" is asked as "is some request allowed whose caller is an outsider and whose context
 * carries none of those fixed values?", so a Deny that takes the access back counts, `NotPrincipal`
 * with Allow is public, and a wildcard value limits nothing (an outsider can always pick a value
 * that matches it).
 */
import { classifyCidr, PRIVATE_RANGE_TEXTS } from "../net/cidr.ts";
import { parseIp } from "./conditions.ts";
import type { PolicyDocument } from "./document.ts";
import { evaluatePolicy, type PolicyDecision } from "./evaluate.ts";
import {
  AWS_KINDS,
  accountIn,
  accountNamedBy,
  and,
  DERIVED_KEYS,
  type Formula,
  type Frame,
  keyEquals,
  keyInRanges,
  keyLike,
  not,
  or,
  resolveDerived,
} from "./formula.ts";
import { isFixedValue, splitVariables } from "./match.ts";
import type { Witness } from "./solver.ts";

/** A service's published definition of "public". */
export interface PublicDefinition {
  readonly service: "efs" | "s3";
  /** Keys whose fixed values keep a grant from being public (besides `aws:SourceIp`). */
  readonly limitingKeys: readonly string[];
  /** EFS counts fixed `aws:PrincipalAccount` / `aws:PrincipalArn` values as naming accounts, and a fixed `aws:PrincipalOrgID` as the owner's organization. */
  readonly principalConditions: boolean;
}

/** EFS (and S3 Files, built on it): DESIGN facts, "What public means". */
export const FILE_SYSTEM_PUBLIC: PublicDefinition = {
  service: "efs",
  limitingKeys: [
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceowner",
    "aws:sourceaccount",
    "aws:userid",
    "elasticfilesystem:accessedviamounttarget",
  ],
  principalConditions: true,
};

/**
 * S3 User Guide, "The meaning of public": fixed `aws:SourceArn`, `aws:SourceVpc`, `aws:SourceVpce`,
 * `aws:SourceOwner`, `aws:SourceAccount`, `s3:x-amz-server-side-encryption-aws-kms-key-id`,
 * `aws:userid` outside `AROLEID:*`, `s3:DataAccessPointArn`, `s3:DataAccessPointAccount`, or a set
 * of CIDRs in `aws:SourceIp`. Principal-derived condition keys are not on S3's list.
 */
export const BUCKET_PUBLIC: PublicDefinition = {
  service: "s3",
  limitingKeys: [
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceowner",
    "aws:sourceaccount",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "aws:userid",
    "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount",
  ],
  principalConditions: false,
};

/** What the policies mention that decides who is an outsider. */
export interface Mentions {
  /** Accounts the policies name (Principal elements; for EFS also fixed principal conditions). */
  readonly namedAccounts: readonly string[];
  /** Fixed values per limiting key. */
  readonly fixed: ReadonlyMap<string, readonly string[]>;
  /** Fixed `aws:PrincipalOrgID` values (EFS: the owner's organization). */
  readonly orgIds: readonly string[];
  /** Fixed `aws:SourceIp` ranges narrow enough to limit (and private space). */
  readonly ipRanges: readonly string[];
  /** `aws:userid` patterns `ROLEID:*`: a fixed role, any session. */
  readonly userIdRoles: readonly string[];
}

export function mentionsOf(policies: readonly PolicyDocument[], definition: PublicDefinition): Mentions {
  const named = new Set<string>();
  const fixed = new Map<string, Set<string>>();
  const orgIds = new Set<string>();
  const ipRanges = new Set<string>(PRIVATE_RANGE_TEXTS);
  const userIdRoles = new Set<string>();
  for (const policy of policies) {
    for (const statement of policy.statements) {
      for (const entry of [...(statement.principals ?? []), ...(statement.notPrincipals ?? [])]) {
        if (entry.type !== "AWS") continue;
        const account = accountNamedBy(entry.value);
        if (account) named.add(account);
      }
      for (const clause of statement.conditions) {
        const key = clause.keyLower;
        for (const value of clause.values) {
          if (
            definition.principalConditions &&
            (key === "aws:principalaccount" || key === "aws:principalarn")
          ) {
            const account = accountNamedBy(value);
            if (account) named.add(account);
          }
          if (key === "aws:userid" && /^[A-Z0-9]+:\*$/.test(value)) userIdRoles.add(value);
          if (!isFixedValue(value)) continue;
          if (key === "aws:principalorgid") orgIds.add(value);
          if (key === "aws:sourceip") {
            // A range broader than /8 (IPv4) or /32 (IPv6) that reaches the internet limits nothing;
            // neither does a value that is no address.
            const range = parseIp(value);
            if (range !== undefined && classifyCidr(range) !== "internet") ipRanges.add(value);
          }
          if (definition.limitingKeys.includes(key)) {
            const values = fixed.get(key) ?? new Set();
            values.add(value);
            fixed.set(key, values);
          }
        }
      }
    }
  }
  return {
    namedAccounts: [...named],
    fixed: new Map([...fixed].map(([key, values]) => [key, [...values]])),
    orgIds: definition.principalConditions ? [...orgIds] : [],
    ipRanges: [...ipRanges],
    userIdRoles: [...userIdRoles],
  };
}

/** The request carries a fixed value of a limiting key (so the grant is "restricted", not public). */
export function limitedF(frame: Frame, mentions: Mentions, definition: PublicDefinition): Formula {
  const parts: Formula[] = [resolveDerived(keyInRanges("aws:sourceip", mentions.ipRanges), frame)];
  for (const key of definition.limitingKeys) {
    if (key === "elasticfilesystem:accessedviamounttarget") {
      // Only clients that reach a mount target in the file system's VPC (or a peered network).
      parts.push(resolveDerived(keyEquals(key, ["true"], true), frame));
      continue;
    }
    const values = mentions.fixed.get(key) ?? [];
    if (values.length > 0) parts.push(resolveDerived(keyEquals(key, values), frame));
    if (key === "aws:userid" && mentions.userIdRoles.length > 0)
      parts.push(resolveDerived(keyLike(key, mentions.userIdRoles), frame));
  }
  return or(parts);
}

/** The caller belongs to one of the organizations the policy names. */
export function organizationF(frame: Frame, mentions: Mentions): Formula {
  if (mentions.orgIds.length === 0) return false;
  return resolveDerived(keyEquals("aws:principalorgid", mentions.orgIds), frame);
}

/**
 * What kind of caller a request comes from.
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

export const ACCESS_CLASSES: readonly AccessClass[] = [
  "public",
  "cross-account",
  "organization",
  "restricted",
  "trusted",
  "owner",
  "aws-service",
];

/** Whose resource it is, and who is trusted. */
export interface Trust {
  readonly owner: string | undefined;
  readonly trusted: readonly string[];
}

/** The requests of one access class, as a formula for a frame. */
export function classF(
  cls: AccessClass,
  frame: Frame,
  trust: Trust,
  mentions: Mentions,
  definition: PublicDefinition,
): Formula {
  const insiders = [...(trust.owner ? [trust.owner] : []), ...trust.trusted];
  const aws = AWS_KINDS.includes(frame.kind);
  switch (cls) {
    case "aws-service":
      return frame.kind === "service";
    case "owner":
      return trust.owner ? accountIn(frame, [trust.owner]) : false;
    case "trusted":
      return and([accountIn(frame, trust.trusted), not(accountIn(frame, trust.owner ? [trust.owner] : []))]);
    case "organization":
      return aws ? and([not(accountIn(frame, insiders)), organizationF(frame, mentions)]) : false;
    case "cross-account": {
      const named = mentions.namedAccounts.filter((a) => !insiders.includes(a));
      return and([accountIn(frame, named), not(organizationF(frame, mentions))]);
    }
    case "restricted":
    case "public": {
      const outsider =
        frame.kind === "anonymous"
          ? true
          : aws
            ? and([
                not(accountIn(frame, [...insiders, ...mentions.namedAccounts])),
                not(organizationF(frame, mentions)),
              ])
            : false;
      const limited = limitedF(frame, mentions, definition);
      return and([outsider, cls === "public" ? not(limited) : limited]);
    }
  }
}

/** The request a witness stands for, for the evaluator. */
export function witnessRequest(witness: Witness) {
  return {
    principal: witness.principal,
    action: witness.action,
    resource: witness.resource,
    context: witness.context,
  };
}

export function decisionOf(policy: PolicyDocument, witness: Witness): PolicyDecision {
  return evaluatePolicy(policy, witnessRequest(witness));
}

/**
 * Pairs (key, variable key) where a condition compares a key with exactly `${other}`: a witness found
 * with policy variables read as unknown may need the two made equal to be confirmed.
 */
function variableTies(policies: readonly PolicyDocument[]): [string, string][] {
  const ties: [string, string][] = [];
  for (const policy of policies) {
    if (policy.version !== "2012-10-17") continue;
    for (const statement of policy.statements)
      for (const clause of statement.conditions)
        for (const value of clause.values) {
          const parts = splitVariables(value);
          const only = parts.length === 1 ? parts[0] : undefined;
          if (only !== undefined && typeof only !== "string" && only.escape === undefined)
            ties.push([clause.keyLower, only.key]);
        }
  }
  return ties;
}

/**
 * Confirms a witness with `accept` (the evaluator's verdict), trying, when it fails, to tie the keys
 * policy variables compare; undefined when no variant is accepted.
 */
export function confirmWitness(
  policies: readonly PolicyDocument[],
  accept: (witness: Witness) => boolean,
): (witness: Witness) => Witness | undefined {
  const ties = variableTies(policies);
  return (witness) => {
    if (accept(witness)) return witness;
    if (ties.length === 0) return undefined;
    for (const direction of [0, 1]) {
      const context = new Map(witness.context);
      for (const [key, other] of ties) {
        const [first, second] = direction === 0 ? [key, other] : [other, key];
        // Make the two keys equal: copy the one present, or give both one value when neither is.
        const either = context.get(first) ?? context.get(second);
        const value =
          either ?? (DERIVED_KEYS.has(first) || DERIVED_KEYS.has(second) ? undefined : "tied-value");
        if (value === undefined) continue;
        if (!DERIVED_KEYS.has(first)) context.set(first, value);
        if (!DERIVED_KEYS.has(second)) context.set(second, value);
      }
      const variant = { ...witness, context };
      if (accept(variant)) return variant;
    }
    return undefined;
  };
}

const KIND_WORDS: Record<Witness["kind"], string> = {
  anonymous: "an anonymous client (mounted without IAM)",
  root: "the root user of account",
  user: "an IAM user of account",
  session: "a role session of account",
  federated: "a federated user of account",
  service: "the service",
};

/** Who a witness's caller is, in words. */
export function describeCaller(witness: Witness): string {
  const p = witness.principal;
  if (p.kind === "anonymous") return KIND_WORDS.anonymous;
  if (p.kind === "service") return `${KIND_WORDS.service} ${p.service}`;
  const base = `${KIND_WORDS[witness.kind]} ${p.account}`;
  return witness.kind === "root" ? base : `${base} (${p.arn})`;
}

/** A witness request in words: "an IAM user of account 5555… (arn…) through access point … with aws:SourceVpc=vpc-x". */
export function describeWitness(witness: Witness): string {
  const parts: string[] = [describeCaller(witness)];
  const extras: string[] = [];
  for (const [key, value] of witness.context) {
    if (DERIVED_KEYS.has(key) || key === "aws:securetransport") continue;
    const text = Array.isArray(value) ? value.join(",") : String(value);
    if (key.endsWith(":accesspointarn")) parts.push(`through access point ${text}`);
    else extras.push(`${key}=${text}`);
  }
  const tls = witness.context.get("aws:securetransport") === "false" ? ", without TLS" : "";
  return `${parts.join(" ")}${extras.length > 0 ? ` with ${extras.join(", ")}` : ""}${tls}`;
}

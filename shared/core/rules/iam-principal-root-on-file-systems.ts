/**
 * A role or user whose effective identity policies allow `s3files:ClientRootAccess` or
 * `elasticfilesystem:ClientRootAccess` on a file system of the account: root (uid 0, every POSIX
 * permission bypassed) on every file system whose own policy does not take it back.
 *
 * Live, each principal the change affects is judged as it is now. Offline (the CLI), the rule judges
 * what the event carries: an attached AWS managed policy known to give root (exact, without reading
 * it), or the document an inline policy or a new default version puts in force.
 *
 * Exempt: principals in `adminPrincipals`, and service-linked roles (AWS defines their policies and
 * IAM refuses attachments). Notify-only: IAM Identity Center reserved roles (the fix is in the
 * permission set). Enforce attaches the guardrail's own deny policy; it never edits or detaches the
 * customer's policies.
 */

import { parseIdentityPolicy } from "../iam/identity-policy.ts";
import { rootGrantingManagedPolicy } from "../iam/managed-policies.ts";
import type { IamIdentityChange, IamPolicySource, IamPrincipalState, IamTarget } from "../iam/model.ts";
import { isServiceLinkedRole, isSsoReservedRole, judgePrincipal } from "../iam/principal-root.ts";
import { partitionOf } from "../intake/cloudtrail-record.ts";
import { judgeIdentityRoot } from "../policy/index.ts";
import type { Change, Finding, PlanStep } from "../types.ts";
import { type JudgeContext, NOT_APPLICABLE, type Rule, type RuleOutcome } from "./rule.ts";

const ID = "iam-principal-root-on-file-systems";

function describeTarget(target: IamTarget): string {
  if (target.kind === "policy") return `managed policy ${target.name ?? target.arn ?? "(unnamed)"}`;
  return target.kind === "group" ? `the members of group ${target.name}` : `${target.kind} ${target.name}`;
}

function replacementOf(source: IamPolicySource | undefined): string {
  const known = rootGrantingManagedPolicy(source?.arn);
  return known ? ` Use ${known.replacement} instead.` : "";
}

function finding(message: string, severity: Finding["severity"] = "high"): Finding {
  return { rule: ID, severity, message };
}

/** A stand-in account when the record names none: the engine judges a principal of some account. */
const OFFLINE_ACCOUNT = "000000000000";

/**
 * Whom the event's document is judged for: the role or user it names; for a group's or a managed
 * policy's document, a role or user holding it (the live check judges each real one).
 */
function holderArn(change: Change, target: IamTarget): string {
  const prefix = `arn:${partitionOf(change.meta.region)}:iam::${change.meta.account ?? OFFLINE_ACCOUNT}`;
  if (target.kind === "role") return `${prefix}:role/${target.name}`;
  if (target.kind === "user") return `${prefix}:user/${target.name}`;
  if (target.kind === "group") return `${prefix}:user/member-of-${target.name}`;
  return `${prefix}:role/holder-of-policy`;
}

/** The offline judgement: what the event alone shows. */
function fromEvent(change: Change, detail: IamIdentityChange): RuleOutcome {
  const { trigger } = detail;
  const who = describeTarget(trigger.target);
  const live = `the live check would read the effective identity policies of ${trigger.target.kind === "policy" ? "every role, user and group it is attached to" : who}`;
  const known = /^Attach(Role|User|Group)Policy$/.test(trigger.eventName)
    ? rootGrantingManagedPolicy(trigger.policyArn)
    : undefined;
  if (known) {
    return {
      status: "violation",
      findings: [
        finding(
          `${who} got the AWS managed policy ${known.name}, which allows ${known.grants}: root on file systems (uid 0, every POSIX permission bypassed). Use ${known.replacement} instead. (Judged from the event; ${live}.)`,
        ),
      ],
      plan: [],
    };
  }
  const document = trigger.policyDocument;
  if (document === undefined) return { status: "compliant", notes: [live] };
  if (trigger.eventName === "CreatePolicyVersion" && trigger.setAsDefault !== true) {
    return { status: "compliant", notes: ["the new version is not the default: nothing changed in force"] };
  }
  const label =
    trigger.policyName && trigger.target.kind !== "policy"
      ? `inline policy ${trigger.policyName} of ${who}`
      : `managed policy ${trigger.policyName ?? trigger.policyArn ?? "(new)"}`;
  const verdict = judgeIdentityRoot({
    policies: [{ label, document: parseIdentityPolicy(document) }],
    partition: partitionOf(change.meta.region),
    account: change.meta.account ?? OFFLINE_ACCOUNT,
    principalArn: holderArn(change, trigger.target),
  });
  if (trigger.eventName === "CreatePolicy") {
    return {
      status: "compliant",
      notes: [
        verdict.grantsRoot === false
          ? "the new policy allows no root on file systems"
          : "the new policy can allow root on file systems, but is attached to nobody yet (attaching it is judged)",
      ],
    };
  }
  if (verdict.grantsRoot === false) return { status: "compliant", notes: [`${verdict.proof}; ${live}`] };
  if (verdict.grantsRoot === "undecided") {
    return {
      status: "violation",
      findings: [
        finding(
          `cannot decide whether ${label} gives root on file systems: ${verdict.reason}. Left for a person. (Judged from the event; ${live}.)`,
          "medium",
        ),
      ],
      plan: [],
    };
  }
  return {
    status: "violation",
    findings: [
      finding(
        `${label} allows root on file systems: ${verdict.witness.description}. Use s3files:ClientMount/ClientWrite (elasticfilesystem: the same) without ClientRootAccess. (Judged from the event; ${live}.)`,
      ),
    ],
    plan: [],
  };
}

function attachStep(principal: IamPrincipalState, policyArn: string): PlanStep {
  const reason = `attach the guardrail's deny policy for s3files:ClientRootAccess and elasticfilesystem:ClientRootAccess to ${principal.kind} ${principal.name} (its own policies stay as they are)`;
  return principal.kind === "role"
    ? { api: "iam:AttachRolePolicy", params: { RoleName: principal.name, PolicyArn: policyArn }, reason }
    : { api: "iam:AttachUserPolicy", params: { UserName: principal.name, PolicyArn: policyArn }, reason };
}

/** The live judgement: every affected principal as it is now. */
function fromLive(
  change: Change,
  detail: IamIdentityChange,
  principals: readonly IamPrincipalState[],
  context: JudgeContext,
): RuleOutcome {
  const partition = partitionOf(change.meta.region);
  const account = change.meta.account ?? "*";
  const findings: Finding[] = [];
  const plan: PlanStep[] = [];
  const notes: string[] = [];
  if (principals.length === 0)
    notes.push(`${describeTarget(detail.trigger.target)}: no role or user is affected now`);
  for (const principal of principals) {
    const who = `${principal.kind} ${principal.name}`;
    if (isServiceLinkedRole(principal)) {
      notes.push(`${who} is a service-linked role: exempt`);
      continue;
    }
    if (context.config.adminPrincipals.includes(principal.arn)) {
      notes.push(`${who} is an admin principal: exempt`);
      continue;
    }
    const { verdict, witnessSource } = judgePrincipal(principal, partition, account);
    if (verdict.grantsRoot === false) {
      const bounded = principal.boundary ? `, within its ${principal.boundary.label}` : "";
      notes.push(`${who}: no root${bounded} (${verdict.proof})`);
      continue;
    }
    if (verdict.grantsRoot === "undecided") {
      findings.push(
        finding(
          `cannot decide whether ${who} (${principal.arn}) can be root on file systems: ${verdict.reason}. Left for a person.`,
          "medium",
        ),
      );
      continue;
    }
    const sso = isSsoReservedRole(principal);
    findings.push(
      finding(
        `${who} (${principal.arn}) can be root on file systems (uid 0, every POSIX permission bypassed): ${verdict.witness.description}.${replacementOf(witnessSource)}${sso ? " It is an IAM Identity Center role: change its permission set (notify only)." : ""}`,
      ),
    );
    if (!sso && detail.denyPolicyArn) plan.push(attachStep(principal, detail.denyPolicyArn));
  }
  if (findings.length === 0) return { status: "compliant", notes };
  return { status: "violation", findings, plan, notes };
}

export const iamPrincipalRootOnFileSystems: Rule = {
  id: ID,
  title: "Identity policies give a role or user root on file systems",
  severity: "high",
  defaultMode: "notify",
  rationale:
    "s3files:ClientRootAccess and elasticfilesystem:ClientRootAccess make a client uid 0 on the file system, past " +
    "every POSIX permission. Managed policies such as AmazonS3FilesClientFullAccess and AmazonS3FilesFullAccess " +
    "include it; applications need AmazonS3FilesClientReadWriteAccess. Enforce attaches the guardrail's own deny " +
    "policy for the two root actions (undo: detach it) and never edits the customer's policies.",
  appliesTo: ["iam-identity"],
  evaluate(change: Change, context: JudgeContext): RuleOutcome {
    const { detail } = change;
    if (detail.kind !== "iam-identity") return NOT_APPLICABLE;
    return detail.principals === undefined
      ? fromEvent(change, detail)
      : fromLive(change, detail, detail.principals, context);
  },
};

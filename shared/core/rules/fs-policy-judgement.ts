/**
 * What the file-system policy rules share: one judgement of a policy per change, and one combined
 * edit. Several rules can find problems in the same policy; each enforced rule contributes its goal
 * to a single edit (PutFileSystemPolicy replaces the whole policy, so two separate edits would
 * undo each other), and every enforced rule returns that same step, which the judge deduplicates.
 */
import { type Config, ruleModeOf } from "../config.ts";
import { partitionOf } from "../intake/cloudtrail-record.ts";
import {
  AnalysisMemo,
  askFileSystem,
  describeCaller,
  describeWitness,
  enforcesTls,
} from "../policy/analysis.ts";
import { and, anyDenyF, not, statementF, variablesOf } from "../policy/formula.ts";
import {
  type AccessGrant,
  type EditGoals,
  editPolicy,
  evaluatePolicy,
  NO_EDIT_GOALS,
  type PolicyAnalysis,
  type PolicyDocument,
  type PolicyScope,
  parsePolicy,
  problemsOf,
  proveEdit,
  statementLabel,
  withJudgementBudget,
  witnessRequest,
} from "../policy/index.ts";
import { clientActions } from "../policy/scope.ts";
import type { Change, FileSystemService, Finding, PlanStep, RuleMode, Severity } from "../types.ts";
import type { JudgeContext } from "./rule.ts";

export type FsPolicyProblem = "public" | "crossAccount" | "root" | "tls" | "droppedDeny";

/** The policy rules: ids, default modes and severities in one place, since the combined edit needs all of them. */
export const FS_POLICY_RULES: Readonly<
  Record<
    FsPolicyProblem,
    { readonly id: string; readonly defaultMode: RuleMode; readonly severity: Severity }
  >
> = {
  public: { id: "fs-policy-public-access", defaultMode: "enforce", severity: "critical" },
  crossAccount: { id: "fs-policy-cross-account-access", defaultMode: "enforce", severity: "high" },
  root: { id: "fs-policy-root-access-outside-admins", defaultMode: "enforce", severity: "high" },
  tls: { id: "fs-policy-tls-not-enforced", defaultMode: "notify", severity: "medium" },
  droppedDeny: { id: "fs-policy-protective-deny-dropped", defaultMode: "enforce", severity: "high" },
};

export interface FsPolicyJudgement {
  readonly findings: Readonly<Record<FsPolicyProblem, readonly Finding[]>>;
  readonly notes: Readonly<Record<FsPolicyProblem, readonly string[]>>;
  /** The one combined edit for every enforced rule that found something; empty when none could be proved. */
  readonly plan: readonly PlanStep[];
  /** The rule that carries the plan (the first enforced one with findings), so the step is listed once. */
  readonly planOwner: FsPolicyProblem | undefined;
}

/** Whose file system a change is about, and who is trusted. */
export function scopeOf(
  change: Change,
  service: FileSystemService,
  fileSystemId: string,
  context: JudgeContext,
): PolicyScope {
  return {
    service,
    ownerAccount: change.meta.account,
    partition: partitionOf(change.meta.region),
    region: change.meta.region,
    fileSystemId,
    trustedAccounts: context.config.trustedAccounts,
    adminPrincipals: context.config.adminPrincipals,
  };
}

/** The PutFileSystemPolicy call, as the executor sends it (S3 Files camelCase, EFS PascalCase). */
export function putPolicyStep(
  service: FileSystemService,
  fileSystemId: string,
  policy: string,
  reason: string,
): PlanStep {
  return service === "s3files"
    ? { api: "s3files:PutFileSystemPolicy", params: { fileSystemId, policy }, reason }
    : {
        api: "elasticfilesystem:PutFileSystemPolicy",
        params: { FileSystemId: fileSystemId, Policy: policy },
        reason,
      };
}

function shortAction(action: string): string {
  return action.slice(action.indexOf(":") + 1);
}

function exampleOf(grants: readonly AccessGrant[]): AccessGrant {
  return grants.find((g) => g.principal.kind === "anonymous") ?? (grants[0] as AccessGrant);
}

function byStatement(grants: readonly AccessGrant[]): Map<number, AccessGrant[]> {
  const map = new Map<number, AccessGrant[]>();
  for (const grant of grants) {
    for (const statement of grant.allowedBy) {
      const list = map.get(statement.index) ?? [];
      list.push(grant);
      map.set(statement.index, list);
    }
  }
  return map;
}

/** Whom a grant names: the caller's `aws:PrincipalArn` (a role for its sessions), or the anonymous client. */
function principalNameOf(grant: AccessGrant): string {
  const arn = grant.context.get("aws:principalarn");
  return typeof arn === "string" ? arn : describeCaller(grant.witness);
}

function actionsOf(grants: readonly AccessGrant[]): string {
  return [...new Set(grants.map((g) => shortAction(g.action)))].join(", ");
}

function publicFindings(fsId: string, policy: PolicyDocument, grants: readonly AccessGrant[]): Finding[] {
  const { id, severity } = FS_POLICY_RULES.public;
  return [...byStatement(grants)].map(([index, list]) => {
    const example = exampleOf(list);
    return {
      rule: id,
      severity,
      message: `${fsId} ${statementLabel(policy.statements[index] as PolicyDocument["statements"][number])} grants ${actionsOf(list)} to anyone outside the trusted accounts: public, no condition limits it to fixed values (for example: ${describeWitness(example.witness)})`,
    };
  });
}

function crossAccountFindings(
  fsId: string,
  policy: PolicyDocument,
  grants: readonly AccessGrant[],
): Finding[] {
  const { id, severity } = FS_POLICY_RULES.crossAccount;
  const findings: Finding[] = [];
  for (const [index, list] of byStatement(grants)) {
    const accounts = new Map<string, AccessGrant[]>();
    for (const grant of list) {
      const account = grant.principal.kind === "aws" ? grant.principal.account : "?";
      const perAccount = accounts.get(account);
      if (perAccount) perAccount.push(grant);
      else accounts.set(account, [grant]);
    }
    for (const [account, perAccount] of accounts) {
      findings.push({
        rule: id,
        severity,
        message: `${fsId} ${statementLabel(policy.statements[index] as PolicyDocument["statements"][number])} grants ${actionsOf(perAccount)} to account ${account}, which is not a trusted account (for example: ${describeWitness((perAccount[0] as AccessGrant).witness)})`,
      });
    }
  }
  return findings;
}

function rootFindings(fsId: string, policy: PolicyDocument, grants: readonly AccessGrant[]): Finding[] {
  const { id, severity } = FS_POLICY_RULES.root;
  return [...byStatement(grants)].map(([index, list]) => {
    const example = exampleOf(list);
    return {
      rule: id,
      severity,
      message: `${fsId} ${statementLabel(policy.statements[index] as PolicyDocument["statements"][number])} grants ClientRootAccess to ${principalNameOf(example)}, outside the admin principals: root bypasses every POSIX permission check (for example: ${describeWitness(example.witness)})`,
    };
  });
}

/**
 * Deny statements of the last known good policy that protected write or root access and are gone:
 * some request the old Deny refused is no longer explicitly denied by the current policy (decided
 * over every caller and context, with a witness request).
 */
function droppedDenies(
  previous: PolicyDocument,
  current: PolicyDocument,
  scope: PolicyScope,
): {
  dropped: { statement: PolicyDocument["statements"][number]; actions: Set<string>; example: string }[];
  undecided: string[];
} {
  const protectedActions = clientActions(scope.service).filter((a) => !a.endsWith(":ClientMount"));
  const dropped: {
    statement: PolicyDocument["statements"][number];
    actions: Set<string>;
    example: string;
  }[] = [];
  const undecided: string[] = [];
  const variables = variablesOf(previous);
  for (const statement of previous.statements) {
    if (statement.effect !== "Deny") continue;
    const actions = new Set<string>();
    let example = "";
    for (const action of protectedActions) {
      const outcome = askFileSystem(
        [previous, current],
        scope,
        (frame) => and([statementF(statement, frame, variables), not(anyDenyF(current, frame))]),
        (w) =>
          evaluatePolicy(previous, witnessRequest(w)).deniedBy.includes(statement) &&
          evaluatePolicy(current, witnessRequest(w)).decision !== "explicit-deny",
        { actions: [action] },
      );
      if (outcome.status === "undecided") undecided.push(outcome.reason);
      if (outcome.status !== "witness") continue;
      actions.add(shortAction(action));
      if (!example) example = `${outcome.witness.action} by ${describeWitness(outcome.witness)}`;
    }
    if (actions.size > 0) dropped.push({ statement, actions, example });
  }
  return { dropped, undecided };
}

/**
 * The last judgement made: the policy rules of one change ask one after another, so the last one is
 * all they need. One entry, not a weak map keyed on every change: weak entries for thousands of
 * short-lived changes cost the garbage collector more than a judgement.
 */
let last: { change: Change; context: JudgeContext; judgement: FsPolicyJudgement } | undefined;

/**
 * Recent judgements under one configuration (the Lambda and the CLI have one), by everything else
 * a judgement reads. A judgement is pure, so a repeated policy gets the same one; bounded, and
 * emptied when the configuration changes.
 */
const RECENT_JUDGEMENTS = 256;
const recent: { config: Config | undefined; judgements: Map<string, FsPolicyJudgement> } = {
  config: undefined,
  judgements: new Map(),
};

/**
 * Judges the policy text of an `fs-policy-put` change once for all policy rules. Throws
 * `InvalidInputError` when the text is not a policy (the judge then records the change as invalid).
 */
export function judgeFsPolicy(change: Change, context: JudgeContext): FsPolicyJudgement {
  if (last && last.change === change && last.context === context) return last.judgement;
  const { detail } = change;
  if (detail.kind !== "fs-policy-put") throw new Error("judgeFsPolicy needs an fs-policy-put change");
  // Everything a judgement reads, besides the configuration: trails repeat the same policies.
  // Joined rather than JSON-encoded: escaping a policy text costs more than a memo hit saves.
  const lastGood = context.facts.lastKnownGoodPolicy?.get(detail.fileSystemId);
  // Exemptions change which goals the combined edit has, and they expire: part of the key.
  const exempt = Object.values(FS_POLICY_RULES)
    .filter((rule) => context.isExempt?.(rule.id) === true)
    .map((rule) => rule.id)
    .join(",");
  const key = `${detail.service}|${detail.fileSystemId}|${change.meta.account ?? ""}|${change.meta.region ?? ""}|${exempt}|${
    lastGood === undefined ? 0 : lastGood.length
  }\n${detail.policyText}\n${lastGood ?? ""}`;
  if (recent.config !== context.config) {
    recent.config = context.config;
    recent.judgements.clear();
  }
  const known = recent.judgements.get(key);
  if (known) {
    last = { change, context, judgement: known };
    return known;
  }
  // Every question, the edit and its proof share one budget: a policy that exhausts it is "too
  // complex to decide" (recorded, no plan) long before the Lambda's timeout.
  const judgement = withJudgementBudget(() => judgeUncached(change, detail, context)).result;
  if (recent.judgements.size >= RECENT_JUDGEMENTS) recent.judgements.clear();
  recent.judgements.set(key, judgement);
  last = { change, context, judgement };
  return judgement;
}

function judgeUncached(
  change: Change,
  detail: Extract<Change["detail"], { kind: "fs-policy-put" }>,
  context: JudgeContext,
): FsPolicyJudgement {
  const policy = parsePolicy(detail.policyText);
  const scope = scopeOf(change, detail.service, detail.fileSystemId, context);
  const fsId = detail.fileSystemId;
  // One analysis of the policy (and one of the edited policy) for the findings, the edit and the proof.
  const memo = new AnalysisMemo();
  const analysis: PolicyAnalysis = memo.analyze(policy, scope);
  const problems = problemsOf(analysis);
  const findings: Record<FsPolicyProblem, Finding[]> = {
    public: publicFindings(fsId, policy, problems.publicGrants),
    crossAccount: crossAccountFindings(fsId, policy, problems.crossAccountGrants),
    root: rootFindings(fsId, policy, problems.rootOutsideAdmins),
    tls: [],
    droppedDeny: [],
  };
  const notes: Record<FsPolicyProblem, string[]> = {
    public: [],
    crossAccount: [],
    root: [],
    tls: [],
    droppedDeny: [],
  };
  // A question the solver could not decide within its budget is never "safe": a finding for a
  // person, and no plan for this policy.
  let tooComplex = !analysis.complete;
  if (!analysis.complete) {
    findings.public.push({
      rule: FS_POLICY_RULES.public.id,
      severity: FS_POLICY_RULES.public.severity,
      message: `${fsId}: the policy is too complex to decide whether it is public (${analysis.undecided.join("; ")}): left for a person`,
    });
  }
  if (detail.service === "efs") {
    const tls = enforcesTls(policy, scope);
    if (tls.undecided !== undefined) tooComplex = true;
    if (!tls.enforced) {
      findings.tls.push({
        rule: FS_POLICY_RULES.tls.id,
        severity: FS_POLICY_RULES.tls.severity,
        message: `${fsId}: no Deny on aws:SecureTransport = false, so clients may mount without TLS (${tls.example})`,
      });
    }
  }
  let restoreDenies: Readonly<Record<string, unknown>>[] = [];
  const lastGoodText = context.facts.lastKnownGoodPolicy?.get(fsId);
  if (lastGoodText === undefined) {
    notes.droppedDeny.push(
      `${fsId}: dropped protective Denies would be checked against the last known good policy`,
    );
  } else if (lastGoodText !== detail.policyText) {
    let previous: PolicyDocument | undefined;
    try {
      previous = parsePolicy(lastGoodText);
    } catch {
      notes.droppedDeny.push(
        `${fsId}: the last known good policy cannot be parsed; dropped Denies not checked`,
      );
    }
    if (previous) {
      const { dropped, undecided } = droppedDenies(previous, policy, scope);
      restoreDenies = dropped.map((d) => d.statement.raw);
      for (const d of dropped) {
        findings.droppedDeny.push({
          rule: FS_POLICY_RULES.droppedDeny.id,
          severity: FS_POLICY_RULES.droppedDeny.severity,
          message: `${fsId}: Deny ${statementLabel(d.statement)} of the last known good policy protected ${[...d.actions].join(", ")} and is gone (for example, no longer denied: ${d.example})`,
        });
      }
      if (undecided.length > 0) {
        tooComplex = true;
        findings.droppedDeny.push({
          rule: FS_POLICY_RULES.droppedDeny.id,
          severity: FS_POLICY_RULES.droppedDeny.severity,
          message: `${fsId}: too complex to decide whether a Deny of the last known good policy is gone (${undecided[0]}): left for a person`,
        });
      }
    }
  }

  const enforced = (problem: FsPolicyProblem) =>
    findings[problem].length > 0 &&
    ruleModeOf(context.config, FS_POLICY_RULES[problem].id, FS_POLICY_RULES[problem].defaultMode) ===
      "enforce" &&
    context.isExempt?.(FS_POLICY_RULES[problem].id) !== true;
  const goals: EditGoals = {
    ...NO_EDIT_GOALS,
    publicAccess: enforced("public"),
    crossAccountAccess: enforced("crossAccount"),
    rootOutsideAdmins: enforced("root"),
    enforceTls: enforced("tls"),
    restoreDenies: enforced("droppedDeny") ? restoreDenies : [],
  };
  let plan: PlanStep[] = [];
  const wanted =
    !tooComplex &&
    (goals.publicAccess ||
      goals.crossAccountAccess ||
      goals.rootOutsideAdmins ||
      goals.enforceTls ||
      goals.restoreDenies.length > 0);
  if (tooComplex) {
    for (const problem of Object.keys(notes) as FsPolicyProblem[])
      if (findings[problem].length > 0)
        notes[problem].push("too complex to decide: no plan, left for a person");
  }
  if (wanted) {
    try {
      const edit = editPolicy(policy, scope, goals, memo);
      const proof = proveEdit(policy, edit.policy, scope, goals, memo);
      if (proof.ok) {
        plan = [
          putPolicyStep(
            detail.service,
            fsId,
            edit.text,
            `edit only the offending statements (${edit.changes.join("; ")}); proved over every request (every kind of caller, client action and condition value) to grant nothing the current policy does not, and to take nothing from principals of the owner's and trusted accounts beyond what the goals remove`,
          ),
        ];
      } else {
        for (const problem of Object.keys(notes) as FsPolicyProblem[]) {
          if (findings[problem].length > 0)
            notes[problem].push(`no edit could be proved safe (${proof.failure}): left for a person`);
        }
      }
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      for (const problem of Object.keys(notes) as FsPolicyProblem[]) {
        if (findings[problem].length > 0) notes[problem].push(`no edit planned: ${why}`);
      }
    }
  }
  const order: FsPolicyProblem[] = ["public", "crossAccount", "root", "tls", "droppedDeny"];
  const planOwner = plan.length > 0 ? order.find(enforced) : undefined;
  return { findings, notes, plan, planOwner };
}

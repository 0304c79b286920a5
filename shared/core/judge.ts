/**
 * The engine's one entry point: a raw input in, one `Evaluation` out. Pure: the caller supplies the
 * configuration, the time and whatever live facts it has read.
 */
import { type Config, type Exemption, ruleModeOf } from "./config.ts";
import { errorMessage } from "./errors.ts";
import { describeActor } from "./intake/cloudtrail-record.ts";
import { type IntakeResult, intakeRecord } from "./intake/intake.ts";
import { RULES } from "./rules/index.ts";
import type { JudgeContext, LiveFacts, Rule } from "./rules/rule.ts";
import type { Change, ChangeKind, ChangeMeta, Finding, PlanStep, RuleMode, Verdict } from "./types.ts";

/** One decision about one input: what the CLI prints, and what the runtime acts on and audits. */
export interface Evaluation {
  readonly eventID: string | null;
  readonly eventName: string | null;
  readonly eventSource: string | null;
  readonly actor: string | null;
  readonly resource: string | null;
  readonly verdict: Verdict;
  readonly findings: readonly Finding[];
  /** The remediation to run: only enforced, un-exempted findings contribute. */
  readonly plan: readonly PlanStep[];
  readonly reason: string;
  /** The full evidence, for the runtime and the audit record; not part of the CLI's JSON line. */
  readonly meta?: ChangeMeta;
  readonly change?: Change;
  readonly exemption?: Exemption;
  /** Mode of each rule that found a violation. */
  readonly modes?: Readonly<Record<string, RuleMode>>;
}

export interface EvaluateOptions {
  readonly config: Config;
  /** For exemption expiry. */
  readonly now: Date;
  readonly facts?: LiveFacts;
  readonly rules?: readonly Rule[];
}

/** Why no rule judges a change of this kind. */
const NOTHING_TO_JUDGE: Partial<Record<ChangeKind, string>> = {
  "sg-rules-revoked": "removes rules: it can only narrow access",
  "sg-created": "a new security group has no inbound rules",
  "sg-deleted": "deleting a security group removes its rules",
};

function exemptionEnd(expires: string): number {
  // A bare date means "through that day", UTC.
  return /^\d{4}-\d{2}-\d{2}$/.test(expires) ? Date.parse(`${expires}T23:59:59.999Z`) : Date.parse(expires);
}

/** The first unexpired exemption that covers this change for every rule given, if any. */
export function findExemption(
  change: Change,
  ruleIds: readonly string[],
  exemptions: readonly Exemption[],
  now: Date,
): Exemption | undefined {
  return exemptions.find(
    (exemption) =>
      exemptionEnd(exemption.expires) >= now.getTime() &&
      (exemption.resource !== undefined
        ? change.resourceIds.includes(exemption.resource)
        : exemption.account === change.meta.account) &&
      (exemption.rules === undefined || ruleIds.every((id) => exemption.rules?.includes(id))),
  );
}

function describeExemption(exemption: Exemption): string {
  return `until ${exemption.expires} (owner ${exemption.owner}): ${exemption.reason}`;
}

function dedupeSteps(steps: readonly PlanStep[]): readonly PlanStep[] {
  if (steps.length < 2) return steps;
  const byCall = new Map<string, PlanStep>();
  for (const step of steps) {
    const key = `${step.api} ${JSON.stringify(step.params)}`;
    const seen = byCall.get(key);
    byCall.set(key, seen ? { ...seen, reason: `${seen.reason}; ${step.reason}` } : step);
  }
  return [...byCall.values()];
}

/**
 * One evaluation of a change, built as a single literal: spreading a shared base and adding fields
 * makes V8 take a slow path that cost more than judging most records.
 */
function evaluationOf(
  change: Change,
  verdict: Verdict,
  reason: string,
  findings: readonly Finding[] = [],
  plan: readonly PlanStep[] = [],
  decision: { modes?: Readonly<Record<string, RuleMode>>; exemption?: Exemption } = {},
): Evaluation {
  return {
    eventID: change.meta.eventId,
    eventName: change.meta.eventName,
    eventSource: change.meta.eventSource,
    actor: describeActor(change.meta.actor),
    resource: change.resource,
    verdict,
    findings,
    plan,
    reason,
    meta: change.meta,
    change,
    modes: decision.modes,
    exemption: decision.exemption,
  };
}

/** Runs every applicable rule on a change and applies modes and exemptions. */
export function judgeChange(change: Change, options: EvaluateOptions): Evaluation {
  // Exemptions apply rule by rule: an exemption for one rule never shields another that also fired.
  const exemptions = new Map<string, Exemption | undefined>();
  const exemptionFor = (ruleId: string): Exemption | undefined => {
    if (options.config.exemptions.length === 0) return undefined;
    if (!exemptions.has(ruleId)) {
      exemptions.set(ruleId, findExemption(change, [ruleId], options.config.exemptions, options.now));
    }
    return exemptions.get(ruleId);
  };
  const context: JudgeContext = {
    config: options.config,
    facts: options.facts ?? {},
    isExempt: (ruleId) => exemptionFor(ruleId) !== undefined,
  };
  const findings: Finding[] = [];
  const plan: PlanStep[] = [];
  const notes: string[] = [];
  const modes: Record<string, RuleMode> = {};
  const exempted: { rule: string; exemption: Exemption }[] = [];
  const errors: string[] = [];
  let applicable = 0;
  for (const rule of options.rules ?? RULES) {
    if (!rule.appliesTo.includes(change.detail.kind)) continue;
    const mode = ruleModeOf(options.config, rule.id, rule.defaultMode);
    if (mode === "off") continue;
    applicable++;
    try {
      const outcome = rule.evaluate(change, context);
      if (outcome.status === "not-applicable") continue;
      notes.push(...(outcome.notes ?? []));
      if (outcome.status !== "violation") continue;
      modes[rule.id] = mode;
      findings.push(...outcome.findings);
      const exemption = exemptionFor(rule.id);
      if (exemption) exempted.push({ rule: rule.id, exemption });
      else if (mode === "enforce") plan.push(...outcome.plan);
    } catch (error) {
      // A rule that throws is a bug in the rule: recorded, and it never causes a write.
      errors.push(`rule ${rule.id} errored: ${errorMessage(error)}`);
    }
  }
  // Rules that share one judgement (the policy rules, the bucket rules) may note the same thing.
  const noteText = notes.length > 0 ? ` Live check: ${[...new Set(notes)].join("; ")}.` : "";
  if (findings.length === 0) {
    if (errors.length > 0) return evaluationOf(change, "invalid", errors.join("; "));
    const why = NOTHING_TO_JUDGE[change.detail.kind];
    if (applicable === 0) {
      return why
        ? evaluationOf(change, "compliant", `${change.meta.eventName} ${why}`)
        : evaluationOf(change, "ignored", `every rule that judges ${change.meta.eventName} is off`);
    }
    return evaluationOf(change, "compliant", `no rule found a violation.${noteText}`.trim());
  }
  const ruleIds = Object.keys(modes);
  const errorText = errors.length > 0 ? ` ${errors.join("; ")}.` : "";
  const [first] = exempted;
  if (first && exempted.length === ruleIds.length) {
    return evaluationOf(
      change,
      "violation",
      `exempted ${describeExemption(first.exemption)}.${errorText}`,
      findings,
      [],
      { modes, exemption: first.exemption },
    );
  }
  const notifyOnly = ruleIds.filter((id) => modes[id] === "notify");
  const steps = dedupeSteps(plan);
  const modeText = notifyOnly.length > 0 ? ` Notify only: ${notifyOnly.join(", ")}.` : "";
  const exemptText = exempted
    .map(({ rule, exemption }) => ` Exempted: ${rule} ${describeExemption(exemption)}.`)
    .join("");
  const action =
    steps.length > 0 ? `${steps.length} remediation step(s) planned.` : "no remediation planned.";
  return evaluationOf(
    change,
    "violation",
    `${findings.length} finding(s); ${action}${modeText}${exemptText}${noteText}${errorText}`,
    findings,
    steps,
    { modes },
  );
}

function fromIntake(result: Exclude<IntakeResult, { status: "change" }>): Evaluation {
  switch (result.status) {
    case "ignored":
      return {
        eventID: result.meta.eventId,
        eventName: result.meta.eventName,
        eventSource: result.meta.eventSource,
        actor: describeActor(result.meta.actor),
        resource: result.resource ?? null,
        verdict: "ignored",
        findings: [],
        plan: [],
        reason: result.reason,
        meta: result.meta,
      };
    case "ignored-partial":
    case "invalid":
      return {
        eventID: result.partial.eventId ?? null,
        eventName: result.partial.eventName ?? null,
        eventSource: result.partial.eventSource ?? null,
        actor: null,
        resource: null,
        verdict: result.status === "invalid" ? "invalid" : "ignored",
        findings: [],
        plan: [],
        reason: result.status === "invalid" ? result.error : result.reason,
      };
  }
}

/** The evaluation of an intake result: judged when it is a change, else ignored or invalid as intake said. */
export function evaluateIntake(intake: IntakeResult, options: EvaluateOptions): Evaluation {
  return intake.status === "change" ? judgeChange(intake.change, options) : fromIntake(intake);
}

/** One raw input (EventBridge event or CloudTrail record) to one evaluation. Never throws on bad input. */
export function evaluateRecord(raw: unknown, options: EvaluateOptions): Evaluation {
  return evaluateIntake(intakeRecord(raw, { selfRoleArns: options.config.selfRoleArns }), options);
}

/** An input that could not even be read (unreadable file, not JSON) still gets its one line. */
export function unreadableInput(source: string, error: string): Evaluation {
  return {
    eventID: null,
    eventName: null,
    eventSource: null,
    actor: null,
    resource: source,
    verdict: "invalid",
    findings: [],
    plan: [],
    reason: error,
  };
}

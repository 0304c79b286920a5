/**
 * What a notification tells people about one decision: who changed what (or that the scheduled
 * check found it), from where, which rule and why it exists, where to look at the resource, what
 * was done, the before/after difference, what to do now and how to undo it. Pure: SNS, Slack,
 * EventBridge and Security Hub render the same content, each in its own format.
 */
import { ruleById } from "../core/rules/index.ts";
import type { Severity } from "../core/types.ts";
import { consoleUrl, type ResourceRef, resourceRef } from "./console-links.ts";
import { DEFAULT_EXEMPT_TAG_KEY } from "./exemption-tag.ts";
import type { AuditRecord, AuditVerdict } from "./ports.ts";
import { shellQuote, type UndoStep, undoSteps } from "./undo.ts";

/** The verdicts that reach people unless configured otherwise (see README, "Which verdicts notify"). */
export const DEFAULT_NOTIFY_VERDICTS: readonly AuditVerdict[] = ["violation", "exempted", "failed"];

/**
 * What a channel that keeps findings over time (Security Hub) hears: compliant decisions too, so a
 * finding is resolved when the resource is fixed.
 */
export const FINDING_TRACKER_VERDICTS: readonly AuditVerdict[] = [...DEFAULT_NOTIFY_VERDICTS, "compliant"];

/** A rule that fired, as its registry entry tells it. */
export interface RuleNote {
  readonly id: string;
  readonly title: string;
  /** Why the rule exists. */
  readonly rationale: string;
  /** The AWS documentation of the control it guards. */
  readonly docsUrl: string | undefined;
}

export interface NotificationContent {
  /** One line, ASCII, at most {@link MAX_SUBJECT_LENGTH} characters (SNS e-mail subject rules). */
  readonly subject: string;
  /** One sentence: what happened and what was done. */
  readonly headline: string;
  /** `event`: a CloudTrail event was judged; `sweep`: the scheduled check found it. */
  readonly trigger: "event" | "sweep";
  /** The resource's page in the AWS console of its partition, when its type is known. */
  readonly consoleUrl: string | undefined;
  /** Label/value pairs, in reading order. Values are never empty ("-" when unknown). */
  readonly facts: readonly (readonly [string, string])[];
  /** `[severity] rule: message`, one per finding. */
  readonly findings: readonly string[];
  /** The rules that fired: title, why they exist, where AWS documents the control. */
  readonly rules: readonly RuleNote[];
  /** What the remediator did (or would do), one line per planned API call. */
  readonly actions: readonly string[];
  /** The before/after difference, one line per change: `- removed`, `+ added`, `~ changed`. */
  readonly diff: readonly string[];
  /** What a person should do now (a failed revert: the resource may still be unsafe). */
  readonly nextSteps: readonly string[];
  /** How to undo the remediation, one line per step, or why there is nothing to undo. */
  readonly undo: readonly string[];
  /** The undo as data: each step's CLI command and the equivalent SDK call. */
  readonly undoSteps: readonly UndoStep[];
}

export interface DescribeOptions {
  /** The tag whose value exempts a resource (`EXEMPT_TAG_KEY`); `remediator:exempt` by default. */
  readonly exemptTagKey?: string;
}

/** SNS: "Subjects must be ASCII text … less than 100 characters long". */
export const MAX_SUBJECT_LENGTH = 99;
const MAX_DIFF_LINES = 60;
const MAX_LINE_LENGTH = 400;

const SEVERITY_ORDER: readonly Severity[] = ["critical", "high", "medium", "low"];

/** The most severe finding of a record, if any. */
export function maxSeverity(record: Pick<AuditRecord, "findings">): Severity | undefined {
  return SEVERITY_ORDER.find((severity) => record.findings.some((finding) => finding.severity === severity));
}

/** `sg-0a1b…` from its ARN; an id stays as it is. */
export function shortResource(resource: string | undefined): string {
  if (!resource) return "-";
  if (!resource.startsWith("arn:")) return resource;
  const tail = resource.split(":").slice(5).join(":");
  return tail.slice(tail.lastIndexOf("/") + 1) || tail;
}

/** `DevOps/alice` for an assumed-role session, `alice` for a user, else the ARN. */
export function shortActor(actor: string | undefined): string {
  if (!actor) return "unknown caller";
  const match = /^arn:[^:]+:(?:sts|iam)::\d*:(assumed-role|user|role)\/(.+)$/.exec(actor);
  if (!match?.[2]) return actor;
  const path = match[2].split("/");
  return match[1] === "assumed-role" ? path.slice(-2).join("/") : (path.at(-1) ?? actor);
}

function clip(text: string, max = MAX_LINE_LENGTH): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function compact(value: unknown): string {
  if (value === undefined) return "(none)";
  return clip(typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value)));
}

/** ASCII only, one line, clipped: what SNS accepts as an e-mail subject. */
export function asciiSubject(text: string): string {
  const ascii = text
    .replace(/[…]/g, "...")
    .replace(/[→]/g, "->")
    .replace(/[\r\n\t]+/g, " ")
    .replace(/[^\x20-\x7e]/g, "?")
    .trim();
  return ascii.length <= MAX_SUBJECT_LENGTH ? ascii : `${ascii.slice(0, MAX_SUBJECT_LENGTH - 3)}...`;
}

// ---- the before/after difference -------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Policies travel as JSON text inside the state: parse them so the diff shows statements. */
function normalise(value: unknown): Json | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string") {
    const trimmed = value.trim();
    if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
      try {
        return normalise(JSON.parse(trimmed));
      } catch {
        return value;
      }
    }
    return value;
  }
  if (Array.isArray(value)) return value.map((item) => normalise(item) ?? null);
  if (value !== null && typeof value === "object") {
    const out: { [key: string]: Json } = {};
    for (const [key, item] of Object.entries(value)) {
      const normalised = normalise(item);
      if (normalised !== undefined) out[key] = normalised;
    }
    return out;
  }
  if (typeof value === "number" || typeof value === "boolean" || value === null) return value;
  return String(value);
}

const isObject = (value: Json | undefined): value is { [key: string]: Json } =>
  value !== null && typeof value === "object" && !Array.isArray(value);

function equal(a: Json | undefined, b: Json | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Keys that identify an element of a list (a policy statement by its Sid, a security-group rule by
 * its id), so that removing one statement shows as one removal instead of every later one "changing".
 */
const IDENTITY_KEYS = [
  "Sid",
  "SecurityGroupRuleId",
  "securityGroupRuleId",
  "ruleId",
  "AccessPointId",
  "accessPointId",
  "MountTargetId",
  "mountTargetId",
  "GroupId",
  "groupId",
];

function identityOf(value: Json | undefined): string | undefined {
  if (!isObject(value)) return undefined;
  for (const key of IDENTITY_KEYS) {
    const id = value[key];
    if (typeof id === "string" && id !== "") return `${key}=${id}`;
  }
  return undefined;
}

function diffInto(path: string, before: Json | undefined, after: Json | undefined, out: string[]): void {
  if (equal(before, after)) return;
  const label = path || "(state)";
  if (before === undefined) {
    out.push(`+ ${label}: ${compact(after)}`);
    return;
  }
  if (after === undefined) {
    out.push(`- ${label}: ${compact(before)}`);
    return;
  }
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    for (const key of keys) diffInto(path ? `${path}.${key}` : key, before[key], after[key], out);
    return;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    diffLists(path, before, after, out);
    return;
  }
  out.push(`~ ${label}: ${compact(before)} -> ${compact(after)}`);
}

function diffLists(path: string, before: Json[], after: Json[], out: string[]): void {
  const remaining = [...after];
  const removed: Json[] = [];
  const paired: [string, Json, Json][] = [];
  for (const item of before) {
    const exact = remaining.findIndex((candidate) => equal(candidate, item));
    if (exact >= 0) {
      remaining.splice(exact, 1);
      continue;
    }
    const id = identityOf(item);
    const same = id === undefined ? -1 : remaining.findIndex((candidate) => identityOf(candidate) === id);
    const match = same >= 0 ? remaining.splice(same, 1)[0] : undefined;
    if (id !== undefined && match !== undefined) paired.push([id, item, match]);
    else removed.push(item);
  }
  const at = (item: Json) => `${path}[${identityOf(item) ?? ""}]`;
  for (const item of removed) out.push(`- ${at(item)}: ${compact(item)}`);
  for (const [id, b, a] of paired) diffInto(`${path}[${id}]`, b, a, out);
  for (const item of remaining) out.push(`+ ${at(item)}: ${compact(item)}`);
}

/**
 * The difference between two states as lines: `- path: value` removed, `+ path: value` added,
 * `~ path: old -> new` changed. Policy documents held as JSON text are compared statement by
 * statement; list elements are matched by their id (Sid, rule id) or by equality.
 */
export function stateDiff(before: unknown, after: unknown): string[] {
  const out: string[] = [];
  diffInto("", normalise(before), normalise(after), out);
  if (out.length <= MAX_DIFF_LINES) return out;
  return [
    ...out.slice(0, MAX_DIFF_LINES),
    `… ${out.length - MAX_DIFF_LINES} more difference(s) in the audit record`,
  ];
}

// ---- the whole message ------------------------------------------------------------------------

/** A decision of the scheduled sweep (`reconcile`), not of a CloudTrail event. */
export function isSweep(record: Pick<AuditRecord, "eventId" | "eventName">): boolean {
  return record.eventName === "Reconcile" || record.eventId.startsWith("reconcile:");
}

/** The file system a record's state names (a mount target's or access point's parent). */
function fileSystemOf(record: AuditRecord): string | undefined {
  const before = record.before as { fileSystemId?: unknown } | null | undefined;
  return typeof before?.fileSystemId === "string" ? before.fileSystemId : undefined;
}

function refOf(record: AuditRecord): ResourceRef | undefined {
  return resourceRef(record.resource, record.region, fileSystemOf(record));
}

/** The registry's words on each rule that fired. */
export function ruleNotes(ruleIds: readonly string[]): RuleNote[] {
  return ruleIds.map((id) => {
    const rule = ruleById(id);
    return {
      id,
      title: rule?.title ?? id,
      rationale: rule?.rationale ?? "(not in this version's rule catalogue)",
      docsUrl: rule?.docsUrl,
    };
  });
}

/**
 * The command that tags a resource as exempted, on the resource the pipeline reads the tag from
 * (a mount target's file system): security groups, EFS and S3 Files resources. Other types get the
 * configuration exemption only.
 */
function exemptionTagCommand(ref: ResourceRef | undefined, key: string, region: string | undefined) {
  if (!ref) return undefined;
  const value = "reason=<why>;expires=<YYYY-MM-DD>;owner=<who>";
  const at = region ? ` --region ${region}` : "";
  const pascal = shellQuote(JSON.stringify([{ Key: key, Value: value }]));
  const camel = shellQuote(JSON.stringify([{ key, value }]));
  const [service, type] = ref.type.split(":");
  if (ref.type === "ec2:security-group")
    return `aws ec2 create-tags${at} --resources ${ref.id} --tags ${pascal}`;
  const target = type === "mount-target" ? ref.fileSystemId : ref.id;
  if (!target) return undefined;
  if (service === "elasticfilesystem")
    return `aws efs tag-resource${at} --resource-id ${target} --tags ${pascal}`;
  if (service === "s3files") return `aws s3files tag-resource${at} --resource-id ${target} --tags ${camel}`;
  return undefined;
}

function exemptionAdvice(record: AuditRecord, ref: ResourceRef | undefined, key: string): string {
  const command = exemptionTagCommand(ref, key, record.region);
  const onWhat = ref?.type.endsWith(":mount-target") ? "its file system" : shortResource(record.resource);
  const scope = record.rules.length > 0 ? ` (rule ${record.rules.join(", ")})` : "";
  return command
    ? `If the change is intended, exempt ${onWhat} first with the tag ${key} (value reason=…;expires=YYYY-MM-DD[;owner=…]): ${command} — or add an exemption${scope} to the remediator configuration. Without one, the guardrail treats the change as unsafe again.`
    : `If the change is intended, add an exemption${scope} for it to the remediator configuration first (resource, reason, owner, expires). Without one, the guardrail treats the change as unsafe again.`;
}

function subjectOf(record: AuditRecord, verb: string, sweep: boolean): string {
  const severity = maxSeverity(record);
  const tag = severity ? `[${severity.toUpperCase()}] ` : "";
  const resource = shortResource(record.resource);
  if (sweep) {
    const rules = record.rules.length > 0 ? ` breaks ${record.rules.join(", ")}` : "";
    return asciiSubject(`${tag}${verb} (scheduled check): ${resource}${rules}`);
  }
  return asciiSubject(
    `${tag}${verb}: ${record.eventName ?? record.verdict} on ${resource} by ${shortActor(record.actor)}`,
  );
}

function headlineOf(record: AuditRecord, sweep: boolean): { verb: string; sentence: string } {
  const resource = shortResource(record.resource);
  const rules = record.rules.length > 0 ? record.rules.join(", ") : "a rule";
  const by = sweep
    ? `Found by the scheduled check: ${resource}`
    : `${shortActor(record.actor)}'s ${record.eventName ?? "change"} on ${resource}`;
  const broke = sweep ? "breaks" : "broke";
  switch (record.verdict) {
    case "violation":
      switch (record.outcome) {
        case "remediated":
          return {
            verb: "Reverted",
            sentence: `${by} ${broke} ${rules}; the remediator reverted it and verified the result.`,
          };
        case "dry-run":
          return {
            verb: "Would revert",
            sentence: `${by} ${broke} ${rules}; dry-run: the fix was planned, not run. The resource is still unsafe.`,
          };
        case "already-compliant":
          return {
            verb: "Already fixed",
            sentence: `${by} ${broke} ${rules}, but the live state was already compliant.`,
          };
        case "failed":
          return {
            verb: "FAILED to revert",
            sentence: `${by} ${broke} ${rules}, and reverting it FAILED: the resource may still be unsafe.`,
          };
        default:
          return {
            verb: "Unsafe, not reverted",
            sentence: `${by} ${broke} ${rules}; not reverted (mode ${record.mode}). The resource is still unsafe.`,
          };
      }
    case "exempted":
      return {
        verb: "Exempted",
        sentence: `${by} ${broke} ${rules}; the resource is exempted, so it was left as is.`,
      };
    case "failed":
      return record.rules.length > 0
        ? {
            verb: "FAILED to revert",
            sentence: `${by} ${broke} ${rules}, and reverting it FAILED: the resource may still be unsafe.`,
          }
        : {
            verb: "FAILED",
            sentence: `The remediator could not complete its decision on ${sweep ? resource : by}: it may be unsafe.`,
          };
    case "invalid":
      return {
        verb: "Unreadable event",
        sentence: "An event could not be understood and was recorded as invalid.",
      };
    case "compliant":
      return { verb: "Compliant", sentence: `${by} is compliant.` };
    case "ignored":
      return { verb: "Ignored", sentence: `${by} was ignored.` };
  }
}

/**
 * Nothing changed: say so, rather than a diff from the state read to "nothing read after", which
 * reads as if the resource had been deleted.
 */
function unchangedBecause(record: AuditRecord): string | undefined {
  if (record.outcome === "remediated") return undefined;
  if (record.outcome === "failed" && record.requestIds.length > 0) return undefined;
  if (record.verdict === "exempted") return "unchanged (exempted)";
  switch (record.outcome) {
    case "notified":
      return "unchanged (notify mode)";
    case "dry-run":
      return "unchanged (dry-run)";
    case "already-compliant":
      return "unchanged (already compliant)";
    default:
      return "unchanged (nothing was run)";
  }
}

function diffOf(record: AuditRecord): string[] {
  const unchanged = unchangedBecause(record);
  if (unchanged) return [unchanged];
  if (record.after === null || record.after === undefined) {
    return ["after: unknown (the state could not be read back after the remediation ran)"];
  }
  return stateDiff(record.before, record.after);
}

function nextStepsOf(
  record: AuditRecord,
  ref: ResourceRef | undefined,
  tagKey: string,
  url?: string,
): string[] {
  const look = url ? `Open it in the console (${url})` : "Look at it in the console";
  const failedSteps = (error: string) => [
    `The resource may still be unsafe: ${error}`,
    `${look}, check it against the rule(s) above and apply the planned step(s) by hand, or revert the change yourself.`,
    "Then fix the cause (the remediation role's permissions, a throttled or changed API, a resource in use); the scheduled check judges file systems, access points and mount targets again within the hour.",
  ];
  switch (record.verdict) {
    case "failed":
      return record.rules.length > 0
        ? failedSteps(record.error ?? "the remediation did not complete")
        : [
            `Nothing was judged or changed: the change may be unsafe (${record.error ?? "the decision failed"}).`,
            `${look} and judge it by hand; the audit record ${record.eventId} keeps the event.`,
          ];
    case "violation":
      if (record.outcome === "remediated") return [exemptionAdvice(record, ref, tagKey)];
      if (record.outcome === "notified" || record.outcome === "dry-run") {
        return [
          `Nothing was changed: the resource is still unsafe. Fix it by hand (the planned step(s) above are what enforce mode would run), or set the rule to enforce.`,
          exemptionAdvice(record, ref, tagKey),
        ];
      }
      return [];
    case "exempted":
      return [
        "Nothing was changed: the exemption (owner and expiry under Why) covers it. When it expires the guardrail acts on the resource; renew it (same tag or configuration) if the exception still holds.",
      ];
    case "invalid":
      return [
        "No resource was judged. The audit record keeps what arrived and why it could not be read; check whether the event source or its format changed.",
      ];
    default:
      return [];
  }
}

function undoLines(record: AuditRecord, steps: readonly UndoStep[]): string[] {
  const ran =
    record.outcome === "remediated" || (record.outcome === "failed" && record.requestIds.length > 0);
  if (!ran) return ["Nothing was changed: nothing to undo."];
  return steps.map((step) => (step.command ? `${step.text}: ${step.command}` : step.text));
}

/** Everything a person needs to know about one decision. */
export function describeDecision(record: AuditRecord, options: DescribeOptions = {}): NotificationContent {
  const sweep = isSweep(record);
  const { verb, sentence } = headlineOf(record, sweep);
  const ref = refOf(record);
  const url = consoleUrl(ref);
  const tagKey = options.exemptTagKey ?? DEFAULT_EXEMPT_TAG_KEY;
  const or = (value: string | undefined) => (value ? value : "-");
  const facts: [string, string][] = sweep
    ? [["Found by", "the scheduled check (reconcile): the live state was swept, no CloudTrail event"]]
    : [
        ["Who", or(record.actor)],
        ["What", `${or(record.eventName)} (${or(record.eventSource)})`],
      ];
  facts.push(["Resource", or(record.resource)]);
  if (url) facts.push(["Console", url]);
  facts.push(sweep ? ["When", or(record.decidedAt)] : ["When", or(record.eventTime)]);
  if (!sweep) {
    facts.push(["Source IP", or(record.sourceIp)], ["User agent", clip(or(record.userAgent), 300)]);
  }
  facts.push(
    ["Account / region", `${or(record.account)} / ${or(record.region)}`],
    ["Rules", record.rules.length > 0 ? record.rules.join(", ") : "-"],
    ["Verdict / outcome", `${record.verdict} / ${record.outcome} (mode ${record.mode})`],
    ["Why", or(record.reason)],
  );
  if (record.error) facts.push(["Error", clip(record.error)]);
  if (record.requestIds.length > 0) facts.push(["AWS request ids", record.requestIds.join(", ")]);
  facts.push(
    sweep
      ? ["Sweep record", `${record.eventId} (decided ${record.decidedAt})`]
      : ["CloudTrail event", `${record.eventId} (decided ${record.decidedAt})`],
  );

  const planned = record.outcome === "remediated" || record.outcome === "failed" ? "ran" : "planned";
  const steps = undoSteps(record);
  return {
    subject: subjectOf(record, verb, sweep),
    headline: sentence,
    trigger: sweep ? "sweep" : "event",
    consoleUrl: url,
    facts,
    findings: record.findings.map((f) => `[${f.severity}] ${f.rule}: ${f.message}`),
    rules: ruleNotes(record.rules),
    actions: record.plan.map((step) => `${planned}: ${step.api} ${compact(step.params)} (${step.reason})`),
    diff: diffOf(record),
    nextSteps: nextStepsOf(record, ref, tagKey, url),
    undo: undoLines(record, steps),
    undoSteps: steps,
  };
}

/** `id — title: why. More: url` for each rule. */
export function ruleLines(rules: readonly RuleNote[]): string[] {
  return rules.map(
    (rule) =>
      `${rule.id} (${rule.title}): ${rule.rationale}${rule.docsUrl ? ` AWS docs: ${rule.docsUrl}` : ""}`,
  );
}

/** Plain text for e-mail and SMS subscribers of the SNS topic. */
export function renderPlainText(content: NotificationContent): string {
  const width = Math.max(...content.facts.map(([label]) => label.length));
  const lines = [content.headline, ""];
  for (const [label, value] of content.facts) lines.push(`${`${label}:`.padEnd(width + 2)}${value}`);
  const section = (title: string, body: readonly string[], empty: string) => {
    lines.push("", title, ...(body.length > 0 ? body.map((line) => `  ${line}`) : [`  ${empty}`]));
  };
  section("Findings", content.findings, "none");
  if (content.rules.length > 0) section("Why these rules exist", ruleLines(content.rules), "");
  section("What was done", content.actions, "no API call");
  section("Change (before -> after)", content.diff, "no difference");
  if (content.nextSteps.length > 0) section("What to do now", content.nextSteps, "");
  section("How to undo", content.undo, "nothing to undo");
  return `${lines.join("\n")}\n`;
}

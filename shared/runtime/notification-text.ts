/**
 * What a notification tells people about one decision: who changed what, from where, which rule,
 * what was done, the before/after difference and how to undo it. Pure: the SNS and Slack notifiers
 * render the same content, each in its own format.
 */
import type { Severity } from "../core/types.ts";
import type { AuditRecord, AuditVerdict } from "./ports.ts";

/** The verdicts that reach people unless configured otherwise (see README, "Which verdicts notify"). */
export const DEFAULT_NOTIFY_VERDICTS: readonly AuditVerdict[] = ["violation", "exempted", "failed"];

export interface NotificationContent {
  /** One line, ASCII, at most {@link MAX_SUBJECT_LENGTH} characters (SNS e-mail subject rules). */
  readonly subject: string;
  /** One sentence: what happened and what was done. */
  readonly headline: string;
  /** Label/value pairs, in reading order. Values are never empty ("-" when unknown). */
  readonly facts: readonly (readonly [string, string])[];
  /** `[severity] rule: message`, one per finding. */
  readonly findings: readonly string[];
  /** What the remediator did (or would do), one line per planned API call. */
  readonly actions: readonly string[];
  /** The before/after difference, one line per change: `- removed`, `+ added`, `~ changed`. */
  readonly diff: readonly string[];
  /** How to undo the remediation, or why there is nothing to undo. */
  readonly undo: readonly string[];
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

// ---- how to undo ----------------------------------------------------------------------------

function operationOf(api: string): string {
  return api.slice(api.indexOf(":") + 1);
}

function cliServiceOf(api: string): string {
  const service = api.slice(0, api.indexOf(":"));
  return service === "elasticfilesystem" ? "efs" : service;
}

/** Finds the objects in `state` that carry `id` as a value: the revoked rules, by their ids. */
function findById(
  state: unknown,
  id: string,
  found: Record<string, unknown>[] = [],
): Record<string, unknown>[] {
  if (Array.isArray(state)) for (const item of state) findById(item, id, found);
  else if (state !== null && typeof state === "object") {
    const record = state as Record<string, unknown>;
    if (Object.values(record).includes(id)) found.push(record);
    else for (const value of Object.values(record)) findById(value, id, found);
  }
  return found;
}

/** An `IpPermissions` entry that re-creates a rule described the way DescribeSecurityGroupRules does. */
function ipPermissionOf(rule: Record<string, unknown>): Record<string, unknown> | undefined {
  const protocol = rule.IpProtocol ?? rule.ipProtocol;
  if (typeof protocol !== "string") return undefined;
  const permission: Record<string, unknown> = { IpProtocol: protocol };
  const from = rule.FromPort ?? rule.fromPort;
  const to = rule.ToPort ?? rule.toPort;
  if (typeof from === "number") permission.FromPort = from;
  if (typeof to === "number") permission.ToPort = to;
  const description = rule.Description ?? rule.description;
  const withDescription = (entry: Record<string, unknown>) =>
    typeof description === "string" ? { ...entry, Description: description } : entry;
  const v4 = rule.CidrIpv4 ?? rule.cidrIpv4;
  const v6 = rule.CidrIpv6 ?? rule.cidrIpv6;
  const prefixList = rule.PrefixListId ?? rule.prefixListId;
  const referenced = (rule.ReferencedGroupInfo ?? rule.referencedGroupInfo) as
    | { GroupId?: unknown }
    | undefined;
  if (typeof v4 === "string") permission.IpRanges = [withDescription({ CidrIp: v4 })];
  else if (typeof v6 === "string") permission.Ipv6Ranges = [withDescription({ CidrIpv6: v6 })];
  else if (typeof prefixList === "string")
    permission.PrefixListIds = [withDescription({ PrefixListId: prefixList })];
  else if (typeof referenced?.GroupId === "string") {
    permission.UserIdGroupPairs = [withDescription({ GroupId: referenced.GroupId })];
  } else return undefined;
  return permission;
}

function undoStep(step: AuditRecord["plan"][number], record: AuditRecord): string {
  const operation = operationOf(step.api);
  const params = step.params;
  const service = cliServiceOf(step.api);
  if (operation === "RevokeSecurityGroupIngress" || operation === "RevokeSecurityGroupEgress") {
    const verb = operation.endsWith("Ingress") ? "ingress" : "egress";
    const groupId = String(params.GroupId ?? "<group-id>");
    let permissions = params.IpPermissions as unknown[] | undefined;
    if (!permissions && Array.isArray(params.SecurityGroupRuleIds)) {
      permissions = params.SecurityGroupRuleIds.flatMap((id) =>
        typeof id === "string" ? findById(record.before, id).slice(0, 1).map(ipPermissionOf) : [],
      ).filter((p): p is Record<string, unknown> => p !== undefined);
    }
    if (permissions && permissions.length > 0) {
      return `aws ec2 authorize-security-group-${verb} --group-id ${groupId} --ip-permissions '${JSON.stringify(permissions)}'`;
    }
    return `re-create the revoked ${verb} rule(s) of ${groupId} shown as removed above (aws ec2 authorize-security-group-${verb})`;
  }
  if (operation === "PutFileSystemPolicy" || operation === "DeleteFileSystemPolicy") {
    const fileSystemId = String(params.FileSystemId ?? params.fileSystemId ?? "<file-system-id>");
    return `put the previous policy back: save the "before" policy of audit record ${record.eventId} (remediator audit --format json) as previous-policy.json, then aws ${service} put-file-system-policy --file-system-id ${fileSystemId} --policy file://previous-policy.json`;
  }
  if (operation === "UpdateMountTarget" || operation === "ModifyMountTargetSecurityGroups") {
    const mountTargetId = String(params.MountTargetId ?? params.mountTargetId ?? "<mount-target-id>");
    const command =
      operation === "UpdateMountTarget"
        ? `aws ${service} update-mount-target --mount-target-id ${mountTargetId} --security-groups <the groups shown as removed above>`
        : `aws ${service} modify-mount-target-security-groups --mount-target-id ${mountTargetId} --security-groups <the groups shown as removed above>`;
    return `restore the previous security groups: ${command}`;
  }
  if (operation === "AttachRolePolicy" || operation === "AttachUserPolicy") {
    // The guardrail's own deny policy: detaching it is the whole undo (the customer's policies were not touched).
    const entity = operation === "AttachRolePolicy" ? "role" : "user";
    const name = String(params.RoleName ?? params.UserName ?? `<${entity}-name>`);
    return `detach the guardrail's deny policy: aws iam detach-${entity}-policy --${entity}-name ${name} --policy-arn ${String(params.PolicyArn ?? "<policy-arn>")}`;
  }
  if (operation === "DeleteAccessPoint") {
    return `a deleted access point cannot be restored: re-create it (aws ${service} create-access-point) with the settings shown as removed above`;
  }
  return `reverse ${step.api} ${compact(params)} using the "before" state above`;
}

function undoLines(record: AuditRecord): string[] {
  if (record.outcome === "remediated" || (record.outcome === "failed" && record.requestIds.length > 0)) {
    const lines = record.plan.map((step) => undoStep(step, record));
    const scope = record.rules.length > 0 ? ` (rule ${record.rules.join(", ")})` : "";
    lines.push(
      `Add an exemption for ${shortResource(record.resource)}${scope} to the remediator configuration first, or the guardrail will revert the change again.`,
    );
    return lines;
  }
  if (record.outcome === "dry-run" || record.outcome === "notified") {
    return record.plan.length > 0
      ? [
          "Nothing was changed. The planned step(s) above are what enforce mode would run; apply them by hand to fix it.",
        ]
      : ["Nothing was changed."];
  }
  return ["Nothing was changed."];
}

// ---- the whole message ------------------------------------------------------------------------

function headlineOf(record: AuditRecord): { verb: string; sentence: string } {
  const who = shortActor(record.actor);
  const what = `${record.eventName ?? "a change"} on ${shortResource(record.resource)}`;
  const rules = record.rules.length > 0 ? record.rules.join(", ") : "a rule";
  const by = `${who}'s ${what}`;
  switch (record.verdict) {
    case "violation":
      switch (record.outcome) {
        case "remediated":
          return {
            verb: "Reverted",
            sentence: `${by} broke ${rules}; the remediator reverted it and verified the result.`,
          };
        case "dry-run":
          return {
            verb: "Would revert",
            sentence: `${by} broke ${rules}; dry-run: the fix was planned, not run.`,
          };
        case "already-compliant":
          return {
            verb: "Already fixed",
            sentence: `${by} broke ${rules}, but the live state was already compliant.`,
          };
        case "failed":
          return { verb: "FAILED to revert", sentence: `${by} broke ${rules}, and reverting it FAILED.` };
        default:
          return {
            verb: "Unsafe change",
            sentence: `${by} broke ${rules}; not reverted (mode ${record.mode}).`,
          };
      }
    case "exempted":
      return {
        verb: "Exempted",
        sentence: `${by} broke ${rules}; the resource is exempted, so it was left as is.`,
      };
    case "failed":
      return { verb: "FAILED", sentence: `The remediator could not complete its decision on ${by}.` };
    case "invalid":
      return {
        verb: "Unreadable event",
        sentence: `An event could not be understood and was recorded as invalid.`,
      };
    case "compliant":
      return { verb: "Compliant", sentence: `${by} is compliant.` };
    case "ignored":
      return { verb: "Ignored", sentence: `${by} was ignored.` };
  }
}

/** Everything a person needs to know about one decision. */
export function describeDecision(record: AuditRecord): NotificationContent {
  const severity = maxSeverity(record);
  const { verb, sentence } = headlineOf(record);
  const subject = asciiSubject(
    `${severity ? `[${severity.toUpperCase()}] ` : ""}${verb}: ${record.eventName ?? record.verdict} on ${shortResource(record.resource)} by ${shortActor(record.actor)}`,
  );
  const or = (value: string | undefined) => (value ? value : "-");
  const facts: [string, string][] = [
    ["Who", or(record.actor)],
    ["What", `${or(record.eventName)} (${or(record.eventSource)})`],
    ["Resource", or(record.resource)],
    ["When", or(record.eventTime)],
    ["Source IP", or(record.sourceIp)],
    ["User agent", clip(or(record.userAgent), 300)],
    ["Account / region", `${or(record.account)} / ${or(record.region)}`],
    ["Rules", record.rules.length > 0 ? record.rules.join(", ") : "-"],
    ["Verdict / outcome", `${record.verdict} / ${record.outcome} (mode ${record.mode})`],
    ["Why", or(record.reason)],
  ];
  if (record.error) facts.push(["Error", clip(record.error)]);
  if (record.requestIds.length > 0) facts.push(["AWS request ids", record.requestIds.join(", ")]);
  facts.push(["CloudTrail event", `${record.eventId} (decided ${record.decidedAt})`]);

  const planned = record.outcome === "remediated" || record.outcome === "failed" ? "ran" : "planned";
  return {
    subject,
    headline: sentence,
    facts,
    findings: record.findings.map((f) => `[${f.severity}] ${f.rule}: ${f.message}`),
    actions: record.plan.map((step) => `${planned}: ${step.api} ${compact(step.params)} (${step.reason})`),
    diff:
      record.before === undefined && record.after === undefined ? [] : stateDiff(record.before, record.after),
    undo: undoLines(record),
  };
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
  section("What was done", content.actions, "no API call");
  section("Change (before -> after)", content.diff, "no difference");
  section("How to undo", content.undo, "nothing to undo");
  return `${lines.join("\n")}\n`;
}

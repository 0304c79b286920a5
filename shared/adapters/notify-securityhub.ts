/**
 * Security Hub findings the way Security Hub models them: one finding per resource and rule, kept
 * up to date over time. Its id is derived from the resource's account, region, rule and resource
 * (never from one CloudTrail event or sweep run), so every later decision about that resource and
 * rule updates the same finding:
 *
 * - violation (notify mode, dry-run, failed revert): `Compliance.Status` FAILED, workflow NEW;
 * - reverted and verified, or a later decision that judged the whole resource compliant (a
 *   person's fix, the sweep): PASSED, workflow RESOLVED, severity INFORMATIONAL;
 * - the resource deleted: `RecordState` ARCHIVED, workflow RESOLVED;
 * - exempted: FAILED, workflow SUPPRESSED, with the exemption's owner, expiry and reason in the note.
 *
 * What AWS documents, and this follows (BatchImportFindings, BatchUpdateFindings, Workflow):
 * - BatchImportFindings must be called by the account in the finding's `AwsAccountId`, with the
 *   default product ARN `arn:PARTITION:securityhub:REGION:ACCOUNT:product/ACCOUNT/default` of that
 *   same account (only an allow-listed partner imports for other accounts). In organization mode
 *   the function runs in the central account, so findings on member resources are imported as the
 *   central account's, naming the member resource (its ARN, `Resources[].Id`) and account
 *   (`ProductFields`); with the central account as Security Hub administrator they sit beside the
 *   members' other findings there.
 * - After a finding is created, BatchImportFindings cannot change `Workflow` or `Note`: later
 *   workflow changes go through BatchUpdateFindings. Security Hub itself resets a RESOLVED or
 *   NOTIFIED finding to NEW when `Compliance.Status` goes from PASSED to FAILED, or `RecordState`
 *   from ARCHIVED to ACTIVE; the automatic PASSED → RESOLVED applies to its own controls only, so
 *   resolving is done here. A workflow a person set (NOTIFIED, or SUPPRESSED by someone else) is left
 *   as they set it.
 * - Severity and Types are given through `FindingProviderFields`, as finding providers should.
 */
import { createHash } from "node:crypto";
import {
  type AwsSecurityFinding,
  BatchImportFindingsCommand,
  BatchUpdateFindingsCommand,
  GetFindingsCommand,
  type SecurityHubClient,
  type WorkflowStatus,
} from "@aws-sdk/client-securityhub";
import { ruleById } from "../core/rules/index.ts";
import type { Severity } from "../core/types.ts";
import { describeDecision, type NotificationContent, shortResource } from "../runtime/notification-text.ts";
import { RejectedByChannelError, type RejectedItem } from "../runtime/notifier-errors.ts";
import { type AuditRecord, type Clock, decisionIdOf, type Notifier } from "../runtime/ports.ts";

export interface SecurityHubNotifierOptions {
  /** The account that imports the findings (the one the function runs in): `AwsAccountId` and product ARN. */
  readonly account: string;
  /** The Security Hub region the client talks to: part of the product ARN. */
  readonly region: string;
  readonly clock: Clock;
  /** The exemption tag the remediation text points at (`EXEMPT_TAG_KEY`). */
  readonly exemptTagKey?: string;
}

/** Who the notes this notifier writes are from: a SUPPRESSED with another author is a person's. */
export const NOTE_AUTHOR = "s3files-remediator";

const SEVERITY_LABELS: Record<Severity, "CRITICAL" | "HIGH" | "MEDIUM" | "LOW"> = {
  critical: "CRITICAL",
  high: "HIGH",
  medium: "MEDIUM",
  low: "LOW",
};
const SEVERITY_ORDER: readonly Severity[] = ["critical", "high", "medium", "low"];
/** BatchImportFindings and BatchUpdateFindings take at most 100 findings per call. */
const BATCH = 100;
/** Id values per GetFindings filter, kept small. */
const LOOKUP_BATCH = 20;

/** What a decision means for the finding of one rule on its resource. */
export type FindingState = "failing" | "exempted" | "resolved" | "gone";

function partitionOf(region: string): "aws" | "aws-cn" | "aws-us-gov" {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** ASFF `Types` (namespace/category/classifier) for the kind of resource the rule judges. */
function typesFor(resource: string | undefined): string[] {
  if (resource?.includes(":security-group/") || resource?.startsWith("sg-")) {
    return ["Software and Configuration Checks/AWS Security Best Practices/Network Reachability"];
  }
  return ["Software and Configuration Checks/AWS Security Best Practices", "Effects/Data Exposure"];
}

/** ASFF resource types where one exists; `Other` otherwise (S3 Files has none yet). */
function resourceTypeOf(resource: string): string {
  if (resource.includes(":security-group/") || resource.startsWith("sg-")) return "AwsEc2SecurityGroup";
  if (resource.includes(":elasticfilesystem:") && resource.includes("/access-point/"))
    return "AwsEfsAccessPoint";
  if (/^arn:[^:]+:s3:::[^/]+$/.test(resource)) return "AwsS3Bucket";
  return "Other";
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * The finding id: one per (account, region, rule, resource), the same for every decision about
 * them. ASFF ids are at most 512 characters; a longer one is hashed.
 */
export function findingId(account: string, region: string, rule: string, resource: string): string {
  const id = `s3files-remediator/${account}/${region}/${rule}/${resource}`;
  return id.length <= 512 ? id : `s3files-remediator/sha256-${createHash("sha256").update(id).digest("hex")}`;
}

/**
 * What the decision says about each rule's finding on the resource: the rules that fired, and the
 * rules that judged the whole resource and passed (resolved; archived when the resource is gone).
 */
export function findingStates(record: AuditRecord): { rule: string; state: FindingState }[] {
  let fired: FindingState = "failing";
  if (record.verdict === "exempted") fired = "exempted";
  else if (record.outcome === "remediated" || record.outcome === "already-compliant") fired = "resolved";
  const passed: FindingState = record.resourceGone ? "gone" : "resolved";
  return [
    ...record.rules.map((rule) => ({ rule, state: fired })),
    ...(record.passedRules ?? [])
      .filter((rule) => !record.rules.includes(rule))
      .map((rule) => ({ rule, state: passed })),
  ];
}

/** The workflow status a state calls for. */
const WORKFLOW: Record<FindingState, WorkflowStatus> = {
  failing: "NEW",
  exempted: "SUPPRESSED",
  resolved: "RESOLVED",
  gone: "RESOLVED",
};

/**
 * The workflow update an existing finding needs, if any. A person's NOTIFIED and a SUPPRESSED set
 * by someone else are theirs; RESOLVED → NEW on a new violation is done explicitly even where
 * Security Hub does it itself (PASSED → FAILED), because a person may have resolved a finding
 * that never passed.
 */
export function workflowChange(
  existing: Pick<AwsSecurityFinding, "Workflow" | "Note"> | undefined,
  state: FindingState,
): WorkflowStatus | undefined {
  if (!existing) return undefined;
  const current = existing.Workflow?.Status ?? "NEW";
  const suppressedByUs = current === "SUPPRESSED" && existing.Note?.UpdatedBy === NOTE_AUTHOR;
  const wanted = WORKFLOW[state];
  if (current === wanted) return undefined;
  switch (state) {
    case "failing":
      return current === "RESOLVED" || suppressedByUs ? "NEW" : undefined;
    case "exempted":
      return current === "SUPPRESSED" ? undefined : "SUPPRESSED";
    default:
      return current === "NEW" || current === "NOTIFIED" || suppressedByUs ? "RESOLVED" : undefined;
  }
}

interface Intent {
  readonly rule: string;
  readonly state: FindingState;
  readonly id: string;
  readonly existing: AwsSecurityFinding | undefined;
}

export class SecurityHubNotifier implements Notifier {
  readonly name = "securityhub";
  readonly #client: SecurityHubClient;
  readonly #options: SecurityHubNotifierOptions;
  readonly #productArn: string;

  constructor(client: SecurityHubClient, options: SecurityHubNotifierOptions) {
    this.#client = client;
    this.#options = options;
    const { account, region } = options;
    this.#productArn = `arn:${partitionOf(region)}:securityhub:${region}:${account}:product/${account}/default`;
  }

  #idOf(record: AuditRecord, rule: string): string {
    const { account, region } = this.#options;
    return findingId(record.account ?? account, record.region ?? region, rule, record.resource ?? "unknown");
  }

  /**
   * The finding for one rule of a decision. `existing` is the finding as Security Hub has it: its
   * creation and first-observed times are kept, and workflow and note are set only on creation.
   */
  findingFor(
    record: AuditRecord,
    intent: Omit<Intent, "id"> & { id?: string },
    content?: NotificationContent,
  ) {
    const { account, region, clock } = this.#options;
    const text = content ?? describeDecision(record, { exemptTagKey: this.#options.exemptTagKey });
    const { rule, state, existing } = intent;
    const partition = partitionOf(region);
    const resource = record.resource ?? "unknown";
    const registry = ruleById(rule);
    const ruleFindings = record.findings.filter((finding) => finding.rule === rule);
    // A resolved finding keeps the severity it was raised with, in Original.
    const previous = existing?.FindingProviderFields?.Severity?.Original ?? existing?.Severity?.Original;
    const severity =
      SEVERITY_ORDER.find((s) => ruleFindings.some((f) => f.severity === s)) ??
      SEVERITY_ORDER.find((s) => s === previous) ??
      registry?.severity ??
      "medium";
    const passed = state === "resolved" || state === "gone";
    // Security Hub's own controls report a passed check as INFORMATIONAL; the rule's severity stays in Original.
    const severityField = {
      Label: passed ? "INFORMATIONAL" : SEVERITY_LABELS[severity],
      Original: severity,
    } as const;
    const types = typesFor(record.resource);
    const now = clock.now().toISOString();
    const description = passed
      ? `${state === "gone" ? "The resource no longer exists" : "Compliant again"}: ${record.reason}`
      : [...ruleFindings.map((f) => f.message), record.reason].join(" ");
    const productFields: Record<string, string> = {
      "s3files-remediator/lastDecision": clip(record.eventId, 2048),
      // The same for every copy of this decision: receivers drop a second one by it.
      "s3files-remediator/decisionId": decisionIdOf(record),
      "s3files-remediator/verdict": record.verdict,
      "s3files-remediator/outcome": record.outcome,
      "s3files-remediator/mode": String(record.mode),
      "s3files-remediator/trigger": text.trigger,
    };
    if (record.account) productFields["s3files-remediator/resourceAccount"] = record.account;
    if (record.actor) productFields["s3files-remediator/actor"] = clip(record.actor, 2048);
    if (record.requestIds.length > 0) {
      productFields["s3files-remediator/requestIds"] = clip(record.requestIds.join(","), 2048);
    }
    const recommendation = passed
      ? `Nothing to do: ${registry?.title ?? rule} holds on ${shortResource(record.resource)} again.`
      : text.nextSteps.join(" ");
    const firstObserved = existing?.FirstObservedAt ?? record.eventTime;
    const finding: AwsSecurityFinding = {
      SchemaVersion: "2018-10-08",
      Id: intent.id ?? this.#idOf(record, rule),
      ProductArn: this.#productArn,
      ProductName: "s3files-remediator",
      CompanyName: "s3files-remediator",
      GeneratorId: rule,
      // The importing account (see the module comment): the member's account is in ProductFields.
      AwsAccountId: account,
      Types: types,
      CreatedAt: existing?.CreatedAt ?? record.eventTime ?? record.decidedAt,
      UpdatedAt: now,
      ...(firstObserved ? { FirstObservedAt: firstObserved } : {}),
      LastObservedAt: record.decidedAt,
      Severity: severityField,
      FindingProviderFields: { Severity: severityField, Types: types },
      Title: clip(`${registry?.title ?? rule}: ${shortResource(record.resource)}`, 256),
      Description: clip(description, 1024),
      Remediation: {
        Recommendation: {
          Text: clip(recommendation || (registry?.rationale ?? rule), 512),
          ...(registry?.docsUrl ? { Url: registry.docsUrl } : {}),
        },
      },
      ...(text.consoleUrl ? { SourceUrl: text.consoleUrl } : {}),
      ProductFields: productFields,
      Resources: [
        {
          Type: resourceTypeOf(resource),
          Id: resource,
          Partition: partition,
          Region: record.region ?? region,
        },
      ],
      Compliance: { Status: passed ? "PASSED" : "FAILED" },
      RecordState: state === "gone" ? "ARCHIVED" : "ACTIVE",
      // Honoured by Security Hub only when the finding is created; later through BatchUpdateFindings.
      ...(existing
        ? {}
        : {
            Workflow: { Status: WORKFLOW[state] },
            ...(state === "exempted"
              ? { Note: { Text: this.#noteFor(record, state), UpdatedBy: NOTE_AUTHOR, UpdatedAt: now } }
              : {}),
          }),
      ...(record.eventName && text.trigger === "event"
        ? {
            Action: {
              ActionType: "AWS_API_CALL",
              AwsApiCallAction: {
                Api: record.eventName,
                ...(record.eventSource ? { ServiceName: record.eventSource } : {}),
                CallerType: "remoteip",
                ...(record.sourceIp && IPV4.test(record.sourceIp)
                  ? { RemoteIpDetails: { IpAddressV4: record.sourceIp } }
                  : {}),
              },
            },
          }
        : {}),
    };
    return finding;
  }

  /** The note on a workflow change: for an exemption, its owner, expiry and reason (the record's reason). */
  #noteFor(record: AuditRecord, state: FindingState): string {
    const text =
      state === "exempted"
        ? `Exempted: ${record.reason}`
        : state === "failing"
          ? `Unsafe again (${record.verdict}/${record.outcome}): ${record.reason}`
          : state === "gone"
            ? `The resource no longer exists (${record.eventId}).`
            : `Compliant again (${record.eventId}): ${record.reason}`;
    return clip(text, 512);
  }

  /** The findings Security Hub already has for these ids (this product's only). */
  async #existing(ids: readonly string[]): Promise<Map<string, AwsSecurityFinding>> {
    const found = new Map<string, AwsSecurityFinding>();
    const wanted = new Set(ids);
    for (let start = 0; start < ids.length; start += LOOKUP_BATCH) {
      const chunk = ids.slice(start, start + LOOKUP_BATCH);
      let token: string | undefined;
      do {
        const answer = await this.#client.send(
          new GetFindingsCommand({
            Filters: {
              Id: chunk.map((Value) => ({ Value, Comparison: "EQUALS" })),
              ProductArn: [{ Value: this.#productArn, Comparison: "EQUALS" }],
            },
            MaxResults: 100,
            ...(token ? { NextToken: token } : {}),
          }),
        );
        for (const finding of answer.Findings ?? []) {
          if (finding.Id && wanted.has(finding.Id) && finding.ProductArn === this.#productArn) {
            found.set(finding.Id, finding);
          }
        }
        token = answer.NextToken;
      } while (token && found.size < wanted.size);
    }
    return found;
  }

  async notify(record: AuditRecord): Promise<void> {
    const states = findingStates(record);
    if (states.length === 0) return;
    const ids = states.map(({ rule }) => this.#idOf(record, rule));
    const existing = await this.#existing(ids);
    const intents: Intent[] = states.map(({ rule, state }, index) => {
      const id = ids[index] as string;
      return { rule, state, id, existing: existing.get(id) };
    });
    // A rule that fired always has its finding (a violation reverted at once is kept, RESOLVED, as
    // the trace of what happened); a compliant judgement or a deletion updates findings that exist
    // and never creates one.
    const toImport = intents.filter(({ rule, state, existing: found }) => {
      if (record.rules.includes(rule)) return true;
      if (!found) return false;
      const settled =
        state === "gone"
          ? found.RecordState === "ARCHIVED"
          : found.Compliance?.Status === "PASSED" && found.RecordState !== "ARCHIVED";
      return !settled || workflowChange(found, state) !== undefined;
    });
    if (toImport.length === 0) return;
    const content = describeDecision(record, { exemptTagKey: this.#options.exemptTagKey });
    const rejected: RejectedItem[] = [];
    for (let start = 0; start < toImport.length; start += BATCH) {
      const batch = toImport.slice(start, start + BATCH);
      const answer = await this.#client.send(
        new BatchImportFindingsCommand({
          Findings: batch.map((intent) => this.findingFor(record, intent, content)),
        }),
      );
      // The call succeeds while individual findings are refused (wrong account, product not enabled).
      for (const failed of answer.FailedFindings ?? []) {
        rejected.push({
          id: failed.Id ?? "",
          code: failed.ErrorCode ?? "unknown",
          message: failed.ErrorMessage ?? "",
        });
      }
      if ((answer.FailedCount ?? 0) > (answer.FailedFindings?.length ?? 0)) {
        rejected.push({ id: "", code: "unknown", message: `${answer.FailedCount} refused in all` });
      }
    }
    const refused = new Set(rejected.map((r) => r.id));
    await this.#updateWorkflows(
      record,
      toImport.filter((intent) => !refused.has(intent.id)),
      rejected,
    );
    if (rejected.length > 0) {
      const [first] = rejected;
      throw new RejectedByChannelError(
        this.name,
        rejected,
        // A throttled or internal refusal passes on a retry (the same finding ids: no duplicates).
        rejected.some((r) => /throttl|internal|unavailable|limit/i.test(r.code)),
        `Security Hub refused ${rejected.length} finding update(s) for ${record.eventId}: ${first?.code} ${first?.message}`.trim(),
      );
    }
  }

  /** BatchUpdateFindings for existing findings whose workflow must change, one call per status. */
  async #updateWorkflows(record: AuditRecord, intents: readonly Intent[], rejected: RejectedItem[]) {
    const byStatus = new Map<WorkflowStatus, Intent[]>();
    for (const intent of intents) {
      const status = workflowChange(intent.existing, intent.state);
      if (status) byStatus.set(status, [...(byStatus.get(status) ?? []), intent]);
    }
    for (const [status, group] of byStatus) {
      for (let start = 0; start < group.length; start += BATCH) {
        const batch = group.slice(start, start + BATCH);
        const answer = await this.#client.send(
          new BatchUpdateFindingsCommand({
            FindingIdentifiers: batch.map(({ id }) => ({ Id: id, ProductArn: this.#productArn })),
            Workflow: { Status: status },
            Note: { Text: this.#noteFor(record, batch[0]?.state ?? "failing"), UpdatedBy: NOTE_AUTHOR },
          }),
        );
        for (const unprocessed of answer.UnprocessedFindings ?? []) {
          rejected.push({
            id: unprocessed.FindingIdentifier?.Id ?? "",
            code: unprocessed.ErrorCode ?? "unknown",
            message: `workflow ${status}: ${unprocessed.ErrorMessage ?? ""}`,
          });
        }
      }
    }
  }
}

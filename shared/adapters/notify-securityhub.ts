/**
 * A Security Hub finding (ASFF) per rule that fired, so the decision sits beside the account's other
 * findings. The finding id is derived from the CloudTrail event and the rule, so sending the same
 * decision again updates the finding instead of adding a second one.
 */
import { createHash } from "node:crypto";
import {
  type AwsSecurityFinding,
  BatchImportFindingsCommand,
  type SecurityHubClient,
} from "@aws-sdk/client-securityhub";
import { RemediatorError } from "../core/errors.ts";
import type { Severity } from "../core/types.ts";
import { describeDecision, shortResource } from "../runtime/notification-text.ts";
import { type AuditRecord, type Clock, decisionIdOf, type Notifier } from "../runtime/ports.ts";

export interface SecurityHubNotifierOptions {
  /** The account that imports the findings (the one the function runs in): part of the product ARN. */
  readonly account: string;
  /** The Security Hub region the client talks to: part of the product ARN. */
  readonly region: string;
  readonly clock: Clock;
}

const SEVERITY_LABELS: Record<Severity, "CRITICAL" | "HIGH" | "MEDIUM" | "LOW"> = {
  critical: "CRITICAL",
  high: "HIGH",
  medium: "MEDIUM",
  low: "LOW",
};
const SEVERITY_ORDER: readonly Severity[] = ["critical", "high", "medium", "low"];

function partitionOf(region: string): string {
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
 * The deterministic finding id: one per (CloudTrail event, rule). ASFF ids are at most 512
 * characters; a longer event id is hashed.
 */
export function findingId(eventId: string, rule: string): string {
  const id = `s3files-remediator/${eventId}/${rule}`;
  return id.length <= 512 ? id : `s3files-remediator/sha256-${createHash("sha256").update(id).digest("hex")}`;
}

export class SecurityHubNotifier implements Notifier {
  readonly name = "securityhub";
  readonly #client: SecurityHubClient;
  readonly #options: SecurityHubNotifierOptions;

  constructor(client: SecurityHubClient, options: SecurityHubNotifierOptions) {
    this.#client = client;
    this.#options = options;
  }

  /**
   * The findings for one decision, one per rule that fired. A decision with no rule (a failure
   * before judging, invalid input) says nothing about a resource's compliance and yields none.
   */
  findingsFor(record: AuditRecord): AwsSecurityFinding[] {
    if (record.rules.length === 0) return [];
    const { account, region, clock } = this.#options;
    const partition = partitionOf(region);
    const content = describeDecision(record);
    // The resource is compliant again when the fix ran and verified, or someone else fixed it first.
    const resolved = record.outcome === "remediated" || record.outcome === "already-compliant";
    const updatedAt = clock.now().toISOString();
    const resource = record.resource ?? "unknown";
    return record.rules.map((rule): AwsSecurityFinding => {
      const ruleFindings = record.findings.filter((finding) => finding.rule === rule);
      const severity = SEVERITY_ORDER.find((s) => ruleFindings.some((f) => f.severity === s)) ?? "medium";
      const description = [...ruleFindings.map((f) => f.message), record.reason].join(" ");
      const productFields: Record<string, string> = {
        "s3files-remediator/eventId": record.eventId,
        "s3files-remediator/decisionId": decisionIdOf(record),
        "s3files-remediator/verdict": record.verdict,
        "s3files-remediator/outcome": record.outcome,
        "s3files-remediator/mode": String(record.mode),
      };
      if (record.actor) productFields["s3files-remediator/actor"] = clip(record.actor, 2048);
      if (record.requestIds.length > 0) {
        productFields["s3files-remediator/requestIds"] = clip(record.requestIds.join(","), 2048);
      }
      return {
        SchemaVersion: "2018-10-08",
        Id: findingId(record.eventId, rule),
        ProductArn: `arn:${partition}:securityhub:${region}:${account}:product/${account}/default`,
        ProductName: "s3files-remediator",
        GeneratorId: rule,
        AwsAccountId: record.account ?? account,
        Types: typesFor(record.resource),
        // CreatedAt stays the decision time on every re-send; UpdatedAt moves forward.
        CreatedAt: record.decidedAt,
        UpdatedAt: updatedAt,
        ...(record.eventTime ? { FirstObservedAt: record.eventTime } : {}),
        LastObservedAt: record.decidedAt,
        // Security Hub's own controls report a passed check as INFORMATIONAL; the rule's severity stays in Original.
        Severity: { Label: resolved ? "INFORMATIONAL" : SEVERITY_LABELS[severity], Original: severity },
        Title: clip(`${rule}: ${record.eventName ?? "change"} on ${shortResource(record.resource)}`, 256),
        Description: clip(description, 1024),
        Remediation: { Recommendation: { Text: clip(content.undo.join(" "), 512) } },
        ProductFields: productFields,
        Resources: [
          {
            Type: resourceTypeOf(resource),
            Id: resource,
            Partition: partition === "aws" ? "aws" : (partition as "aws-cn" | "aws-us-gov"),
            Region: record.region ?? region,
          },
        ],
        Compliance: { Status: resolved ? "PASSED" : "FAILED" },
        Workflow: { Status: resolved ? "RESOLVED" : "NEW" },
        RecordState: "ACTIVE",
        ...(record.eventName
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
    });
  }

  async notify(record: AuditRecord): Promise<void> {
    const findings = this.findingsFor(record);
    if (findings.length === 0) return;
    // BatchImportFindings takes at most 100 findings per call; a decision has a handful.
    for (let start = 0; start < findings.length; start += 100) {
      const answer = await this.#client.send(
        new BatchImportFindingsCommand({ Findings: findings.slice(start, start + 100) }),
      );
      // Like PutEvents, the call succeeds while individual findings are refused.
      if ((answer.FailedCount ?? 0) > 0) {
        const first = answer.FailedFindings?.[0];
        throw new RemediatorError(
          `Security Hub refused ${answer.FailedCount} finding(s) for ${record.eventId}: ${first?.ErrorCode ?? "unknown"} ${first?.ErrorMessage ?? ""}`.trim(),
          // A throttled or internal refusal passes on a retry (the same finding ids: no duplicates).
          { retryable: /throttl|internal|unavailable|limit/i.test(first?.ErrorCode ?? "") },
        );
      }
    }
  }
}

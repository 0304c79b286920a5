/**
 * The alarms that say the guardrail itself is unwell, each to the alert topic (on alarm and on
 * recovery). Missing data is "not breaching": an idle guardrail is a healthy one.
 */
import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type * as sns from "aws-cdk-lib/aws-sns";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";

/** The namespace the functions publish their own metrics in (set in each function's index.ts). */
export const RUNTIME_METRICS_NAMESPACE = "S3FilesRemediator";

/** The runtime's own failure metrics that an alarm watches (published by `shared/runtime/observability.ts`). */
export const RUNTIME_METRICS = {
  auditArchiveFailed: "audit_archive_failed",
  notifyFailed: "notify_failed",
  outcomeFailed: "outcome_failed",
  memberRoleUnavailable: "member_role_unavailable",
  reconcileErrors: "reconcile_errors",
} as const;

/** A rule by its literal name (a rule's `Ref` on a custom bus is `bus|rule`, not its metric name). */
export interface RoutedRule {
  readonly ruleName: string;
  readonly eventBusName?: string;
}

export interface GuardrailAlarmsProps {
  readonly name: string;
  readonly topic: sns.ITopic;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  /** The dead-letter queue of every EventBridge target: events EventBridge could not deliver. */
  readonly undeliveredEvents: sqs.IQueue;
  /** Organization mode: alarm when a member account's role cannot be assumed. */
  readonly organization: boolean;
  readonly remediate: lambda.IFunction;
  readonly reconcile: lambda.IFunction;
  /** Rules whose failed deliveries mean lost events (with their bus, unless the default one). */
  readonly routingRules: readonly RoutedRule[];
  /** Oldest message age that means the guardrail has fallen behind. */
  readonly maxQueueAge: Duration;
}

export class GuardrailAlarms extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: GuardrailAlarmsProps) {
    super(scope, id);
    const period = Duration.minutes(1);
    const action = new actions.SnsAction(props.topic);
    const alarm = (alarmId: string, description: string, metric: cloudwatch.IMetric, threshold = 1) => {
      const created = new cloudwatch.Alarm(this, alarmId, {
        alarmName: `${props.name}-${alarmId.replace(/([a-z])([A-Z])/g, "$1-$2").toLowerCase()}`,
        alarmDescription: description,
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(action);
      created.addOkAction(action);
      this.alarms.push(created);
      return created;
    };

    alarm(
      "DeadLetterQueueNotEmpty",
      "Events the remediator could not process after every retry are waiting in the dead-letter queue.",
      props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: "Maximum" }),
    );
    alarm(
      "IntakeBacklog",
      "The oldest event in the intake queue has waited too long: the remediator has fallen behind.",
      props.queue.metricApproximateAgeOfOldestMessage({ period, statistic: "Maximum" }),
      props.maxQueueAge.toSeconds(),
    );
    alarm(
      "RemediateErrors",
      "The remediate function failed (a batch or an invocation errored).",
      props.remediate.metricErrors({ period, statistic: "Sum" }),
    );
    alarm(
      "RemediateThrottles",
      "The remediate function was throttled: events wait or, after every retry, go to the dead-letter queue.",
      props.remediate.metricThrottles({ period, statistic: "Sum" }),
    );
    alarm(
      "ReconcileFailures",
      "The scheduled reconcile sweep failed: drift that no event reported may stay unjudged.",
      props.reconcile.metricErrors({ period, statistic: "Sum" }),
    );
    alarm(
      "ReconcileThrottles",
      "The scheduled reconcile sweep was throttled (a previous sweep is still running, or concurrency is 0).",
      props.reconcile.metricThrottles({ period, statistic: "Sum" }),
    );
    alarm(
      "UndeliveredEvents",
      "EventBridge gave up delivering events to a target of the remediator (intake queue, alert topic or " +
        "reconcile): they wait in the undelivered-events queue.",
      props.undeliveredEvents.metricApproximateNumberOfMessagesVisible({ period, statistic: "Maximum" }),
    );
    // Emitted by the runtime (Powertools Metrics, `service` dimension = the function), summed over
    // both functions.
    const runtimeMetric = (metricName: string, label: string, services = ["remediate", "reconcile"]) => {
      const usingMetrics = Object.fromEntries(
        services.map((service) => [
          service,
          new cloudwatch.Metric({
            namespace: RUNTIME_METRICS_NAMESPACE,
            metricName,
            dimensionsMap: { service },
            period,
            statistic: "Sum",
          }),
        ]),
      );
      return new cloudwatch.MathExpression({
        expression: services.map((service) => `FILL(${service}, 0)`).join(" + "),
        usingMetrics,
        period,
        label,
      });
    };
    alarm(
      "AuditArchiveFailures",
      "An audit record was written to the ledger table but not to the Object Lock archive: the archive has a gap.",
      runtimeMetric(RUNTIME_METRICS.auditArchiveFailed, "audit records not archived"),
    );
    alarm(
      "NotificationFailures",
      "A notification channel (topic, decision bus, Slack or Security Hub) refused a decision: the record is " +
        "written, but people were not told through that channel. The function log names the channel.",
      runtimeMetric(RUNTIME_METRICS.notifyFailed, "notifications not delivered"),
    );
    alarm(
      "FailedDecisions",
      "A change could not be judged or reverted (outcome failed): find it with `remediator audit --outcome failed`.",
      runtimeMetric(RUNTIME_METRICS.outcomeFailed, "decisions that failed"),
    );
    alarm(
      "ReconcileErrors",
      "The reconcile sweep could not list a service, a file system or a member account: part of the fleet was " +
        "not swept. The sweep's log line names each one.",
      runtimeMetric(RUNTIME_METRICS.reconcileErrors, "parts of the sweep that failed", ["reconcile"]),
    );
    if (props.organization) {
      alarm(
        "MemberRoleUnavailable",
        "The member remediation role of an account could not be assumed (account not enrolled, or its trust " +
          "does not name this function's role): changes there are recorded as failed, not reverted.",
        runtimeMetric(RUNTIME_METRICS.memberRoleUnavailable, "member roles not assumed"),
      );
    }
    props.routingRules.forEach(({ ruleName, eventBusName }, index) => {
      alarm(
        `RoutingFailures${index + 1}`,
        "EventBridge could not deliver judged events to their target: events are being lost.",
        new cloudwatch.Metric({
          namespace: "AWS/Events",
          metricName: "FailedInvocations",
          // Metrics of rules on a custom bus carry the bus name as a second dimension.
          dimensionsMap: eventBusName
            ? { EventBusName: eventBusName, RuleName: ruleName }
            : { RuleName: ruleName },
          period,
          statistic: "Sum",
        }),
      );
    });
  }
}

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
    // Emitted by the runtime (Powertools Metrics, `service` dimension = the function) when an audit
    // record reached DynamoDB but its write-once copy in the archive bucket did not.
    const archiveFailures = (service: string) =>
      new cloudwatch.Metric({
        namespace: RUNTIME_METRICS_NAMESPACE,
        metricName: "audit_archive_failed",
        dimensionsMap: { service },
        period,
        statistic: "Sum",
      });
    alarm(
      "AuditArchiveFailures",
      "An audit record was written to the ledger table but not to the Object Lock archive: the archive has a gap.",
      new cloudwatch.MathExpression({
        expression: "FILL(remediate, 0) + FILL(reconcile, 0)",
        usingMetrics: { remediate: archiveFailures("remediate"), reconcile: archiveFailures("reconcile") },
        period,
        label: "audit records not archived",
      }),
    );
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

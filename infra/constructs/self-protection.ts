/**
 * Guardrail self-protection: any change to the remediator's own rules, buses, queues, functions,
 * tables, key, archive or topic is sent to the alert topic at once, straight from EventBridge
 * (not through the queue or the functions, which may be what is being switched off).
 *
 * The watchers of EventBridge changes come in a pair that watch each other as well as the rest:
 * disabling one is reported by the other. A CloudFormation update of the stack shows up here too
 * (source `cloudformation.amazonaws.com`): a change to the guardrail is worth a message even then.
 */
import * as events from "aws-cdk-lib/aws-events";
import { Construct } from "constructs";
import { awsSourceOnly, CLOUDTRAIL_DETAIL_TYPE } from "./event-routing.ts";

export interface ProtectedResources {
  /** Literal names of the remediator's EventBridge rules (routing and schedule). */
  readonly ruleNames: readonly string[];
  readonly eventBusNames: readonly string[];
  readonly functionNames: readonly string[];
  readonly functionArns: readonly string[];
  readonly queueUrls: readonly string[];
  readonly queueArns: readonly string[];
  readonly tableNames: readonly string[];
  readonly tableArns: readonly string[];
  readonly keyIds: readonly string[];
  readonly bucketNames: readonly string[];
  readonly topicArn: string;
}

export interface SelfProtectionProps {
  readonly name: string;
  /** The alert topic, as a rule target (see `RuleTargets.topic`, with `alertMessage()`). */
  readonly target: events.IRuleTarget;
  readonly resources: ProtectedResources;
}

/** The changes that can weaken or switch off the guardrail, per CloudTrail event source. */
export const PROTECTED_CHANGES = {
  "events.amazonaws.com": [
    "DisableRule",
    "DeleteRule",
    "RemoveTargets",
    "PutRule",
    "PutTargets",
    "DeleteEventBus",
    "UpdateEventBus",
    "PutPermission",
    "RemovePermission",
  ],
  /** Lambda's CloudTrail event names carry an API version suffix (`DeleteFunction20150331`): prefixes. */
  "lambda.amazonaws.com": [
    "DeleteFunction",
    "PutFunctionConcurrency",
    "DeleteFunctionConcurrency",
    "UpdateFunctionConfiguration",
    "UpdateFunctionCode",
    "RemovePermission",
    "AddPermission",
    "DeleteEventSourceMapping",
    "UpdateEventSourceMapping",
    "PutFunctionEventInvokeConfig",
  ],
  "sqs.amazonaws.com": [
    "DeleteQueue",
    "PurgeQueue",
    "SetQueueAttributes",
    "AddPermission",
    "RemovePermission",
  ],
  "dynamodb.amazonaws.com": [
    "DeleteTable",
    "UpdateTable",
    "UpdateContinuousBackups",
    "UpdateTimeToLive",
    "PutResourcePolicy",
    "DeleteResourcePolicy",
  ],
  "kms.amazonaws.com": [
    "DisableKey",
    "ScheduleKeyDeletion",
    "PutKeyPolicy",
    "DisableKeyRotation",
    "CreateGrant",
  ],
  "s3.amazonaws.com": [
    "DeleteBucket",
    "PutBucketPolicy",
    "DeleteBucketPolicy",
    "PutBucketVersioning",
    "PutObjectLockConfiguration",
    "PutBucketPublicAccessBlock",
    "DeleteBucketPublicAccessBlock",
    "PutBucketLogging",
    "PutBucketLifecycle",
  ],
  "sns.amazonaws.com": [
    "DeleteTopic",
    "SetTopicAttributes",
    "RemovePermission",
    "AddPermission",
    "Unsubscribe",
  ],
} as const satisfies Record<string, readonly string[]>;

type Matcher = Record<string, unknown>;

export function cloudTrailPattern(
  eventSource: string,
  eventName: unknown[],
  anyOf: Matcher[],
): events.EventPattern {
  // `$or` needs two branches at least; one branch is simply part of the pattern.
  const [only] = anyOf;
  const which = anyOf.length === 1 && only ? only : { $or: anyOf };
  return {
    source: awsSourceOnly(),
    detailType: [CLOUDTRAIL_DETAIL_TYPE],
    detail: { eventSource: [eventSource], eventName, ...which },
  };
}

export function alertMessage(): events.RuleTargetInput {
  const field = (path: string) => events.EventField.fromPath(path);
  return events.RuleTargetInput.fromText(
    `S3 Files remediator self-protection: ${field("$.detail.eventName")} on ${field("$.detail.eventSource")} ` +
      `changed the guardrail itself. Actor: ${field("$.detail.userIdentity.arn")} from ` +
      `${field("$.detail.sourceIPAddress")} (${field("$.detail.userAgent")}) at ${field("$.detail.eventTime")}, ` +
      `account ${field("$.account")}, region ${field("$.region")}. Request: ${field("$.detail.requestParameters")}. ` +
      `Error (empty when the call succeeded): ${field("$.detail.errorCode")}. CloudTrail event ${field("$.detail.eventID")}.`,
  );
}

/** The protection rules, `<name>-protect-<label>`, one per watched service (two for EventBridge). */
export const PROTECTION_LABELS = [
  "events-a",
  "events-b",
  "lambda",
  "sqs",
  "dynamodb",
  "kms",
  "s3",
  "sns",
] as const;

export class SelfProtection extends Construct {
  readonly rules: events.Rule[] = [];
  readonly ruleNames: string[] = [];

  constructor(scope: Construct, id: string, props: SelfProtectionProps) {
    super(scope, id);
    const r = props.resources;
    const target = props.target;
    const exact = (names: readonly string[]) => [...names];
    const watch = (
      label: (typeof PROTECTION_LABELS)[number],
      pattern: events.EventPattern,
      description: string,
    ) => {
      const ruleName = `${props.name}-protect-${label}`;
      this.ruleNames.push(ruleName);
      this.rules.push(
        new events.Rule(this, `Rule-${label}`, {
          ruleName,
          description,
          eventPattern: pattern,
          targets: [target],
        }),
      );
    };

    // Every protection rule is itself watched (the two EventBridge watchers also watch each other):
    // disabling any of them, or removing its target, is reported by the others.
    const watcherNames = PROTECTION_LABELS.map((label) => `${props.name}-protect-${label}`);
    const ownRules = [...r.ruleNames, ...watcherNames];
    for (const label of ["events-a", "events-b"] as const) {
      watch(
        label,
        cloudTrailPattern("events.amazonaws.com", exact(PROTECTED_CHANGES["events.amazonaws.com"]), [
          { requestParameters: { name: [...ownRules, ...r.eventBusNames] } },
          { requestParameters: { rule: ownRules } },
          { requestParameters: { eventBusName: exact(r.eventBusNames) } },
        ]),
        "Alerts on changes to the S3 Files remediator's own EventBridge rules and buses",
      );
    }
    watch(
      "lambda",
      cloudTrailPattern(
        "lambda.amazonaws.com",
        PROTECTED_CHANGES["lambda.amazonaws.com"].map((prefix) => ({ prefix })),
        [
          { requestParameters: { functionName: [...r.functionNames, ...r.functionArns] } },
          { responseElements: { functionArn: exact(r.functionArns) } },
          { responseElements: { eventSourceArn: exact(r.queueArns) } },
        ],
      ),
      "Alerts on changes to the S3 Files remediator's functions, their concurrency and their queue trigger",
    );
    watch(
      "sqs",
      cloudTrailPattern("sqs.amazonaws.com", exact(PROTECTED_CHANGES["sqs.amazonaws.com"]), [
        { requestParameters: { queueUrl: exact(r.queueUrls) } },
      ]),
      "Alerts on changes to the S3 Files remediator's queues",
    );
    watch(
      "dynamodb",
      cloudTrailPattern("dynamodb.amazonaws.com", exact(PROTECTED_CHANGES["dynamodb.amazonaws.com"]), [
        { requestParameters: { tableName: [...r.tableNames, ...r.tableArns] } },
        { requestParameters: { resourceArn: exact(r.tableArns) } },
      ]),
      "Alerts on changes to the S3 Files remediator's audit and state tables",
    );
    watch(
      "kms",
      cloudTrailPattern("kms.amazonaws.com", exact(PROTECTED_CHANGES["kms.amazonaws.com"]), [
        { requestParameters: { keyId: exact(r.keyIds) } },
        { resources: { ARN: exact(r.keyIds) } },
      ]),
      "Alerts on changes to the S3 Files remediator's encryption key",
    );
    watch(
      "s3",
      cloudTrailPattern("s3.amazonaws.com", exact(PROTECTED_CHANGES["s3.amazonaws.com"]), [
        { requestParameters: { bucketName: exact(r.bucketNames) } },
      ]),
      "Alerts on changes to the S3 Files remediator's audit archive",
    );
    watch(
      "sns",
      cloudTrailPattern("sns.amazonaws.com", exact(PROTECTED_CHANGES["sns.amazonaws.com"]), [
        { requestParameters: { topicArn: [r.topicArn] } },
        { requestParameters: { subscriptionArn: [{ prefix: `${r.topicArn}:` }] } },
      ]),
      "Alerts on changes to the S3 Files remediator's alert topic and its subscriptions",
    );
  }
}

/** EventBridge changes that can switch a member account's forwarding off. */
export const MEMBER_FORWARDING_CHANGES = [
  "DisableRule",
  "DeleteRule",
  "RemoveTargets",
  "PutRule",
  "PutTargets",
] as const;

/** The pattern, in a member account, for changes to the remediator's forwarding rules there. */
export function memberForwardingChangePattern(forwardRulePrefix: string): events.EventPattern {
  return cloudTrailPattern(
    "events.amazonaws.com",
    [...MEMBER_FORWARDING_CHANGES],
    [
      { requestParameters: { name: [{ prefix: forwardRulePrefix }] } },
      { requestParameters: { rule: [{ prefix: forwardRulePrefix }] } },
    ],
  );
}

/**
 * How every EventBridge rule of the stack delivers: into the intake queue, to the alert topic, or to
 * a function, each with a dead-letter queue (after EventBridge's retries, 24 hours by default, an
 * undeliverable event would otherwise be dropped without a trace) and each grant to
 * `events.amazonaws.com` limited to this guardrail's own rules (`aws:SourceAccount` and
 * `aws:SourceArn`), so no other account's or other rule's delivery can use the queue, the topic or
 * their keys on the guardrail's behalf (the confused-deputy problem).
 *
 * The grants name the rules by pattern (`rule/<name>-*`, and `rule/<bus>/<name>-*` for rules on a
 * custom bus), not one by one: the keys and the topic are created before the rules that target
 * them, and a key policy naming each rule's ARN would be a dependency cycle.
 */
import { Aws, Duration } from "aws-cdk-lib";
import type * as events from "aws-cdk-lib/aws-events";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type * as sns from "aws-cdk-lib/aws-sns";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { NagSuppressions } from "cdk-nag";
import { Construct } from "constructs";

const EVENTS = "events.amazonaws.com";

/** The ARNs of this guardrail's rules, on the default bus and on its own buses. */
export function ownRuleArnPatterns(name: string): string[] {
  const rules = `arn:${Aws.PARTITION}:events:${Aws.REGION}:${Aws.ACCOUNT_ID}:rule`;
  return [`${rules}/${name}-*`, `${rules}/*/${name}-*`];
}

/** The confused-deputy conditions for a grant to EventBridge. */
export function ownRulesCondition(name: string): Record<string, Record<string, unknown>> {
  return {
    StringEquals: { "aws:SourceAccount": Aws.ACCOUNT_ID },
    ArnLike: { "aws:SourceArn": ownRuleArnPatterns(name) },
  };
}

/** What EventBridge needs on a KMS key to write into a queue or topic encrypted with it. */
export function eventBridgeKeyStatement(name: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: "EventBridgeRulesOfThisGuardrailOnly",
    principals: [new iam.ServicePrincipal(EVENTS)],
    actions: ["kms:Decrypt", "kms:GenerateDataKey"],
    resources: ["*"],
    conditions: ownRulesCondition(name),
  });
}

export interface RuleTargetsProps {
  readonly name: string;
  /** Encrypts the dead-letter queue: the alerting key, not the key the guardrail watches. */
  readonly key: kms.IKey;
}

/** The rule targets of one stack, all sharing one dead-letter queue for undeliverable events. */
export class RuleTargets extends Construct {
  readonly deadLetterQueue: sqs.Queue;
  readonly #name: string;

  constructor(scope: Construct, id: string, props: RuleTargetsProps) {
    super(scope, id);
    this.#name = props.name;
    this.deadLetterQueue = new sqs.Queue(this, "UndeliveredEvents", {
      queueName: `${props.name}-undelivered-events`,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.allowDeliveryTo(this.deadLetterQueue);
    NagSuppressions.addResourceSuppressions(this.deadLetterQueue, [
      {
        id: "AwsSolutions-SQS3",
        reason:
          "This queue is itself the dead-letter queue of every EventBridge target of the stack (DeadLetterConfig " +
          "of each rule target); an alarm reports any message in it.",
      },
    ]);
  }

  /** Lets this guardrail's rules (and only them) send to a queue. */
  allowDeliveryTo(queue: sqs.IQueue): void {
    queue.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "EventBridgeRulesOfThisGuardrailOnly",
        principals: [new iam.ServicePrincipal(EVENTS)],
        actions: ["sqs:SendMessage"],
        resources: [queue.queueArn],
        conditions: ownRulesCondition(this.#name),
      }),
    );
  }

  /** Lets this guardrail's rules (and only them) publish to a topic. */
  allowPublishTo(topic: sns.ITopic): void {
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "EventBridgeRulesOfThisGuardrailOnly",
        principals: [new iam.ServicePrincipal(EVENTS)],
        actions: ["sns:Publish"],
        resources: [topic.topicArn],
        conditions: ownRulesCondition(this.#name),
      }),
    );
  }

  queue(queue: sqs.IQueue): events.IRuleTarget {
    return this.#target(queue.queueArn);
  }

  topic(topic: sns.ITopic, message: events.RuleTargetInput): events.IRuleTarget {
    return this.#target(topic.topicArn, message);
  }

  /** A function target: EventBridge invokes it asynchronously, through a permission on that rule only. */
  function(fn: lambda.IFunction, retryAttempts: number): events.IRuleTarget {
    const dlq = this.deadLetterQueue;
    return {
      bind(rule: events.IRule) {
        fn.addPermission(`InvokedBy${rule.node.addr}`, {
          principal: new iam.ServicePrincipal(EVENTS),
          sourceArn: rule.ruleArn,
          sourceAccount: Aws.ACCOUNT_ID,
        });
        return {
          arn: fn.functionArn,
          deadLetterConfig: { arn: dlq.queueArn },
          retryPolicy: { maximumRetryAttempts: retryAttempts },
        };
      },
    };
  }

  /** No grant here: the queue, topic and keys grant this guardrail's rules once, by pattern. */
  #target(arn: string, input?: events.RuleTargetInput): events.IRuleTarget {
    const dlq = this.deadLetterQueue;
    return {
      bind: () => ({ arn, input, deadLetterConfig: { arn: dlq.queueArn } }),
    };
  }
}

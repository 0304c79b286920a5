/**
 * The IAM forwarding stack, deployed in the IAM event region (us-east-1 in the commercial partition):
 * IAM is global and its CloudTrail events reach EventBridge only there. One rule sends the IAM calls
 * the guardrail judges (and those that touch the guardrail itself) to the guardrail's IAM intake bus
 * in its region, through a role that may only put events on that bus; a second rule forwards changes
 * to the first, so switching the forwarding off is reported.
 *
 * Two forms: single account (the guardrail's own account), and organization member (a StackSet
 * template deployed to each member's IAM event region, targeting the central account's bus).
 * Cross-region bus targets are not available in AWS GovCloud (US) or China: there the guardrail runs
 * in the IAM event region itself and no forwarding stack is needed.
 */
import { Aws, Duration, Stack, type StackProps } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { NagSuppressions } from "cdk-nag";
import type { Construct } from "constructs";
import { iamForwardPattern, iamForwardRuleName, iamIntakeBusName } from "./constructs/identity-layer.ts";
import { memberForwardingChangePattern } from "./constructs/self-protection.ts";

export interface IamForwardingStackProps extends StackProps {
  readonly name: string;
  /** The region of the guardrail that judges IAM. */
  readonly iamRegion: string;
  /** The account running that guardrail; this stack's own account when absent (single account). */
  readonly centralAccount?: string;
}

export class IamForwardingStack extends Stack {
  readonly forwardRule: events.Rule;

  constructor(scope: Construct, id: string, props: IamForwardingStackProps) {
    super(scope, id, props);
    const account = props.centralAccount ?? Aws.ACCOUNT_ID;
    const bus = events.EventBus.fromEventBusArn(
      this,
      "GuardrailIamBus",
      `arn:${Aws.PARTITION}:events:${props.iamRegion}:${account}:event-bus/${iamIntakeBusName(props.name)}`,
    );
    // The EventBus target grants the role events:PutEvents on that bus, and nothing else.
    const role = new iam.Role(this, "ForwardRole", {
      description:
        "Lets EventBridge forward IAM CloudTrail events to the S3 Files remediator's IAM intake bus",
      assumedBy: new iam.ServicePrincipal("events.amazonaws.com", {
        conditions: { StringEquals: { "aws:SourceAccount": Aws.ACCOUNT_ID } },
      }),
    });
    // Events the guardrail's bus could not take (after EventBridge's 24 hours of retries) wait here.
    const undelivered = new sqs.Queue(this, "UndeliveredEvents", {
      queueName: `${iamForwardRuleName(props.name)}-undelivered`,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    NagSuppressions.addResourceSuppressions(undelivered, [
      {
        id: "AwsSolutions-SQS3",
        reason:
          "This queue is itself the dead-letter queue of the forwarding rules' targets; it holds the events the " +
          "guardrail's bus did not accept after EventBridge's retries.",
      },
    ]);
    const forward = () => new targets.EventBus(bus, { role, deadLetterQueue: undelivered });
    this.forwardRule = new events.Rule(this, "Forward", {
      ruleName: iamForwardRuleName(props.name),
      description:
        "Forwards IAM CloudTrail events to the S3 Files remediator (IAM events arrive only in this region)",
      eventPattern: iamForwardPattern(),
      targets: [forward()],
    });
    // Two rules that watch each other as well as the forwarding rule: the one being disabled cannot
    // report itself, the other one does.
    for (const suffix of ["a", "b"]) {
      new events.Rule(this, `ForwardingProtection-${suffix}`, {
        ruleName: `${iamForwardRuleName(props.name)}-protect-${suffix}`,
        description: "Forwards changes to the S3 Files remediator's IAM forwarding rules to the guardrail",
        eventPattern: memberForwardingChangePattern(iamForwardRuleName(props.name)),
        targets: [forward()],
      });
    }
  }
}

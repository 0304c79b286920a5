/**
 * Where people and machines hear from the remediator: the encrypted SNS topic (alarms,
 * self-protection alerts, per-decision messages) and the decision event bus (one structured event
 * per decision, for routing to ticketing or chat).
 */
import { Aws } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import { Construct } from "constructs";

export interface NotificationsProps {
  readonly name: string;
  /** The alerting key: not the key the guardrail watches, so disabling that one still alerts. */
  readonly key: kms.IKey;
  readonly email: string | undefined;
}

export class Notifications extends Construct {
  readonly topic: sns.Topic;
  readonly decisionBus: events.EventBus;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, "Topic", {
      topicName: `${props.name}-alerts`,
      displayName: "S3 Files remediator",
      masterKey: props.key,
      enforceSSL: true,
    });
    // CloudWatch alarms publish as the service; the topic policy CDK writes for enforceSSL
    // replaces the default one, so say so explicitly, for this account's alarms only.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "CloudWatchAlarmsOfThisAccount",
        principals: [new iam.ServicePrincipal("cloudwatch.amazonaws.com")],
        actions: ["sns:Publish"],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { "aws:SourceAccount": Aws.ACCOUNT_ID },
          ArnLike: {
            "aws:SourceArn": `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*`,
          },
        },
      }),
    );
    // E-mail subscriptions stay pending until the address confirms the message AWS sends it.
    if (props.email) this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));

    // No `Description`: CloudFormation rejects it on event buses in the GovCloud regions.
    this.decisionBus = new events.EventBus(this, "DecisionBus", { eventBusName: `${props.name}-decisions` });
  }
}

/**
 * A customer-managed KMS key of the stack. Two of them: the guardrail key (queues, tables, archive)
 * and the alerting key (the alert topic and the queue of undeliverable events). Disabling the first
 * must not silence the alert that reports it: the path that tells people stays on its own key.
 *
 * Customer keys rather than AWS-managed ones because the services that deliver into these resources
 * (EventBridge into the queues and topic, CloudWatch alarms into the topic) can only be granted
 * access on a key whose policy the stack controls; each such grant names the account and the source.
 */
import { Aws, RemovalPolicy } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import { Construct } from "constructs";
import { eventBridgeKeyStatement } from "./rule-targets.ts";

export interface GuardrailKeyProps {
  /** Prefix of the guardrail's resources: EventBridge is granted the key for its own rules only. */
  readonly name: string;
  readonly alias: string;
  readonly description: string;
  /** The key encrypts the topic the alarms publish to: let this account's alarms use it. */
  readonly forAlarms?: boolean;
}

export class GuardrailKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: GuardrailKeyProps) {
    super(scope, id);
    this.key = new kms.Key(this, "Key", {
      alias: props.alias,
      description: props.description,
      enableKeyRotation: true,
      // Audit records and the archive are encrypted with it: never delete it with the stack, nor
      // on an update. A key made by a first create that rolls back protects nothing: removed.
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    this.key.addToResourcePolicy(eventBridgeKeyStatement(props.name));
    if (props.forAlarms) {
      this.key.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: "CloudWatchAlarmsOfThisAccountOnly",
          principals: [new iam.ServicePrincipal("cloudwatch.amazonaws.com")],
          actions: ["kms:Decrypt", "kms:GenerateDataKey"],
          resources: ["*"],
          conditions: {
            StringEquals: { "aws:SourceAccount": Aws.ACCOUNT_ID },
            ArnLike: {
              "aws:SourceArn": `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*`,
            },
          },
        }),
      );
    }
  }
}

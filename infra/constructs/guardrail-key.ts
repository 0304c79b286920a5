/**
 * The one customer-managed KMS key of the stack (queues, topic, tables, archive). A customer key
 * rather than the AWS-managed ones because the services that deliver into these resources
 * (EventBridge into the queue and topic, CloudWatch alarms into the topic) can only be granted
 * access on a key whose policy the stack controls.
 */
import { Aws, RemovalPolicy } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import { Construct } from "constructs";

export class GuardrailKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: { readonly name: string }) {
    super(scope, id);
    this.key = new kms.Key(this, "Key", {
      alias: `alias/${props.name}`,
      description: "Encrypts the S3 Files remediator's queues, topic, tables and audit archive",
      enableKeyRotation: true,
      // Audit records and the archive are encrypted with it: never delete it with the stack.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "CloudWatchAlarmsPublishToTheEncryptedTopic",
        principals: [new iam.ServicePrincipal("cloudwatch.amazonaws.com")],
        actions: ["kms:Decrypt", "kms:GenerateDataKey"],
        resources: ["*"],
        conditions: { StringEquals: { "aws:SourceAccount": Aws.ACCOUNT_ID } },
      }),
    );
  }
}

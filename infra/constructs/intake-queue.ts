/**
 * The buffer between EventBridge and `remediate`: an encrypted, TLS-only queue whose messages go
 * to a dead-letter queue after a bounded number of receives, so that nothing is lost and nothing
 * loops for ever.
 */
import { Duration } from "aws-cdk-lib";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";

export interface IntakeQueueProps {
  readonly name: string;
  readonly key: kms.IKey;
  /** The consumer's timeout: the visibility timeout is six times it, as Lambda recommends. */
  readonly consumerTimeout: Duration;
  readonly maxReceiveCount: number;
}

export class IntakeQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: IntakeQueueProps) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, "DeadLetterQueue", {
      queueName: `${props.name}-intake-dlq`,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.key,
      dataKeyReuse: Duration.hours(1),
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, "Queue", {
      queueName: `${props.name}-intake`,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.key,
      // Fewer KMS calls per message: one data key serves the queue for an hour.
      dataKeyReuse: Duration.hours(1),
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      visibilityTimeout: Duration.seconds(props.consumerTimeout.toSeconds() * 6),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });
  }
}

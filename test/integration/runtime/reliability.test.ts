/**
 * Reliability against moto_server: throttling that passes, and throttling that persists (the
 * message goes back to a real SQS queue and ends in its dead-letter queue). The 1,000-event burst
 * is in `burst.test.ts`.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { CreateVpcCommand, DescribeSecurityGroupRulesCommand, EC2Client } from "@aws-sdk/client-ec2";
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSBatchResponse } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRuntime } from "../../../shared/runtime/compose.ts";
import { pipelineObserver } from "../../../shared/runtime/observability.ts";
import { createRemediateHandler } from "../../../shared/runtime/remediate-handler.ts";
import { loadSettings } from "../../../shared/runtime/settings.ts";
import { type Moto, startMoto } from "../../helpers/moto.ts";
import {
  auditRecordsIn,
  authorizeIngressEvent,
  createInfra,
  createNfsGroup,
  type Infra,
  injectThrottling,
  lambdaContext,
  motoClients,
  runtimeEnv,
  sqsBatch,
} from "../../helpers/runtime-env.ts";

type Handler = (event: unknown, context: unknown) => Promise<SQSBatchResponse | undefined>;

let moto: Moto;
let infra: Infra;
let ec2: EC2Client;
let vpcId: string;

const quiet = () => ({
  logger: new Logger({ logLevel: process.env.TEST_LOG_LEVEL === "ERROR" ? "ERROR" : "SILENT" }),
  metrics: new Metrics({ namespace: "test", serviceName: "test" }),
});

/** A handler over a runtime whose EC2 client throttles the next `throttled()` calls. */
function handlerWithThrottling(throttled: () => number) {
  const clients = motoClients(moto);
  const injected = injectThrottling(clients.ec2, throttled);
  const settings = loadSettings(runtimeEnv(moto, infra, { RETRY_MAX_ATTEMPTS: "4" }));
  const { logger, metrics } = quiet();
  const { pipeline } = buildRuntime(settings, clients, {
    sleep: async () => {},
    observer: pipelineObserver(logger, metrics),
  });
  return { handler: createRemediateHandler(pipeline, logger, metrics) as unknown as Handler, injected };
}

function openGroup(name: string) {
  return createNfsGroup(ec2, vpcId, name, ["0.0.0.0/0"]);
}

async function worldRules(groupId: string): Promise<number> {
  const answer = await ec2.send(
    new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "group-id", Values: [groupId] }] }),
  );
  return (answer.SecurityGroupRules ?? []).filter((r) => !r.IsEgress && r.CidrIpv4 === "0.0.0.0/0").length;
}

beforeAll(async () => {
  process.env.POWERTOOLS_METRICS_DISABLED = "true";
  moto = await startMoto();
  infra = await createInfra(moto, "reliability");
  ec2 = new EC2Client(moto.clientConfig);
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: "10.30.0.0/16" }));
  vpcId = vpc.Vpc?.VpcId ?? "";
});

afterAll(async () => {
  await moto?.stop();
});

describe("throttling", () => {
  it("retries a stretch of throttled EC2 calls with back-off, then remediates", async () => {
    // Prepare: the next 3 EC2 calls are throttled (4 attempts per call are allowed).
    const { groupId, rules } = await openGroup("throttle-pass");
    let budget = 3;
    const { handler, injected } = handlerWithThrottling(() => budget);
    const event = authorizeIngressEvent(groupId, 2049, rules);

    // Act
    const response = await handler(sqsBatch([event]), lambdaContext());
    budget = 0;

    // Assess
    expect(response?.batchItemFailures).toEqual([]);
    expect(await worldRules(groupId)).toBe(0);
    expect(injected.calls()).toBeGreaterThan(3);
    const records = (await auditRecordsIn(moto, infra.auditTable)).filter(
      (r) => r.eventId === (event.detail as { eventID: string }).eventID,
    );
    expect(records.map((r) => r.outcome)).toEqual(["remediated"]);
  });

  it("returns a persistently throttled message to the queue until it lands in the dead-letter queue", async () => {
    // Prepare: a queue with a DLQ after 2 receives, and EC2 throttling every call.
    const sqs = new SQSClient(moto.clientConfig);
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: "remediate-dlq" }));
    const dlqArn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ["QueueArn"] }))
    ).Attributes?.QueueArn;
    const queue = await sqs.send(
      new CreateQueueCommand({
        QueueName: "remediate-events",
        Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 2 }) },
      }),
    );
    const { groupId, rules } = await openGroup("throttle-dlq");
    const event = authorizeIngressEvent(groupId, 2049, rules);
    const eventId = (event.detail as { eventID: string }).eventID;
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.QueueUrl, MessageBody: JSON.stringify(event) }));
    const { handler } = handlerWithThrottling(() => Number.POSITIVE_INFINITY);

    // Act: poll as the Lambda event source mapping does.
    const failures: string[] = [];
    for (let round = 0; round < 4; round++) {
      const received = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queue.QueueUrl,
          MaxNumberOfMessages: 10,
          MessageSystemAttributeNames: ["All"],
        }),
      );
      const messages = received.Messages ?? [];
      if (messages.length === 0) continue;
      const batch = {
        Records: messages.map((m) => ({
          messageId: m.MessageId,
          receiptHandle: m.ReceiptHandle,
          body: m.Body,
          attributes: m.Attributes ?? {},
          messageAttributes: {},
          md5OfBody: m.MD5OfBody,
          eventSource: "aws:sqs",
          eventSourceARN: "arn:aws:sqs:eu-west-1:123456789012:remediate-events",
          awsRegion: "eu-west-1",
        })),
      };
      const response = await handler(batch, lambdaContext());
      const failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      for (const m of messages) {
        if (failed.has(m.MessageId ?? "")) {
          failures.push(m.MessageId ?? "");
          await sqs.send(
            new ChangeMessageVisibilityCommand({
              QueueUrl: queue.QueueUrl,
              ReceiptHandle: m.ReceiptHandle,
              VisibilityTimeout: 0,
            }),
          );
        } else {
          await sqs.send(
            new DeleteMessageCommand({ QueueUrl: queue.QueueUrl, ReceiptHandle: m.ReceiptHandle }),
          );
        }
      }
    }

    // Assess: reported as a failure on each receive, then dead-lettered; nothing acted, no record.
    expect(failures).toHaveLength(2);
    const dead = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: dlq.QueueUrl, MaxNumberOfMessages: 10 }),
    );
    expect(
      dead.Messages?.map((m) => (JSON.parse(m.Body ?? "{}").detail as { eventID: string }).eventID),
    ).toEqual([eventId]);
    expect(await worldRules(groupId)).toBe(1);
    expect((await auditRecordsIn(moto, infra.auditTable)).filter((r) => r.eventId === eventId)).toEqual([]);
  });
});

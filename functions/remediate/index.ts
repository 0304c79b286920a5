/**
 * `remediate`: an SQS batch of EventBridge events (partial batch failures reported), or one
 * EventBridge event delivered directly. Each input ends as one audit record, or goes back to the
 * queue when AWS keeps throttling or failing (then to the dead-letter queue).
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { errorMessage } from "../../shared/core/errors.ts";
import { buildRuntime, createClients } from "../../shared/runtime/compose.ts";
import { pipelineObserver } from "../../shared/runtime/observability.ts";
import { loadSettings } from "../../shared/runtime/settings.ts";

const settings = loadSettings();
const logger = new Logger({ serviceName: "s3files-remediator" });
const metrics = new Metrics({ namespace: "S3FilesRemediator", serviceName: "remediate" });
const { pipeline } = buildRuntime(settings, createClients(settings), {
  observer: pipelineObserver(logger, metrics),
});
const processor = new BatchProcessor(EventType.SQS);

async function handleRecord(record: SQSRecord): Promise<void> {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch (error) {
    await pipeline.recordUnreadable(
      `sqs:${record.messageId}`,
      `message body is not JSON: ${errorMessage(error)}`,
    );
    return;
  }
  try {
    await pipeline.handle(body, `sqs:${record.messageId}`);
  } catch (error) {
    // Back to the queue; after maxReceiveCount, to the dead-letter queue with this log line as its error.
    logger.error("retryable failure: message returned to the queue", {
      messageId: record.messageId,
      receiveCount: record.attributes?.ApproximateReceiveCount,
      error: errorMessage(error),
    });
    throw error;
  }
}

const isSqsEvent = (event: unknown): event is SQSEvent =>
  Array.isArray((event as SQSEvent | undefined)?.Records);

export const handler = middy(
  async (event: unknown, context: Context): Promise<SQSBatchResponse | undefined> => {
    if (isSqsEvent(event)) return processPartialResponse(event, handleRecord, processor, { context });
    const id = (event as { id?: unknown } | undefined)?.id;
    await pipeline.handle(event, `eventbridge:${typeof id === "string" ? id : "unknown"}`);
    return undefined;
  },
)
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));

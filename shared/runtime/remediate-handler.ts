/**
 * The `remediate` Lambda handler, built around a runtime so tests and benchmarks can inject one:
 * an SQS batch (partial batch failures reported) or one EventBridge event delivered directly.
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import type { Metrics } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { errorMessage } from "../core/errors.ts";
import type { RemediationPipeline } from "./pipeline.ts";

const isSqsEvent = (event: unknown): event is SQSEvent =>
  Array.isArray((event as SQSEvent | undefined)?.Records);

export function createRemediateHandler(pipeline: RemediationPipeline, logger: Logger, metrics: Metrics) {
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
      // Back to the queue; after maxReceiveCount the queue moves it to the dead-letter queue, and
      // this line is its error on record.
      logger.error("retryable failure: message returned to the queue", {
        messageId: record.messageId,
        receiveCount: record.attributes?.ApproximateReceiveCount,
        error: errorMessage(error),
      });
      throw error;
    }
  }

  return middy(async (event: unknown, context: Context): Promise<SQSBatchResponse | undefined> => {
    if (isSqsEvent(event))
      return processPartialResponse(event, handleRecord, processor, {
        context,
        // All failed is still a partial response: each message goes back on its own.
        throwOnFullBatchFailure: false,
        // One record at a time: the queue trigger's maximum concurrency is then the number of events
        // in flight, which bounds the burst of AWS calls (the stack states it); a batch of ten in
        // parallel would multiply it by ten.
        processInParallel: false,
      });
    // One event delivered directly (a manual or test invocation; the deployed rules all go through
    // the queue): a retryable error is thrown to the caller, everything else ends as one record.
    const id = (event as { id?: unknown } | undefined)?.id;
    await pipeline.handle(event, `eventbridge:${typeof id === "string" ? id : "unknown"}`);
    return undefined;
  })
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics));
}

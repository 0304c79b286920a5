/**
 * The burst bound: `remediate` takes its SQS batch one record at a time, so the queue trigger's
 * maximum concurrency (the stack's `remediateConcurrency`) is the number of events in flight.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import type { SQSBatchResponse } from "aws-lambda";
import { describe, expect, it } from "vitest";
import type { RemediationPipeline } from "../../../shared/runtime/pipeline.ts";
import { createRemediateHandler } from "../../../shared/runtime/remediate-handler.ts";
import { lambdaContext, sqsBatch } from "../../helpers/runtime-env.ts";

type Handler = (event: unknown, context: unknown) => Promise<SQSBatchResponse | undefined>;

describe("remediate's batch processing", () => {
  it("handles the records of one batch one at a time, in order, and still reports each failure", async () => {
    // Prepare: a pipeline that counts how many records are in its hands at once.
    let inFlight = 0;
    let most = 0;
    const seen: unknown[] = [];
    const pipeline = {
      async handle(body: { n: number }) {
        inFlight += 1;
        most = Math.max(most, inFlight);
        seen.push(body.n);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight -= 1;
        if (body.n === 3) throw new Error("throttled");
      },
      async recordUnreadable() {},
    } as unknown as RemediationPipeline;
    process.env.POWERTOOLS_METRICS_DISABLED = "true";
    const handler = createRemediateHandler(
      pipeline,
      new Logger({ logLevel: "SILENT" }),
      new Metrics({ namespace: "test" }),
    ) as unknown as Handler;
    const batch = sqsBatch(Array.from({ length: 10 }, (_, n) => ({ n })));

    // Act
    const response = await handler(batch, lambdaContext());

    // Assess
    expect(most).toBe(1);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(response?.batchItemFailures).toEqual([{ itemIdentifier: batch.Records[3]?.messageId }]);
  });
});

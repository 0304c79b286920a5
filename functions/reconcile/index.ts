/**
 * `reconcile`: on a schedule, sweeps every S3 Files and EFS file system and the groups guarding
 * their mount targets, judges the live state with the same rules and acts the same way. Bounded per
 * run (a cursor in the state table carries the sweep over) and stopped well before the timeout.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { buildRuntime, createClients } from "../../shared/runtime/compose.ts";
import { pipelineObserver } from "../../shared/runtime/observability.ts";
import type { ReconcileSummary } from "../../shared/runtime/reconcile.ts";
import { loadSettings } from "../../shared/runtime/settings.ts";

/** Leave this much of the Lambda timeout for the last file system and the cursor write. */
const SAFETY_MARGIN_MS = 60_000;

const settings = loadSettings();
const logger = new Logger({ serviceName: "s3files-remediator" });
const metrics = new Metrics({ namespace: "S3FilesRemediator", serviceName: "reconcile" });
const { reconciler } = buildRuntime(settings, createClients(settings), {
  observer: pipelineObserver(logger, metrics),
});

export const handler = middy(async (event: unknown, context: Context): Promise<ReconcileSummary> => {
  const id = (event as { id?: unknown } | undefined)?.id;
  const runId = typeof id === "string" ? id : new Date().toISOString();
  const hasTime = () =>
    typeof context?.getRemainingTimeInMillis !== "function" ||
    context.getRemainingTimeInMillis() > SAFETY_MARGIN_MS;
  const summary = await reconciler.sweep(runId, hasTime);
  logger.info("reconcile sweep", { ...summary });
  metrics.addMetric("reconciled_resources", MetricUnit.Count, summary.resources);
  metrics.addMetric("reconcile_remediated", MetricUnit.Count, summary.remediated);
  // Services, file systems or member accounts the sweep could not cover this run (an alarm watches it).
  metrics.addMetric("reconcile_errors", MetricUnit.Count, Object.keys(summary.errors).length);
  return summary;
})
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));

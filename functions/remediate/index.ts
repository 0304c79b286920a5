/**
 * `remediate`: an SQS batch of EventBridge events (partial batch failures reported), or one
 * EventBridge event delivered directly. Each input ends as one audit record, or goes back to the
 * queue when AWS keeps throttling or failing (and in the end to the dead-letter queue).
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { buildRuntime, createClients } from "../../shared/runtime/compose.ts";
import { pipelineObserver } from "../../shared/runtime/observability.ts";
import { createRemediateHandler } from "../../shared/runtime/remediate-handler.ts";
import { loadSettings } from "../../shared/runtime/settings.ts";

const settings = loadSettings();
const logger = new Logger({ serviceName: "s3files-remediator" });
const metrics = new Metrics({ namespace: "S3FilesRemediator", serviceName: "remediate" });
const { pipeline } = buildRuntime(settings, createClients(settings), {
  observer: pipelineObserver(logger, metrics),
});

export const handler = createRemediateHandler(pipeline, logger, metrics);

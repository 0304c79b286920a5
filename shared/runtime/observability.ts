/**
 * Logs and metrics for the pipeline's decisions (Powertools Logger and Metrics), kept out of the
 * pipeline itself so it stays testable with no Lambda context.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { type Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { errorMessage } from "../core/errors.ts";
import { MEMBER_ROLE_UNAVAILABLE } from "./member-credentials.ts";
import type { PipelineObserver } from "./pipeline.ts";

export function pipelineObserver(logger: Logger, metrics: Metrics): PipelineObserver {
  return {
    decided(record, ledger) {
      logger.info("decision", {
        eventId: record.eventId,
        eventName: record.eventName,
        resource: record.resource,
        verdict: record.verdict,
        outcome: record.outcome,
        rules: record.rules,
        mode: record.mode,
        ledger,
        reason: record.reason,
        ...(record.error ? { error: record.error } : {}),
      });
      metrics.addMetric(`verdict_${record.verdict}`, MetricUnit.Count, 1);
      metrics.addMetric(`outcome_${record.outcome}`, MetricUnit.Count, 1);
      if (record.outcome === "failed" && record.error?.includes(MEMBER_ROLE_UNAVAILABLE)) {
        metrics.addMetric("member_role_unavailable", MetricUnit.Count, 1);
      }
    },
    duplicate(eventId) {
      logger.info("duplicate delivery: already handled", { eventId });
      metrics.addMetric("duplicate", MetricUnit.Count, 1);
    },
    resumed(eventId, what) {
      // An earlier attempt of this event stopped after recording (its notifications are told now)
      // or after acting (its decision is finished now).
      logger.info("taking over from an earlier attempt", { eventId, found: what });
      metrics.addMetric(what === "recorded" ? "resumed_recorded" : "resumed_intent", MetricUnit.Count, 1);
    },
    notifyFailed(notifier, record, error) {
      logger.error("notification failed (the audit record is written)", {
        notifier,
        eventId: record.eventId,
        error: errorMessage(error),
      });
      metrics.addMetric("notify_failed", MetricUnit.Count, 1);
    },
    archiveFailed(record, error) {
      logger.error("audit archive copy failed (the ledger record is written)", {
        eventId: record.eventId,
        error: errorMessage(error),
      });
      metrics.addMetric("audit_archive_failed", MetricUnit.Count, 1);
    },
    stateWriteFailed(what, error) {
      logger.warn("state table write failed", { what, error: errorMessage(error) });
      metrics.addMetric("state_write_failed", MetricUnit.Count, 1);
    },
  };
}

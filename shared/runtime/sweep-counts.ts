/**
 * What a reconcile sweep counts, and the one step every swept resource takes: the pipeline decides
 * it (no dedupe, no record when compliant); a retryable failure defers the resource to the next
 * run instead of failing the sweep.
 */
import type { Change } from "../core/types.ts";
import type { RemediationPipeline } from "./pipeline.ts";
import { isRetryableAwsError } from "./retry.ts";

export interface SweepCounts {
  readonly totals: { resources: number; recorded: number; remediated: number; failed: number };
  readonly complete: Record<string, boolean>;
  readonly deferred: string[];
  readonly errors: Record<string, string>;
}

/** Decides one swept resource and counts the outcome. */
export async function decideSwept(
  pipeline: RemediationPipeline,
  change: Change,
  notifyKey: string,
  counts: SweepCounts,
): Promise<void> {
  const { totals, deferred } = counts;
  try {
    const result = await pipeline.handleChange(change, { dedupe: false, recordCompliant: false, notifyKey });
    if (result.status === "decided") {
      totals.recorded++;
      if (result.record.outcome === "remediated") totals.remediated++;
      if (result.record.outcome === "failed") totals.failed++;
    }
  } catch (error) {
    if (!isRetryableAwsError(error)) throw error;
    deferred.push(change.resource);
  }
}

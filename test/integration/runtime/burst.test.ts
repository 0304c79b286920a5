/**
 * A burst of 1,000 events across 100 security groups through the real `remediate` handler
 * (pipeline, adapters, ledger, notifiers), with AWS answered in process by a stateful stub: every
 * event ends with exactly one audit record and each world-open rule is revoked once. (The same
 * burst against moto_server spends its time in the emulator, which serialises requests.)
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import type { SQSBatchResponse } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRuntime } from "../../../shared/runtime/compose.ts";
import { pipelineObserver } from "../../../shared/runtime/observability.ts";
import { createRemediateHandler } from "../../../shared/runtime/remediate-handler.ts";
import { loadSettings } from "../../../shared/runtime/settings.ts";
import { InMemoryAws, STUB_ENV, stubClients } from "../../helpers/aws-stub.ts";
import { authorizeIngressEvent, lambdaContext, sqsBatch } from "../../helpers/runtime-env.ts";

type Handler = (event: unknown, context: unknown) => Promise<SQSBatchResponse | undefined>;

const aws = new InMemoryAws();
let restore: () => void;

beforeAll(() => {
  restore = aws.install();
});

afterAll(() => restore?.());

describe("burst", () => {
  it("gives each of 1,000 events across 100 security groups exactly one audit record", async () => {
    // Prepare: 100 groups, each with NFS open to the world beside a private rule; 10 distinct
    // events per group (the real one, then replays and late copies with their own ids).
    const settings = loadSettings(STUB_ENV);
    process.env.POWERTOOLS_METRICS_DISABLED = "true";
    const logger = new Logger({ logLevel: "SILENT" });
    const metrics = new Metrics({ namespace: "test" });
    const { pipeline } = buildRuntime(settings, stubClients(), {
      sleep: async () => {},
      observer: pipelineObserver(logger, metrics),
    });
    const handler = createRemediateHandler(pipeline, logger, metrics) as unknown as Handler;
    const events: Record<string, unknown>[] = [];
    for (let g = 0; g < 100; g++) {
      const groupId = `sg-${g.toString(16).padStart(17, "0")}`;
      const world = aws.addIngressRule(groupId, 2049, "0.0.0.0/0");
      const inside = aws.addIngressRule(groupId, 2049, "10.0.0.0/16");
      for (let e = 0; e < 10; e++) {
        events.push(
          authorizeIngressEvent(groupId, 2049, [
            { cidr: "0.0.0.0/0", ruleId: world },
            { cidr: "10.0.0.0/16", ruleId: inside },
          ]),
        );
      }
    }
    // Interleave so concurrent batches race on the same groups.
    events.sort((a, b) => String(a.id).localeCompare(String(b.id)));

    // Act: 100 batches of 10, 4 batches at a time.
    const started = performance.now();
    const failures: string[] = [];
    for (let i = 0; i < events.length; i += 40) {
      const batches = [0, 10, 20, 30].map((o) => sqsBatch(events.slice(i + o, i + o + 10)));
      const responses = await Promise.all(batches.map((batch) => handler(batch, lambdaContext())));
      for (const r of responses) failures.push(...(r?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    }
    const elapsed = performance.now() - started;

    // Assess
    expect(failures).toEqual([]);
    const decisions = aws.itemsOf("audit").filter((item) => item.kind === "decision");
    const ids = decisions.map((item) => item.eventId);
    expect(decisions).toHaveLength(1000);
    expect(new Set(ids).size).toBe(1000);
    expect(new Set(ids)).toEqual(new Set(events.map((e) => (e.detail as { eventID: string }).eventID)));
    const worldLeft = [...aws.rules.values()].filter((r) => r.CidrIpv4 === "0.0.0.0/0");
    expect(worldLeft).toEqual([]);
    expect(aws.rules.size).toBe(100);
    const outcomes: Record<string, number> = {};
    for (const d of decisions) outcomes[String(d.outcome)] = (outcomes[String(d.outcome)] ?? 0) + 1;
    expect((outcomes.remediated ?? 0) + (outcomes["already-compliant"] ?? 0)).toBe(1000);
    console.log(
      `burst: 1000 events / 100 groups through the handler in ${elapsed.toFixed(0)} ms ` +
        `(${(elapsed / 1000).toFixed(2)} ms/event, ${aws.calls} stubbed AWS calls); outcomes ${JSON.stringify(outcomes)}`,
    );
  }, 120_000);
});

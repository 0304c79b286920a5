/**
 * The evidence invariants under faults: the real remediate handler against moto_server behind a
 * fault-injecting proxy (throttling and 5xx in each protocol's own shape, dropped connections,
 * answers lost after the write), fed by a simulated SQS queue (shuffles, duplicates, visibility
 * timeouts, a dead-letter queue) on containers that are killed after a write and replaced. For
 * each planted event: exactly one record (or the dead-letter queue); every notifying record on
 * every channel (SNS, EventBridge, Security Hub); the guardrail's own fix recorded as
 * `remediated`, never `already-compliant`; no unsafe rule left; no safe rule touched.
 * The heavy version (more events, more rates) runs in `npm run bench`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runUnderFaults } from "../../helpers/fault-run.ts";
import { type Moto, startMoto } from "../../helpers/moto.ts";

let moto: Moto;

beforeAll(async () => {
  process.env.POWERTOOLS_METRICS_DISABLED = "true";
  moto = await startMoto();
});

afterAll(async () => {
  await moto?.stop();
});

describe.each([
  { faultRate: 0.05, seed: 5 },
  { faultRate: 0.4, seed: 40 },
])("under a fault rate of $faultRate", ({ faultRate, seed }) => {
  it("keeps one record per event, notifies every notifying record on every channel, and attributes every fix truly", async () => {
    const report = await runUnderFaults(moto, {
      events: 100,
      faultRate,
      killRate: 0.02,
      duplicateRate: 0.1,
      containers: 6,
      seed,
    });

    console.info(`faults ${faultRate}: ${JSON.stringify(report)}`);
    expect(report.violations).toEqual([]);
    // The run was really exercised: faults of every kind, kills, duplicate deliveries.
    expect(report.faults["lost-answer"]).toBeGreaterThan(0);
    expect(report.faults.throttle).toBeGreaterThan(0);
    expect(report.killedInvocations).toBeGreaterThan(0);
    expect(report.duplicateDeliveries).toBeGreaterThan(0);
    expect(report.notifying).toBeGreaterThan(50);
  }, 600_000);
});

/**
 * The heavy version of `test/integration/runtime/faults.test.ts`: more events and more fault rates
 * through the real remediate handler against moto_server behind the fault-injecting proxy. Prints
 * each run's report (faults injected, kills, duplicate deliveries, outcomes, the copies receivers
 * got beyond the first, and every broken invariant). `npm run bench -- faults`; the size is
 * `FAULT_BENCH_EVENTS` (default 300) events per rate.
 */
import { runUnderFaults } from "../test/helpers/fault-run.ts";
import { startMoto } from "../test/helpers/moto.ts";

export async function run(): Promise<void> {
  process.env.POWERTOOLS_METRICS_DISABLED = "true";
  const events = Number(process.env.FAULT_BENCH_EVENTS ?? 300);
  const rates = (process.env.FAULT_BENCH_RATES ?? "0.05,0.2,0.4").split(",").map(Number);
  const moto = await startMoto();
  try {
    for (const [index, faultRate] of rates.entries()) {
      const started = Date.now();
      const report = await runUnderFaults(moto, {
        events,
        faultRate,
        killRate: Number(process.env.FAULT_BENCH_KILL ?? 0.02),
        duplicateRate: 0.1,
        containers: Number(process.env.FAULT_BENCH_CONTAINERS ?? 6),
        seed: 1000 + index,
      });
      console.log(
        `fault rate ${faultRate}: ${report.events} events in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
          `${report.violations.length} broken invariant(s); ${report.deadLettered} dead-lettered; ` +
          `${report.killedInvocations} killed of ${report.invocations} invocations; ` +
          `${report.duplicateDeliveries} duplicate deliveries; faults ${JSON.stringify(report.faults)}; ` +
          `outcomes ${JSON.stringify(report.outcomes)}; ${report.notifying} notifying records, extra copies ` +
          `${JSON.stringify(report.extraCopies)}`,
      );
      for (const line of report.violations.slice(0, 20)) console.log(`  broken: ${line}`);
    }
  } finally {
    await moto.stop();
  }
}

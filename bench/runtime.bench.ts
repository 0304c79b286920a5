/**
 * The Lambda functions' figures, each next to its baseline from the same run:
 * - bundle bytes per function (minified, as `npm run build` writes them);
 * - cold-start import of each bundle in a fresh `node` process, against `node -e 0`;
 * - handler overhead per event: the real `remediate` handler, pipeline, adapters, ledger and
 *   notifiers, with every AWS call answered in process by a zero-latency stub;
 * - event to verified revert against moto_server: one CloudTrail event in, the rule revoked and
 *   read back, the audit record written.
 * These are measurements, never assertions: the machine is shared and noisy.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { CreateVpcCommand, EC2Client } from "@aws-sdk/client-ec2";
import { buildAll } from "../esbuild.config.ts";
import { buildRuntime } from "../shared/runtime/compose.ts";
import { pipelineObserver } from "../shared/runtime/observability.ts";
import { createRemediateHandler } from "../shared/runtime/remediate-handler.ts";
import { loadSettings } from "../shared/runtime/settings.ts";
import { InMemoryAws, STUB_ENV, stubClients } from "../test/helpers/aws-stub.ts";
import { startMoto } from "../test/helpers/moto.ts";
import {
  authorizeIngressEvent,
  createInfra,
  createNfsGroup,
  lambdaContext,
  motoClients,
  runtimeEnv,
  sqsBatch,
} from "../test/helpers/runtime-env.ts";

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

const IMPORT_RUNS = 15;
const STUB_EVENTS = 2000;
const WARM_UP_EVENTS = 200;
const MOTO_EVENTS = 60;

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function median(values: readonly number[]): number {
  return percentile(values, 50);
}

function timeNode(args: readonly string[], env: NodeJS.ProcessEnv): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { env, stdio: ["ignore", "ignore", "pipe"] });
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`node ${args.join(" ")} failed: ${result.stderr.toString()}`);
  return elapsed;
}

/**
 * Per function: the entry, what a cold start loads (the entry and the chunks it imports
 * statically), and every file of the function's directory (lazy chunks included: optional
 * notifiers, the audit archive, rarely used credential providers).
 */
async function bundles(outdir: string): Promise<string[]> {
  const metafile = await buildAll(outdir);
  const outputs = metafile.outputs;
  const entries: string[] = [];
  for (const [file, output] of Object.entries(outputs)) {
    if (!/\/functions\/[^/]+\/index\.mjs$/.test(file)) continue;
    entries.push(file);
    const dir = file.slice(0, file.lastIndexOf("/") + 1);
    const loaded = new Set<string>();
    const visit = (path: string) => {
      if (loaded.has(path)) return;
      loaded.add(path);
      for (const i of outputs[path]?.imports ?? [])
        if (i.kind === "import-statement" && !i.external) visit(i.path);
    };
    visit(file);
    const bytes = (files: Iterable<string>) =>
      [...files].reduce((sum, f) => sum + (outputs[f]?.bytes ?? 0), 0).toLocaleString("en");
    const all = Object.keys(outputs).filter((f) => f.startsWith(dir));
    console.log(
      `bundle ${file.split("/functions/")[1]}: entry ${output.bytes.toLocaleString("en")} bytes; ` +
        `loaded at cold start ${bytes(loaded)} bytes (${loaded.size} files); ` +
        `all ${bytes(all)} bytes (${all.length} files)`,
    );
  }
  return entries;
}

function importTimes(files: readonly string[]): void {
  // The bundles read the local run contract at import; no AWS call happens before the first event.
  const env = { ...process.env, ...STUB_ENV, AWS_REGION: "eu-west-1", POWERTOOLS_LOG_LEVEL: "ERROR" };
  const baseline: number[] = [];
  const byFile = new Map<string, number[]>(files.map((f) => [f, []]));
  for (let run = 0; run < IMPORT_RUNS; run++) {
    // Interleaved, so drift on the shared machine hits every series alike.
    baseline.push(timeNode(["-e", "0"], env));
    for (const file of files) {
      byFile
        .get(file)
        ?.push(
          timeNode(
            [
              "--input-type=module",
              "-e",
              `await import(${JSON.stringify(pathToFileURL(resolve(file)).href)})`,
            ],
            env,
          ),
        );
    }
  }
  const base = median(baseline);
  console.log(`node -e 0: ${base.toFixed(1)} ms (median of ${IMPORT_RUNS})`);
  for (const [file, times] of byFile) {
    const m = median(times);
    console.log(
      `import ${file.split("/functions/")[1]}: ${m.toFixed(1)} ms, ${(m - base).toFixed(1)} ms over node -e 0`,
    );
  }
}

async function handlerOverhead(): Promise<void> {
  const aws = new InMemoryAws();
  const restore = aws.install();
  try {
    const logger = new Logger({ logLevel: "SILENT" });
    const metrics = new Metrics({ namespace: "bench" });
    // The observer the Lambda uses (logs and metrics per decision), so its cost is counted too.
    const { pipeline } = buildRuntime(loadSettings(STUB_ENV), stubClients(), {
      sleep: async () => {},
      observer: pipelineObserver(logger, metrics),
    });
    const handler = createRemediateHandler(pipeline, logger, metrics) as unknown as Handler;
    const once = async (i: number) => {
      const groupId = `sg-${i.toString(16).padStart(17, "0")}`;
      const world = aws.addIngressRule(groupId, 2049, "0.0.0.0/0");
      const event = authorizeIngressEvent(groupId, 2049, [{ cidr: "0.0.0.0/0", ruleId: world }]);
      const batch = sqsBatch([event]);
      const started = performance.now();
      await handler(batch, lambdaContext());
      return performance.now() - started;
    };
    for (let i = 0; i < WARM_UP_EVENTS; i++) await once(1_000_000 + i);
    const callsBefore = aws.calls;
    const times: number[] = [];
    for (let i = 0; i < STUB_EVENTS; i++) times.push(await once(i));
    const calls = (aws.calls - callsBefore) / STUB_EVENTS;
    console.log(
      `handler overhead per event (zero-latency AWS stub, full revoke path, ${calls.toFixed(0)} AWS calls/event, ${STUB_EVENTS} events): ` +
        `p50 ${percentile(times, 50).toFixed(2)} ms, p99 ${percentile(times, 99).toFixed(2)} ms`,
    );
  } finally {
    restore();
  }
}

async function revertAgainstMoto(): Promise<void> {
  const moto = await startMoto();
  try {
    const infra = await createInfra(moto, "bench");
    const ec2 = new EC2Client(moto.clientConfig);
    const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.50.0.0/16" }))).Vpc?.VpcId ?? "";
    const logger = new Logger({ logLevel: "SILENT" });
    const metrics = new Metrics({ namespace: "bench" });
    const { pipeline } = buildRuntime(loadSettings(runtimeEnv(moto, infra)), motoClients(moto), {
      observer: pipelineObserver(logger, metrics),
    });
    const handler = createRemediateHandler(pipeline, logger, metrics) as unknown as Handler;
    const times: number[] = [];
    for (let i = 0; i < MOTO_EVENTS + 5; i++) {
      const { groupId, rules } = await createNfsGroup(ec2, vpcId, `b${i}`, ["0.0.0.0/0"]);
      const batch = sqsBatch([authorizeIngressEvent(groupId, 2049, rules)]);
      const started = performance.now();
      await handler(batch, lambdaContext());
      if (i >= 5) times.push(performance.now() - started);
    }
    console.log(
      `event -> verified revert on moto_server (${MOTO_EVENTS} events, one at a time): ` +
        `p50 ${percentile(times, 50).toFixed(1)} ms, p99 ${percentile(times, 99).toFixed(1)} ms`,
    );
  } finally {
    await moto.stop();
  }
}

export async function run(): Promise<void> {
  // No CloudWatch here: keep Powertools Metrics from printing EMF or "no metrics" notes per event.
  process.env.POWERTOOLS_METRICS_DISABLED = "true";
  const outdir = mkdtempSync(join(tmpdir(), "runtime-bench-"));
  try {
    const files = await bundles(outdir);
    importTimes(files);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
  await handlerOverhead();
  await revertAgainstMoto();
}

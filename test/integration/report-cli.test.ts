/**
 * `remediator report` against a ledger in moto, and the HTML opened in headless Chromium: the page
 * loads with no request beyond its own file, and every number it shows equals the ledger's, counted
 * here straight from the records the ledger gives back.
 */
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { CliIo } from "../../cli/io.ts";
import { formatDuration, percentile } from "../../cli/report/summarise.ts";
import { runCli } from "../../cli/run-cli.ts";
import { DynamoDbAuditLedger, type StoredAuditRecord } from "../../shared/adapters/audit-dynamodb.ts";
import { type Moto, startMoto } from "../helpers/moto.ts";
import { syntheticLedger } from "../helpers/synthetic-ledger.ts";

const TABLE = "remediator-audit";
const STATE_TABLE = "remediator-state";
const SINCE = new Date("2026-11-20T00:00:00.000Z");
const UNTIL = new Date("2026-11-22T00:00:00.000Z");
const NOW = new Date("2026-11-22T06:00:00.000Z");
/** Where the distribution's own build of Chromium lives (Debian package `chromium`). */
const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

let moto: Moto;
let dir: string;
let stored: StoredAuditRecord[];

async function createTable(client: DynamoDBClient, name: string) {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      AttributeDefinitions: [
        { AttributeName: "pk", AttributeType: "S" },
        { AttributeName: "sk", AttributeType: "S" },
      ],
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
}

async function report(args: string[]) {
  let stdout = "";
  let stderr = "";
  const sink = (append: (text: string) => void) =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        append(chunk.toString("utf8"));
        done();
      },
    });
  const io: CliIo = {
    stdout: sink((text) => {
      stdout += text;
    }),
    stderr: sink((text) => {
      stderr += text;
    }),
    stdin: process.stdin,
    env: { AWS_REGION: "eu-west-1", AUDIT_TABLE_NAME: TABLE },
    now: () => NOW,
  };
  const status = await runCli(["report", ...args], io);
  return { status, stdout, stderr };
}

beforeAll(async () => {
  moto = await startMoto();
  dir = await mkdtemp(join(tmpdir(), "remediator-report-"));
  const client = new DynamoDBClient(moto.clientConfig);
  await createTable(client, TABLE);
  await createTable(client, STATE_TABLE);
  const ledger = new DynamoDbAuditLedger(client, { tableName: TABLE, clock: { now: () => NOW } });
  for (const record of syntheticLedger(60, SINCE, UNTIL)) await ledger.record(record);
  // What the ledger holds, as it gives it back: the figures below are counted from these.
  stored = [];
  for await (const record of ledger.query({ since: SINCE, until: UNTIL })) stored.push(record);
  client.destroy();
  vi.stubEnv("AWS_ENDPOINT_URL_DYNAMODB", moto.endpoint);
  vi.stubEnv("AWS_ACCESS_KEY_ID", "testing");
  vi.stubEnv("AWS_SECRET_ACCESS_KEY", "testing");
}, 60_000);

afterAll(async () => {
  vi.unstubAllEnvs();
  await moto?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("remediator report", () => {
  it("writes an HTML file that Chromium shows offline, with the ledger's numbers", async () => {
    const file = join(dir, "report.html");
    const result = await report(["--since", SINCE.toISOString(), "--until", "2026-11-21", "--output", file]);
    expect(result.stderr).toContain(`${stored.length} decision(s)`);
    expect(result.status).toBe(0);

    const count = (verdict: string) => stored.filter((r) => r.verdict === verdict).length;
    const remediated = stored.filter((r) => r.outcome === "remediated");
    const durations = remediated
      .map((r) => Date.parse(r.decidedAt) - Date.parse(r.eventTime ?? ""))
      .sort((a, b) => a - b);
    const withPlanRun = stored.filter(
      (r) => r.outcome === "remediated" || (r.outcome === "failed" && r.plan.length > 0),
    );
    expect(remediated.length).toBeGreaterThan(5);
    expect(count("exempted")).toBeGreaterThan(0);

    const userDataDir = await mkdtemp(join(dir, "chromium-profile-"));
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    try {
      const page = await context.newPage();
      const requests: string[] = [];
      page.on("request", (request) => {
        requests.push(request.url());
      });
      await page.goto(`file://${file}`, { waitUntil: "load" });
      const screenshot = join(dir, "report.png");
      await page.screenshot({ path: screenshot, fullPage: true });

      expect(requests).toEqual([`file://${file}`]);
      const png = await readFile(screenshot);
      expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
      expect((await stat(screenshot)).size).toBeGreaterThan(20_000);

      const shown = async (metric: string) =>
        (await page.locator(`[data-metric="${metric}"]`).innerText()).trim();
      expect(await shown("records")).toBe(String(stored.length));
      for (const verdict of ["violation", "compliant", "ignored", "exempted", "invalid", "failed"]) {
        expect(await shown(`verdict-${verdict}`), verdict).toBe(String(count(verdict)));
      }
      expect(await shown("outcome-remediated")).toBe(String(remediated.length));
      expect(await shown("ttr-count")).toBe(String(durations.length));
      expect(await shown("ttr-p50")).toBe(formatDuration(percentile(durations, 50)));
      expect(await shown("ttr-p90")).toBe(formatDuration(percentile(durations, 90)));
      expect(await shown("ttr-max")).toBe(formatDuration(durations.at(-1) ?? null));
      expect(await shown("remediation-count")).toBe(String(withPlanRun.length));
      expect(await page.locator("details[data-event-id]").count()).toBe(withPlanRun.length);

      // Per account: the rows the page shows equal the records of each account.
      for (const account of new Set(stored.map((r) => r.account ?? ""))) {
        const row = page.locator(`table[data-breakdown="account"] tr[data-account="${account}"]`);
        expect(await row.locator('[data-col="records"]').innerText()).toBe(
          String(stored.filter((r) => r.account === account).length),
        );
      }
      // Every remediation's request ids and diff are on the page.
      const first = remediated[0] as StoredAuditRecord;
      const details = page.locator(`details[data-event-id="${first.eventId}"]`);
      await details.locator("summary").click();
      expect(await details.locator("[data-request-ids]").innerText()).toBe(first.requestIds.join("\n"));
      expect(await details.innerText()).toContain("- rules[SecurityGroupRuleId=sgr-0aaa1111]");
      // The chart has one bar group per hour of the period.
      expect(await page.locator("svg g").count()).toBe(48);
      // Exemptions in force with their owners.
      const exemptions = await page.locator('table[data-section="exemptions"]').innerText();
      expect(exemptions).toContain("data-team-");
      expect(exemptions).toContain("2027-0");
    } finally {
      await context.close();
    }
  }, 120_000);

  it("filters by account and rule, and writes Markdown and JSON with the same figures", async () => {
    const json = await report([
      "--since",
      "2026-11-20",
      "--until",
      "2026-11-21",
      "--account",
      "444455556666",
      "--format",
      "json",
    ]);
    const data = JSON.parse(json.stdout) as {
      totals: { records: number; byVerdict: Record<string, number> };
    };
    expect(json.status).toBe(0);
    expect(data.totals.records).toBe(stored.filter((r) => r.account === "444455556666").length);

    const byRule = await report([
      "--since",
      "2026-11-20",
      "--until",
      "2026-11-21",
      "--rule",
      "fs-policy-public-access",
      "--format",
      "markdown",
    ]);
    const exempted = stored.filter((r) => r.rules.includes("fs-policy-public-access")).length;
    expect(byRule.status).toBe(0);
    expect(byRule.stdout).toContain(
      `| fs-policy-public-access | ${exempted} | ${exempted} | 0 | ${exempted} | 0 |`,
    );
  });

  it("says so when the rule id is unknown or the table is not a ledger", async () => {
    const unknown = await report(["--rule", "sg-ingress-world"]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown rule id "sg-ingress-world"');

    const state = await report(["--table", STATE_TABLE, "--format", "json"]);
    expect(state.status).toBe(0);
    expect(state.stderr).toContain(`table "${STATE_TABLE}" holds no records at all`);

    const missing = await report(["--table", "no-such-table", "--format", "json"]);
    expect(missing.status).toBe(3);
    expect(missing.stderr).toContain('table "no-such-table" does not exist in this region');
  });
});

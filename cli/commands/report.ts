/** `remediator report`: a report an auditor can hand on, from the same ledger `remediator audit` reads. */
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDbAuditLedger } from "../../shared/adapters/audit-dynamodb.ts";
import { errorMessage, RemediatorError } from "../../shared/core/errors.ts";
import { RULES } from "../../shared/core/rules/index.ts";
import { loadConfig } from "../../shared/io/load-config.ts";
import { type CliIo, EXIT, UsageError } from "../io.ts";
import { ledgerProblem } from "../ledger-check.ts";
import { renderHtml } from "../report/render-html.ts";
import { renderMarkdown } from "../report/render-markdown.ts";
import { ReportBuilder } from "../report/summarise.ts";
import { parseWhen } from "./audit.ts";

export const REPORT_USAGE = `Usage: remediator report [--since 30d] [--until WHEN] [--account ID[,ID]]... [--rule ID[,ID]]...
                        [--format html|markdown|json] [--output FILE] [--config FILE] [--table NAME]

  --since, --until
           the period, as for remediator audit (default: the last 30 days).
  --account
           keep decisions in these accounts (repeatable or comma-separated).
  --rule   keep decisions where one of these rules fired (repeatable or comma-separated).
  --format html (default): one self-contained file (no script, nothing fetched when opened);
           markdown; json: the figures as one JSON document.
  --output write the report to FILE instead of stdout.
  --config the configuration the remediator runs with: its exemptions in force are listed too.
  --table  the audit table; default: the AUDIT_TABLE_NAME environment variable.

Exit status: 0 report written (even if no decision matched); 2 usage error; 3 the ledger could not
be read.`;

function listFlag(values: readonly string[]): string[] {
  return [
    ...new Set(
      values
        .flatMap((v) => v.split(","))
        .map((v) => v.trim())
        .filter((v) => v !== ""),
    ),
  ];
}

export interface ReportCommandDeps {
  readonly createClient?: (region: string | undefined) => DynamoDBClient;
}

export async function reportCommand(
  args: string[],
  io: CliIo,
  deps: ReportCommandDeps = {},
): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      since: { type: "string", default: "30d" },
      until: { type: "string" },
      account: { type: "string", multiple: true, default: [] },
      rule: { type: "string", multiple: true, default: [] },
      format: { type: "string", default: "html" },
      output: { type: "string", short: "o" },
      config: { type: "string" },
      table: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    io.stdout.write(`${REPORT_USAGE}\n`);
    return EXIT.ok;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const format = values.format;
  if (format !== "html" && format !== "markdown" && format !== "json") {
    throw new UsageError(`--format must be html, markdown or json, got "${format}"`);
  }
  const accounts = listFlag(values.account);
  for (const account of accounts) {
    if (!/^\d{12}$/.test(account))
      throw new UsageError(`--account takes 12-digit account ids, got "${account}"`);
  }
  const rules = listFlag(values.rule);
  const known = new Set(RULES.map((rule) => rule.id));
  for (const rule of rules) {
    if (!known.has(rule))
      throw new UsageError(`--rule: unknown rule id "${rule}" (remediator rules lists them)`);
  }
  const tableName = (values.table ?? io.env.AUDIT_TABLE_NAME ?? "").trim();
  if (!tableName) throw new UsageError("no audit table: pass --table NAME or set AUDIT_TABLE_NAME");
  const now = io.now();
  const since = parseWhen(values.since, now, "since", "--since");
  const until = values.until === undefined ? now : parseWhen(values.until, now, "until", "--until");
  if (since.getTime() >= until.getTime()) {
    throw new UsageError(`--since (${since.toISOString()}) must be before --until (${until.toISOString()})`);
  }
  const config = values.config === undefined ? undefined : loadConfig({ file: values.config, env: {} });

  const region = io.env.AWS_REGION?.trim() || io.env.AWS_DEFAULT_REGION?.trim() || undefined;
  const client = deps.createClient ? deps.createClient(region) : new DynamoDBClient(region ? { region } : {});
  const ledger = new DynamoDbAuditLedger(client, { tableName, clock: { now: () => now } });
  const builder = new ReportBuilder({
    since,
    until,
    generatedAt: now,
    table: tableName,
    accounts,
    rules,
    configuredExemptions: config?.exemptions,
  });
  let report: ReturnType<ReportBuilder["build"]>;
  try {
    // One rule can be filtered by DynamoDB; several (and accounts) are filtered as the pages arrive.
    for await (const record of ledger.query({
      since,
      until,
      rule: rules.length === 1 ? rules[0] : undefined,
    })) {
      builder.add(record);
    }
    report = builder.build();
    if (report.totals.records === 0) {
      const problem = await ledgerProblem(client, tableName);
      if (problem) io.stderr.write(`remediator report: ${problem}\n`);
    }
  } catch (error) {
    const detail = error instanceof RemediatorError ? error.message : errorMessage(error);
    const problem = await ledgerProblem(client, tableName);
    io.stderr.write(`remediator report: cannot read the ledger table "${tableName}": ${problem ?? detail}\n`);
    return EXIT.unreadableInput;
  } finally {
    if (!deps.createClient) client.destroy();
  }
  const text =
    format === "json"
      ? `${JSON.stringify(report, null, 2)}\n`
      : format === "markdown"
        ? renderMarkdown(report)
        : renderHtml(report);
  if (values.output) await writeFile(values.output, text);
  else io.stdout.write(text);
  io.stderr.write(
    `${report.totals.records} decision(s) from ${report.period.since} to ${report.period.until}, ${report.remediations.length} remediation(s)${values.output ? `: written to ${values.output}` : ""}\n`,
  );
  return EXIT.ok;
}

/** `remediator audit`: read the remediation log (the DynamoDB audit ledger), newest first. */
import { parseArgs } from "node:util";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  type AuditQuery,
  DynamoDbAuditLedger,
  type StoredAuditRecord,
} from "../../shared/adapters/audit-dynamodb.ts";
import { errorMessage, RemediatorError } from "../../shared/core/errors.ts";
import { RULES } from "../../shared/core/rules/index.ts";
import { maxSeverity, shortActor, shortResource } from "../../shared/runtime/notification-text.ts";
import type { AuditVerdict, Outcome } from "../../shared/runtime/ports.ts";
import { type CliIo, EXIT, UsageError } from "../io.ts";
import { ledgerProblem } from "../ledger-check.ts";

export const AUDIT_USAGE = `Usage: remediator audit [--since 7d] [--until WHEN] [--resource TEXT] [--rule ID] [--actor TEXT]
                       [--verdict V[,V]] [--outcome O[,O]] [--limit N] [--format table|json|csv]
                       [--table NAME]

  --since  start of the range (inclusive): a duration back from now (30m, 12h, 7d, 2w), a date
           (2026-11-01, from 00:00 UTC) or an ISO timestamp. Default 7d.
  --until  end of the range (exclusive): the same forms; a date includes that whole day. Default now.
  --resource, --actor
           keep records whose resource ARN / actor ARN contains TEXT (case-sensitive).
  --rule   keep records where this rule id fired (an unknown id is a usage error).
  --verdict, --outcome
           keep these verdicts (violation, compliant, ignored, exempted, invalid, failed) /
           outcomes (remediated, already-compliant, notified, dry-run, no-action, failed).
  --limit  stop after N records.
  --format table (default) for people; json: one record per line; csv: a header, then one row per
           record (before and after as JSON text). With json and csv the summary line goes to stderr.
  --table  the audit table; default: the AUDIT_TABLE_NAME environment variable.

The region comes from AWS_REGION; the SDK's AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_DYNAMODB select
another endpoint (a local emulator). When nothing is found, a table that is missing, empty or not
a ledger is named on stderr. Exit status: 0 records read (or none found); 2 usage error; 3 the
ledger could not be read.`;

const VERDICTS: readonly AuditVerdict[] = [
  "violation",
  "compliant",
  "ignored",
  "exempted",
  "invalid",
  "failed",
];
const OUTCOMES: readonly Outcome[] = [
  "remediated",
  "already-compliant",
  "notified",
  "dry-run",
  "no-action",
  "failed",
];
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/**
 * A point in time from a flag: a duration back from `now`, a date or an ISO timestamp. A bare date
 * names a whole UTC day: its start for `--since`, the start of the next day for `--until`, so
 * `--until 2026-11-20` includes the 20th.
 */
export function parseWhen(value: string, now: Date, bound: "since" | "until", flag: string): Date {
  const duration = /^(\d+)([mhdw])$/.exec(value.trim());
  if (duration?.[1] && duration[2]) {
    return new Date(now.getTime() - Number(duration[1]) * UNIT_MS[duration[2] as keyof typeof UNIT_MS]);
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(value.trim())) {
    const day = new Date(`${value.trim()}T00:00:00.000Z`);
    if (Number.isNaN(day.getTime())) throw new UsageError(`${flag}: "${value}" is not a valid date`);
    return bound === "since" ? day : new Date(day.getTime() + UNIT_MS.d);
  }
  const instant = /^\d{4}-\d{2}-\d{2}T/.test(value.trim()) ? new Date(value.trim()) : new Date(Number.NaN);
  if (Number.isNaN(instant.getTime())) {
    throw new UsageError(
      `${flag}: "${value}" is neither a duration (7d, 12h), a date (2026-11-01) nor an ISO timestamp`,
    );
  }
  return instant;
}

function parseList<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  flag: string,
): T[] | undefined {
  if (value === undefined) return undefined;
  const items = value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
  for (const item of items) {
    if (!allowed.includes(item as T))
      throw new UsageError(`${flag} takes ${allowed.join(", ")}; got "${item}"`);
  }
  return items as T[];
}

// ---- output -------------------------------------------------------------------------------------

/** The one-line summary: how many records, by verdict and by outcome, over which range. */
export function auditSummary(records: readonly StoredAuditRecord[], since: Date, until: Date): string {
  const verdicts = VERDICTS.map((v) => `${records.filter((r) => r.verdict === v).length} ${v}`).join(", ");
  const outcomes = OUTCOMES.map((o) => [o, records.filter((r) => r.outcome === o).length] as const)
    .filter(([, count]) => count > 0)
    .map(([o, count]) => `${count} ${o}`)
    .join(", ");
  return `${records.length} record(s) decided from ${since.toISOString()} to ${until.toISOString()}: ${verdicts}${outcomes ? `; outcomes: ${outcomes}` : ""}`;
}

function clip(text: string, width: number): string {
  return text.length <= width ? text.padEnd(width) : `${text.slice(0, width - 1)}…`;
}

export function formatAuditTable(records: readonly StoredAuditRecord[], summary: string): string {
  const row = (cells: readonly [string, number][], rest: string) =>
    `${cells.map(([text, width]) => clip(text, width)).join(" ")} ${rest}`.trimEnd();
  const header = row(
    [
      ["DECIDED AT (UTC)", 19],
      ["VERDICT", 9],
      ["OUTCOME", 17],
      ["RULES", 36],
      ["RESOURCE", 28],
      ["ACTOR", 28],
      ["EVENT", 30],
    ],
    "WHY",
  );
  const out = [summary, "", header, "-".repeat(header.length + 20)];
  for (const r of records) {
    out.push(
      row(
        [
          [r.decidedAt.replace("T", " ").slice(0, 19), 19],
          [r.verdict, 9],
          [r.outcome, 17],
          [r.rules.join(",") || "-", 36],
          [shortResource(r.resource), 28],
          [r.actor ? shortActor(r.actor) : "-", 28],
          [r.eventName ?? "-", 30],
        ],
        r.reason,
      ),
    );
  }
  return `${out.join("\n")}\n`;
}

export const CSV_COLUMNS = [
  "decidedAt",
  "recordedAt",
  "eventTime",
  "eventId",
  "account",
  "region",
  "actor",
  "sourceIp",
  "userAgent",
  "eventSource",
  "eventName",
  "resource",
  "rules",
  "severity",
  "verdict",
  "mode",
  "outcome",
  "reason",
  "findings",
  "plan",
  "before",
  "after",
  "requestIds",
  "error",
  "truncated",
] as const;

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF, quotes doubled. A value
 * that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) gets a leading `'`:
 * the user agent and the actor come from the caller, and an auditor opens this file in Excel.
 */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function csvRow(record: StoredAuditRecord): string {
  const cells: Record<(typeof CSV_COLUMNS)[number], string> = {
    decidedAt: record.decidedAt,
    recordedAt: record.recordedAt,
    eventTime: record.eventTime ?? "",
    eventId: record.eventId,
    account: record.account ?? "",
    region: record.region ?? "",
    actor: record.actor ?? "",
    sourceIp: record.sourceIp ?? "",
    userAgent: record.userAgent ?? "",
    eventSource: record.eventSource ?? "",
    eventName: record.eventName ?? "",
    resource: record.resource ?? "",
    rules: record.rules.join(";"),
    severity: maxSeverity(record) ?? "",
    verdict: record.verdict,
    mode: String(record.mode),
    outcome: record.outcome,
    reason: record.reason,
    findings: record.findings.map((f) => `[${f.severity}] ${f.rule}: ${f.message}`).join("\n"),
    plan: record.plan.map((step) => `${step.api} ${JSON.stringify(step.params)}`).join("\n"),
    // The live state as JSON text (a truncated one as the ledger kept it).
    before: record.before === undefined ? "" : (JSON.stringify(record.before) ?? ""),
    after: record.after === undefined ? "" : (JSON.stringify(record.after) ?? ""),
    requestIds: record.requestIds.join(";"),
    error: record.error ?? "",
    truncated: record.truncated.join(";"),
  };
  return CSV_COLUMNS.map((column) => csvField(cells[column])).join(",");
}

// ---- the command --------------------------------------------------------------------------------

export interface AuditCommandDeps {
  /** The composition root's client factory; tests may pass their own. */
  readonly createClient?: (region: string | undefined) => DynamoDBClient;
}

export async function auditCommand(args: string[], io: CliIo, deps: AuditCommandDeps = {}): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      since: { type: "string", default: "7d" },
      until: { type: "string" },
      resource: { type: "string" },
      rule: { type: "string" },
      actor: { type: "string" },
      verdict: { type: "string" },
      outcome: { type: "string" },
      limit: { type: "string" },
      format: { type: "string", default: "table" },
      table: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    io.stdout.write(`${AUDIT_USAGE}\n`);
    return EXIT.ok;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const format = values.format;
  if (format !== "table" && format !== "json" && format !== "csv") {
    throw new UsageError(`--format must be table, json or csv, got "${format}"`);
  }
  const tableName = (values.table ?? io.env.AUDIT_TABLE_NAME ?? "").trim();
  if (!tableName) throw new UsageError("no audit table: pass --table NAME or set AUDIT_TABLE_NAME");
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new UsageError(`--limit must be a positive integer, got "${values.limit}"`);
  }
  const now = io.now();
  const since = parseWhen(values.since, now, "since", "--since");
  const until = values.until === undefined ? now : parseWhen(values.until, now, "until", "--until");
  if (since.getTime() >= until.getTime()) {
    throw new UsageError(`--since (${since.toISOString()}) must be before --until (${until.toISOString()})`);
  }
  if (values.rule !== undefined && !RULES.some((rule) => rule.id === values.rule)) {
    throw new UsageError(`--rule: unknown rule id "${values.rule}" (remediator rules lists them)`);
  }
  const query: AuditQuery = {
    since,
    until,
    resource: values.resource,
    rule: values.rule,
    actor: values.actor,
    verdicts: parseList(values.verdict, VERDICTS, "--verdict"),
    outcomes: parseList(values.outcome, OUTCOMES, "--outcome"),
  };

  const region = io.env.AWS_REGION?.trim() || io.env.AWS_DEFAULT_REGION?.trim() || undefined;
  // The endpoint is left to the SDK, which honours AWS_ENDPOINT_URL(_DYNAMODB) itself.
  const client = deps.createClient ? deps.createClient(region) : new DynamoDBClient(region ? { region } : {});
  const ledger = new DynamoDbAuditLedger(client, { tableName, clock: { now: () => now } });
  const records: StoredAuditRecord[] = [];
  try {
    if (format === "csv") io.stdout.write(`${CSV_COLUMNS.join(",")}\r\n`);
    for await (const record of ledger.query(query)) {
      records.push(record);
      // json and csv stream as they read; the table needs every row first for its summary.
      if (format === "json") io.stdout.write(`${JSON.stringify(record)}\n`);
      else if (format === "csv") io.stdout.write(`${csvRow(record)}\r\n`);
      if (limit !== undefined && records.length >= limit) break;
    }
    if (records.length === 0) {
      const problem = await ledgerProblem(client, tableName);
      if (problem) io.stderr.write(`remediator audit: ${problem}\n`);
    }
  } catch (error) {
    const detail = error instanceof RemediatorError ? error.message : errorMessage(error);
    const problem = await ledgerProblem(client, tableName);
    io.stderr.write(`remediator audit: cannot read the ledger table "${tableName}": ${problem ?? detail}\n`);
    return EXIT.unreadableInput;
  } finally {
    if (!deps.createClient) client.destroy();
  }
  const summary = auditSummary(records, since, until);
  if (format === "table") io.stdout.write(formatAuditTable(records, summary));
  else io.stderr.write(`${summary}\n`);
  return EXIT.ok;
}

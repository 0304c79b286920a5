/** The report as Markdown (GitHub-flavoured tables): the same figures as the HTML, for a ticket or a wiki. */
import { type BreakdownRow, formatDuration, OUTCOMES, type Report, VERDICTS } from "./summarise.ts";

/**
 * A table cell or list item: one line, pipes and backslashes escaped and angle brackets as entities,
 * so caller-supplied text (an actor, a user agent) can neither break the table nor become HTML.
 */
export function cell(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === "") return "-";
  return String(value)
    .replace(/\\/g, "\\\\")
    .replace(/\|/g, "\\|")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\r?\n/g, " ");
}

/** Inline code: backticks cannot close it early (a longer fence is used), and it stays on one line. */
function code(value: string | null): string {
  if (!value) return "-";
  const text = value.replace(/\r?\n/g, " ");
  const fence = "`".repeat(Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length)) + 1);
  return `${fence}${fence.length > 1 ? " " : ""}${text}${fence.length > 1 ? " " : ""}${fence}`;
}

function table(header: readonly string[], rows: readonly (readonly (string | number | null)[])[]): string {
  return [
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
    ...rows.map((row) => `| ${row.map(cell).join(" | ")} |`),
  ].join("\n");
}

function breakdown(title: string, name: string, rows: readonly BreakdownRow[]): string {
  if (rows.length === 0) return `### ${title}\n\nNo records.`;
  return `### ${title}\n\n${table(
    [name, "records", "findings", "remediated", "exempted", "failed"],
    rows.map((r) => [r.key, r.records, r.findings, r.remediated, r.exempted, r.failed]),
  )}`;
}

export function renderMarkdown(report: Report): string {
  const { totals, timeToRemediate: ttr } = report;
  const filters = [
    report.filters.accounts.length > 0 ? `accounts ${report.filters.accounts.join(", ")}` : "",
    report.filters.rules.length > 0 ? `rules ${report.filters.rules.join(", ")}` : "",
  ].filter(Boolean);
  const out = [
    "# s3files-remediator: remediation report",
    "",
    `Decisions from ${report.period.since} to ${report.period.until} (end excluded), ledger table \`${report.table}\`${filters.length > 0 ? `, ${filters.join("; ")}` : ""}. Generated ${report.generatedAt}.`,
    "",
    "## Summary",
    "",
    table(["records", ...VERDICTS], [[totals.records, ...VERDICTS.map((v) => totals.byVerdict[v])]]),
    "",
    table([...OUTCOMES], [OUTCOMES.map((o) => totals.byOutcome[o])]),
    "",
    "## Time to remediate",
    "",
    "CloudTrail event time to the verified revert, over remediated decisions (nearest-rank percentiles).",
    "",
    table(
      ["remediations timed", "p50", "p90", "max"],
      [[ttr.count, formatDuration(ttr.p50Ms), formatDuration(ttr.p90Ms), formatDuration(ttr.maxMs)]],
    ),
    "",
    `## Decisions per ${report.overTime.bucket}`,
    "",
    table(
      ["from", ...VERDICTS],
      report.overTime.buckets
        .filter((b) => VERDICTS.some((v) => b.counts[v] > 0))
        .map((b) => [b.start, ...VERDICTS.map((v) => b.counts[v])]),
    ),
    "",
    "## Breakdowns",
    "",
    breakdown("By rule", "rule", report.byRule),
    "",
    breakdown("By account", "account", report.byAccount),
    "",
    breakdown("By actor", "actor", report.byActor),
    "",
    "## Exemptions in force at the end of the period",
    "",
    report.exemptions.length === 0
      ? "No exemption in force."
      : table(
          ["covers", "rules", "owner", "expires", "reason", "source", "exercised", "last exercised"],
          report.exemptions.map((e) => [
            e.scope,
            e.rules === "all" ? "all rules" : e.rules.join(", "),
            e.owner,
            e.expires,
            e.reason,
            e.source,
            e.exercised,
            e.lastExercised,
          ]),
        ),
    "",
    `## Remediations (${report.remediations.length})`,
  ];
  if (report.remediations.length === 0) out.push("", "No remediation in this period.");
  for (const r of report.remediations) {
    out.push(
      "",
      `### ${cell(r.outcome)}: ${cell(r.eventName)} on ${code(r.resource)}`,
      "",
      `- CloudTrail event ${code(r.eventId)} at ${cell(r.eventTime)} by ${code(r.actor)} (${cell(r.account)}, ${cell(r.region)})`,
      `- decided ${cell(r.decidedAt)}${r.timeToRemediateMs === null ? "" : `, ${formatDuration(r.timeToRemediateMs)} after the call`}`,
      `- rules: ${cell(r.rules.join(", "))} (${cell(r.severity)})`,
      `- AWS request ids: ${r.requestIds.length > 0 ? r.requestIds.map(code).join(", ") : "-"}`,
      ...(r.error ? [`- error: ${cell(r.error)}`] : []),
      "",
      "```diff",
      ...r.plan.map((s) => `# ${s.api} ${JSON.stringify(s.params)}`.replace(/```/g, "ʼʼʼ")),
      ...(r.diff.length > 0 ? r.diff : ["# no state read back"]).map((line) =>
        // `diff` highlighting wants `-`/`+` first; a changed value (`~`) shows as a comment.
        (line.startsWith("~") ? `! ${line.slice(2)}` : line).replace(/```/g, "ʼʼʼ"),
      ),
      "```",
    );
  }
  return `${out.join("\n")}\n`;
}

/**
 * The report as one self-contained HTML file: inline CSS and SVG, no script, no font, no image to
 * fetch, and a Content-Security-Policy that forbids any request, so it opens the same offline, from
 * an e-mail attachment or an evidence archive. Every value from the ledger is escaped: actors, user
 * agents and resource names come from whoever made the call.
 */
import type { AuditVerdict } from "../../shared/runtime/ports.ts";
import {
  type BreakdownRow,
  formatDuration,
  OUTCOMES,
  type Report,
  type TimeBucket,
  VERDICTS,
} from "./summarise.ts";

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

const h = (value: string | number | null | undefined): string =>
  value === null || value === undefined || value === "" ? "-" : escapeHtml(String(value));

/** Colours per verdict, readable on white and told apart without colour by the legend's order. */
const VERDICT_COLOURS: Record<AuditVerdict, string> = {
  violation: "#c0392b",
  failed: "#7b241c",
  exempted: "#d68910",
  invalid: "#7d3c98",
  compliant: "#1e8449",
  ignored: "#95a5a6",
};
/** Stacking order of the chart: what needs attention at the bottom. */
const STACK: readonly AuditVerdict[] = ["failed", "violation", "exempted", "invalid", "compliant", "ignored"];

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1c2833;margin:0;background:#f4f6f7}
main{max-width:1200px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d5d8dc;padding-bottom:4px}
.meta{color:#566573;margin:0 0 16px}
.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{background:#fff;border:1px solid #d5d8dc;border-radius:6px;padding:10px 14px;min-width:110px}
.card .n{font-size:24px;font-weight:600}.card .l{color:#566573;font-size:12px;text-transform:uppercase;letter-spacing:.03em}
table{border-collapse:collapse;background:#fff;width:100%;margin:6px 0}
th,td{border:1px solid #d5d8dc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eaeded;font-weight:600}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{white-space:pre-wrap;word-break:break-all;margin:0}
.del{color:#922b21}.add{color:#1e8449}.chg{color:#9a7d0a}
details{background:#fff;border:1px solid #d5d8dc;border-radius:6px;margin:8px 0;padding:6px 10px}
summary{cursor:pointer}.legend span{display:inline-block;margin-right:14px}
.sw{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
.empty{color:#566573;font-style:italic}
@media print{body{background:#fff}details{break-inside:avoid}}
`;

function card(label: string, value: string | number, metric: string): string {
  return `<div class="card"><div class="n" data-metric="${metric}">${h(value)}</div><div class="l">${h(label)}</div></div>`;
}

function breakdownTable(title: string, rows: readonly BreakdownRow[], name: string): string {
  if (rows.length === 0) return `<h3>${h(title)}</h3><p class="empty">No records.</p>`;
  const body = rows
    .map(
      (r) =>
        `<tr data-${name}="${h(r.key)}"><td><code>${h(r.key)}</code></td><td class="num" data-col="records">${r.records}</td><td class="num" data-col="findings">${r.findings}</td><td class="num" data-col="remediated">${r.remediated}</td><td class="num" data-col="exempted">${r.exempted}</td><td class="num" data-col="failed">${r.failed}</td></tr>`,
    )
    .join("");
  return `<h3>${h(title)}</h3><table data-breakdown="${name}"><thead><tr><th>${h(name)}</th><th class="num">records</th><th class="num">findings</th><th class="num">remediated</th><th class="num">exempted</th><th class="num">failed</th></tr></thead><tbody>${body}</tbody></table>`;
}

/** Stacked bars of decisions per bucket, as inline SVG with a title per bar for its exact counts. */
export function decisionsChart(buckets: readonly TimeBucket[], bucket: "hour" | "day"): string {
  const width = 1100;
  const height = 220;
  const left = 40;
  const bottom = 24;
  const plotW = width - left - 10;
  const plotH = height - bottom - 10;
  const totals = buckets.map((b) => VERDICTS.reduce((sum, v) => sum + b.counts[v], 0));
  const max = Math.max(1, ...totals);
  const barW = plotW / Math.max(1, buckets.length);
  const y = (n: number) => 10 + plotH - (n / max) * plotH;
  const parts: string[] = [];
  parts.push(
    `<line x1="${left}" y1="${10 + plotH}" x2="${width - 10}" y2="${10 + plotH}" stroke="#566573"/>`,
    `<text x="${left - 4}" y="${y(max) + 4}" text-anchor="end" font-size="10">${max}</text>`,
    `<text x="${left - 4}" y="${10 + plotH}" text-anchor="end" font-size="10">0</text>`,
  );
  buckets.forEach((b, i) => {
    let base = 0;
    const x = left + i * barW;
    const detail = VERDICTS.filter((v) => b.counts[v] > 0)
      .map((v) => `${b.counts[v]} ${v}`)
      .join(", ");
    parts.push(`<g><title>${h(b.start)}: ${h(detail || "no decisions")}</title>`);
    for (const verdict of STACK) {
      const n = b.counts[verdict];
      if (n === 0) continue;
      const top = y(base + n);
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${Math.max(1, barW - 1).toFixed(1)}" height="${(y(base) - top).toFixed(1)}" fill="${VERDICT_COLOURS[verdict]}"/>`,
      );
      base += n;
    }
    parts.push("</g>");
  });
  const labelEvery = Math.max(1, Math.ceil(buckets.length / 12));
  buckets.forEach((b, i) => {
    if (i % labelEvery !== 0) return;
    const label =
      bucket === "hour" ? `${b.start.slice(5, 10)} ${b.start.slice(11, 13)}h` : b.start.slice(0, 10);
    parts.push(
      `<text x="${(left + i * barW).toFixed(1)}" y="${height - 8}" font-size="10">${h(label)}</text>`,
    );
  });
  const legend = STACK.map(
    (v) => `<span><i class="sw" style="background:${VERDICT_COLOURS[v]}"></i>${h(v)}</span>`,
  ).join("");
  return `<svg role="img" aria-label="Decisions per ${bucket}" viewBox="0 0 ${width} ${height}" width="100%" xmlns="http://www.w3.org/2000/svg">${parts.join("")}</svg><div class="legend">${legend}</div>`;
}

function diffLines(lines: readonly string[]): string {
  if (lines.length === 0) return `<span class="empty">no state read back</span>`;
  return lines
    .map((line) => {
      const cls = line.startsWith("-")
        ? "del"
        : line.startsWith("+")
          ? "add"
          : line.startsWith("~")
            ? "chg"
            : "";
      return `<span class="${cls}">${h(line)}</span>`;
    })
    .join("\n");
}

export function renderHtml(report: Report): string {
  const { totals, timeToRemediate: ttr } = report;
  const filters = [
    report.filters.accounts.length > 0 ? `accounts ${report.filters.accounts.join(", ")}` : "",
    report.filters.rules.length > 0 ? `rules ${report.filters.rules.join(", ")}` : "",
  ].filter(Boolean);
  const summary = [
    card("records", totals.records, "records"),
    ...VERDICTS.map((v) => card(v, totals.byVerdict[v], `verdict-${v}`)),
    card("remediated", totals.byOutcome.remediated, "outcome-remediated"),
  ].join("");
  const outcomes = OUTCOMES.map(
    (o) =>
      `<tr><td>${h(o)}</td><td class="num" data-metric="outcome-count-${o}">${totals.byOutcome[o]}</td></tr>`,
  ).join("");
  const ttrCards = [
    card("remediations timed", ttr.count, "ttr-count"),
    card("p50", formatDuration(ttr.p50Ms), "ttr-p50"),
    card("p90", formatDuration(ttr.p90Ms), "ttr-p90"),
    card("max", formatDuration(ttr.maxMs), "ttr-max"),
  ].join("");
  const exemptions =
    report.exemptions.length === 0
      ? `<p class="empty">No exemption in force.</p>`
      : `<table data-section="exemptions"><thead><tr><th>covers</th><th>rules</th><th>owner</th><th>expires</th><th>reason</th><th>source</th><th class="num">exercised</th><th>last exercised</th></tr></thead><tbody>${report.exemptions
          .map(
            (e) =>
              `<tr><td><code>${h(e.scope)}</code></td><td>${h(e.rules === "all" ? "all rules" : e.rules.join(", "))}</td><td>${h(e.owner)}</td><td>${h(e.expires)}</td><td>${h(e.reason)}</td><td>${h(e.source)}</td><td class="num">${e.exercised}</td><td>${h(e.lastExercised)}</td></tr>`,
          )
          .join("")}</tbody></table>`;
  const remediations =
    report.remediations.length === 0
      ? `<p class="empty">No remediation in this period.</p>`
      : report.remediations
          .map(
            (
              r,
            ) => `<details data-event-id="${h(r.eventId)}"><summary><strong>${h(r.outcome)}</strong> ${h(r.eventName)} on <code>${h(r.resource)}</code> by <code>${h(r.actor)}</code> at ${h(r.decidedAt)}${r.timeToRemediateMs === null ? "" : ` (${h(formatDuration(r.timeToRemediateMs))} after the call)`}</summary>
<table><tbody>
<tr><th>CloudTrail event</th><td><code>${h(r.eventId)}</code> at ${h(r.eventTime)}</td></tr>
<tr><th>account, region</th><td>${h(r.account)} ${h(r.region)}</td></tr>
<tr><th>rules</th><td>${h(r.rules.join(", "))} (${h(r.severity)})</td></tr>
<tr><th>what was done</th><td><pre>${r.plan.map((s) => h(`${s.api} ${JSON.stringify(s.params)}`)).join("\n") || "-"}</pre></td></tr>
<tr><th>before → after</th><td><pre>${diffLines(r.diff)}</pre></td></tr>
<tr><th>AWS request ids</th><td><pre data-request-ids>${h(r.requestIds.join("\n"))}</pre></td></tr>
${r.error ? `<tr><th>error</th><td>${h(r.error)}</td></tr>` : ""}
</tbody></table></details>`,
          )
          .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>s3files-remediator report ${h(report.period.since.slice(0, 10))} to ${h(report.period.until.slice(0, 10))}</title>
<style>${CSS}</style></head>
<body><main>
<h1>s3files-remediator: remediation report</h1>
<p class="meta">Decisions from <time data-metric="since">${h(report.period.since)}</time> to <time data-metric="until">${h(report.period.until)}</time> (end excluded), ledger table <code>${h(report.table)}</code>${filters.length > 0 ? `, ${h(filters.join("; "))}` : ""}. Generated ${h(report.generatedAt)}.</p>
<h2>Summary</h2>
<div class="cards">${summary}</div>
<h3>Outcomes</h3><table data-section="outcomes"><tbody>${outcomes}</tbody></table>
<h2>Time to remediate</h2>
<p class="meta">From the CloudTrail event time to the decision, which is stamped once the read-back has verified the revert (nearest-rank percentiles over remediated decisions).</p>
<div class="cards">${ttrCards}</div>
<h2>Decisions per ${report.overTime.bucket}</h2>
${decisionsChart(report.overTime.buckets, report.overTime.bucket)}
<h2>Breakdowns</h2>
${breakdownTable("By rule (a decision counts once for each rule that fired)", report.byRule, "rule")}
${breakdownTable("By account", report.byAccount, "account")}
${breakdownTable("By actor", report.byActor, "actor")}
<h2>Exemptions in force at the end of the period</h2>
${exemptions}
<h2>Remediations (<span data-metric="remediation-count">${report.remediations.length}</span>)</h2>
${remediations}
</main></body></html>
`;
}

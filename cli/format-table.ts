/** The `table` format: a summary line, then one row per record (and its plan) for people. */
import type { ReportLine } from "./evaluate-files.ts";

const VERDICTS = ["violation", "compliant", "ignored", "invalid"] as const;

export function summaryLine(lines: readonly ReportLine[]): string {
  const counts = VERDICTS.map((verdict) => `${lines.filter((l) => l.verdict === verdict).length} ${verdict}`);
  return `${lines.length} record(s): ${counts.join(", ")}`;
}

function shortResource(resource: string | null): string {
  if (!resource) return "-";
  return resource.startsWith("arn:")
    ? resource.slice(resource.indexOf(":", resource.indexOf(":", 20) + 1) + 1)
    : resource;
}

function clip(text: string, width: number): string {
  return text.length <= width ? text.padEnd(width) : `${text.slice(0, width - 1)}…`;
}

export function formatTable(lines: readonly ReportLine[]): string {
  const out = [summaryLine(lines), ""];
  const header = `${clip("VERDICT", 10)} ${clip("EVENT", 32)} ${clip("RESOURCE", 34)} ${clip("ACTOR", 44)} DETAIL`;
  out.push(header, "-".repeat(header.length + 20));
  for (const line of lines) {
    const detail =
      line.findings.length > 0
        ? line.findings.map((f) => `[${f.severity}] ${f.rule}: ${f.message}`).join(" | ")
        : line.reason;
    out.push(
      `${clip(line.verdict, 10)} ${clip(line.eventName ?? "-", 32)} ${clip(shortResource(line.resource), 34)} ${clip(line.actor ?? "-", 44)} ${detail}`,
    );
    if (line.findings.length > 0) out.push(`${" ".repeat(11)}→ ${line.reason}`);
    for (const step of line.plan) {
      out.push(`${" ".repeat(11)}plan: ${step.api} ${JSON.stringify(step.params)}  (${step.reason})`);
    }
  }
  return `${out.join("\n")}\n`;
}

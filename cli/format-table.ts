/**
 * The `table` format for people: a header, one row per record (and its plan) as records are
 * judged, and the summary line last, so a table of any length is printed with flat memory.
 */
import type { Verdict } from "../shared/core/types.ts";
import type { ReportLine } from "./evaluate-files.ts";

const VERDICTS = ["violation", "compliant", "ignored", "invalid"] as const;

export function summaryLine(counts: Readonly<Record<Verdict, number>>): string {
  const total = VERDICTS.reduce((sum, verdict) => sum + counts[verdict], 0);
  return `${total} record(s): ${VERDICTS.map((verdict) => `${counts[verdict]} ${verdict}`).join(", ")}`;
}

/** The resource without the ARN's `arn:partition:service:region:account:` prefix. */
function shortResource(resource: string | null): string {
  if (!resource) return "-";
  return resource.startsWith("arn:") ? resource.split(":").slice(5).join(":") || resource : resource;
}

/** Pads or shortens to `width`; the end of an id or ARN is what tells resources apart, so the middle goes. */
export function clipMiddle(text: string, width: number): string {
  if (text.length <= width) return text.padEnd(width);
  const head = Math.ceil((width - 1) / 3);
  return `${text.slice(0, head)}…${text.slice(text.length - (width - 1 - head))}`;
}

const COLUMNS = { verdict: 10, event: 32, resource: 34, actor: 44 } as const;

export function tableHeader(): string {
  const header = `${clipMiddle("VERDICT", COLUMNS.verdict)} ${clipMiddle("EVENT", COLUMNS.event)} ${clipMiddle("RESOURCE", COLUMNS.resource)} ${clipMiddle("ACTOR", COLUMNS.actor)} DETAIL`;
  return `${header}\n${"-".repeat(header.length + 20)}\n`;
}

export function tableRows(lines: readonly ReportLine[]): string {
  const out: string[] = [];
  for (const line of lines) {
    const detail =
      line.findings.length > 0
        ? line.findings.map((f) => `[${f.severity}] ${f.rule}: ${f.message}`).join(" | ")
        : line.reason;
    out.push(
      `${clipMiddle(line.verdict, COLUMNS.verdict)} ${clipMiddle(line.eventName ?? "-", COLUMNS.event)} ${clipMiddle(shortResource(line.resource), COLUMNS.resource)} ${clipMiddle(line.actor ?? "-", COLUMNS.actor)} ${detail}`,
    );
    if (line.findings.length > 0) out.push(`${" ".repeat(11)}→ ${line.reason}`);
    for (const step of line.plan) {
      out.push(`${" ".repeat(11)}plan: ${step.api} ${JSON.stringify(step.params)}  (${step.reason})`);
    }
  }
  return out.length > 0 ? `${out.join("\n")}\n` : "";
}

/**
 * `remediator report` over 10,000 ledger records: summarising them and rendering HTML, Markdown and
 * JSON, beside a baseline measured in the same run that only serialises the same records as JSON
 * lines (what `remediator audit --format json` prints). The ledger read itself is DynamoDB's time and
 * is left out: this measures what the report adds.
 */
import { renderHtml } from "../cli/report/render-html.ts";
import { renderMarkdown } from "../cli/report/render-markdown.ts";
import { ReportBuilder } from "../cli/report/summarise.ts";
import type { StoredAuditRecord } from "../shared/adapters/audit-dynamodb.ts";
import { syntheticLedger } from "../test/helpers/synthetic-ledger.ts";

const RECORDS = 10_000;
const ROUNDS = 5;

function best(work: () => number): { ms: number; bytes: number } {
  let ms = Number.POSITIVE_INFINITY;
  let bytes = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    bytes = work();
    ms = Math.min(ms, Number(process.hrtime.bigint() - start) / 1e6);
  }
  return { ms, bytes };
}

export async function run(): Promise<void> {
  const since = new Date("2026-11-01T00:00:00.000Z");
  const until = new Date("2026-12-01T00:00:00.000Z");
  const records: StoredAuditRecord[] = syntheticLedger(RECORDS, since, until).map((record) => ({
    ...record,
    recordedAt: record.decidedAt,
    truncated: [],
  }));
  const build = () => {
    const builder = new ReportBuilder({ since, until, generatedAt: until, table: "audit" });
    for (const record of records) builder.add(record);
    return builder.build();
  };
  const baseline = best(() => records.reduce((bytes, r) => bytes + JSON.stringify(r).length + 1, 0));
  const html = best(() => renderHtml(build()).length);
  const markdown = best(() => renderMarkdown(build()).length);
  const json = best(() => JSON.stringify(build(), null, 2).length);
  const remediations = build().remediations.length;
  const line = (label: string, { ms, bytes }: { ms: number; bytes: number }) =>
    `${label.padEnd(40)} ${ms.toFixed(0).padStart(6)} ms  ${(bytes / 1024 / 1024).toFixed(1).padStart(5)} MB  ${(ms / baseline.ms).toFixed(1).padStart(5)}x baseline`;
  console.log(`${RECORDS} records over 30 days (${remediations} remediations listed), best of ${ROUNDS}`);
  console.log(line("baseline: JSON lines of the records", baseline));
  console.log(line("report --format html (summary + render)", html));
  console.log(line("report --format markdown", markdown));
  console.log(line("report --format json", json));
}

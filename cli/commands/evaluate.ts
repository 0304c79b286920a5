/** `remediator evaluate`: judge CloudTrail records offline and print what would be done. */
import { parseArgs } from "node:util";
import { reportLine, unreadableInput } from "../../shared/core/judge.ts";
import { loadConfig } from "../../shared/io/load-config.ts";
import { listInputFiles } from "../../shared/io/read-inputs.ts";
import { defaultWorkerCount, evaluateFiles, type FileResult, type ReportLine } from "../evaluate-files.ts";
import { formatTable } from "../format-table.ts";
import { type CliIo, EXIT, UsageError } from "../io.ts";

export const EVALUATE_USAGE = `Usage: remediator evaluate [--format table|json] [--config FILE] [--self-role ARN]...
                          [--fail-on violation[,invalid]] [--workers N] PATH...

  PATH     a CloudTrail log file (.json or .json.gz, {"Records": [...]}), one CloudTrail record or
           EventBridge event, JSON lines, a directory of those (recursively), or - for stdin.
  --format table (default) for people; json: one JSON object per line per record.
  --config JSON configuration file (sensitive ports, rule modes, exemptions, ...).
  --self-role
           the remediator's own role ARN (repeatable): its changes are ignored (loop guard).
  --fail-on
           exit 1 when a record has this verdict (violation, invalid).
  --workers
           files evaluated in parallel on worker threads (default: one per core).

Exit status: 0 every input read and judged; 1 --fail-on matched; 2 usage error;
3 an input could not be read or is not JSON.`;

const PROGRESS_INTERVAL_MS = 1000;
const VERDICTS = ["violation", "compliant", "ignored", "invalid"] as const;

export async function evaluateCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      format: { type: "string", default: "table" },
      config: { type: "string" },
      "self-role": { type: "string", multiple: true, default: [] },
      "fail-on": { type: "string", multiple: true, default: [] },
      workers: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    io.stdout.write(`${EVALUATE_USAGE}\n`);
    return EXIT.ok;
  }
  const format = values.format;
  if (format !== "table" && format !== "json") {
    throw new UsageError(`--format must be table or json, got "${format}"`);
  }
  const failOn = new Set(values["fail-on"].flatMap((v) => v.split(",")).map((v) => v.trim()));
  for (const verdict of failOn) {
    if (verdict !== "violation" && verdict !== "invalid") {
      throw new UsageError(`--fail-on takes violation or invalid, got "${verdict}"`);
    }
  }
  if (positionals.length === 0) throw new UsageError("no PATH given (a file, a directory, or - for stdin)");
  const workers = values.workers === undefined ? undefined : Number(values.workers);
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 1)) {
    throw new UsageError(`--workers must be a positive integer, got "${values.workers}"`);
  }
  const config = loadConfig({ file: values.config, selfRoleArns: values["self-role"], env: io.env });
  const now = io.now();

  const inputs = await listInputFiles(positionals);
  if (inputs.skipped.length > 0) {
    io.stderr.write(
      `skipped ${inputs.skipped.length} file(s) that are not CloudTrail logs by name (first: ${inputs.skipped[0]})\n`,
    );
  }
  const counts = { violation: 0, compliant: 0, ignored: 0, invalid: 0 };
  let unreadable = 0;
  const table: ReportLine[] = [];
  const emit = (result: Pick<FileResult, "counts" | "unreadable" | "lines" | "json">) => {
    for (const verdict of VERDICTS) counts[verdict] += result.counts[verdict];
    unreadable += result.unreadable;
    if (format === "json") io.stdout.write(result.json);
    else table.push(...result.lines);
  };
  const missing = inputs.missing.map((m) => reportLine(unreadableInput(m.source, m.error)));
  emit({
    counts: { violation: 0, compliant: 0, ignored: 0, invalid: missing.length },
    unreadable: missing.length,
    lines: missing,
    json: missing.map((line) => `${JSON.stringify(line)}\n`).join(""),
  });

  let lastProgress = Date.now();
  let done = 0;
  let records = 0;
  for await (const result of evaluateFiles(inputs.files, {
    config,
    now,
    format,
    workers: workers ?? defaultWorkerCount(inputs.files.length),
    stdin: io.stdin,
  })) {
    emit(result);
    done++;
    records += result.records;
    if (Date.now() - lastProgress >= PROGRESS_INTERVAL_MS) {
      lastProgress = Date.now();
      io.stderr.write(`evaluated ${done}/${inputs.files.length} file(s), ${records} record(s)\n`);
    }
  }
  if (format === "table") io.stdout.write(formatTable(table));

  if ((failOn.has("violation") && counts.violation > 0) || (failOn.has("invalid") && counts.invalid > 0)) {
    return EXIT.failOn;
  }
  return unreadable > 0 ? EXIT.unreadableInput : EXIT.ok;
}

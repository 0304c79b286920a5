/** `remediator evaluate`: judge CloudTrail records offline and print what would be done. */
import { once } from "node:events";
import { parseArgs } from "node:util";
import { unreadableInput } from "../../shared/core/judge.ts";
import type { Verdict } from "../../shared/core/types.ts";
import { loadConfig } from "../../shared/io/load-config.ts";
import { listInputFiles } from "../../shared/io/read-inputs.ts";
import { defaultWorkerCount, evaluateFiles, type FileChunk, reportLine } from "../evaluate-files.ts";
import { summaryLine, tableHeader, tableRows } from "../format-table.ts";
import { type CliIo, EXIT, UsageError } from "../io.ts";

export const EVALUATE_USAGE = `Usage: remediator evaluate [--format table|json] [--only V[,V]] [--config FILE] [--self-role ARN]...
                          [--fail-on violation[,invalid]] [--workers N] PATH...

  PATH     a CloudTrail log file (.json or .json.gz, {"Records": [...]}), one CloudTrail record or
           EventBridge event, JSON lines (.jsonl, .ndjson, gzip or not), a directory of those
           (recursively), or - for stdin. Read as a stream: any size, flat memory.
  --format table (default) for people: rows as they are judged, the summary line last;
           json: one JSON object per line per record.
  --only   print only records with these verdicts (violation, compliant, ignored, invalid); the
           summary and --fail-on still count every record.
  --config JSON configuration file (sensitive ports, rule modes, exemptions, ...).
  --self-role
           the remediator's own role ARN (repeatable): its changes are ignored (loop guard).
  --fail-on
           exit 1 when a record has this verdict (violation, invalid).
  --workers
           files evaluated in parallel on worker threads (default: one per core).

Exit status: 0 every input read and judged; 1 --fail-on matched; 2 usage error;
3 an input could not be read or is not JSON; 4 an unexpected error (one line on stderr).`;

const PROGRESS_INTERVAL_MS = 1000;
const VERDICTS = ["violation", "compliant", "ignored", "invalid"] as const;

/** Writes and, when the reader is slower than the judging, waits for it: memory stays flat. */
async function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  if (text !== "" && !stream.write(text)) await once(stream, "drain");
}

export async function evaluateCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      format: { type: "string", default: "table" },
      config: { type: "string" },
      "self-role": { type: "string", multiple: true, default: [] },
      "fail-on": { type: "string", multiple: true, default: [] },
      only: { type: "string", multiple: true },
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
  const only = values.only?.flatMap((v) => v.split(",")).map((v) => v.trim()) as Verdict[] | undefined;
  for (const verdict of only ?? []) {
    if (!(VERDICTS as readonly string[]).includes(verdict)) {
      throw new UsageError(`--only takes ${VERDICTS.join(", ")}, got "${verdict}"`);
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
  const emit = async (chunk: Pick<FileChunk, "counts" | "unreadable" | "lines" | "json">) => {
    for (const verdict of VERDICTS) counts[verdict] += chunk.counts[verdict];
    unreadable += chunk.unreadable;
    await write(io.stdout, format === "json" ? chunk.json : tableRows(chunk.lines));
  };
  if (format === "table") await write(io.stdout, tableHeader());
  const missing = inputs.missing
    .map((m) => reportLine(unreadableInput(m.source, m.error)))
    .filter((line) => !only || only.includes(line.verdict));
  await emit({
    counts: { violation: 0, compliant: 0, ignored: 0, invalid: inputs.missing.length },
    unreadable: inputs.missing.length,
    lines: missing,
    json: missing.map((line) => `${JSON.stringify(line)}\n`).join(""),
  });

  let lastProgress = Date.now();
  let done = 0;
  let records = 0;
  for await (const chunk of evaluateFiles(inputs.files, {
    config,
    now,
    format,
    only,
    workers: workers ?? defaultWorkerCount(inputs.files.length),
    stdin: io.stdin,
  })) {
    await emit(chunk);
    if (chunk.last) done++;
    records += chunk.records;
    if (Date.now() - lastProgress >= PROGRESS_INTERVAL_MS) {
      lastProgress = Date.now();
      io.stderr.write(`evaluated ${done}/${inputs.files.length} file(s), ${records} record(s)\n`);
    }
  }
  if (format === "table") await write(io.stdout, `\n${summaryLine(counts)}\n`);

  if ((failOn.has("violation") && counts.violation > 0) || (failOn.has("invalid") && counts.invalid > 0)) {
    return EXIT.failOn;
  }
  return unreadable > 0 ? EXIT.unreadableInput : EXIT.ok;
}

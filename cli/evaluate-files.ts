/**
 * Evaluates inputs in this thread or spread over worker threads. Results come back in input order,
 * in chunks of a few thousand records, so the output is the same whatever the number of workers,
 * and memory stays flat whatever the size of an input: only a small file (see `readInput`) is ever
 * held whole; anything larger is streamed.
 */
import { statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { Config } from "../shared/core/config.ts";
import { type Evaluation, evaluateRecord, unreadableInput } from "../shared/core/judge.ts";
import type { Verdict } from "../shared/core/types.ts";
import { readInput } from "../shared/io/json-stream.ts";

export type OutputFormat = "table" | "json";

/** The CLI's JSON line: the documented fields, in a stable order. */
export interface ReportLine {
  readonly eventID: string | null;
  readonly eventTime: string | null;
  readonly eventName: string | null;
  readonly eventSource: string | null;
  readonly account: string | null;
  readonly region: string | null;
  readonly sourceIPAddress: string | null;
  readonly actor: string | null;
  readonly resource: string | null;
  readonly verdict: Verdict;
  readonly findings: Evaluation["findings"];
  readonly plan: Evaluation["plan"];
  readonly reason: string;
}

const text = (value: unknown): string | null => (typeof value === "string" && value !== "" ? value : null);

/** The line of one evaluation; where the engine could not read the record, its fields come from the raw input. */
export function reportLine(evaluation: Evaluation, raw?: unknown): ReportLine {
  const meta = evaluation.meta;
  const outer = typeof raw === "object" && raw !== null ? (raw as Record<string, unknown>) : {};
  // An EventBridge event carries the CloudTrail record in `detail`.
  const record =
    typeof outer.detail === "object" && outer.detail !== null
      ? (outer.detail as Record<string, unknown>)
      : outer;
  return {
    eventID: evaluation.eventID,
    eventTime: meta?.eventTime ?? text(record.eventTime),
    eventName: evaluation.eventName,
    eventSource: evaluation.eventSource,
    account: meta?.account ?? text(record.recipientAccountId) ?? text(outer.account),
    region: meta?.region ?? text(record.awsRegion) ?? text(outer.region),
    sourceIPAddress: meta?.sourceIp ?? text(record.sourceIPAddress),
    actor: evaluation.actor,
    resource: evaluation.resource,
    verdict: evaluation.verdict,
    findings: evaluation.findings,
    plan: evaluation.plan,
    reason: evaluation.reason,
  };
}

/** A part of one input's results: its counts, and its lines as objects (table) or as JSON text. */
export interface FileChunk {
  readonly file: string;
  /** Records judged in this chunk. */
  readonly records: number;
  readonly counts: Readonly<Record<Verdict, number>>;
  /** Parts of the input that could not be read or are not JSON (each is also one `invalid` line). */
  readonly unreadable: number;
  /** `table`: the lines kept by the verdict filter. */
  readonly lines: readonly ReportLine[];
  /**
   * `json`: the lines kept by the verdict filter, serialised where they were judged, so a worker
   * thread hands back one string instead of thousands of objects to copy.
   */
  readonly json: string;
  /** The last chunk of this input. */
  readonly last: boolean;
}

export interface EvaluateFileOptions {
  readonly config: Config;
  readonly now: Date;
  readonly format: OutputFormat;
  /** Print only lines with these verdicts (every record is still counted). */
  readonly only?: readonly Verdict[];
  readonly stdin?: NodeJS.ReadableStream;
}

/** Records per chunk: large enough to amortise, small enough to keep memory flat. */
const CHUNK_RECORDS = 2000;
/** Files above this size are streamed in this thread rather than handed whole to a worker's result. */
const WORKER_MAX_BYTES = 32 * 1024 * 1024;

class ChunkBuilder {
  counts = { violation: 0, compliant: 0, ignored: 0, invalid: 0 };
  unreadable = 0;
  records = 0;
  lines: ReportLine[] = [];
  json: string[] = [];

  constructor(
    readonly file: string,
    readonly options: EvaluateFileOptions,
  ) {}

  add(line: ReportLine, unreadable = false): void {
    this.records++;
    this.counts[line.verdict]++;
    if (unreadable) this.unreadable++;
    if (this.options.only && !this.options.only.includes(line.verdict)) return;
    if (this.options.format === "json") this.json.push(JSON.stringify(line));
    else this.lines.push(line);
  }

  take(last: boolean): FileChunk {
    const chunk: FileChunk = {
      file: this.file,
      records: this.records,
      counts: this.counts,
      unreadable: this.unreadable,
      lines: this.lines,
      json: this.json.length > 0 ? `${this.json.join("\n")}\n` : "",
      last,
    };
    this.counts = { violation: 0, compliant: 0, ignored: 0, invalid: 0 };
    this.unreadable = 0;
    this.records = 0;
    this.lines = [];
    this.json = [];
    return chunk;
  }
}

/** One input (a file, or `-` for stdin), streamed: yields a chunk every few thousand records. */
export async function* evaluateStream(file: string, options: EvaluateFileOptions): AsyncGenerator<FileChunk> {
  const builder = new ChunkBuilder(file, options);
  const lines = /\.(jsonl|ndjson)(\.gz)?$/i.test(file);
  const stdin = options.stdin as AsyncIterable<Buffer | string> | undefined;
  for await (const items of readInput(file, { stdin, lines })) {
    for (const item of items) {
      if (item.kind === "unreadable") {
        builder.add(reportLine(unreadableInput(item.source, item.error)), true);
        continue;
      }
      const evaluation = evaluateRecord(item.raw, options);
      // A record too broken to name its resource is named by where it stands.
      builder.add(
        reportLine(
          evaluation.verdict === "invalid" && evaluation.resource === null
            ? { ...evaluation, resource: `${item.source}#${item.index}` }
            : evaluation,
          item.raw,
        ),
      );
    }
    if (builder.records >= CHUNK_RECORDS) yield builder.take(false);
  }
  yield builder.take(true);
}

/** A whole (small) input as one chunk: what a worker thread hands back. */
export async function evaluateFile(file: string, options: EvaluateFileOptions): Promise<FileChunk> {
  const builder = new ChunkBuilder(file, options);
  for await (const chunk of evaluateStream(file, options)) {
    builder.records += chunk.records;
    builder.unreadable += chunk.unreadable;
    for (const verdict of Object.keys(builder.counts) as Verdict[])
      builder.counts[verdict] += chunk.counts[verdict];
    builder.lines.push(...chunk.lines);
    if (chunk.json) builder.json.push(chunk.json.slice(0, -1));
  }
  return builder.take(true);
}

export function defaultWorkerCount(fileCount: number): number {
  return Math.max(1, Math.min(availableParallelism(), fileCount));
}

function startWorker(workerData: unknown): Worker {
  // Next to this module: `.mjs` in the bundle. From source (`.ts` under tsx or vitest) the worker
  // registers tsx itself first, because worker threads do not inherit loader hooks.
  if (!import.meta.url.endsWith(".ts"))
    return new Worker(new URL("./evaluate-worker.mjs", import.meta.url), { workerData });
  const entry = new URL("./evaluate-worker.ts", import.meta.url).href;
  const tsx = import.meta.resolve("tsx/esm/api");
  const bootstrap = `const { register } = await import(${JSON.stringify(tsx)}); register(); await import(${JSON.stringify(entry)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`), { workerData });
}

/** A promise with its settlers, made by whichever side asks first: the worker's answer or the reader. */
interface Pending {
  readonly promise: Promise<FileChunk>;
  resolve(result: FileChunk): void;
  reject(error: unknown): void;
}

function pending(): Pending {
  let resolve!: (result: FileChunk) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<FileChunk>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A worker crash rejects results nobody awaits yet; the reader meets the first one and stops.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

function isLarge(file: string): boolean {
  try {
    return statSync(file).size > WORKER_MAX_BYTES;
  } catch {
    return false; // The reader reports why it cannot be read.
  }
}

/**
 * Yields each input's chunks in the order given. Small files are evaluated up to `workers` at once
 * on worker threads, at most a few files ahead of the reader; large files (and stdin) are streamed
 * in this thread when their turn comes, while the workers go on with the small files after them.
 */
export async function* evaluateFiles(
  files: readonly string[],
  options: EvaluateFileOptions & { readonly workers: number },
): AsyncGenerator<FileChunk> {
  if (options.workers <= 1 || files.length <= 1 || files.includes("-")) {
    for (const file of files) yield* evaluateStream(file, options);
    return;
  }
  const inThread = files.map(isLarge);
  const pool = Array.from({ length: Math.min(options.workers, files.length) }, () =>
    startWorker({
      config: options.config,
      now: options.now.toISOString(),
      format: options.format,
      only: options.only,
    }),
  );
  const results = new Map<number, Pending>();
  const resultOf = (index: number): Pending => {
    let entry = results.get(index);
    if (!entry) {
      entry = pending();
      results.set(index, entry);
    }
    return entry;
  };
  const aheadLimit = pool.length * 2;
  const idle = [...pool];
  let next = 0;
  let consumed = 0;
  const dispatch = () => {
    while (idle.length > 0 && next < files.length && next < consumed + aheadLimit) {
      if (!inThread[next]) (idle.pop() as Worker).postMessage({ index: next, file: files[next] });
      next++;
    }
  };
  for (const worker of pool) {
    worker.on("message", (message: { index: number; result?: FileChunk; error?: string }) => {
      if (message.result) resultOf(message.index).resolve(message.result);
      else resultOf(message.index).reject(new Error(message.error ?? "worker failed"));
      idle.push(worker);
      dispatch();
    });
    worker.on("error", (error) => {
      for (let index = consumed; index < files.length; index++) resultOf(index).reject(error);
    });
  }
  dispatch();
  try {
    for (let index = 0; index < files.length; index++) {
      if (inThread[index]) yield* evaluateStream(files[index] as string, options);
      else {
        const result = await resultOf(index).promise;
        results.delete(index);
        yield result;
      }
      consumed++;
      dispatch();
    }
  } finally {
    await Promise.all(pool.map((worker) => worker.terminate()));
  }
}

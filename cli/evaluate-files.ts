/**
 * Evaluates whole files, in-process or spread over worker threads. Results always come back in
 * file order, so the output is the same whatever the number of workers.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { Config } from "../shared/core/config.ts";
import { evaluateRecord, reportLine, unreadableInput } from "../shared/core/judge.ts";
import type { Verdict } from "../shared/core/types.ts";
import { type InputItem, readFileItems, readStreamItems } from "../shared/io/read-inputs.ts";

export type ReportLine = ReturnType<typeof reportLine>;
export type OutputFormat = "table" | "json";

/** What one file (or stdin) gave: its counts, and its lines as objects (table) or as JSON text. */
export interface FileResult {
  readonly file: string;
  readonly bytes: number;
  readonly records: number;
  readonly counts: Readonly<Record<Verdict, number>>;
  /** Inputs that could not be read or are not JSON (each is also one `invalid` line). */
  readonly unreadable: number;
  /** `table`: the lines, for the summary and rows. */
  readonly lines: readonly ReportLine[];
  /**
   * `json`: the JSON lines, serialised where they were judged, so a worker thread hands back one
   * string instead of thousands of objects to copy and serialise on the main thread.
   */
  readonly json: string;
}

export interface EvaluateFileOptions {
  readonly config: Config;
  readonly now: Date;
  readonly format: OutputFormat;
  readonly stdin?: NodeJS.ReadableStream;
}

function evaluateItems(
  file: string,
  bytes: number,
  items: readonly InputItem[],
  options: EvaluateFileOptions,
): FileResult {
  const lines: ReportLine[] = [];
  const counts = { violation: 0, compliant: 0, ignored: 0, invalid: 0 };
  let unreadable = 0;
  for (const item of items) {
    if (item.kind === "unreadable") {
      lines.push(reportLine(unreadableInput(item.source, item.error)));
      counts.invalid++;
      unreadable++;
      continue;
    }
    item.records.forEach((raw, index) => {
      const evaluation = evaluateRecord(raw, options);
      counts[evaluation.verdict]++;
      // A record too broken to name its resource is named by where it stands.
      lines.push(
        reportLine(
          evaluation.verdict === "invalid" && evaluation.resource === null
            ? { ...evaluation, resource: `${item.source}#${index}` }
            : evaluation,
        ),
      );
    });
  }
  const json =
    options.format === "json" && lines.length > 0
      ? `${lines.map((l) => JSON.stringify(l)).join("\n")}\n`
      : "";
  return {
    file,
    bytes,
    records: lines.length,
    counts,
    unreadable,
    lines: options.format === "json" ? [] : lines,
    json,
  };
}

export async function evaluateFile(file: string, options: EvaluateFileOptions): Promise<FileResult> {
  if (file === "-") {
    if (!options.stdin) throw new Error("stdin is not available");
    return evaluateItems(file, 0, await readStreamItems(options.stdin), options);
  }
  const { items, bytes } = await readFileItems(file);
  return evaluateItems(file, bytes, items, options);
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
  readonly promise: Promise<FileResult>;
  resolve(result: FileResult): void;
  reject(error: unknown): void;
}

function pending(): Pending {
  let resolve!: (result: FileResult) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<FileResult>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A worker crash rejects results nobody awaits yet; the reader meets the first one and stops.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/**
 * Yields each file's result in the order given, evaluating up to `workers` files at once.
 * With one worker (or stdin in the list) everything runs in this thread. Workers run at most a
 * few files ahead of the reader, and a result is let go once yielded, so memory stays flat however
 * many files there are and however slowly the output is consumed.
 */
export async function* evaluateFiles(
  files: readonly string[],
  options: EvaluateFileOptions & { readonly workers: number },
): AsyncGenerator<FileResult> {
  if (options.workers <= 1 || files.length <= 1 || files.includes("-")) {
    for (const file of files) yield await evaluateFile(file, options);
    return;
  }
  const pool = Array.from({ length: Math.min(options.workers, files.length) }, () =>
    startWorker({ config: options.config, now: options.now.toISOString(), format: options.format }),
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
      (idle.pop() as Worker).postMessage({ index: next, file: files[next] });
      next++;
    }
  };
  for (const worker of pool) {
    worker.on("message", (message: { index: number; result?: FileResult; error?: string }) => {
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
      const result = await resultOf(index).promise;
      results.delete(index);
      consumed++;
      dispatch();
      yield result;
    }
  } finally {
    await Promise.all(pool.map((worker) => worker.terminate()));
  }
}

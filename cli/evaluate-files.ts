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

/**
 * Yields each file's result in the order given, evaluating up to `workers` files at once.
 * With one worker (or stdin in the list) everything runs in this thread.
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
  const pending = new Map<number, { resolve: (r: FileResult) => void; reject: (e: unknown) => void }>();
  const results: Promise<FileResult>[] = files.map(
    (_, index) => new Promise<FileResult>((resolve, reject) => pending.set(index, { resolve, reject })),
  );
  let next = 0;
  const dispatch = (worker: Worker) => {
    if (next < files.length) {
      worker.postMessage({ index: next, file: files[next] });
      next++;
    }
  };
  for (const worker of pool) {
    worker.on("message", (message: { index: number; result?: FileResult; error?: string }) => {
      const waiter = pending.get(message.index);
      if (message.result) waiter?.resolve(message.result);
      else waiter?.reject(new Error(message.error ?? "worker failed"));
      dispatch(worker);
    });
    worker.on("error", (error) => {
      for (const waiter of pending.values()) waiter.reject(error);
    });
    dispatch(worker);
  }
  try {
    for (const result of results) yield await result;
  } finally {
    await Promise.all(pool.map((worker) => worker.terminate()));
  }
}

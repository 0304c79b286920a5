/**
 * Evaluates whole files, in-process or spread over worker threads. Results always come back in
 * file order, so the output is the same whatever the number of workers.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { Config } from "../shared/core/config.ts";
import { type Evaluation, evaluateRecord, reportLine, unreadableInput } from "../shared/core/judge.ts";
import { type InputItem, readFileItems, readStreamItems } from "../shared/io/read-inputs.ts";

export type ReportLine = ReturnType<typeof reportLine>;

export interface FileResult {
  readonly file: string;
  readonly lines: ReportLine[];
  readonly bytes: number;
}

export function evaluateItems(items: readonly InputItem[], config: Config, now: Date): ReportLine[] {
  return items.map((item) => {
    const evaluation: Evaluation =
      item.kind === "record"
        ? evaluateRecord(item.raw, { config, now })
        : unreadableInput(item.source, item.error);
    return reportLine(evaluation);
  });
}

export async function evaluateFile(
  file: string,
  config: Config,
  now: Date,
  stdin?: NodeJS.ReadableStream,
): Promise<FileResult> {
  if (file === "-") {
    if (!stdin) throw new Error("stdin is not available");
    const items = await readStreamItems(stdin);
    return { file, lines: evaluateItems(items, config, now), bytes: 0 };
  }
  const { items, bytes } = await readFileItems(file);
  return { file, lines: evaluateItems(items, config, now), bytes };
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
  options: { config: Config; now: Date; workers: number; stdin?: NodeJS.ReadableStream },
): AsyncGenerator<FileResult> {
  if (options.workers <= 1 || files.length <= 1 || files.includes("-")) {
    for (const file of files) yield await evaluateFile(file, options.config, options.now, options.stdin);
    return;
  }
  const pool = Array.from({ length: Math.min(options.workers, files.length) }, () =>
    startWorker({ config: options.config, now: options.now.toISOString() }),
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

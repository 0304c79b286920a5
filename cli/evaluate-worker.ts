/** A worker thread of `remediator evaluate`: evaluates one (small) file per message. */
import { parentPort, workerData } from "node:worker_threads";
import type { Config } from "../shared/core/config.ts";
import { errorMessage } from "../shared/core/errors.ts";
import type { Verdict } from "../shared/core/types.ts";
import { evaluateFile, type OutputFormat } from "./evaluate-files.ts";

const { config, now, format, only } = workerData as {
  config: Config;
  now: string;
  format: OutputFormat;
  only?: Verdict[];
};
const options = { config, now: new Date(now), format, only };

parentPort?.on("message", async ({ index, file }: { index: number; file: string }) => {
  try {
    parentPort?.postMessage({ index, result: await evaluateFile(file, options) });
  } catch (error) {
    parentPort?.postMessage({ index, error: errorMessage(error) });
  }
});

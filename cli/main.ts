#!/usr/bin/env node
/** Composition root of the CLI: real streams, real environment, real clock. */
import { errorMessage } from "../shared/core/errors.ts";
import { EXIT } from "./io.ts";
import { runCli } from "./run-cli.ts";

// Whatever escapes a command (a stream error, a worker that died) ends as one line and its own status.
const fail = (error: unknown) => {
  process.stderr.write(`remediator: unexpected error: ${errorMessage(error).replace(/\s*\n\s*/g, " ")}\n`);
  process.exit(EXIT.unexpected);
};
process.on("uncaughtException", fail);
process.on("unhandledRejection", fail);

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  now: () => new Date(),
});

/**
 * Finds the CloudTrail inputs named on a command line: files as named, directories recursively
 * (files whose names are not those of logs are left out and counted), `-` for stdin. Reading them
 * is `json-stream.ts`'s: as streams, so memory stays flat however large a log.
 */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { errorMessage } from "../core/errors.ts";

const LOG_FILE = /\.(json|jsonl|ndjson)(\.gz)?$|\.gz$/i;

export interface InputFiles {
  /** Files to read, in a stable order (`-` for stdin). */
  readonly files: string[];
  /** Paths that do not exist or cannot be listed: each becomes one unreadable input. */
  readonly missing: { source: string; error: string }[];
  /** Files inside directories that are not CloudTrail logs by name, left out. */
  readonly skipped: string[];
}

/** Expands the paths given on the command line: directories recursively, files as named. */
export async function listInputFiles(paths: readonly string[]): Promise<InputFiles> {
  const result: InputFiles = { files: [], missing: [], skipped: [] };
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (LOG_FILE.test(entry.name)) result.files.push(path);
      else result.skipped.push(path);
    }
  };
  for (const path of paths) {
    if (path === "-") {
      result.files.push(path);
      continue;
    }
    try {
      if ((await stat(path)).isDirectory()) await walk(path);
      else result.files.push(path);
    } catch (error) {
      result.missing.push({ source: path, error: `cannot read: ${errorMessage(error)}` });
    }
  }
  return result;
}

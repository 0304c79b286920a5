/**
 * Reads CloudTrail inputs from disk or stdin: a single EventBridge event or CloudTrail record, a
 * CloudTrail log file as delivered to S3 (`{"Records": [...]}`, plain or gzip), a JSON array,
 * JSON lines, or a directory of those (recursively). File by file, so memory stays flat however
 * large the log.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { errorMessage } from "../core/errors.ts";

/**
 * What one input holds: its records (record `i` is found at `<source>#<i>`), or why it cannot be
 * read. Records stay in the array JSON.parse made: no object per record, since a trail has millions.
 */
export type InputItem =
  | { readonly kind: "records"; readonly source: string; readonly records: readonly unknown[] }
  | { readonly kind: "unreadable"; readonly source: string; readonly error: string };

const LOG_FILE = /\.(json|jsonl|ndjson)(\.gz)?$|\.gz$/i;

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Splits one document into records: `{"Records": [...]}`, an array, one object, or JSON lines. */
export function itemsOfText(text: string, source: string): InputItem[] {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    const lines = text.split(/\r?\n/).filter((line) => line.trim().length > 0);
    if (lines.length > 1) {
      try {
        JSON.parse(lines[0] as string);
        return lines.flatMap((line, i) => itemsOfLine(line, `${source}:${i + 1}`));
      } catch {
        // Not JSON lines either: report the whole input once.
      }
    }
    return [{ kind: "unreadable", source, error: `not JSON: ${errorMessage(error)}` }];
  }
  return itemsOfDocument(document, source);
}

function itemsOfLine(line: string, source: string): InputItem[] {
  try {
    return itemsOfDocument(JSON.parse(line), source);
  } catch (error) {
    return [{ kind: "unreadable", source, error: `not JSON: ${errorMessage(error)}` }];
  }
}

function itemsOfDocument(document: unknown, source: string): InputItem[] {
  const records =
    typeof document === "object" && document !== null && !Array.isArray(document) && "Records" in document
      ? (document as { Records: unknown }).Records
      : document;
  if (Array.isArray(records)) return [{ kind: "records", source, records }];
  if (records !== document) {
    return [{ kind: "unreadable", source, error: "Records: expected an array of CloudTrail records" }];
  }
  return [{ kind: "records", source, records: [document] }];
}

/** Reads one file (gzip detected by its magic bytes, whatever its name). */
export async function readFileItems(file: string): Promise<{ items: InputItem[]; bytes: number }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
    if (isGzip(bytes)) bytes = gunzipSync(bytes);
  } catch (error) {
    return {
      items: [{ kind: "unreadable", source: file, error: `cannot read: ${errorMessage(error)}` }],
      bytes: 0,
    };
  }
  return {
    items: itemsOfText(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8"), file),
    bytes: bytes.byteLength,
  };
}

export async function readStreamItems(stream: NodeJS.ReadableStream, source = "-"): Promise<InputItem[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  let bytes: Uint8Array = Buffer.concat(chunks);
  if (isGzip(bytes)) bytes = gunzipSync(bytes);
  return itemsOfText(Buffer.from(bytes).toString("utf8"), source);
}

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

/**
 * Large CloudTrail inputs, streamed to a file or a pipe without ever being held whole: JSON lines
 * or one `{"Records": [...]}` document (gzip or not), built from the real fixture records with
 * fresh event ids and times. For the flat-memory checks of `remediator evaluate`.
 */
import { once } from "node:events";
import { createWriteStream, readdirSync, readFileSync } from "node:fs";
import type { Writable } from "node:stream";
import { createGzip } from "node:zlib";

const FIXTURES = new URL("../fixtures/cloudtrail/", import.meta.url);

function templates(): Record<string, unknown>[] {
  return readdirSync(FIXTURES)
    .filter((name) => name.endsWith(".json"))
    .map((name) => JSON.parse(readFileSync(new URL(name, FIXTURES), "utf8")) as Record<string, unknown>)
    .map((record) => (record["detail-type"] ? (record.detail as Record<string, unknown>) : record));
}

async function put(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, "drain");
}

/**
 * Writes at least `bytes` of records (uncompressed) to `out` and ends it. Returns the number of
 * records and bytes written.
 */
export async function writeTrail(
  out: Writable,
  bytes: number,
  shape: "jsonl" | "records",
): Promise<{ records: number; bytes: number }> {
  const lines = templates().map((record) => JSON.stringify(record));
  let written = 0;
  let records = 0;
  if (shape === "records") {
    await put(out, '{"Records":[');
    written += 12;
  }
  const batch: string[] = [];
  while (written < bytes) {
    for (let i = 0; i < 200; i++) {
      const template = lines[records % lines.length] as string;
      // A fresh id per record: a real trail never repeats one.
      const line = template.replace(/"eventID":"[^"]*"/, `"eventID":"big-${records}"`);
      batch.push(records === 0 || shape === "jsonl" ? line : `,${line}`);
      written += line.length + 1;
      records++;
    }
    await put(out, shape === "jsonl" ? `${batch.join("\n")}\n` : batch.join(""));
    batch.length = 0;
  }
  if (shape === "records") await put(out, "]}");
  out.end();
  await once(out, "finish");
  return { records, bytes: written };
}

/** Writes a trail file, gzipped when the name ends in `.gz`. */
export async function writeTrailFile(
  path: string,
  bytes: number,
  shape: "jsonl" | "records",
): Promise<{ records: number; bytes: number }> {
  const file = createWriteStream(path);
  if (!path.endsWith(".gz")) return writeTrail(file, bytes, shape);
  const gzip = createGzip({ level: 1 });
  gzip.pipe(file);
  const result = await writeTrail(gzip, bytes, shape);
  await once(file, "finish");
  return result;
}

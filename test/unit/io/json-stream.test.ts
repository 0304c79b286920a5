/** Reading records out of a stream: every input form, any chunking, broken input named precisely. */

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readInput, type StreamedItem, streamRecords } from "../../../shared/io/json-stream.ts";
import { loadFixture } from "../../helpers/fixtures.ts";

async function read(
  input: string | Buffer,
  options: { chunk?: number; lines?: boolean; splits?: number[] } = {},
): Promise<StreamedItem[]> {
  const bytes = typeof input === "string" ? Buffer.from(input) : input;
  const chunks: Buffer[] = [];
  if (options.splits) {
    let at = 0;
    for (const split of [...options.splits].sort((a, b) => a - b)) {
      chunks.push(bytes.subarray(at, split));
      at = split;
    }
    chunks.push(bytes.subarray(at));
  } else {
    const size = options.chunk ?? 1 << 20;
    for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
  }
  const items: StreamedItem[] = [];
  for await (const batch of streamRecords(
    (async function* () {
      yield* chunks;
    })(),
    "in",
    { lines: options.lines },
  )) {
    items.push(...batch);
  }
  return items;
}

const records = (items: StreamedItem[]) => items.map((i) => (i.kind === "record" ? i.raw : i));

const A = loadFixture("ec2-AuthorizeSecurityGroupIngress-panther-go-sdk-ssh-world.json");
const B = loadFixture("ec2-CreateSecurityGroup-panther-terraform.json");
/** Strings with escapes, quotes, brackets and multi-byte characters: what trips a scanner. */
const TRICKY = { eventID: 'x"}]{[\\', userAgent: 'é😀\\"', nested: { a: [1, { b: "]" }] } };

describe("streamRecords", () => {
  it.each([
    ["a CloudTrail log file", JSON.stringify({ Records: [A, B, TRICKY] })],
    [
      "a log file with another key first, pretty-printed",
      JSON.stringify({ x: [1, { Records: 2 }], Records: [A, B, TRICKY] }, null, 2),
    ],
    ["a JSON array", JSON.stringify([A, B, TRICKY])],
    ["JSON lines", [A, B, TRICKY].map((r) => JSON.stringify(r)).join("\n")],
    [
      "JSON lines with CRLF and blank lines",
      `\r\n${[A, B, TRICKY].map((r) => JSON.stringify(r)).join("\r\n\r\n")}\r\n`,
    ],
  ])("reads %s, whatever the chunking", async (_name, text) => {
    for (const chunk of [1, 7, 4096]) {
      expect(records(await read(text, { chunk }))).toEqual([A, B, TRICKY]);
    }
  });

  it("reads one record, an EventBridge event and gzip", async () => {
    expect(records(await read(JSON.stringify(A)))).toEqual([A]);
    expect(records(await read(gzipSync(JSON.stringify({ Records: [A, B] })), { chunk: 100 }))).toEqual([
      A,
      B,
    ]);
  });

  it("splits anywhere (property): the records are those JSON.parse finds", async () => {
    const text = JSON.stringify({ Records: [A, TRICKY, B, TRICKY] });
    const bytes = Buffer.from(text);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: bytes.length }), { maxLength: 12 }),
        async (splits) => {
          expect(records(await read(bytes, { splits }))).toEqual([A, TRICKY, B, TRICKY]);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("names each record by its input and index, and JSON lines by line", async () => {
    const items = await read([JSON.stringify({ Records: [A, B] }), JSON.stringify(A)].join("\n"));
    expect(items.map((i) => (i.kind === "record" ? `${i.source}#${i.index}` : i.source))).toEqual([
      "in#0",
      "in#1",
      "in:2#0",
    ]);
  });

  it.each([
    ["not JSON at all", "hello\nworld", [["in", /not JSON/]]],
    ["a truncated log file", '{"Records": [ {"eventID": ', [["in", /unexpected end of input/]]],
    ["Records that is not a list", '{"Records": {"eventID": "x"}}', [["in", /Records: expected an array/]]],
    ["an empty input", "  \n", [["in", /empty/]]],
    ["a broken element", '{"Records": [{"a": 1}, {"b": tru}]}', [["in#1", /not JSON/]]],
  ])("%s is one unreadable item", async (_name, text, expected) => {
    const unreadable = (await read(text)).filter((i) => i.kind === "unreadable");
    expect(unreadable.map((i) => i.source)).toEqual(expected.map(([source]) => source));
    for (const [index, [, error]] of expected.entries()) {
      expect(unreadable[index]?.kind === "unreadable" && unreadable[index].error).toMatch(error as RegExp);
    }
  });

  it("in JSON lines a broken line is named and the next lines are read", async () => {
    const text = [JSON.stringify(A), '{"eventID": "cut', "not json", JSON.stringify(B)].join("\n");
    const items = await read(text, { chunk: 5 });
    expect(items.map((i) => (i.kind === "record" ? i.raw : i.source))).toEqual([A, "in:2", "in:3", B]);
  });
});

describe("readInput", () => {
  it("gives a small file, read whole, exactly what the streaming reader gives", async () => {
    const dir = mkdtempSync(join(tmpdir(), "remediator-read-"));
    try {
      const inputs: [string, string | Buffer][] = [
        ["log.json", JSON.stringify({ Records: [A, B, TRICKY] })],
        ["log.json.gz", gzipSync(JSON.stringify({ Records: [A, "x", B] }))],
        ["array.json", JSON.stringify([A, B])],
        ["one.json", JSON.stringify(A)],
        ["lines.json", [A, B].map((r) => JSON.stringify(r)).join("\n")],
        ["broken.json", '{"Records": [ {"eventID": '],
        ["not-records.json", '{"Records": 3}'],
        ["scalar.json", "42"],
      ];
      for (const [name, content] of inputs) {
        const file = join(dir, name);
        writeFileSync(file, content);
        const whole: StreamedItem[] = [];
        for await (const batch of readInput(file)) whole.push(...batch);
        const streamed: StreamedItem[] = [];
        const bytes = typeof content === "string" ? Buffer.from(content) : content;
        for await (const batch of streamRecords(
          (async function* () {
            yield bytes;
          })(),
          file,
        )) {
          streamed.push(...batch);
        }
        expect(whole, name).toEqual(streamed);
      }
      const missing: StreamedItem[] = [];
      for await (const batch of readInput(join(dir, "missing.json"))) missing.push(...batch);
      expect(missing).toMatchObject([
        { kind: "unreadable", error: expect.stringMatching(/^cannot read: .*ENOENT/) },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Reads CloudTrail records out of a byte stream of any size with flat memory: a log file as
 * CloudTrail delivers it (`{"Records": [...]}`, one line), a JSON array, one record or EventBridge
 * event, or JSON lines (each line any of those), gzip or not. The text is never held whole: a
 * scanner finds where each record starts and ends (strings, escapes and brackets only) and each
 * record is `JSON.parse`d on its own, so memory is bounded by the largest record, not the input.
 */
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { createGunzip, gunzipSync } from "node:zlib";
import { errorMessage } from "../core/errors.ts";

/** One record (`raw` as JSON.parse gave it) or one part of the input that cannot be read. */
export type StreamedItem =
  | { readonly kind: "record"; readonly source: string; readonly index: number; readonly raw: unknown }
  | { readonly kind: "unreadable"; readonly source: string; readonly error: string };

/** A single value (one record, or a document that is not a `Records` list) larger than this is refused. */
export const MAX_SINGLE_VALUE_CHARS = 64 * 1024 * 1024;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const NEWLINE = 0x0a;

const isSpace = (c: number) => c === 0x20 || c === NEWLINE || c === 0x0d || c === 0x09;

/** Bytes of a stream, gunzipped when it starts with the gzip magic bytes (whatever its name). */
async function* plainBytes(stream: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer> {
  const iterator = stream[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  let done = false;
  while (head.length < 2 && !done) {
    const next = await iterator.next();
    if (next.done) done = true;
    else head = Buffer.concat([head, typeof next.value === "string" ? Buffer.from(next.value) : next.value]);
  }
  const rest = async function* () {
    if (head.length > 0) yield head;
    if (done) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield typeof next.value === "string" ? Buffer.from(next.value) : next.value;
    }
  };
  if (head[0] === 0x1f && head[1] === 0x8b) {
    yield* Readable.from(rest()).pipe(createGunzip({ chunkSize: 256 * 1024 }));
  } else {
    yield* rest();
  }
}

/**
 * Scanner state. Positions are indexes into `text`, the part of the input not yet let go. At
 * depth 0 a top-level value may start; a top-level `[` or a `"Records"` key of a top-level object
 * makes its elements the records (`elementDepth`), each parsed alone once it closes.
 */
class Scanner {
  text = "";
  pos = 0;
  depth = 0;
  /** Inside a top-level value (false between values). */
  inValue = false;
  /** Where the current top-level value started (kept only while it may be one record). */
  valueStart = 0;
  valueIsObject = false;
  /** The whole input was found unreadable: stop reading it. */
  stopped = false;
  /** Depth at which records are the elements (1: top-level array, 2: `Records` array); 0: none. */
  elementDepth = 0;
  /** Where the current element started; -1 between elements. */
  elementStart = -1;
  /** Inside a top-level object at depth 1: the next string is a key. */
  expectKey = false;
  lastKey = "";
  /** The `Records` key was seen and its value is not an array. */
  recordsNotArray = false;
  /** A value grew past the cap: skip to its end (or the end of its line) and report it. */
  skipping = false;
  /** Top-level values seen; from the second one on the input is JSON lines. */
  values = 0;
  elementIndex = 0;
  lines: boolean;
  consumed = 0;

  constructor(
    readonly source: string,
    lines: boolean,
  ) {
    this.lines = lines;
  }

  /** The name of the current top-level value: the input itself, or `<input>:<n>` in JSON lines. */
  valueSource(): string {
    return this.lines ? `${this.source}:${this.values + 1}` : this.source;
  }
}

function parseValue(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, error: `not JSON: ${errorMessage(error)}` };
  }
}

/** The end of the string whose opening quote is at `start`, or -1 if it does not end in `text`. */
function stringEnd(text: string, start: number): number {
  let at = start + 1;
  for (;;) {
    const quote = text.indexOf('"', at);
    if (quote < 0) return -1;
    let backslashes = 0;
    for (let i = quote - 1; i > start && text.charCodeAt(i) === BACKSLASH; i--) backslashes++;
    if (backslashes % 2 === 0) return quote;
    at = quote + 1;
  }
}

/**
 * Scans `s.text` from `s.pos`, pushing what it finds to `out`. Stops at the end of the text (the
 * caller appends more and calls again) with the state kept.
 */
function scan(s: Scanner, out: StreamedItem[], final: boolean): void {
  const text = s.text;
  const length = text.length;
  while (s.pos < length) {
    if (s.skipping) {
      // Past the size cap: in JSON lines, skip to the end of the line; otherwise the input is done.
      const lineEnd = s.lines ? text.indexOf("\n", s.pos) : -1;
      if (lineEnd < 0) {
        s.pos = length;
        if (!s.lines) s.stopped = true;
        return;
      }
      resetValue(s, lineEnd + 1);
      s.skipping = false;
      continue;
    }
    const c = text.charCodeAt(s.pos);
    if (!s.inValue) {
      // Between top-level values.
      if (isSpace(c) || c === 0xfeff) {
        s.pos++;
        continue;
      }
      if (s.values === 1 && !s.lines) s.lines = true;
      if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        s.inValue = true;
        s.valueStart = s.pos;
        s.valueIsObject = c === OPEN_BRACE;
        s.depth = 1;
        s.elementDepth = c === OPEN_BRACKET ? 1 : 0;
        s.expectKey = c === OPEN_BRACE;
        s.elementStart = -1;
        s.elementIndex = 0;
        s.recordsNotArray = false;
        s.pos++;
        continue;
      }
      // A scalar or garbage at the top: one line of JSON lines, else the whole input, is unreadable.
      const lineEnd = text.indexOf("\n", s.pos);
      if (lineEnd < 0 && !final) return;
      const line = text.slice(s.pos, lineEnd < 0 ? length : lineEnd).trim();
      const parsed = parseValue(line);
      const error = parsed.ok ? "not a CloudTrail record, a list of them or a log file" : parsed.error;
      out.push({ kind: "unreadable", source: s.valueSource(), error });
      if (!s.lines) {
        s.pos = length;
        s.stopped = true;
        return;
      }
      resetValue(s, lineEnd < 0 ? length : lineEnd + 1);
      continue;
    }
    if (c === QUOTE) {
      const end = stringEnd(text, s.pos);
      if (end < 0) {
        if (s.lines && text.indexOf("\n", s.pos) >= 0) {
          brokenLine(s, out, text.indexOf("\n", s.pos) + 1, "a line ends inside a string");
          continue;
        }
        return;
      }
      if (s.depth === s.elementDepth && s.elementStart < 0) {
        // A string element of a records list: a record that is not an object.
        out.push(elementItem(s, text.slice(s.pos, end + 1)));
      } else if (s.depth === 1 && s.expectKey && s.elementDepth === 0) {
        s.lastKey = text.slice(s.pos + 1, end);
        s.expectKey = false;
      }
      s.pos = end + 1;
      continue;
    }
    switch (c) {
      case OPEN_BRACE:
      case OPEN_BRACKET:
        if (s.depth === s.elementDepth && s.elementStart < 0) s.elementStart = s.pos;
        if (c === OPEN_BRACKET && s.depth === 1 && s.elementDepth === 0 && s.lastKey === "Records") {
          s.elementDepth = 2;
          s.lastKey = "";
        }
        s.depth++;
        break;
      case CLOSE_BRACE:
      case CLOSE_BRACKET:
        s.depth--;
        if (s.depth === s.elementDepth && s.elementStart >= 0) {
          out.push(elementItem(s, text.slice(s.elementStart, s.pos + 1)));
          s.elementStart = -1;
        } else if (s.depth === s.elementDepth - 1 && s.depth > 0) {
          // The Records array closed: the rest of the wrapper object carries no records.
          s.elementDepth = -1;
        } else if (s.depth === 0) {
          endValue(s, out, s.pos + 1);
          continue;
        }
        if (s.depth === 1 && s.elementDepth <= 0) s.expectKey = false;
        break;
      case COMMA:
        if (s.depth === 1 && s.elementDepth <= 0 && s.valueIsObject) {
          s.expectKey = true;
        }
        break;
      case COLON:
        if (s.depth === 1 && s.lastKey === "Records" && s.elementDepth === 0) {
          // `"Records":` followed by something other than `[` is reported when the value ends.
          let next = s.pos + 1;
          while (next < length && isSpace(text.charCodeAt(next))) next++;
          if (next >= length) return;
          if (text.charCodeAt(next) !== OPEN_BRACKET) {
            s.recordsNotArray = true;
            s.lastKey = "";
          }
        }
        break;
      case NEWLINE:
        if (s.lines) {
          brokenLine(s, out, s.pos + 1, "the line ends inside a value");
          continue;
        }
        break;
      default:
        if (s.depth === s.elementDepth && s.elementStart < 0 && !isSpace(c)) {
          // A scalar element (a number, true, null): a record that is not an object.
          let end = s.pos;
          while (end < length && !isSpace(text.charCodeAt(end)) && text.charCodeAt(end) !== COMMA) {
            const e = text.charCodeAt(end);
            if (e === CLOSE_BRACKET || e === CLOSE_BRACE) break;
            end++;
          }
          if (end >= length && !final) return;
          out.push(elementItem(s, text.slice(s.pos, end)));
          s.pos = end;
          continue;
        }
    }
    s.pos++;
  }
}

function elementItem(s: Scanner, text: string): StreamedItem {
  const parsed = parseValue(text);
  const index = s.elementIndex++;
  const source = s.valueSource();
  return parsed.ok
    ? { kind: "record", source, index, raw: parsed.value }
    : { kind: "unreadable", source: `${source}#${index}`, error: parsed.error };
}

/** A top-level value closed at `end`: one record, unless its records were already given one by one. */
function endValue(s: Scanner, out: StreamedItem[], end: number): void {
  const source = s.valueSource();
  if (s.recordsNotArray) {
    out.push({ kind: "unreadable", source, error: "Records: expected an array of CloudTrail records" });
  } else if (s.elementDepth === 0) {
    const parsed = parseValue(s.text.slice(s.valueStart, end));
    out.push(
      parsed.ok
        ? { kind: "record", source, index: 0, raw: parsed.value }
        : { kind: "unreadable", source, error: parsed.error },
    );
  }
  resetValue(s, end);
}

/** In JSON lines, a line that ends before its value does: that line is unreadable, the next is read. */
function brokenLine(s: Scanner, out: StreamedItem[], next: number, why: string): void {
  out.push({ kind: "unreadable", source: s.valueSource(), error: `not JSON: ${why}` });
  resetValue(s, next);
}

/** Done with one top-level value (or line): the next starts at `next`. */
function resetValue(s: Scanner, next: number): void {
  s.values++;
  s.inValue = false;
  s.depth = 0;
  s.elementDepth = 0;
  s.elementStart = -1;
  s.lastKey = "";
  s.expectKey = false;
  s.recordsNotArray = false;
  s.pos = next;
}

/**
 * The records of one input, in order, as they are read. `lines`: the input is JSON lines by its
 * name (`.jsonl`, `.ndjson`); otherwise that is found out from the text (a second top-level value).
 * Progress: `onBytes` is told how many bytes of text were read so far.
 */
export async function* streamRecords(
  stream: AsyncIterable<Buffer | string>,
  source: string,
  options: { readonly lines?: boolean; readonly onBytes?: (bytes: number) => void } = {},
): AsyncGenerator<StreamedItem[]> {
  const s = new Scanner(source, options.lines ?? false);
  const decoder = new StringDecoder("utf8");
  let bytes = 0;
  try {
    for await (const chunk of plainBytes(stream)) {
      bytes += chunk.length;
      options.onBytes?.(bytes);
      s.text += decoder.write(chunk);
      const out: StreamedItem[] = [];
      scan(s, out, false);
      release(s, out);
      if (out.length > 0) yield out;
      if (s.stopped) return;
    }
    s.text += decoder.end();
  } catch (error) {
    yield [{ kind: "unreadable", source: s.valueSource(), error: `cannot read: ${errorMessage(error)}` }];
    return;
  }
  const out: StreamedItem[] = [];
  scan(s, out, true);
  if (s.stopped || s.skipping) {
    // Already reported (garbage at the top, or a value past the cap).
  } else if (s.inValue) {
    out.push({
      kind: "unreadable",
      source: s.valueSource(),
      error: "not JSON: unexpected end of input (truncated?)",
    });
  } else if (s.values === 0 && out.length === 0) {
    out.push({ kind: "unreadable", source, error: "not JSON: the input is empty" });
  }
  if (out.length > 0) yield out;
}

/** Lets go of the text already read, keeping only what the current value or element still needs. */
function release(s: Scanner, out: StreamedItem[]): void {
  const wholeValue = s.inValue && s.elementDepth === 0 && !s.skipping;
  let keep = s.elementStart >= 0 ? s.elementStart : wholeValue ? s.valueStart : s.pos;
  const held = s.pos - keep;
  if ((wholeValue || s.elementStart >= 0) && held > MAX_SINGLE_VALUE_CHARS) {
    const source = s.elementStart >= 0 ? `${s.valueSource()}#${s.elementIndex}` : s.valueSource();
    out.push({
      kind: "unreadable",
      source,
      error: `a single record over ${MAX_SINGLE_VALUE_CHARS / 1024 / 1024} MB is not read`,
    });
    s.skipping = true;
    s.elementStart = -1;
    keep = s.pos;
  }
  if (keep === 0) return;
  s.text = s.text.slice(keep);
  s.pos -= keep;
  s.valueStart -= keep;
  if (s.elementStart >= 0) s.elementStart -= keep;
}

/**
 * Inputs up to this size (on disk, and once gunzipped) are read whole and parsed with one
 * `JSON.parse`, the fastest way there is; CloudTrail delivers log files far smaller than this.
 * Anything larger, stdin, and anything one `JSON.parse` refuses (JSON lines, broken input) is
 * streamed. Memory stays bounded either way.
 */
export const READ_WHOLE_MAX_BYTES = 16 * 1024 * 1024;
const READ_CHUNK_BYTES = 1024 * 1024;

/** The records of a document already parsed whole, as the streaming reader would give them. */
function itemsOfDocument(document: unknown, source: string): StreamedItem[] | undefined {
  if (typeof document !== "object" || document === null) return undefined;
  const records =
    !Array.isArray(document) && "Records" in document ? (document as { Records: unknown }).Records : document;
  if (Array.isArray(records)) return records.map((raw, index) => ({ kind: "record", source, index, raw }));
  if (records !== document) {
    return [{ kind: "unreadable", source, error: "Records: expected an array of CloudTrail records" }];
  }
  return [{ kind: "record", source, index: 0, raw: document }];
}

/** A small file's text, gunzipped if need be; undefined when it is too large (or unreadable) to take whole. */
async function smallFileText(file: string): Promise<Buffer | undefined> {
  try {
    if ((await stat(file)).size > READ_WHOLE_MAX_BYTES) return undefined;
    const bytes = await readFile(file);
    if (bytes[0] === 0x1f && bytes[1] === 0x8b)
      return gunzipSync(bytes, { maxOutputLength: READ_WHOLE_MAX_BYTES });
    return bytes;
  } catch {
    // Too large once gunzipped, corrupt, or not readable: the streaming reader says which.
    return undefined;
  }
}

/**
 * The records of one input (a file, or stdin as `-`), in batches: a small file whole, anything
 * else streamed. `lines`: the input is JSON lines by its name.
 */
export async function* readInput(
  file: string,
  options: { readonly stdin?: AsyncIterable<Buffer | string>; readonly lines?: boolean } = {},
): AsyncGenerator<StreamedItem[]> {
  if (file === "-") {
    if (!options.stdin) throw new Error("stdin is not available");
    yield* streamRecords(options.stdin, file, { lines: options.lines });
    return;
  }
  const small = await smallFileText(file);
  if (small !== undefined && !options.lines) {
    let items: StreamedItem[] | undefined;
    try {
      items = itemsOfDocument(JSON.parse(small.toString("utf8")), file);
    } catch {
      // Not one JSON document (JSON lines, or broken): the streaming reader names each part.
    }
    if (items) {
      yield items;
      return;
    }
  }
  const stream: AsyncIterable<Buffer | string> =
    small !== undefined
      ? (async function* () {
          yield small;
        })()
      : createReadStream(file, { highWaterMark: READ_CHUNK_BYTES });
  yield* streamRecords(stream, file, { lines: options.lines });
}

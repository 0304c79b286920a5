/**
 * IAM wildcard patterns as small automata, matched in linear time.
 *
 * A pattern compiles to a list of tokens (a literal character, `?` = one character, `*` = any run
 * of characters), each wildcard limited to a character class. Matching simulates the automaton on
 * the set of pattern positions reachable so far (Thompson's construction): O(text × pattern) in the
 * worst case, never the exponential backtracking of a regular expression. The same automata are
 * what the policy solver (`solver.ts`) searches when it looks for a value that satisfies several
 * patterns at once, so the evaluator and the solver can never disagree on what a pattern means.
 */

/** What a wildcard may consume. */
export const CharClass = {
  /** Any character. */
  Any: 0,
  /** Any character but `:` (a wildcard inside one ARN part). */
  NotColon: 1,
  /** A decimal digit (the solver's own domains, e.g. a 12-digit account id). */
  Digit: 2,
} as const;
export type CharClass = (typeof CharClass)[keyof typeof CharClass];

export type Token =
  | { readonly kind: "lit"; readonly ch: string }
  | { readonly kind: "one"; readonly cls: CharClass }
  | { readonly kind: "star"; readonly cls: CharClass };

/** A compiled pattern. With `ignoreCase`, literals are stored lower-cased and input is lower-cased. */
export interface Glob {
  readonly tokens: readonly Token[];
  readonly ignoreCase: boolean;
}

export type PatternMode =
  /** `*` and `?` are wildcards anywhere (StringLike, Action, Principal). */
  | "like"
  /** No wildcards: the whole text must be equal (StringEquals, Bool, BinaryEquals). */
  | "equals"
  /**
   * ArnLike / ArnEquals: each of the six colon-separated parts is matched on its own, so a wildcard
   * in the first five parts never spans a colon; the sixth part (the resource) may hold colons. A
   * pattern with fewer parts lets its last part take the rest (`"*"` matches every ARN). The value
   * must be an ARN (six parts) in every case.
   */
  | "arn"
  /**
   * The Resource / NotResource element. IAM User Guide, "Resource" element: wildcards match within
   * an ARN segment, but "if the `*` wildcard is the last character of a resource ARN segment, it
   * can expand to match beyond the colon boundaries".
   */
  | "resource";

export function classAccepts(cls: CharClass, ch: string): boolean {
  if (cls === CharClass.Any) return true;
  if (cls === CharClass.NotColon) return ch !== ":";
  return ch >= "0" && ch <= "9";
}

/** One piece of a pattern: text to take literally, or pattern text whose `*`/`?` are wildcards. */
export interface PatternPiece {
  readonly text: string;
  readonly literal: boolean;
}

/**
 * Compiles pattern pieces (policy variables already resolved into literal pieces) under a mode.
 * The ARN part a character falls in is counted over the whole pattern, literal pieces included.
 */
export function compilePieces(pieces: readonly PatternPiece[], mode: PatternMode, ignoreCase: boolean): Glob {
  const flat: { ch: string; literal: boolean }[] = [];
  for (const piece of pieces) for (const ch of piece.text) flat.push({ ch, literal: piece.literal });
  const colons = flat.filter((c) => c.ch === ":").length;
  const tokens: Token[] = [];
  let part = 0;
  for (let i = 0; i < flat.length; i++) {
    const { ch, literal } = flat[i] as { ch: string; literal: boolean };
    const wildcard = !literal && mode !== "equals" && (ch === "*" || ch === "?");
    if (!wildcard) {
      if (ch === ":") part++;
      tokens.push({ kind: "lit", ch: ignoreCase ? ch.toLowerCase() : ch });
      continue;
    }
    let cls: CharClass = CharClass.Any;
    if (mode === "arn") {
      // In the first five parts a wildcard stays in its part, unless the pattern has fewer parts
      // than an ARN and this is its last one (it then stands for the rest of the value).
      if (part < 5 && part < colons) cls = CharClass.NotColon;
    } else if (mode === "resource" && part < 5) {
      const next = flat[i + 1];
      const endsSegment = ch === "*" && (next === undefined || next.ch === ":");
      if (!endsSegment) cls = CharClass.NotColon;
    }
    tokens.push(ch === "*" ? { kind: "star", cls } : { kind: "one", cls });
  }
  return { tokens, ignoreCase };
}

const compiledGlobs = new Map<string, Glob>();
const GLOB_CACHE_LIMIT = 20_000;

/** Compiles a pattern (cached: the same glob object for the same pattern, so solver results can be shared). */
export function compileGlob(pattern: string, mode: PatternMode, ignoreCase = false): Glob {
  const key = `${mode}${ignoreCase ? "i" : "c"}${pattern}`;
  let glob = compiledGlobs.get(key);
  if (!glob) {
    glob = compilePieces([{ text: pattern, literal: false }], mode, ignoreCase);
    if (compiledGlobs.size >= GLOB_CACHE_LIMIT) compiledGlobs.clear();
    compiledGlobs.set(key, glob);
  }
  return glob;
}

const globIds = new WeakMap<Glob, number>();
let nextGlobId = 1;

/** A stable number per glob object (for memo keys). */
export function globId(glob: Glob): number {
  let id = globIds.get(glob);
  if (id === undefined) {
    id = nextGlobId++;
    globIds.set(glob, id);
  }
  return id;
}

/** A pattern whose wildcards never match `:` (ARNs whose parts hold no colon, such as file systems). */
export function compileStrictGlob(pattern: string): Glob {
  const key = `strict${pattern}`;
  let glob = compiledGlobs.get(key);
  if (!glob) {
    const { tokens } = compileGlob(pattern, "like");
    glob = {
      tokens: tokens.map((t) => (t.kind === "lit" ? t : { ...t, cls: CharClass.NotColon })),
      ignoreCase: false,
    };
    compiledGlobs.set(key, glob);
  }
  return glob;
}

/** `*:*:*:*:*:*`: six colon-separated parts, the value shape every ARN operator requires. */
export const ARN_SHAPE: Glob = compileGlob("*:*:*:*:*:*", "like");

// The solver steps many small automata: one scratch marking array, cleared by generation.
let scratch = new Uint32Array(64);
let generation = 0;

function closeInto(glob: Glob, list: number[], p: number): void {
  let q = p;
  while (true) {
    if (scratch[q] === generation) return;
    scratch[q] = generation;
    list.push(q);
    const token = glob.tokens[q];
    if (token === undefined || token.kind !== "star") return;
    q++;
  }
}

function nextGeneration(size: number): void {
  if (scratch.length < size) scratch = new Uint32Array(Math.max(size, scratch.length * 2));
  generation++;
  if (generation === 0xffffffff) {
    scratch.fill(0);
    generation = 1;
  }
}

/** The automaton's start: a sorted list of positions. */
export function startState(glob: Glob): number[] {
  nextGeneration(glob.tokens.length + 1);
  const list: number[] = [];
  closeInto(glob, list, 0);
  return list.sort((a, b) => a - b);
}

/** The positions after reading `ch` (already lower-cased for an ignore-case glob), sorted. */
export function stepState(glob: Glob, state: readonly number[], ch: string): number[] {
  nextGeneration(glob.tokens.length + 1);
  const list: number[] = [];
  for (const p of state) {
    const token = glob.tokens[p];
    if (token === undefined) continue;
    if (token.kind === "lit") {
      if (token.ch === ch) closeInto(glob, list, p + 1);
    } else if (token.kind === "one") {
      if (classAccepts(token.cls, ch)) closeInto(glob, list, p + 1);
    } else if (classAccepts(token.cls, ch)) {
      closeInto(glob, list, p);
    }
  }
  return list.length > 1 ? list.sort((a, b) => a - b) : list;
}

export function accepts(glob: Glob, state: readonly number[]): boolean {
  return state.includes(glob.tokens.length);
}

/** True when `text` matches the glob. Linear in `text` for a fixed pattern; never backtracks. */
export function globMatches(glob: Glob, text: string): boolean {
  const { tokens } = glob;
  const n = tokens.length;
  // Fast paths: a literal pattern is an equality, a lone `*` matches everything.
  if (n === 1 && tokens[0]?.kind === "star" && tokens[0].cls === CharClass.Any) return true;
  nextGeneration(n + 1);
  let current: number[] = [];
  closeInto(glob, current, 0);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // Iterate by code point, as the pattern was compiled.
    let raw = text[i] as string;
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      raw = text.slice(i, i + 2);
      i++;
    }
    const ch = glob.ignoreCase ? raw.toLowerCase() : raw;
    nextGeneration(n + 1);
    const next: number[] = [];
    for (const p of current) {
      const token = tokens[p];
      if (token === undefined) continue;
      if (token.kind === "lit") {
        if (token.ch === ch) closeInto(glob, next, p + 1);
      } else if (token.kind === "one") {
        if (classAccepts(token.cls, ch)) closeInto(glob, next, p + 1);
      } else if (classAccepts(token.cls, ch)) {
        closeInto(glob, next, p);
      }
    }
    if (next.length === 0) return false;
    current = next;
  }
  return current.includes(n);
}

/** True when the glob has no wildcard: it matches exactly one text. */
export function isLiteralGlob(glob: Glob): boolean {
  return glob.tokens.every((t) => t.kind === "lit");
}

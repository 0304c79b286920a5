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
  // The pattern's code points, and whether each comes from a literal piece (a resolved variable).
  const chars: string[] = [];
  const literal: boolean[] = [];
  let colons = 0;
  for (const piece of pieces)
    for (const ch of piece.text) {
      chars.push(ch);
      literal.push(piece.literal);
      if (ch === ":") colons++;
    }
  const tokens: Token[] = [];
  let part = 0;
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    const wildcard = !literal[i] && mode !== "equals" && (ch === "*" || ch === "?");
    if (!wildcard) {
      if (ch === ":") part++;
      tokens.push(literalToken(ignoreCase ? ch.toLowerCase() : ch));
      continue;
    }
    let cls: CharClass = CharClass.Any;
    if (mode === "arn") {
      // In the first five parts a wildcard stays in its part, unless the pattern has fewer parts
      // than an ARN and this is its last one (it then stands for the rest of the value).
      if (part < 5 && part < colons) cls = CharClass.NotColon;
    } else if (mode === "resource" && part < 5) {
      const next = chars[i + 1];
      const endsSegment = ch === "*" && (next === undefined || next === ":");
      if (!endsSegment) cls = CharClass.NotColon;
    }
    tokens.push((ch === "*" ? STAR_TOKENS : ONE_TOKENS)[cls] as Token);
  }
  return { tokens, ignoreCase };
}

/** Tokens are immutable: one object per literal character and per wildcard, shared by every glob. */
const literalTokens = new Map<string, Token>();
const STAR_TOKENS: readonly Token[] = [CharClass.Any, CharClass.NotColon, CharClass.Digit].map((cls) => ({
  kind: "star" as const,
  cls,
}));
const ONE_TOKENS: readonly Token[] = [CharClass.Any, CharClass.NotColon, CharClass.Digit].map((cls) => ({
  kind: "one" as const,
  cls,
}));

function literalToken(ch: string): Token {
  let token = literalTokens.get(ch);
  if (token === undefined) {
    token = { kind: "lit", ch };
    if (literalTokens.size >= 10_000) literalTokens.clear();
    literalTokens.set(ch, token);
  }
  return token;
}

/** The shortest text a glob matches, each single-character wildcard taken as a plain letter or digit. */
export function shortestInstance(glob: Glob): string {
  let text = "";
  for (const token of glob.tokens) {
    if (token.kind === "lit") text += token.ch;
    else if (token.kind === "one") text += token.cls === CharClass.Digit ? "2" : "x";
  }
  return text;
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
  // Two position lists swapped at each character: no allocation per character.
  if (matchLists[0].length < n + 1) matchLists = [new Int32Array(2 * n + 2), new Int32Array(2 * n + 2)];
  let current = matchLists[0];
  let next = matchLists[1];
  nextGeneration(n + 1);
  let size = closeList(tokens, current, 0, 0);
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
    let nextSize = 0;
    for (let k = 0; k < size; k++) {
      const p = current[k] as number;
      const token = tokens[p];
      if (token === undefined) continue;
      if (token.kind === "lit") {
        if (token.ch === ch) nextSize = closeList(tokens, next, nextSize, p + 1);
      } else if (token.kind === "one") {
        if (classAccepts(token.cls, ch)) nextSize = closeList(tokens, next, nextSize, p + 1);
      } else if (classAccepts(token.cls, ch)) {
        nextSize = closeList(tokens, next, nextSize, p);
      }
    }
    if (nextSize === 0) return false;
    [current, next] = [next, current];
    size = pruneList(tokens, current, nextSize);
  }
  for (let k = 0; k < size; k++) if (current[k] === n) return true;
  return false;
}

/**
 * Drops the positions before the list's last `*` of any character (see `Automaton.prune`: what
 * the glob matches from an earlier position it also matches from that star), so `*a*a…*b` keeps
 * a few positions rather than one per star read past; the new size.
 */
function pruneList(tokens: readonly Token[], list: Int32Array, size: number): number {
  let star = -1;
  for (let k = 0; k < size; k++) {
    const p = list[k] as number;
    const token = tokens[p];
    if (p > star && token?.kind === "star" && token.cls === CharClass.Any) star = p;
  }
  if (star < 0) return size;
  let kept = 0;
  for (let k = 0; k < size; k++) {
    const p = list[k] as number;
    if (p >= star) list[kept++] = p;
  }
  return kept;
}

let matchLists: [Int32Array, Int32Array] = [new Int32Array(64), new Int32Array(64)];

/** Adds position `p` and the positions its stars skip to `list` (from `size`), unless marked; the new size. */
function closeList(tokens: readonly Token[], list: Int32Array, size: number, p: number): number {
  let q = p;
  let s = size;
  while (true) {
    if (scratch[q] === generation) return s;
    scratch[q] = generation;
    list[s++] = q;
    const token = tokens[q];
    if (token === undefined || token.kind !== "star") return s;
    q++;
  }
}

/** True when the glob has no wildcard: it matches exactly one text. */
export function isLiteralGlob(glob: Glob): boolean {
  return glob.tokens.every((t) => t.kind === "lit");
}

// ---------------------------------------------------------------------------------------------
// Automata for the solver: a union of globs, its states explored lazily and remembered.

const LIT = 0;
const ONE = 1;
const STAR = 2;
const END = 3;

/** The characters a state's literals compare with (see `Automaton.mentionsOf`). */
export interface Mentions {
  readonly exact: readonly string[];
  readonly folded: readonly string[];
}

/**
 * The union of some globs ("one of them matches") as a deterministic automaton built lazily: a
 * state is the set of positions the globs' automata can be in (the subset construction), each set
 * kept once and numbered, and each transition computed once. State 0 (`Automaton.DEAD`) is the
 * empty set: no glob can match any more. A solver that steps many strings through the same
 * patterns then pays a look-up per character, not a walk over every position.
 */
export class Automaton {
  static readonly DEAD = 0;
  readonly globs: readonly Glob[];
  readonly start: number;
  private readonly kinds: Uint8Array;
  private readonly classes: Uint8Array;
  private readonly chars: string[];
  /** Per position: does its literal compare lower-cased input (an ignore-case glob)? */
  private readonly fold: Uint8Array;
  /** Per position: the last position of its closure (the first non-star at or after it). */
  private readonly closeEnd: Int32Array;
  private readonly sets: Int32Array[] = [];
  private readonly accepting: boolean[] = [];
  private readonly universal: boolean[] = [];
  /** Per position: a star of any character that only stars of any character follow (it matches every rest). */
  private readonly tailAny: Uint8Array;
  /** State numbers by a hash of their sets. */
  private readonly ids = new Map<number, number[]>();
  /** The set being built (positions, unsorted until interned). */
  private readonly building: Int32Array;
  private readonly charIds = new Map<string, number>();
  private readonly charList: string[] = [];
  private readonly mentions: (Mentions | undefined)[] = [];
  private readonly feeds = new Map<string, Map<number, number>>();
  /** Per position: characters still to read before the glob can end (each literal and `?` one). */
  private readonly need: Int32Array;
  /** Per position: the index of its glob; per glob, the last star of any character in the set being built. */
  private readonly globOf: Int32Array;
  private readonly lastStar: Int32Array;
  private readonly lastStarSeen: Uint32Array;
  private pruneGeneration = 0;
  private readonly distances: number[] = [];
  private persistentDistance = Number.POSITIVE_INFINITY;
  /**
   * Positions every state holds: the stars of any character in the start state and what they
   * skip to. Such a star never leaves (it takes every character), so no state lists them: a state
   * stores only its other positions, and what these positions step to on a character is computed
   * once per character (`persistentSteps`). A union of many `*…` patterns then has small states.
   */
  private readonly persistent: Int32Array;
  private readonly inPersistent: Uint8Array;
  private readonly persistentSteps: (Int32Array | undefined)[] = [];
  private persistentAccepting = false;
  private persistentUniversal = false;
  private width = 16;
  private table: Int32Array = new Int32Array(16).fill(-1);
  private mark: Uint32Array;
  private markGeneration = 0;

  constructor(globs: readonly Glob[]) {
    this.globs = globs;
    const size = globs.reduce((n, g) => n + g.tokens.length + 1, 0);
    this.kinds = new Uint8Array(size);
    this.classes = new Uint8Array(size);
    this.chars = new Array<string>(size).fill("");
    this.fold = new Uint8Array(size);
    this.closeEnd = new Int32Array(size);
    this.mark = new Uint32Array(size);
    this.tailAny = new Uint8Array(size);
    this.building = new Int32Array(size);
    this.need = new Int32Array(size);
    const starts: number[] = [];
    this.globOf = new Int32Array(size);
    this.lastStar = new Int32Array(globs.length);
    this.lastStarSeen = new Uint32Array(globs.length);
    let p = 0;
    for (const glob of globs) {
      starts.push(p);
      this.globOf.fill(starts.length - 1, p, p + glob.tokens.length + 1);
      for (const token of glob.tokens) {
        if (token.kind === "lit") {
          this.kinds[p] = LIT;
          this.chars[p] = token.ch;
          this.fold[p] = glob.ignoreCase ? 1 : 0;
        } else {
          this.kinds[p] = token.kind === "one" ? ONE : STAR;
          this.classes[p] = token.cls;
        }
        p++;
      }
      this.kinds[p++] = END;
    }
    for (let q = size - 1; q >= 0; q--) {
      const anyStar = this.kinds[q] === STAR && this.classes[q] === CharClass.Any;
      this.closeEnd[q] = this.kinds[q] === STAR ? (this.closeEnd[q + 1] as number) : q;
      this.tailAny[q] = anyStar && (this.kinds[q + 1] === END || this.tailAny[q + 1] === 1) ? 1 : 0;
      const kind = this.kinds[q];
      this.need[q] = kind === END ? 0 : (this.need[q + 1] as number) + (kind === STAR ? 0 : 1);
    }
    this.inPersistent = new Uint8Array(size);
    const always: number[] = [];
    for (const s of starts)
      for (let q = s; q <= (this.closeEnd[s] as number); q++) {
        if (this.kinds[q] !== STAR || this.classes[q] !== CharClass.Any) continue;
        for (let r = q; r <= (this.closeEnd[q] as number); r++) {
          if (this.inPersistent[r] === 1) continue;
          this.inPersistent[r] = 1;
          always.push(r);
          if (this.kinds[r] === END) this.persistentAccepting = true;
          this.persistentDistance = Math.min(this.persistentDistance, this.need[r] as number);
          if (this.tailAny[r] === 1) this.persistentUniversal = true;
        }
      }
    this.persistent = Int32Array.from(always);
    // State 0 is the empty set (dead); with persistent positions no state is dead.
    this.sets.push(new Int32Array(0));
    this.accepting.push(false);
    this.universal.push(false);
    this.nextMark();
    let count = 0;
    for (const s of starts) count = this.close(count, s);
    this.start = this.intern(this.prune(count));
  }

  /** True when the state accepts: some glob matches the text read so far. */
  accepts(state: number): boolean {
    return this.accepting[state] as boolean;
  }

  /** True when the state accepts whatever follows (some glob ends in `*` and has reached it). */
  acceptsEverything(state: number): boolean {
    return this.universal[state] as boolean;
  }

  /** The state after reading one character (a code point, as typed: ignore-case globs lower it). */
  step(state: number, ch: string): number {
    return this.stepCode(state, this.code(ch));
  }

  /** The state after reading a text (remembered: templates feed the same few texts again and again). */
  feed(state: number, text: string): number {
    if (state === Automaton.DEAD || text === "") return state;
    let byState = this.feeds.get(text);
    if (byState === undefined) {
      byState = new Map();
      this.feeds.set(text, byState);
    }
    let end = byState.get(state);
    if (end === undefined) {
      end = state;
      for (const ch of text) {
        end = this.step(end, ch);
        if (end === Automaton.DEAD) break;
      }
      byState.set(state, end);
      internedCells++;
    }
    return end;
  }

  /** The fewest characters after which some glob could match (infinite for the dead state). */
  distance(state: number): number {
    let known = this.distances[state];
    if (known === undefined) {
      known = state === Automaton.DEAD ? Number.POSITIVE_INFINITY : this.persistentDistance;
      for (const p of this.sets[state] ?? []) known = Math.min(known, this.need[p] as number);
      this.distances[state] = known;
    }
    return known;
  }

  /** A number for a character, for `stepCode` (a solver that steps many states looks it up once). */
  code(ch: string): number {
    let c = this.charIds.get(ch);
    if (c === undefined) {
      c = this.charList.length;
      this.charIds.set(ch, c);
      this.charList.push(ch);
      if (c >= this.width) this.widen();
    }
    return c;
  }

  /** `step` with the character's number from `code`. */
  stepCode(state: number, c: number): number {
    if (state === Automaton.DEAD) return state;
    const known = this.table[state * this.width + c] as number;
    if (known >= 0) return known;
    const next = this.compute(state, c);
    this.table[state * this.width + c] = next;
    return next;
  }

  /**
   * The characters the state's literals compare with: `exact` as they are, `folded` after
   * lower-casing (ignore-case globs). Any other character of one class (a digit, `:`, anything
   * else) takes the state to the same next state, so a search need try only these and one of each
   * class besides.
   */
  mentionsOf(state: number): Mentions {
    let known = this.mentions[state];
    if (known === undefined) {
      const exact = new Set<string>();
      const folded = new Set<string>();
      const add = (p: number) => {
        if (this.kinds[p] === LIT) (this.fold[p] === 1 ? folded : exact).add(this.chars[p] as string);
      };
      for (const p of this.sets[state] ?? []) add(p);
      if (state !== Automaton.DEAD) for (const p of this.persistent) add(p);
      known = { exact: [...exact], folded: [...folded] };
      this.mentions[state] = known;
      internedCells += exact.size + folded.size;
    }
    return known;
  }

  /** Number of states found so far. */
  get size(): number {
    return this.sets.length;
  }

  private compute(state: number, c: number): number {
    const ch = this.charList[c] as string;
    let moved = this.persistentSteps[c];
    if (moved === undefined && this.persistent.length > 0) {
      this.nextMark();
      moved = this.building.slice(0, this.stepSet(this.persistent, ch, 0));
      this.persistentSteps[c] = moved;
    }
    this.nextMark();
    let size = 0;
    if (moved !== undefined)
      for (let k = 0; k < moved.length; k++) {
        const q = moved[k] as number;
        this.mark[q] = this.markGeneration;
        this.building[size++] = q;
      }
    size = this.stepSet(this.sets[state] as Int32Array, ch, size);
    if (size === 0 && this.persistent.length === 0) return Automaton.DEAD;
    return this.intern(this.prune(size));
  }

  /**
   * Drops the positions a later star of the same glob makes redundant: whatever a glob matches
   * from position p it also matches from any star of any character q > p that the set holds (the
   * star absorbs what leads from p to q), so only the last such star and what follows it matter.
   * The states of `*a*a*a…*b` then hold two positions, not hundreds. Marks stay those of the kept
   * positions (as `intern` expects).
   */
  private prune(size: number): number {
    const list = this.building;
    this.pruneGeneration++;
    let any = false;
    for (let k = 0; k < size; k++) {
      const p = list[k] as number;
      if (this.kinds[p] !== STAR || this.classes[p] !== CharClass.Any) continue;
      const g = this.globOf[p] as number;
      if (this.lastStarSeen[g] !== this.pruneGeneration || (this.lastStar[g] as number) < p) {
        this.lastStarSeen[g] = this.pruneGeneration;
        this.lastStar[g] = p;
        any = true;
      }
    }
    if (!any) return size;
    let kept = 0;
    for (let k = 0; k < size; k++) {
      const p = list[k] as number;
      const g = this.globOf[p] as number;
      if (this.lastStarSeen[g] === this.pruneGeneration && p < (this.lastStar[g] as number)) {
        this.mark[p] = 0;
        continue;
      }
      list[kept++] = p;
    }
    return kept;
  }

  /** Adds to `building` (from `size`) the positions `set` steps to on `ch`, persistent ones aside; the new size. */
  private stepSet(set: Int32Array, ch: string, from: number): number {
    let lower: string | undefined;
    let size = from;
    for (let k = 0; k < set.length; k++) {
      const p = set[k] as number;
      const kind = this.kinds[p];
      if (kind === LIT) {
        let c = ch;
        if (this.fold[p] === 1) {
          lower ??= ch.toLowerCase();
          c = lower;
        }
        if (this.chars[p] === c) size = this.close(size, p + 1);
      } else if (kind === ONE) {
        if (classAccepts(this.classes[p] as CharClass, ch)) size = this.close(size, p + 1);
      } else if (kind === STAR) {
        if (classAccepts(this.classes[p] as CharClass, ch)) size = this.close(size, p);
      }
    }
    return size;
  }

  private nextMark(): void {
    this.markGeneration++;
    if (this.markGeneration === 0xffffffff) {
      this.mark.fill(0);
      this.markGeneration = 1;
    }
  }

  /** Adds `p` and the positions its stars skip to the list being built (from `size`); the new size. */
  private close(size: number, p: number): number {
    const end = this.closeEnd[p] as number;
    let s = size;
    for (let q = p; q <= end; q++) {
      if (this.mark[q] === this.markGeneration || this.inPersistent[q] === 1) continue;
      this.mark[q] = this.markGeneration;
      this.building[s++] = q;
    }
    return s;
  }

  /**
   * The number of the set held in the first `size` cells of `building` (a new one if unseen). The
   * set's positions are the ones marked in this generation, so no sorting is needed: the hash
   * ignores order and a candidate is compared by its marks.
   */
  private intern(size: number): number {
    const list = this.building.subarray(0, size);
    let hash = size;
    for (let k = 0; k < size; k++) hash = (hash + mix(list[k] as number)) | 0;
    const bucket = this.ids.get(hash);
    if (bucket !== undefined)
      for (const id of bucket) {
        const set = this.sets[id] as Int32Array;
        if (set.length !== size) continue;
        let same = true;
        for (let k = 0; k < size && same; k++) same = this.mark[set[k] as number] === this.markGeneration;
        if (same) return id;
      }
    const id = this.sets.length;
    const set = list.slice();
    this.sets.push(set);
    let accepting = this.persistentAccepting;
    let universal = this.persistentUniversal;
    for (let k = 0; k < size; k++) {
      const p = set[k] as number;
      if (this.kinds[p] === END) accepting = true;
      if (this.tailAny[p] === 1) universal = true;
    }
    this.accepting.push(accepting);
    this.universal.push(universal);
    if (bucket === undefined) this.ids.set(hash, [id]);
    else bucket.push(id);
    internedCells += size + this.width;
    if (this.table.length < (id + 1) * this.width) {
      const grown = new Int32Array(Math.max(this.table.length * 2, (id + 1) * this.width)).fill(-1);
      grown.set(this.table);
      this.table = grown;
    }
    return id;
  }

  private widen(): void {
    const width = this.width * 2;
    const grown = new Int32Array(Math.max(this.sets.length, 1) * width * 2).fill(-1);
    for (let s = 0; s < this.sets.length; s++)
      grown.set(this.table.subarray(s * this.width, (s + 1) * this.width), s * width);
    internedCells += this.sets.length * (width - this.width);
    this.width = width;
    this.table = grown;
  }
}

/** A position scrambled (a 32-bit finaliser), so that a sum of them hashes a set. */
function mix(p: number): number {
  let x = Math.imul(p ^ (p >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return x ^ (x >>> 16);
}

const automata = new Map<string, Automaton>();
/** Cells (positions and transitions) the cached automata hold: past the limit, the cache starts over. */
let internedCells = 0;
const AUTOMATON_CELL_LIMIT = 4_000_000;

/** The automaton of "one of `globs` matches" (cached: the same object for the same globs). */
export function automatonOf(globs: readonly Glob[]): Automaton {
  const sorted = globs.length > 1 ? [...globs].sort((a, b) => globId(a) - globId(b)) : globs;
  const key = sorted.map(globId).join(",");
  let automaton = automata.get(key);
  if (!automaton) {
    if (internedCells > AUTOMATON_CELL_LIMIT) {
      automata.clear();
      internedCells = 0;
    }
    automaton = new Automaton(sorted);
    automata.set(key, automaton);
  }
  return automaton;
}

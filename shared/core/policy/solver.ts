/**
 * The decision procedure: is there a request that satisfies a formula (`formula.ts`)? Either a
 * witness request, a proof that there is none, or "undecided" when an explicit budget runs out.
 *
 * - The search enumerates the caller's kind (and the action, when the question names a finite set),
 *   builds the formula for that frame and runs a DPLL-style search over its disjunctions: literals
 *   are added to per-variable stores and each store is checked for consistency at once, so a branch
 *   dies as soon as one variable cannot satisfy it.
 * - Strings: a conjunction of patterns matched and not matched is satisfiable iff the product of
 *   their automata has an accepting path. The path is searched (closest to acceptance first, every
 *   reachable state once) over a finite alphabet:
 *   the characters the patterns mention (both cases where a pattern ignores case) plus one character
 *   of each class they do not mention (characters no pattern mentions behave alike), so the search is
 *   complete, and the path is the witness string. The patterns of one clause, and the patterns a
 *   value must avoid, are each one union automaton, explored lazily as a DFA (`glob.ts`); a clause
 *   of fixed values is decided by checking each value. Several symbolic parts that appear in fixed order
 *   in several templates (account, then name, then unique id, then session) are searched in one
 *   sequence, so `aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:userid` and the Principal element
 *   always describe one caller.
 * - Numbers, dates and addresses: the values a policy mentions cut the line into finitely many
 *   intervals, and one candidate per interval and per boundary decides them all (between two
 *   numbers the midpoint; around a range its first and last address and their neighbours); each
 *   operator holds on one run of the sorted candidates, so one sweep decides them all.
 * - Multi-valued keys: each "some value" constraint gets its own element, and every element
 *   satisfies every "all values" constraint; an absent key satisfies every `ForAllValues:` clause.
 *
 * Memory is bounded by the budget (states kept) and, for the automata cached across questions, by
 * a limit on their cells; the budget is counted in search steps, so no policy can make a judgement
 * hang: it ends as "undecided" instead.
 */
import { type Cidr, formatCidr, parseCidr } from "../net/cidr.ts";
import { parseDate, parseIp } from "./conditions.ts";
import type { PolicyDocument } from "./document.ts";
import type { RequestPrincipal } from "./evaluate.ts";
import {
  ANONYMOUS_CARRIES_IDS,
  AWS_KINDS,
  and,
  atomHolds,
  DERIVED_KEYS,
  derivedKeyTemplate,
  domainOf,
  type ElemAtom,
  type FixedPrincipal,
  type Formula,
  type Frame,
  type FrameTable,
  frameTable,
  type Junction,
  type KeyLit,
  keyAbsentFor,
  or,
  type PrincipalKind,
  type Sym,
  type Template,
  type TmplLit,
} from "./formula.ts";
import {
  Automaton,
  automatonOf,
  CharClass,
  classAccepts,
  compileGlob,
  type Glob,
  globId,
  globMatches,
  type Mentions,
  shortestInstance,
} from "./glob.ts";

/** A request the evaluator can check. */
export interface Witness {
  readonly kind: PrincipalKind;
  readonly principal: RequestPrincipal;
  readonly action: string;
  readonly resource: string | undefined;
  /** Condition keys lower-cased, principal-derived keys included. */
  readonly context: ReadonlyMap<string, string | readonly string[]>;
}

export type Outcome =
  | { readonly status: "proved" }
  | { readonly status: "witness"; readonly witness: Witness }
  | { readonly status: "undecided"; readonly reason: string };

/** The requests a question ranges over. */
export interface SearchSpace {
  readonly partition: string;
  readonly kinds: readonly PrincipalKind[];
  /** A caller fixed by the question (its kind must be in `kinds`). */
  readonly fixedPrincipal?: FixedPrincipal;
  /** A finite set of actions, or undefined for a symbolic action (constrain it in the formula). */
  readonly actions: readonly string[] | undefined;
  /** The resource, or undefined for a symbolic resource (constrain it in the formula). */
  readonly resource: string | undefined;
}

/** Search steps one question may take before it is left undecided. */
export const DEFAULT_BUDGET = 400_000;

/**
 * Search steps one judgement (every question it asks, the edit and its proof) may take in all. A
 * question costs at most `DEFAULT_BUDGET`, but a long policy asks hundreds of them; this bound is
 * what keeps a whole judgement inside the 60 s Lambda timeout (a step costs a few microseconds).
 * Generated adversarial policies spend at most about 15,000 steps per judgement and a 60-statement
 * policy under a thousand, so no policy a person writes comes near it.
 */
export const JUDGEMENT_BUDGET = 4_000_000;

class BudgetExceeded extends Error {}

class Budget {
  steps = 0;
  constructor(
    readonly max: number,
    private readonly total?: Budget,
  ) {}
  get exhausted(): boolean {
    return this.steps >= this.max;
  }
  spend(n = 1): void {
    this.steps += n;
    this.total?.spend(n);
    if (this.steps > this.max) throw new BudgetExceeded("budget");
  }
}

/** The budget every question shares while `withJudgementBudget` runs. */
let judgementBudget: Budget | undefined;

export interface JudgementWork<T> {
  readonly result: T;
  /** Search steps spent by every question together. */
  readonly steps: number;
}

/**
 * Runs `work` (one judgement) with a total budget shared by every question it asks: once it is
 * spent, every further question is left undecided at once, so the judgement ends as "too complex
 * to decide" instead of running out of time. Nested calls share the outermost budget.
 */
export function withJudgementBudget<T>(work: () => T, max = JUDGEMENT_BUDGET): JudgementWork<T> {
  if (judgementBudget !== undefined) {
    const before = judgementBudget.steps;
    const result = work();
    return { result, steps: judgementBudget.steps - before };
  }
  const budget = new Budget(max);
  judgementBudget = budget;
  generation++;
  try {
    return { result: work(), steps: budget.steps };
  } finally {
    judgementBudget = undefined;
  }
}

type Check =
  | { readonly status: "sat"; readonly value: unknown }
  | { readonly status: "unsat" }
  | { readonly status: "unknown" };
const UNSAT: Check = { status: "unsat" };
const UNKNOWN_CHECK: Check = { status: "unknown" };

// ---------------------------------------------------------------------------------------------
// Strings: sequences of symbolic parts searched through the product of automata.

interface TemplateConstraint {
  readonly template: Template;
  readonly globs: readonly Glob[];
  readonly neg: boolean;
}

/**
 * One literal of the product: the template's text is matched by one of the automaton's globs (or,
 * with `neg`, by none of them). A clause of the product holds when one of its literals does.
 */
class ProductLit {
  private built: Automaton | undefined;
  private texts: ReadonlySet<string> | null | undefined;

  constructor(
    readonly template: Template,
    readonly globs: readonly Glob[],
    readonly neg: boolean,
  ) {}

  /** Built on first use: a guess or a fixed value that settles the question only matches texts. */
  get automaton(): Automaton {
    this.built ??= automatonOf(this.globs);
    return this.built;
  }

  /** The texts of the globs when every one is a text without wildcards (then matched by look-up); else undefined. */
  get fixedTexts(): ReadonlySet<string> | undefined {
    if (this.texts === undefined) {
      const texts = this.globs.map(exactText);
      this.texts = texts.every((t) => t !== undefined) ? new Set(texts as string[]) : null;
    }
    return this.texts ?? undefined;
  }

  /** Whether `text` satisfies the literal: matched glob by glob when they are few, else by the automaton. */
  holds(text: string): boolean {
    if (this.globs.length <= FEW_GLOBS)
      return this.globs.some((glob) => globMatches(glob, text)) !== this.neg;
    const fixed = this.fixedTexts;
    if (fixed !== undefined) return fixed.has(text) !== this.neg;
    const automaton = this.automaton;
    let state = automaton.start;
    for (const ch of text) {
      state = automaton.step(state, ch);
      if (state === Automaton.DEAD) break;
    }
    return automaton.accepts(state) !== this.neg;
  }
}

/** Up to this many globs, a text is matched against each rather than through their union's automaton. */
const FEW_GLOBS = 4;
type ProductClause = readonly ProductLit[];

const FRESH_LETTERS = "xqzjkvwybcdfghmnprstlaeiou";
const FRESH_DIGITS = "2357468910";
const FRESH_OTHERS = "-_.~+=@#%&!";

/** The characters a glob's literals name, and whether a wildcard of it excludes `:` (remembered per glob). */
const globCharacters = new WeakMap<Glob, { readonly chars: readonly string[]; readonly notColon: boolean }>();

function charactersOf(glob: Glob) {
  let known = globCharacters.get(glob);
  if (known === undefined) {
    const chars = new Set<string>();
    let notColon = false;
    for (const token of glob.tokens) {
      if (token.kind === "lit") chars.add(token.ch);
      else if (token.cls === CharClass.NotColon) notColon = true;
    }
    known = { chars: [...chars], notColon };
    globCharacters.set(glob, known);
  }
  return known;
}

function alphabetOf(globs: Iterable<Glob>): string[] {
  const mentioned = new Set<string>();
  let anyIgnoreCase = false;
  let notColon = false;
  for (const glob of globs) {
    if (glob.ignoreCase) anyIgnoreCase = true;
    const { chars, notColon: excludesColon } = charactersOf(glob);
    for (const ch of chars) mentioned.add(ch);
    if (excludesColon) notColon = true;
  }
  const chars = new Set<string>();
  for (const ch of mentioned) {
    chars.add(ch);
    if (anyIgnoreCase) {
      chars.add(ch.toLowerCase());
      chars.add(ch.toUpperCase());
    }
  }
  const free = (c: string) =>
    !mentioned.has(c) && !mentioned.has(c.toLowerCase()) && !mentioned.has(c.toUpperCase());
  const fresh: string[] = [];
  const letter = [...FRESH_LETTERS].find(free) ?? [...FRESH_OTHERS].find(free);
  if (letter) fresh.push(letter);
  const digit = [...FRESH_DIGITS].find(free);
  if (digit) fresh.push(digit);
  if (notColon) chars.add(":");
  return [...fresh, ...[...chars].filter((c) => !fresh.includes(c)).sort()];
}

interface Track {
  readonly clause: number;
  readonly automaton: Automaton;
  readonly neg: boolean;
  /** Literal text consumed when phase p ends (after the part, up to the next part). */
  readonly after: readonly string[];
  readonly prefix: string;
}

function feed(automaton: Automaton, state: number, text: string): number {
  return automaton.feed(state, text);
}

/** A track's state once its clause holds for good (a negated literal that can no longer match). */
const SETTLED = -1;

/** A hash of a product state (phase, domain state, track states). */
function hashOf(phase: number, domain: number, states: Int32Array): number {
  let h = Math.imul(phase + 1, 0x9e3779b1) ^ Math.imul(domain + 7, 0x85ebca6b);
  for (let i = 0; i < states.length; i++) h = Math.imul(h ^ (states[i] as number), 0x27d4eb2f) + i;
  return h | 0;
}

function sameStates(a: Int32Array, b: Int32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** True when one clause says a text matches an automaton and another that the same text does not. */
function contradicts(clauses: readonly ProductClause[]): boolean {
  const units = new Map<Glob | string, { template: string; neg: boolean }[]>();
  for (const clause of clauses) {
    if (clause.length !== 1) continue;
    const lit = clause[0] as ProductLit;
    const template = templateKeyOf(lit.template);
    // The same patterns: the same glob, or the same set of globs (named by their numbers, so no
    // automaton is built for the comparison).
    const same =
      lit.globs.length === 1
        ? (lit.globs[0] as Glob)
        : lit.globs
            .map(globId)
            .sort((a, b) => a - b)
            .join(",");
    const seen = units.get(same) ?? [];
    if (seen.some((u) => u.template === template && u.neg !== lit.neg)) return true;
    seen.push({ template, neg: lit.neg });
    units.set(same, seen);
  }
  return false;
}

/**
 * Reads `text` as an instance of `template`, giving its symbolic parts their values in `values`
 * (a part that already has one keeps it). Each part ends where the literal text after it first
 * occurs: one reading, not every one; `guessProduct` checks whatever it yields.
 */
function readTemplate(
  template: Template,
  text: string,
  parts: readonly string[],
  values: (string | undefined)[],
): void {
  let at = 0;
  for (let i = 0; i < template.length; i++) {
    const part = template[i] as Template[number];
    if (typeof part === "string") {
      if (!text.startsWith(part, at)) return;
      at += part.length;
      continue;
    }
    const following = template[i + 1];
    const end =
      following === undefined
        ? text.length
        : typeof following === "string"
          ? text.indexOf(following, at)
          : -1;
    if (end < 0) return;
    const phase = parts.indexOf(part.sym);
    if (phase >= 0 && values[phase] === undefined) values[phase] = text.slice(at, end);
    at = end;
  }
}

function litHolds(lit: ProductLit, parts: readonly string[], values: readonly string[]): boolean {
  let text = "";
  for (const part of lit.template)
    text += typeof part === "string" ? part : (values[parts.indexOf(part.sym)] ?? "");
  return lit.holds(text);
}

/** Products of more clauses than this go straight to the search: a guess rarely fits them all. */
const GUESS_CLAUSES = 16;

/**
 * A first try before the product search, for the usual case of a few plain patterns: each part
 * takes its value from the shortest instance of a pattern the clauses require of it (patterns with
 * the fewest wildcards first), else from its domain's shortest instance (for one value, each
 * pattern of the narrowest "one of these" clause in turn); the values are then checked on every
 * clause by matching. Sound because everything is checked (a policy naming the guessed text only
 * sends the question on to the search); undefined when no guess fits. Cold questions mostly end
 * here: matching is linear and builds no automaton state.
 */
function guessProduct(
  parts: readonly string[],
  domains: readonly Glob[],
  clauses: readonly ProductClause[],
): string[] | undefined {
  const required: ProductLit[] = [];
  for (const clause of clauses) {
    const lit = clause[0] as ProductLit;
    if (clause.length === 1 && !lit.neg && lit.globs.length === 1) required.push(lit);
  }
  const wildcards = (lit: ProductLit) =>
    (lit.globs[0] as Glob).tokens.reduce((n, t) => (t.kind === "lit" ? n : n + 1), 0);
  if (required.length > 1) required.sort((a, b) => wildcards(a) - wildcards(b));
  const chosen: (string | undefined)[] = parts.map(() => undefined);
  for (const lit of required)
    readTemplate(lit.template, shortestInstance(lit.globs[0] as Glob), parts, chosen);
  const guessed = checkedValues(parts, domains, clauses, chosen);
  if (guessed !== undefined || parts.length !== 1) return guessed;
  // One value and a clause "one of these patterns": each pattern's shortest instance in turn.
  let narrowest: ProductLit | undefined;
  for (const clause of clauses) {
    const lit = clause[0] as ProductLit;
    if (clause.length !== 1 || lit.neg || lit.globs.length < 2) continue;
    if (narrowest === undefined || lit.globs.length < narrowest.globs.length) narrowest = lit;
  }
  if (narrowest === undefined || narrowest.globs.length > GUESS_CANDIDATES) return undefined;
  for (const glob of narrowest.globs) {
    const one: (string | undefined)[] = [undefined];
    readTemplate(narrowest.template, shortestInstance(glob), parts, one);
    const values = checkedValues(parts, domains, clauses, one);
    if (values !== undefined) return values;
  }
  return undefined;
}

/** Patterns of a "one of these" clause whose instances a guess tries, at most. */
const GUESS_CANDIDATES = 64;

/**
 * The values chosen (a value its part's domain refuses, such as a wildcard account read as "",
 * gives way to the domain's own instance), when they satisfy every clause; else undefined.
 */
function checkedValues(
  parts: readonly string[],
  domains: readonly Glob[],
  clauses: readonly ProductClause[],
  chosen: readonly (string | undefined)[],
): string[] | undefined {
  const values = chosen.map((value, i) => {
    const domain = domains[i] as Glob;
    return value !== undefined && globMatches(domain, value) ? value : shortestInstance(domain);
  });
  for (const clause of clauses) if (!clause.some((lit) => litHolds(lit, parts, values))) return undefined;
  return values;
}

/** The lengths (in code points) of the texts a glob matches: [least, most], most Infinity with a `*`. */
function lengthsOf(glob: Glob): readonly [number, number] {
  let known = globLengths.get(glob);
  if (known === undefined) {
    let least = 0;
    let star = false;
    for (const token of glob.tokens) {
      if (token.kind === "star") star = true;
      else least++;
    }
    known = [least, star ? Number.POSITIVE_INFINITY : least];
    globLengths.set(glob, known);
  }
  return known;
}
const globLengths = new WeakMap<Glob, readonly [number, number]>();

/**
 * True when the literal cannot hold because of where colons fall. When no part's domain can hold a
 * `:` (an account, a name), every colon of the template's text is one of its literal colons, so
 * there are exactly that many. A case-sensitive glob with as many literal colons must match each
 * of them, in order, against the text's colons (none is left for a wildcard). So the literal
 * characters right after (and right before) the glob's i-th colon must be the template's own
 * characters around its i-th colon, as far as both are literal. A role pattern
 * (`arn:aws:iam::*:role/…`) against an IAM user's ARN (`…:user/{N}`) fails at `r` against `u`.
 */
function colonsMisaligned(lit: ProductLit, parts: readonly string[], domains: readonly Glob[]): boolean {
  if (lit.neg || lit.globs.length !== 1) return false;
  const glob = lit.globs[0] as Glob;
  if (glob.ignoreCase) return false;
  // The template as characters, a part standing for text that holds no colon.
  const text: (string | null)[] = [];
  for (const part of lit.template) {
    if (typeof part !== "string") {
      const domain = domains[parts.indexOf(part.sym)];
      if (
        domain === undefined ||
        domain.tokens.some((t) => (t.kind === "lit" ? t.ch === ":" : classAccepts(t.cls, ":")))
      )
        return false;
      text.push(null);
      continue;
    }
    for (const ch of part) text.push(ch);
  }
  const textColons = text.flatMap((ch, i) => (ch === ":" ? [i] : []));
  const tokens = glob.tokens;
  const globColons = tokens.flatMap((t, i) => (t.kind === "lit" && t.ch === ":" ? [i] : []));
  if (globColons.length !== textColons.length) return false;
  return globColons.some((at, n) => {
    const from = textColons[n] as number;
    // Literal glob characters after the colon against the template's, until either is not literal.
    for (let g = at + 1, t = from + 1; g < tokens.length && t < text.length; g++, t++) {
      const token = tokens[g] as (typeof tokens)[number];
      const ch = text[t];
      if (token.kind !== "lit" || ch === null || ch === undefined) break;
      if (token.ch !== ch) return true;
    }
    for (let g = at - 1, t = from - 1; g >= 0 && t >= 0; g--, t--) {
      const token = tokens[g] as (typeof tokens)[number];
      const ch = text[t];
      if (token.kind !== "lit" || ch === null || ch === undefined) break;
      if (token.ch !== ch) return true;
    }
    return false;
  });
}

/**
 * True when no value of the parts (each within its domain's lengths) makes the template's text as
 * long as any of the literal's case-sensitive globs needs: a positive literal that cannot hold,
 * seen without a search (a root ARN and a pattern longer than any root ARN).
 */
function tooLongOrShort(lit: ProductLit, parts: readonly string[], domains: readonly Glob[]): boolean {
  if (lit.neg || lit.globs.some((g) => g.ignoreCase)) return false;
  let least = 0;
  let most = 0;
  for (const part of lit.template) {
    if (typeof part === "string") {
      const length = [...part].length;
      least += length;
      most += length;
      continue;
    }
    const domain = domains[parts.indexOf(part.sym)];
    if (domain === undefined) return false;
    const [low, high] = lengthsOf(domain);
    least += low;
    most += high;
  }
  return lit.globs.every((glob) => {
    const [low, high] = lengthsOf(glob);
    return high < least || low > most;
  });
}

/**
 * Values for `parts` (in this order) such that every clause holds: a search of the
 * product of the clauses' automata (each a lazily built DFA, so a step is a look-up), over an
 * alphabet that stands for every character (see `alphabetOf`). Each template must use the parts in
 * this order, each at most once. A clause whose negated literal can no longer match holds for good
 * and is forgotten (so equal states merge); a clause none of whose literals can hold kills the state.
 */
function solveProduct(
  parts: readonly string[],
  domains: readonly Glob[],
  clauses: readonly ProductClause[],
  budget: Budget,
): Check {
  if (clauses.some((c) => c.length === 0) || contradicts(clauses)) return UNSAT;
  const impossible = (lit: ProductLit) =>
    tooLongOrShort(lit, parts, domains) || colonsMisaligned(lit, parts, domains);
  if (clauses.some((c) => c.every(impossible))) return UNSAT;
  if (clauses.length <= GUESS_CLAUSES) {
    budget.spend(1 + clauses.length);
    const guessed = guessProduct(parts, domains, clauses);
    if (guessed !== undefined) return { status: "sat", value: guessed };
  }
  const tracks: Track[] = [];
  const reading: number[][] = parts.map(() => []);
  const clauseTracks: number[][] = [];
  const globs = new Set<Glob>(domains);
  clauses.forEach((clause, ci) => {
    const ids: number[] = [];
    for (const lit of clause) {
      const after = parts.map(() => "");
      let prefix = "";
      let lastPhase = -1;
      const id = tracks.length;
      for (const part of lit.template) {
        if (typeof part === "string") {
          if (lastPhase === -1) prefix += part;
          else after[lastPhase] += part;
          continue;
        }
        const phase = parts.indexOf(part.sym);
        if (phase <= lastPhase) throw new Error(`template parts out of order: ${part.sym}`);
        reading[phase]?.push(id);
        lastPhase = phase;
      }
      for (const glob of lit.globs) globs.add(glob);
      tracks.push({ clause: ci, automaton: lit.automaton, neg: lit.neg, after, prefix });
      ids.push(id);
    }
    clauseTracks.push(ids);
  });
  const alphabet = alphabetOf(globs);
  const domainAutomata = domains.map((d) => automatonOf([d]));
  // Each automaton's number for each character of the alphabet, looked up once.
  const codes = domainAutomata.map((a) => alphabet.map((ch) => a.code(ch)));
  const trackCodes = tracks.map((t) => alphabet.map((ch) => t.automaton.code(ch)));
  const trackCost = 1 + (tracks.length >> 4);
  const tryAlso = characterRepresentatives(alphabet);
  const trackAutomata = tracks.map((t) => t.automaton);

  // Settles the clauses that hold for good; false when one can no longer hold. Only the clauses
  // of tracks that moved need a look (`touched`: every clause, or those of one phase's readers).
  const allClauses = clauseTracks.map((_, ci) => ci);
  const touchedBy = reading.map((ids) => [...new Set(ids.map((i) => (tracks[i] as Track).clause))]);
  const settle = (states: Int32Array, touched: readonly number[]): boolean => {
    for (const ci of touched) {
      const ids = clauseTracks[ci] as number[];
      if (states[ids[0] as number] === SETTLED) continue;
      let alive = false;
      let holds = false;
      for (const i of ids) {
        const s = states[i] as number;
        const t = tracks[i] as Track;
        // A literal is decided for good once its automaton can no longer match (dead) or will
        // match whatever follows (a trailing `*` reached).
        if (t.neg ? s === Automaton.DEAD : t.automaton.acceptsEverything(s)) {
          holds = true;
          break;
        }
        if (t.neg ? !t.automaton.acceptsEverything(s) : s !== Automaton.DEAD) alive = true;
      }
      if (holds) for (const i of ids) states[i] = SETTLED;
      else if (!alive) return false;
    }
    return true;
  };
  const finished = (states: Int32Array): boolean =>
    clauseTracks.every((ids) => {
      if (states[ids[0] as number] === SETTLED) return true;
      return ids.some((i) => {
        const t = tracks[i] as Track;
        return t.automaton.accepts(states[i] as number) !== t.neg;
      });
    });

  const nodeStates: Int32Array[] = [];
  const nodePhase: number[] = [];
  const nodeDomain: number[] = [];
  const nodeParent: number[] = [];
  const nodeVia: (string | null)[] = [];
  // Nodes are expanded closest to acceptance first (the fewest characters some pattern of every
  // clause still needs); every reachable state is still expanded once, so the search stays complete.
  const nodeRank: number[] = [];
  const queue: number[] = [];
  const before = (a: number, b: number) => {
    const d = (nodeRank[a] as number) - (nodeRank[b] as number);
    return d < 0 || (d === 0 && a < b);
  };
  const enqueue = (node: number) => {
    let i = queue.length;
    queue.push(node);
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (!before(node, queue[up] as number)) break;
      queue[i] = queue[up] as number;
      i = up;
    }
    queue[i] = node;
  };
  const dequeue = (): number => {
    const top = queue[0] as number;
    const last = queue.pop() as number;
    if (queue.length > 0) {
      let i = 0;
      while (true) {
        let child = 2 * i + 1;
        if (child >= queue.length) break;
        if (child + 1 < queue.length && before(queue[child + 1] as number, queue[child] as number)) child++;
        if (!before(queue[child] as number, last)) break;
        queue[i] = queue[child] as number;
        i = child;
      }
      queue[i] = last;
    }
    return top;
  };
  const rankOf = (states: Int32Array): number => {
    let rank = 0;
    for (const ids of clauseTracks) {
      if (states[ids[0] as number] === SETTLED) continue;
      let best = Number.POSITIVE_INFINITY;
      for (const i of ids) {
        const t = tracks[i] as Track;
        best = Math.min(best, t.neg ? 0 : t.automaton.distance(states[i] as number));
      }
      rank = Math.max(rank, best);
    }
    return rank;
  };
  // Nodes by the hash of their state: a state met again is not searched twice.
  const seen = new Map<number, number[]>();
  const push = (phase: number, states: Int32Array, domain: number, parent: number, via: string | null) => {
    const hash = hashOf(phase, domain, states);
    const same = seen.get(hash);
    if (same !== undefined)
      for (const n of same)
        if (
          nodePhase[n] === phase &&
          nodeDomain[n] === domain &&
          sameStates(nodeStates[n] as Int32Array, states)
        )
          return;
    budget.spend(trackCost);
    if (same === undefined) seen.set(hash, [nodeStates.length]);
    else same.push(nodeStates.length);
    nodeStates.push(states.slice());
    nodePhase.push(phase);
    nodeDomain.push(domain);
    nodeParent.push(parent);
    nodeVia.push(via);
    nodeRank.push(rankOf(states));
    enqueue(nodeStates.length - 1);
  };
  const first = Int32Array.from(tracks, (t) => feed(t.automaton, t.automaton.start, t.prefix));
  if (!settle(first, allClauses)) return UNSAT;
  push(0, first, parts.length > 0 ? (domainAutomata[0] as Automaton).start : 0, -1, null);

  // The states of the next node, built in place (a node keeps its own copy only if it is new).
  const next = new Int32Array(tracks.length);
  while (queue.length > 0) {
    const head = dequeue();
    const phase = nodePhase[head] as number;
    const states = nodeStates[head] as Int32Array;
    if (phase === parts.length) {
      if (finished(states)) return { status: "sat", value: rebuild(head) };
      continue;
    }
    const domain = domainAutomata[phase] as Automaton;
    const domainState = nodeDomain[head] as number;
    const readers = reading[phase] as number[];
    // End the current part.
    if (domain.accepts(domainState)) {
      next.set(states);
      for (const i of readers) {
        const s = next[i] as number;
        const t = tracks[i] as Track;
        if (s > 0) next[i] = feed(t.automaton, s, t.after[phase] as string);
      }
      if (settle(next, touchedBy[phase] as number[])) {
        const nextPhase = phase + 1;
        const start = nextPhase < parts.length ? (domainAutomata[nextPhase] as Automaton).start : 0;
        push(nextPhase, next, start, head, null);
      }
    }
    // Or read one more character of it: a step per character tried (a look-up per track once the
    // automata know the transition), whatever earlier questions built.
    const domainCodes = codes[phase] as number[];
    const characters = tryAlso(domain.mentionsOf(domainState), trackAutomata, states, readers);
    for (const j of characters) {
      budget.spend(trackCost);
      const nextDomain = domain.stepCode(domainState, domainCodes[j] as number);
      if (nextDomain === Automaton.DEAD) continue;
      next.set(states);
      for (const i of readers) {
        const s = next[i] as number;
        if (s > 0)
          next[i] = (tracks[i] as Track).automaton.stepCode(s, (trackCodes[i] as number[])[j] as number);
      }
      if (!settle(next, touchedBy[phase] as number[])) continue;
      push(phase, next, nextDomain, head, alphabet[j] as string);
    }
  }
  return UNSAT;

  function rebuild(end: number): string[] {
    const values = Array.from({ length: parts.length }, () => "");
    let i = end;
    while (i > 0) {
      const parent = nodeParent[i] as number;
      const via = nodeVia[i] as string | null;
      if (via !== null) {
        const phase = nodePhase[parent] as number;
        values[phase] = via + values[phase];
      }
      i = parent;
    }
    return values;
  }
}

/**
 * For a search over `alphabet`: the characters to try from a state of the product, given what its
 * automata's states compare with (indices into the alphabet, in its order). A character no state
 * mentions acts as every other unmentioned character of its class (a digit, `:`, anything else):
 * the mentioned ones and one unmentioned character of each class stand for the whole alphabet.
 */
function characterRepresentatives(alphabet: readonly string[]) {
  const byChar = new Map<string, number[]>();
  const byLower = new Map<string, number[]>();
  const index = (map: Map<string, number[]>, key: string, j: number) => {
    const list = map.get(key);
    if (list) list.push(j);
    else map.set(key, [j]);
  };
  alphabet.forEach((ch, j) => {
    index(byChar, ch, j);
    index(byLower, ch.toLowerCase(), j);
  });
  // The alphabet by class: anything else, `:`, digits.
  const classes: number[][] = [[], [], []];
  alphabet.forEach((ch, j) => {
    classes[ch === ":" ? 1 : classAccepts(CharClass.Digit, ch) ? 2 : 0]?.push(j);
  });
  const marks = new Uint32Array(alphabet.length);
  let generation = 0;
  const chosen: number[] = [];
  const mark = (list: readonly number[] | undefined) => {
    if (list === undefined) return;
    for (const j of list) {
      if (marks[j] === generation) continue;
      marks[j] = generation;
      chosen.push(j);
    }
  };
  const markAll = (mentions: Mentions) => {
    for (const ch of mentions.exact) mark(byChar.get(ch));
    for (const ch of mentions.folded) mark(byLower.get(ch));
  };
  /** The characters to try (indices, in the alphabet's order; the list is reused by the next call). */
  return (domain: Mentions, tracks: readonly Automaton[], states: Int32Array, readers: readonly number[]) => {
    generation++;
    chosen.length = 0;
    markAll(domain);
    for (const i of readers) {
      const state = states[i] as number;
      if (state > 0) markAll((tracks[i] as Automaton).mentionsOf(state));
    }
    for (const list of classes)
      for (const j of list)
        if (marks[j] !== generation) {
          marks[j] = generation;
          chosen.push(j);
          break;
        }
    return chosen.sort((a, b) => a - b);
  };
}

const templateKeys = new WeakMap<Template, string>();

function templateKeyOf(template: Template): string {
  let key = templateKeys.get(template);
  if (key === undefined) {
    key = template.map((p) => (typeof p === "string" ? JSON.stringify(p) : `{${p.sym}}`)).join("");
    templateKeys.set(template, key);
  }
  return key;
}

/**
 * Values for `parts` (in this order) such that every constraint holds. A matched constraint is one
 * positive literal per glob; the constraints "not matched" on one glob and one template are one
 * negated literal on the union of their globs (a text none of them matches), so many patterns
 * excluded from one part make one automaton, not a product of many.
 */
function solveTemplates(
  parts: readonly string[],
  domains: readonly Glob[],
  constraints: readonly TemplateConstraint[],
  budget: Budget,
): Check {
  const clauses: ProductLit[][] = [];
  const excluded = new Map<string, { template: Template; globs: Glob[] }>();
  for (const c of constraints) {
    if (!c.neg) {
      for (const glob of c.globs) clauses.push([new ProductLit(c.template, [glob], false)]);
    } else if (c.globs.length === 1) {
      const key = templateKeyOf(c.template);
      const group = excluded.get(key) ?? { template: c.template, globs: [] };
      group.globs.push(c.globs[0] as Glob);
      excluded.set(key, group);
    } else {
      clauses.push(c.globs.map((glob) => new ProductLit(c.template, [glob], true)));
    }
  }
  for (const { template, globs } of excluded.values())
    for (const part of unionParts(globs)) clauses.push([new ProductLit(template, part, true)]);
  return solveProduct(parts, domains, clauses, budget);
}

// ---------------------------------------------------------------------------------------------
// One value of a context key: string patterns, numbers, dates, addresses.

const ANY_VALUE: Glob = compileGlob("*", "like");
const VALUE_TEMPLATE = [{ sym: "X" }] as unknown as Template;

type GlobAtom = Extract<ElemAtom, { t: "glob" }>;
type TypedAtom = Extract<ElemAtom, { t: "typed" }>;

const exactTexts = new WeakMap<Glob, string | null>();

/** The one text a case-sensitive glob without wildcards matches; undefined for any other glob. */
function exactText(glob: Glob): string | undefined {
  let text = exactTexts.get(glob);
  if (text === undefined) {
    text =
      !glob.ignoreCase && glob.tokens.every((t) => t.kind === "lit")
        ? glob.tokens.map((t) => (t as { ch: string }).ch).join("")
        : null;
    exactTexts.set(glob, text);
  }
  return text ?? undefined;
}

/**
 * Globs to unite in one automaton, fixed texts apart from patterns: a set of fixed texts is a trie
 * whose states are small, while uniting them with a pattern would copy the pattern's positions into
 * every state of the trie.
 */
function unionParts(globs: readonly Glob[]): Glob[][] {
  const fixed = globs.filter((g) => exactText(g) !== undefined);
  const patterns = globs.filter((g) => exactText(g) === undefined);
  return [fixed, patterns].filter((part) => part.length > 0);
}

const positiveLit = (globs: readonly Glob[]): ProductLit => new ProductLit(VALUE_TEMPLATE, globs, false);
const negatedLit = (globs: readonly Glob[]): ProductLit => new ProductLit(VALUE_TEMPLATE, globs, true);

/**
 * A clause of pattern atoms ("one of them holds") as clauses of the product, or undefined when it
 * must be branched on. Atoms matched: `(S ∧ g1) ∨ (S ∧ g2) ∨ R` is `(S ∨ R) ∧ ((g1 ∨ g2) ∨ R)`, so
 * the globs every one of them has (the ARN shape) factor out and the rest, one glob each, is one
 * union automaton. Atoms not matched (`R`): each is "one of its globs does not match".
 */
function clauseToProduct(clause: readonly GlobAtom[]): ProductClause[] | undefined {
  const positives = clause.filter((a) => !a.neg);
  const rest: ProductLit[] = [];
  for (const atom of clause) if (atom.neg) for (const glob of atom.globs) rest.push(negatedLit([glob]));
  if (positives.length === 0) return [rest];
  // An atom matched with no glob at all holds: so does the clause.
  if (positives.some((a) => a.globs.length === 0)) return [];
  const common = (positives[0] as GlobAtom).globs.filter((g) => positives.every((a) => a.globs.includes(g)));
  const own = positives.map((a) => a.globs.filter((g) => !common.includes(g)));
  const out: ProductClause[] = common.map((g) => [positiveLit([g]), ...rest]);
  // One atom is the common globs alone: the matched part is just those.
  if (own.some((globs) => globs.length === 0)) return out;
  if (own.some((globs) => globs.length !== 1)) return undefined;
  const union = unionParts([...new Set(own.map((globs) => globs[0] as Glob))]);
  out.push([...union.map(positiveLit), ...rest]);
  return out;
}

/** True when the text satisfies the product clause. */
function clauseHolds(clause: ProductClause, text: string): boolean {
  return clause.some((lit) => lit.holds(text));
}

/**
 * A value satisfying a CNF of pattern atoms. Fixed values take a direct path: when some clause is
 * "the value is one of these texts" (a matched value without wildcards, or a list of them), the
 * value is one of those texts, each checked on the other clauses' automata. Otherwise the clauses
 * become the product's (patterns excluded on one key: one union automaton) and the product is
 * searched; a clause that does not fit the product is branched on. Without `direct` (the general
 * path, for tests), every atom is its own literal and every clause is branched on.
 */
function solveStrings(
  units: readonly GlobAtom[],
  clauses: readonly (readonly GlobAtom[])[],
  budget: Budget,
  direct = true,
): Check {
  const product: ProductClause[] = [];
  const branch: (readonly GlobAtom[])[] = [];
  const excluded: Glob[] = [];
  for (const atom of units) {
    if (!atom.neg) for (const glob of atom.globs) product.push([positiveLit([glob])]);
    else if (atom.globs.length === 1 && direct) excluded.push(atom.globs[0] as Glob);
    else product.push(atom.globs.map((glob) => negatedLit([glob])));
  }
  for (const part of unionParts([...new Set(excluded)])) product.push([negatedLit(part)]);
  for (const clause of clauses) {
    const converted = direct ? clauseToProduct(clause) : undefined;
    if (converted) product.push(...converted);
    else branch.push(clause);
  }
  return solveValueProduct(product, branch, budget, direct);
}

function solveValueProduct(
  product: readonly ProductClause[],
  branch: readonly (readonly GlobAtom[])[],
  budget: Budget,
  direct: boolean,
): Check {
  if (branch.length > 0) {
    // Branch on the smallest clause that does not fit the product: one of its atoms holds.
    let pick = 0;
    for (let i = 1; i < branch.length; i++)
      if ((branch[i] as GlobAtom[]).length < (branch[pick] as GlobAtom[]).length) pick = i;
    const rest = branch.filter((_, i) => i !== pick);
    for (const atom of branch[pick] as GlobAtom[]) {
      budget.spend();
      const chosen: ProductClause[] = atom.neg
        ? [atom.globs.map((glob) => negatedLit([glob]))]
        : atom.globs.map((glob) => [positiveLit([glob])]);
      const result = solveValueProduct([...product, ...chosen], rest, budget, direct);
      if (result.status === "sat") return result;
    }
    return UNSAT;
  }
  // The fewest fixed values some clause allows, if any clause allows only fixed values.
  let fixed: ReadonlySet<string> | undefined;
  for (const clause of direct ? product : []) {
    const lit = clause[0] as ProductLit;
    if (clause.length !== 1 || lit.neg) continue;
    const texts = lit.fixedTexts;
    if (texts !== undefined && (fixed === undefined || texts.size < fixed.size)) fixed = texts;
  }
  if (fixed !== undefined) {
    const cost = 1 + (product.length >> 4);
    for (const text of fixed) {
      budget.spend(cost + ((text.length * product.length) >> 8));
      if (product.every((clause) => clauseHolds(clause, text))) return { status: "sat", value: text };
    }
    return UNSAT;
  }
  const result = solveProduct(["X"], [ANY_VALUE], product, budget);
  if (result.status !== "sat") return result;
  return { status: "sat", value: (result.value as string[])[0] as string };
}

function stringsFor(atoms: readonly GlobAtom[], budget: Budget, direct = true): Check {
  return solveStrings(atoms, [], budget, direct);
}

function numberCandidates(values: readonly number[]): string[] {
  const sorted = [...new Set(values.filter(Number.isFinite))].sort((a, b) => a - b);
  const out: number[] = [];
  if (sorted.length === 0) return ["0"];
  out.push((sorted[0] as number) - 1);
  for (let i = 0; i < sorted.length; i++) {
    const v = sorted[i] as number;
    out.push(v);
    const next = sorted[i + 1];
    if (next !== undefined) {
      const mid = v + (next - v) / 2;
      if (mid > v && mid < next) out.push(mid);
    }
  }
  out.push((sorted[sorted.length - 1] as number) + 1);
  return out.map(String);
}

function dateText(ms: number): string {
  if (Number.isInteger(ms) && Math.abs(ms) <= 8.64e15) return new Date(ms).toISOString();
  return String(ms / 1000);
}

function dateCandidates(values: readonly number[]): string[] {
  const sorted = [...new Set(values.filter(Number.isFinite))].sort((a, b) => a - b);
  if (sorted.length === 0) return [new Date(0).toISOString()];
  const out: number[] = [(sorted[0] as number) - 1000];
  for (let i = 0; i < sorted.length; i++) {
    const v = sorted[i] as number;
    out.push(v);
    const next = sorted[i + 1];
    if (next !== undefined) {
      let mid = Math.floor(v + (next - v) / 2);
      if (!(mid > v && mid < next)) mid = v + (next - v) / 2;
      if (mid > v && mid < next) out.push(mid);
    }
  }
  out.push((sorted[sorted.length - 1] as number) + 1000);
  return out.map(dateText);
}

function addressText(version: 4 | 6, value: bigint): string {
  const length = version === 4 ? 4 : 16;
  const bytes = new Uint8Array(length);
  let v = value;
  for (let i = length - 1; i >= 0; i--) {
    bytes[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return formatCidr({ version, bytes, prefix: length * 8 }).replace(/\/\d+$/, "");
}

function addressCandidates(values: readonly string[]): string[] {
  const out = new Set<string>(["203.0.113.10", "2001:db8::10"]);
  const ranges: Cidr[] = [];
  for (const v of values) {
    try {
      ranges.push(parseCidr(v));
    } catch {
      // not an address: matches nothing
    }
  }
  for (const version of [4, 6] as const) {
    const bits = version === 4 ? 32 : 128;
    const max = (1n << BigInt(bits)) - 1n;
    out.add(addressText(version, 0n));
    out.add(addressText(version, max));
    for (const range of ranges) {
      if (range.version !== version) continue;
      const first = range.bytes.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
      const last = first + (1n << BigInt(bits - range.prefix)) - 1n;
      out.add(addressText(version, first));
      out.add(addressText(version, last));
      if (first > 0n) out.add(addressText(version, first - 1n));
      if (last < max) out.add(addressText(version, last + 1n));
    }
  }
  return [...out];
}

/** A string that is no number, date or address, nor any pattern's literal. */
const JUNK = "x-unparsed";

/** One value satisfying a conjunction of element atoms. */
function solveElement(atoms: readonly ElemAtom[], budget: Budget, direct = true): Check {
  const globs: GlobAtom[] = [];
  const typed: TypedAtom[] = [];
  for (const atom of atoms) {
    if (atom.t === "const") {
      if (!atom.value) return UNSAT;
    } else if (atom.t === "glob") globs.push(atom);
    else if (atom.t === "typed") typed.push(atom);
  }
  if (typed.length === 0) return stringsFor(globs, budget, direct);
  const sorts = new Set(typed.map((a) => a.sort));
  const positive = new Set(typed.filter((a) => !a.neg).map((a) => a.sort));
  const candidates: string[] = [];
  for (const sort of positive.size > 0 ? positive : sorts)
    candidates.push(
      ...candidatesOf(
        sort,
        typed.filter((a) => a.sort === sort),
      ),
    );
  if (positive.size === 0) {
    const text = stringsFor(globs, budget, direct);
    if (text.status === "unsat") return UNSAT;
    if (text.status === "sat") candidates.push(text.value as string);
    candidates.push(JUNK);
  }
  for (const candidate of candidates) {
    budget.spend();
    if (atoms.every((a) => atomHolds(a, candidate))) return { status: "sat", value: candidate };
  }
  // The candidates cover every interval of one sort; a mix of sorts (or patterns) may hide a value.
  return globs.length === 0 && sorts.size === 1 ? UNSAT : UNKNOWN_CHECK;
}

function candidatesOf(sort: TypedAtom["sort"], atoms: readonly TypedAtom[]): string[] {
  if (sort === "num") return numberCandidates(atoms.map((a) => Number(a.value)));
  if (sort === "date") return dateCandidates(atoms.map((a) => parseDate(a.value)));
  return addressCandidates(atoms.map((a) => a.value));
}

/**
 * A value satisfying a CNF of element atoms (each clause: one of its atoms). Patterns alone are
 * decided together (`solveStrings`), numbers, dates or addresses alone by one sweep over their
 * candidates (`solveTyped`); a mix is branched on, clause by clause.
 */
function solveCnf(
  units: readonly ElemAtom[],
  clauses: readonly (readonly ElemAtom[])[],
  budget: Budget,
): Check {
  // Constants first: a false unit fails, a true atom satisfies its clause, a false one drops out.
  const live: ElemAtom[] = [];
  for (const atom of units) {
    if (atom.t === "const" && !atom.value) return UNSAT;
    if (atom.t === "glob" || atom.t === "typed") live.push(atom);
  }
  const liveClauses: ElemAtom[][] = [];
  for (const clause of clauses) {
    if (clause.some((a) => a.t === "unknown" || (a.t === "const" && a.value))) continue;
    const rest = clause.filter((a) => a.t !== "const");
    if (rest.length === 0) return UNSAT;
    liveClauses.push(rest);
  }
  const atoms = [...live, ...liveClauses.flat()];
  if (atoms.every((a) => a.t === "glob"))
    return solveStrings(live as GlobAtom[], liveClauses as GlobAtom[][], budget);
  const sorts = new Set(atoms.map((a) => (a.t === "typed" ? a.sort : a.t)));
  if (sorts.size === 1 && atoms[0]?.t === "typed") {
    const typed = solveTyped(live as TypedAtom[], liveClauses as TypedAtom[][], budget);
    if (typed !== undefined) return typed;
  }
  return solveCnfByBranching(live, liveClauses, budget);
}

/** The general path: one atom per clause, each partial choice checked as it is made. */
function solveCnfByBranching(
  units: readonly ElemAtom[],
  clauses: readonly (readonly ElemAtom[])[],
  budget: Budget,
  direct = true,
): Check {
  let unknown = false;
  const chosen: ElemAtom[] = [...units];
  const go = (i: number): Check => {
    budget.spend();
    if (i === clauses.length) return solveElement(chosen, budget, direct);
    const clause = clauses[i] as readonly ElemAtom[];
    for (const atom of clause) {
      chosen.push(atom);
      // Prune early: the atoms chosen so far must agree.
      const partial = solveElement(chosen, budget, direct);
      if (partial.status !== "unsat") {
        const result = go(i + 1);
        if (result.status === "sat") return result;
        if (result.status === "unknown") unknown = true;
      }
      chosen.pop();
    }
    return UNSAT;
  };
  const result = go(0);
  if (result.status === "sat") return result;
  return unknown ? UNKNOWN_CHECK : UNSAT;
}

export type ValueCheck = Check;

/**
 * One value of a key satisfying a CNF of element atoms (`units` all hold; each clause, one of its
 * atoms): by the solver's own paths, or by the general path alone (one atom of each clause at a
 * time, every atom its own automaton, numbers, dates and addresses by their candidates), so tests
 * can hold the two to the same answers.
 */
export function solveValue(
  units: readonly ElemAtom[],
  clauses: readonly (readonly ElemAtom[])[],
  path: "direct" | "general" = "direct",
  steps = DEFAULT_BUDGET,
): ValueCheck {
  const budget = new Budget(steps);
  return path === "direct"
    ? solveCnf(units, clauses, budget)
    : solveCnfByBranching(units, clauses, budget, false);
}

/** The candidates of a sort, sorted by their place on its line, and the text of each. */
interface Line {
  readonly keys: readonly (number | bigint)[];
  text(index: number): string;
}

/** Numbers and dates: the general path's candidates, placed where the evaluator reads them. */
function valueLine(sort: "num" | "date", atoms: readonly TypedAtom[]): Line {
  const line: { text: string; key: number }[] = [];
  for (const text of candidatesOf(sort, atoms)) {
    const key = sort === "num" ? Number(text) : parseDate(text);
    if (!Number.isNaN(key)) line.push({ text, key });
  }
  line.sort((a, b) => a.key - b.key);
  return { keys: line.map((c) => c.key), text: (i) => (line[i] as { text: string }).text };
}

/**
 * Addresses: the general path's candidates (`addressCandidates`: each range's first and last
 * address and their neighbours, each version's ends, two fixed ones), as numbers on one line with
 * IPv6 after every IPv4, written out only for the address chosen.
 */
function addressLine(atoms: readonly TypedAtom[]): Line {
  const keys = new Set<bigint>();
  for (const text of ["203.0.113.10", "2001:db8::10"]) {
    const fixed = parseIp(text) as NonNullable<ReturnType<typeof parseIp>>;
    keys.add(addressKey(fixed.version, fixed.bytes));
  }
  const size = { 4: 32n, 6: 128n } as const;
  for (const version of [4, 6] as const) {
    const offset = version === 4 ? 0n : IPV6_OFFSET;
    keys.add(offset);
    keys.add(offset + (1n << size[version]) - 1n);
  }
  for (const atom of atoms) {
    const range = parseIp(atom.value);
    if (range === undefined) continue;
    const offset = range.version === 4 ? 0n : IPV6_OFFSET;
    const first = addressKey(range.version, range.bytes);
    const last = first + (1n << (size[range.version] - BigInt(range.prefix))) - 1n;
    keys.add(first);
    keys.add(last);
    if (first > offset) keys.add(first - 1n);
    if (last < offset + (1n << size[range.version]) - 1n) keys.add(last + 1n);
  }
  const sorted = [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    keys: sorted,
    text: (i) => {
      const key = sorted[i] as bigint;
      return key >= IPV6_OFFSET ? addressText(6, key - IPV6_OFFSET) : addressText(4, key);
    },
  };
}

const IPV6_OFFSET = 1n << 129n;

function addressKey(version: 4 | 6, bytes: Uint8Array): bigint {
  const value = bytes.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
  return version === 4 ? value : IPV6_OFFSET + value;
}

/**
 * Where an atom's operator (its positive form) holds on the sorted candidates: the indices
 * [lo, hi). Each operator holds on one interval of its line: a point (Equals), a half-line (LessThan
 * and the others), a range (IpAddress), as `valueMatches` compares.
 */
function holdsOn(atom: TypedAtom, keys: readonly (number | bigint)[]): [number, number] {
  const n = keys.length;
  const lower = (p: number | bigint) => firstIndex(keys, (k) => k >= p);
  const upper = (p: number | bigint) => firstIndex(keys, (k) => k > p);
  if (atom.sort === "ip") {
    const range = parseIp(atom.value) as NonNullable<ReturnType<typeof parseIp>>;
    const first = addressKey(range.version, range.bytes);
    const last = first + (1n << BigInt(range.bytes.length * 8 - range.prefix)) - 1n;
    return [lower(first), upper(last)];
  }
  const p = atom.sort === "num" ? Number(atom.value) : parseDate(atom.value);
  const base = atom.base;
  if (base.endsWith("LessThan")) return [0, lower(p)];
  if (base.endsWith("LessThanEquals")) return [0, upper(p)];
  if (base.endsWith("GreaterThan")) return [upper(p), n];
  if (base.endsWith("GreaterThanEquals")) return [lower(p), n];
  return [lower(p), upper(p)];
}

function firstIndex<T>(sorted: readonly T[], test: (value: T) => boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (test(sorted[mid] as T)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * A CNF of numbers, dates or addresses of one sort: the values the atoms mention cut the line into
 * intervals, one candidate per interval and boundary (the general path's candidates), and each atom
 * holds on one run of the sorted candidates, so one sweep marks, for every candidate at once, which
 * clauses it satisfies: candidates plus atoms, not candidates times atoms. A string that is no value
 * of the sort (`JUNK`) satisfies exactly the negated atoms. The value found is checked on every atom
 * by the evaluator's own comparison; undefined (the general path decides) if that ever disagrees.
 */
function solveTyped(
  units: readonly TypedAtom[],
  clauses: readonly (readonly TypedAtom[])[],
  budget: Budget,
): Check | undefined {
  const atoms = [...units, ...clauses.flat()];
  const sort = (atoms[0] as TypedAtom).sort;
  const line = sort === "ip" ? addressLine(atoms) : valueLine(sort, atoms);
  const keys = line.keys;
  const n = keys.length;
  budget.spend(1 + atoms.length + ((n * (1 + clauses.length)) >> 6));
  // failing[i] > 0: candidate i fails some clause (a unit is a clause of one atom).
  const failing = new Int32Array(n + 1);
  const mark = (counts: Int32Array, lo: number, hi: number) => {
    if (lo >= hi) return;
    counts[lo] = (counts[lo] as number) + 1;
    counts[hi] = (counts[hi] as number) - 1;
  };
  const fails = (atom: TypedAtom, counts: Int32Array) => {
    const [lo, hi] = holdsOn(atom, keys);
    if (atom.neg) mark(counts, lo, hi);
    else {
      mark(counts, 0, lo);
      mark(counts, hi, n);
    }
  };
  for (const atom of units) fails(atom, failing);
  const satisfied = new Int32Array(n + 1);
  for (const clause of clauses) {
    satisfied.fill(0);
    for (const atom of clause) {
      const [lo, hi] = holdsOn(atom, keys);
      if (atom.neg) {
        mark(satisfied, 0, lo);
        mark(satisfied, hi, n);
      } else mark(satisfied, lo, hi);
    }
    let count = 0;
    for (let i = 0; i < n; i++) {
      count += satisfied[i] as number;
      if (count === 0) mark(failing, i, i + 1);
    }
  }
  let value: string | undefined;
  let running = 0;
  for (let i = 0; i < n && value === undefined; i++) {
    running += failing[i] as number;
    if (running === 0) value = line.text(i);
  }
  // Not a value of the sort: every negated atom holds, no other does.
  if (value === undefined && units.every((a) => a.neg) && clauses.every((c) => c.some((a) => a.neg)))
    value = JUNK;
  if (value === undefined) return UNSAT;
  const confirmed =
    units.every((a) => atomHolds(a, value)) && clauses.every((c) => c.some((a) => atomHolds(a, value)));
  return confirmed ? { status: "sat", value } : undefined;
}

// ---------------------------------------------------------------------------------------------
// Context keys: absent, one value, or a set of values.

/** Keys IAM includes in every request (IAM User Guide, global condition keys: "always included"). */
const ALWAYS_PRESENT = new Set(["aws:securetransport", "aws:currenttime", "aws:epochtime"]);

/** Keys every request carries (a request built without one is not a request AWS makes). */
export function alwaysPresentKey(key: string): boolean {
  return ALWAYS_PRESENT.has(key);
}

const BOOLEAN_KEYS = new Set([
  "aws:securetransport",
  "elasticfilesystem:accessedviamounttarget",
  "aws:multifactorauthpresent",
  "aws:viaawsservice",
  "aws:principalisawsservice",
]);
const ADDRESS_KEYS = new Set(["aws:sourceip", "aws:vpcsourceip"]);
/** Keys AWS documents as multivalued; any key used with `ForAnyValue:`/`ForAllValues:` is too. */
const MULTIVALUED_KEYS = new Set([
  "aws:tagkeys",
  "aws:calledvia",
  "aws:principalorgpaths",
  "aws:principalservicenameslist",
  "aws:sourceorgpaths",
]);

const domainLitsByKey = new Map<string, readonly KeyLit[]>();

/** What a key's own type allows (booleans, addresses, times), as literals every value must satisfy. */
function domainLits(key: string): readonly KeyLit[] {
  let lits = domainLitsByKey.get(key);
  if (lits === undefined) {
    lits = typeDomainLits(key);
    if (domainLitsByKey.size >= 10_000) domainLitsByKey.clear();
    domainLitsByKey.set(key, lits);
  }
  return lits;
}

function typeDomainLits(key: string): KeyLit[] {
  const lit = (atoms: ElemAtom[]): KeyLit => ({
    lit: "key",
    key,
    absent: true,
    q: "all",
    and: false,
    atoms,
    id: -1,
  });
  if (BOOLEAN_KEYS.has(key))
    return [
      lit(
        ["true", "false"].map((value) => ({
          t: "glob" as const,
          globs: [compileGlob(value, "equals")],
          neg: false,
          base: "StringEquals" as const,
          value,
        })),
      ),
    ];
  if (ADDRESS_KEYS.has(key))
    return [
      lit(
        ["0.0.0.0/0", "::/0"].map((value) => ({
          t: "typed" as const,
          sort: "ip" as const,
          base: "IpAddress" as const,
          value,
          neg: false,
        })),
      ),
    ];
  // Organizations ids: `o-` and 10 to 32 characters; a path starts with the org id and its root
  // (`r-` and 4 to 32 characters) and ends with `/` (AWS Organizations API, Organization.Id,
  // Root.Id; IAM User Guide, aws:PrincipalOrgPaths). Any characters: a sound superset of `[a-z0-9]`.
  const like = (value: string, neg = false): ElemAtom => {
    const globs = [compileGlob(value, "like")];
    return { t: "glob", globs, neg, base: "StringLike", value };
  };
  if (key === "aws:principalorgid")
    return [lit([like(`o-${"?".repeat(10)}*`)]), lit([like(`o-${"?".repeat(33)}*`, true)])];
  if (key === "aws:principalorgpaths") return [lit([like(`o-${"?".repeat(10)}*/r-????*/`)])];
  if (key === "aws:epochtime")
    return [lit([{ t: "typed", sort: "num", base: "NumericGreaterThanEquals", value: "0", neg: false }])];
  if (key === "aws:currenttime")
    return [
      lit([
        {
          t: "typed",
          sort: "date",
          base: "DateGreaterThanEquals",
          value: "1970-01-01T00:00:00Z",
          neg: false,
        },
      ]),
    ];
  return [];
}

function formulaOf(lit: KeyLit): { units: ElemAtom[]; clause: ElemAtom[] | undefined; trivial: boolean } {
  const atoms = lit.atoms.filter((a) => a.t !== "unknown");
  const hasUnknown = atoms.length !== lit.atoms.length;
  if (lit.and) return { units: atoms, clause: undefined, trivial: false };
  // An OR with an unknown atom is true; an OR with one atom is a unit.
  if (hasUnknown) return { units: [], clause: undefined, trivial: true };
  if (atoms.length === 1) return { units: atoms, clause: undefined, trivial: false };
  return { units: [], clause: atoms, trivial: false };
}

function solveKey(key: string, lits: readonly KeyLit[], multivalued: boolean, budget: Budget): Check {
  const all = [...lits, ...domainLits(key)];
  if (!ALWAYS_PRESENT.has(key) && all.every((l) => l.absent)) return { status: "sat", value: undefined };
  // Present: the "all" constraints hold on every element; each "some" constraint needs an element.
  const every = all.filter((l) => l.q === "all" || !multivalued);
  const some = multivalued ? all.filter((l) => l.q === "some") : [];
  const units: ElemAtom[] = [];
  const clauses: ElemAtom[][] = [];
  for (const lit of every) {
    const f = formulaOf(lit);
    if (f.trivial) continue;
    units.push(...f.units);
    if (f.clause) {
      if (f.clause.length === 0) return UNSAT;
      clauses.push(f.clause);
    }
  }
  // An OR of no atoms (a present key where the clause wants it absent): unsatisfiable.
  for (const lit of every) if (!lit.and && lit.atoms.length === 0) return UNSAT;
  if (!multivalued || some.length === 0) {
    const one = solveCnf(units, clauses, budget);
    if (one.status !== "sat") return one;
    return { status: "sat", value: multivalued ? [one.value] : one.value };
  }
  const values: string[] = [];
  for (const lit of some) {
    if (!lit.and && lit.atoms.length === 0) return UNSAT;
    const f = formulaOf(lit);
    const element = solveCnf([...units, ...f.units], f.clause ? [...clauses, f.clause] : clauses, budget);
    if (element.status !== "sat") return element;
    if (!values.includes(element.value as string)) values.push(element.value as string);
  }
  return { status: "sat", value: values };
}

// ---------------------------------------------------------------------------------------------
// The search over a formula.

const PRINCIPAL_PARTS: Record<PrincipalKind, readonly Sym[]> = {
  anonymous: [],
  root: ["A"],
  user: ["A", "N", "U"],
  session: ["A", "N", "U", "S"],
  federated: ["A", "N"],
  service: ["SVC"],
};

/** Store names of context keys (`k:` and the key), interned: one string per key, no concatenation per look-up. */
const KEY_STORE_LIMIT = 10_000;
const keyStoreNames = new Map<string, string>();

function keyStoreName(key: string): string {
  let name = keyStoreNames.get(key);
  if (name === undefined) {
    name = `k:${key}`;
    if (keyStoreNames.size >= KEY_STORE_LIMIT) keyStoreNames.clear();
    keyStoreNames.set(key, name);
  }
  return name;
}

/**
 * Results of per-variable checks, shared by every question: a check depends only on its literals
 * (globs are compiled once and shared), so a repeated one is a look-up. Each keeps the steps it
 * cost, and a look-up spends them again: a question's budget does not depend on what was asked
 * before it (a look-up saves time, never steps). Bounded.
 */
const CHECK_MEMO_LIMIT = 20_000;
const checkMemo = new Map<string, { readonly result: Check; readonly steps: number; generation: number }>();

/**
 * Which judgement (or question asked on its own) is running. A check remembered by the same one is
 * free, as it would be had nothing been asked before; one remembered from an earlier one spends its
 * steps once for this one.
 */
let generation = 0;

function templateKey(template: Template): string {
  return template.map((p) => (typeof p === "string" ? JSON.stringify(p) : `{${p.sym}}`)).join("");
}

function atomKey(atom: ElemAtom): string {
  switch (atom.t) {
    case "glob":
      return `g${atom.globs.map(globId).join(".")}${atom.neg ? "-" : "+"}`;
    case "typed":
      return `t${atom.base}${JSON.stringify(atom.value)}${atom.neg ? "-" : "+"}`;
    case "const":
      return atom.value ? "T" : "F";
    case "unknown":
      return "?";
  }
}

/**
 * Literals are numbered by content (two literals with the same key share a number), so a store of
 * literals is keyed by a few numbers. A literal keeps its number in its `id`; numbers are never
 * reused, so forgetting the table only costs new numbers.
 */
const LIT_ID_LIMIT = 50_000;
const litIds = new Map<string, number>();
let nextLitId = 1;

function litId(lit: KeyLit | TmplLit): number {
  if (lit.id > 0) return lit.id;
  const key = computeLitKey(lit);
  let id = litIds.get(key);
  if (id === undefined) {
    id = nextLitId++;
    if (litIds.size >= LIT_ID_LIMIT) litIds.clear();
    litIds.set(key, id);
  }
  lit.id = id;
  return id;
}

function computeLitKey(lit: KeyLit | TmplLit): string {
  if (lit.lit === "tmpl")
    return `${templateKey(lit.template)}/${lit.globs.map(globId).join(".")}${lit.neg ? "-" : "+"}`;
  return `${lit.absent ? 1 : 0}${lit.q}${lit.and ? "&" : "|"}${lit.atoms.map(atomKey).join(",")}`;
}

class Search {
  /** The literals chosen so far, per variable: `principal`, `action`, `resource`, or `k:` and a context key. */
  private readonly stores = new Map<string, (KeyLit | TmplLit)[]>([
    ["principal", []],
    ["action", []],
    ["resource", []],
  ]);
  /** What besides its literals a store's check depends on, per store (see `memoKeyOf`). */
  private readonly scopes = new Map<string, string>();
  /** Truth values chosen for opaque literals (conditions with policy variables). */
  private readonly opaques = new Map<string, boolean>();
  unknown = false;
  solution: Map<string, Check> | undefined;
  /** The opaque literals' values in the solution. */
  chosen: ReadonlyMap<string, boolean> = new Map();

  constructor(
    private readonly frame: Frame,
    private readonly multivalued: ReadonlySet<string>,
    private readonly budget: Budget,
  ) {}

  private storeKey(lit: KeyLit | TmplLit): string {
    return lit.lit === "key" ? keyStoreName(lit.key) : lit.group;
  }

  private listOf(name: string): (KeyLit | TmplLit)[] {
    let list = this.stores.get(name);
    if (list === undefined) {
      list = [];
      this.stores.set(name, list);
    }
    return list;
  }

  check(name: string): Check {
    const list = this.listOf(name);
    const memoKey = this.memoKeyOf(name, list);
    const known = checkMemo.get(memoKey);
    if (known) {
      if (known.generation !== generation) {
        this.budget.spend(known.steps);
        known.generation = generation;
      }
      return known.result;
    }
    const stepsBefore = this.budget.steps;
    let result: Check;
    if (name.startsWith("k:")) {
      const key = name.slice(2);
      result = solveKey(key, list as KeyLit[], this.multivalued.has(key), this.budget);
    } else if (name === "principal") {
      const parts = this.frame.fixed ? fixedParts(this.frame.kind) : PRINCIPAL_PARTS[this.frame.kind];
      result = solveTemplates(
        parts,
        parts.map(domainOf),
        (list as TmplLit[]).map((l) => ({ template: l.template, globs: l.globs, neg: l.neg })),
        this.budget,
      );
    } else {
      const part: Sym = name === "action" ? "ACT" : "RES";
      const needed = name === "action" ? this.frame.action === undefined : this.frame.resource === undefined;
      result = needed
        ? solveTemplates(
            [part],
            [domainOf(part)],
            (list as TmplLit[]).map((l) => ({ template: l.template, globs: l.globs, neg: l.neg })),
            this.budget,
          )
        : { status: "sat", value: [] };
    }
    if (checkMemo.size >= CHECK_MEMO_LIMIT) checkMemo.clear();
    checkMemo.set(memoKey, { result, steps: this.budget.steps - stepsBefore, generation });
    return result;
  }

  /**
   * The shared memo's key for a store's literals: what else the check depends on (the variable,
   * whether a key is a set, the frame's caller kind, action or resource) and the literals' numbers,
   * sorted and without repeats (the same set in any order is the same check).
   */
  private memoKeyOf(name: string, list: readonly (KeyLit | TmplLit)[]): string {
    let scope = this.scopes.get(name);
    if (scope === undefined) {
      const frame = this.frame;
      scope = name.startsWith("k:")
        ? `${name}${this.multivalued.has(name.slice(2)) ? "*" : ""}#`
        : name === "principal"
          ? `p${frame.kind}${frame.fixed ? "f" : ""}#`
          : `${name}${name === "action" ? (frame.action ?? "") : (frame.resource ?? "")}#`;
      this.scopes.set(name, scope);
    }
    if (list.length === 0) return scope;
    if (list.length === 1) return `${scope}${litId(list[0] as KeyLit | TmplLit)}`;
    const ids = list.map(litId).sort((a, b) => a - b);
    let key = `${scope}${ids[0]}`;
    for (let i = 1; i < ids.length; i++) if (ids[i] !== ids[i - 1]) key += `,${ids[i]}`;
    return key;
  }

  /** False when `option` is a literal that contradicts the literals chosen so far. */
  private possible(option: Formula): boolean {
    if (option === false) return false;
    if (typeof option === "boolean" || "op" in option) return true;
    if (option.lit === "opaque") {
      const known = this.opaques.get(option.name);
      return known === undefined || known === !option.neg;
    }
    const name = this.storeKey(option);
    const list = this.listOf(name);
    if (list.includes(option)) return true;
    list.push(option);
    const status = this.check(name).status;
    list.pop();
    return status !== "unsat";
  }

  /** Depth-first search for a set of literals, one choice per disjunction, that is consistent. */
  run(pending: readonly Formula[]): boolean {
    this.budget.spend();
    const added: string[] = [];
    const chosen: string[] = [];
    const undo = () => {
      for (const name of added.reverse()) this.listOf(name).pop();
      for (const name of chosen) this.opaques.delete(name);
    };
    const work = [...pending];
    const ors: Junction[] = [];
    const touched = new Set<string>();
    while (work.length > 0) {
      const f = work.pop() as Formula;
      if (f === true) continue;
      if (f === false) {
        undo();
        return false;
      }
      if ("op" in f) {
        if (f.op === "and") work.push(...f.fs);
        else ors.push(f);
        continue;
      }
      if (f.lit === "opaque") {
        const value = !f.neg;
        const known = this.opaques.get(f.name);
        if (known === undefined) {
          this.opaques.set(f.name, value);
          chosen.push(f.name);
        } else if (known !== value) {
          undo();
          return false;
        }
        continue;
      }
      const name = this.storeKey(f);
      const list = this.listOf(name);
      if (list.includes(f)) continue;
      list.push(f);
      added.push(name);
      touched.add(name);
    }
    for (const name of touched) {
      if (this.check(name).status === "unsat") {
        undo();
        return false;
      }
    }
    if (ors.length === 0) {
      const checks = new Map<string, Check>();
      let unknown = false;
      // Every variable (the three groups first: the stores keep their order of creation).
      for (const name of this.stores.keys()) {
        const c = this.check(name);
        if (c.status === "unknown") unknown = true;
        checks.set(name, c);
      }
      if (unknown) {
        this.unknown = true;
        undo();
        return false;
      }
      this.solution = checks;
      this.chosen = new Map(this.opaques);
      return true;
    }
    // Look ahead: drop the choices of each disjunction that contradict what is already chosen (so
    // a conflict shows now, not after branching on every other disjunction); a disjunction with no
    // choice left fails the branch, one with a single choice is forced.
    const viable: Formula[][] = [];
    const forced: Formula[] = [];
    for (const or of ors) {
      const options = or.fs.filter((option) => this.possible(option));
      if (options.length === 0) {
        undo();
        return false;
      }
      if (options.length === 1) forced.push(options[0] as Formula);
      else viable.push(options);
    }
    if (forced.length > 0) {
      const rest = viable.map((fs): Formula => ({ op: "or", fs }));
      const ok = this.run([...rest, ...forced]);
      if (!ok) undo();
      return ok;
    }
    // Branch on the disjunction with the fewest choices.
    let pick = 0;
    for (let i = 1; i < viable.length; i++)
      if ((viable[i] as Formula[]).length < (viable[pick] as Formula[]).length) pick = i;
    const choice = viable[pick] as Formula[];
    const rest = viable.filter((_, i) => i !== pick).map((fs): Formula => ({ op: "or", fs }));
    for (const option of choice) {
      if (this.run([...rest, option])) return true;
    }
    undo();
    return false;
  }
}

function fixedParts(kind: PrincipalKind): readonly Sym[] {
  // A fixed caller leaves only its unique id and session name open.
  if (kind === "session") return ["U", "S"];
  if (kind === "user") return ["U"];
  return [];
}

/** Keys modelled as sets: those AWS documents as multivalued and those a policy uses with a set operator. */
export function multivaluedKeysOf(policies: readonly PolicyDocument[]): Set<string> {
  const keys = new Set(MULTIVALUED_KEYS);
  for (const policy of policies)
    for (const statement of policy.statements)
      for (const clause of statement.conditions) if (clause.set !== undefined) keys.add(clause.keyLower);
  return keys;
}

function instantiate(template: Template | undefined, values: ReadonlyMap<Sym, string>): string | undefined {
  if (template === undefined) return undefined;
  return template.map((p) => (typeof p === "string" ? p : (values.get(p.sym) ?? ""))).join("");
}

/**
 * A concrete request of one kind of caller, built as a solution's witness is (the principal from its
 * parts, the principal-derived keys, `aws:SecureTransport` = true unless given): for requests tried
 * before a search, which the evaluator then judges. Undefined when a context value is not of its
 * key's type.
 */
export function concreteRequest(
  frames: FrameTable,
  kind: PrincipalKind,
  action: string,
  parts: Readonly<Partial<Record<Sym, string>>>,
  context: Iterable<readonly [string, string]>,
): Witness | undefined {
  const frame = frames.frame(kind, action);
  const checks = new Map<string, Check>([
    ["principal", { status: "sat", value: PRINCIPAL_PARTS[kind].map((part) => parts[part] ?? "") }],
  ]);
  for (const [key, value] of context) {
    // A key the caller's kind or the action's service never carries, one that comes with the
    // caller, or a value its key's own type refuses (not an address, not a boolean): no request.
    if (keyAbsentFor(key, frame) || DERIVED_KEYS.has(key)) return undefined;
    const fits = domainLits(key).every((lit) =>
      lit.and ? lit.atoms.every((a) => atomHolds(a, value)) : lit.atoms.some((a) => atomHolds(a, value)),
    );
    if (!fits) return undefined;
    checks.set(keyStoreName(key), { status: "sat", value });
  }
  return buildWitness(frame, checks, new Map());
}

function buildWitness(
  frame: Frame,
  checks: Map<string, Check>,
  chosen: ReadonlyMap<string, boolean>,
): Witness {
  const values = new Map<Sym, string>();
  const parts = frame.fixed ? fixedParts(frame.kind) : PRINCIPAL_PARTS[frame.kind];
  const principalValues = (checks.get("principal") as { value: string[] } | undefined)?.value ?? [];
  parts.forEach((p, i) => {
    values.set(p, principalValues[i] ?? "");
  });
  if (frame.fixed) {
    values.set("A", frame.fixed.account);
    values.set("N", frame.fixed.name);
  }
  const action = frame.action ?? ((checks.get("action") as { value: string[] }).value[0] as string);
  const resource = frame.resource ?? (checks.get("resource") as { value: string[] }).value[0];
  const context = new Map<string, string | readonly string[]>();
  for (const key of DERIVED_KEYS) {
    const value = instantiate(derivedKeyTemplate(key, frame), values);
    if (value !== undefined) context.set(key, value);
  }
  for (const [name, check] of checks) {
    if (!name.startsWith("k:") || check.status !== "sat" || check.value === undefined) continue;
    context.set(name.slice(2), check.value as string | readonly string[]);
  }
  if (!context.has("aws:securetransport")) context.set("aws:securetransport", "true");
  // A caller in an organization carries its id with its paths (IAM User Guide, aws:PrincipalOrgPaths):
  // an id the formula leaves free is the one the first path starts with.
  const paths = context.get("aws:principalorgpaths");
  if (Array.isArray(paths) && paths.length > 0 && !checks.has("k:aws:principalorgid"))
    context.set("aws:principalorgid", (paths[0] as string).split("/")[0] as string);
  if (frame.kind === "anonymous" && chosen.get(ANONYMOUS_CARRIES_IDS) === true) {
    context.set("aws:principaltype", "Anonymous");
    context.set("aws:userid", "anonymous");
  }
  return { kind: frame.kind, principal: principalOf(frame, values), action, resource, context };
}

function principalOf(frame: Frame, values: ReadonlyMap<Sym, string>): RequestPrincipal {
  const p = frame.partition;
  const account = values.get("A") ?? "";
  const name = values.get("N") ?? "";
  switch (frame.kind) {
    case "anonymous":
      return { kind: "anonymous" };
    case "service":
      return { kind: "service", service: values.get("SVC") ?? "" };
    case "root":
      return { kind: "aws", arn: `arn:${p}:iam::${account}:root`, account };
    case "user":
      return { kind: "aws", arn: frame.fixed?.arn ?? `arn:${p}:iam::${account}:user/${name}`, account };
    case "federated":
      return { kind: "aws", arn: `arn:${p}:sts::${account}:federated-user/${name}`, account };
    case "session":
      return {
        kind: "aws",
        arn: `arn:${p}:sts::${account}:assumed-role/${name}/${values.get("S") ?? ""}`,
        account,
        roleArn: frame.fixed?.arn ?? `arn:${p}:iam::${account}:role/${name}`,
      };
  }
}

export interface FindOptions {
  /** Accepts a witness (e.g. the evaluator agrees); a rejected one leaves the question undecided. */
  readonly confirm?: (witness: Witness) => Witness | undefined;
  readonly budget?: number;
  /** Keys modelled as sets of values. */
  readonly multivalued?: ReadonlySet<string>;
}

/**
 * Looks for a request of `space` that satisfies `build(frame)`. Pure: the same inputs give the same
 * answer. "proved" means no request satisfies it (a proof over the whole space).
 */
export function findRequest(
  space: SearchSpace,
  build: (frame: Frame) => Formula,
  options: FindOptions = {},
): Outcome {
  const total = judgementBudget;
  if (total?.exhausted) return judgementSpent(total);
  if (total === undefined) generation++;
  const budget = new Budget(options.budget ?? DEFAULT_BUDGET, total);
  const multivalued = options.multivalued ?? MULTIVALUED_KEYS;
  let undecided: string | undefined;
  const frames = frameTable(space.partition, space.resource, space.fixedPrincipal);
  try {
    for (const kind of space.kinds) {
      if (space.fixedPrincipal && space.fixedPrincipal.kind !== kind) continue;
      if (kind !== "anonymous" && kind !== "service" && !AWS_KINDS.includes(kind)) continue;
      for (const action of space.actions ?? [undefined]) {
        const frame = frames.frame(kind, action);
        const formula = build(frame);
        if (formula === false) continue;
        let search = new Search(frame, multivalued, budget);
        if (search.run([formula]) && orgKeysApart(search.solution)) {
          search = new Search(frame, multivalued, budget);
          search.run([and([formula, orgKeysTogether()])]);
        }
        if (search.solution && !orgKeysApart(search.solution)) {
          const witness = buildWitness(frame, search.solution, search.chosen);
          const confirmed = options.confirm ? options.confirm(witness) : witness;
          if (confirmed) return { status: "witness", witness: confirmed };
          undecided = "a request the policy variables allow could not be confirmed by the evaluator";
        } else if (search.unknown) {
          undecided = "a value mixing numbers, dates, addresses and patterns could not be decided";
        }
      }
    }
  } catch (error) {
    if (error instanceof BudgetExceeded) {
      if (total?.exhausted) return judgementSpent(total);
      return { status: "undecided", reason: `too complex to decide within ${budget.max} search steps` };
    }
    throw error;
  }
  return undecided === undefined ? { status: "proved" } : { status: "undecided", reason: undecided };
}

const ORG_ID = "aws:principalorgid";
const ORG_PATHS = "aws:principalorgpaths";

/**
 * AWS sets `aws:PrincipalOrgID` and `aws:PrincipalOrgPaths` together, for a caller in an
 * organization (IAM User Guide, global condition keys). A solution with one and not the other is
 * searched again with both or neither (a paths value whose id the formula leaves free takes the id
 * the path starts with: `buildWitness`).
 */
function orgKeysApart(solution: ReadonlyMap<string, Check> | undefined): boolean {
  if (!solution) return false;
  const value = (key: string) => {
    const check = solution.get(`k:${key}`);
    return check?.status === "sat" ? check.value : undefined;
  };
  const paths = value(ORG_PATHS) as readonly string[] | undefined;
  const hasPaths = paths !== undefined && paths.length > 0;
  if (hasPaths && !solution.has(`k:${ORG_ID}`)) return false;
  return hasPaths !== (value(ORG_ID) !== undefined);
}

function orgKeysTogether(): Formula {
  const lit = (key: string, present: boolean): KeyLit => ({
    lit: "key",
    key,
    absent: !present,
    q: "all",
    and: present,
    atoms: [],
    id: 0,
  });
  return or([
    and([lit(ORG_ID, true), lit(ORG_PATHS, true)]),
    and([lit(ORG_ID, false), lit(ORG_PATHS, false)]),
  ]);
}

function judgementSpent(total: Budget): Outcome {
  return {
    status: "undecided",
    reason: `too complex to decide within the judgement's ${total.max} search steps`,
  };
}

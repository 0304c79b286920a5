/**
 * The decision procedure: is there a request that satisfies a formula (`formula.ts`)? Either a
 * witness request, a proof that there is none, or "undecided" when an explicit budget runs out.
 *
 * - The search enumerates the caller's kind (and the action, when the question names a finite set),
 *   builds the formula for that frame and runs a DPLL-style search over its disjunctions: literals
 *   are added to per-variable stores and each store is checked for consistency at once, so a branch
 *   dies as soon as one variable cannot satisfy it.
 * - Strings: a conjunction of patterns matched and not matched is satisfiable iff the product of
 *   their automata has an accepting path. The path is searched breadth-first over a finite alphabet:
 *   the characters the patterns mention (both cases where a pattern ignores case) plus one character
 *   of each class they do not mention (characters no pattern mentions behave alike), so the search is
 *   complete, and the path is the witness string. Several symbolic parts that appear in fixed order
 *   in several templates (account, then name, then unique id, then session) are searched in one
 *   sequence, so `aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:userid` and the Principal element
 *   always describe one caller.
 * - Numbers, dates and addresses: the values a policy mentions cut the line into finitely many
 *   intervals, and one candidate per interval and per boundary decides them all (between two
 *   numbers the midpoint; around a range its first and last address and their neighbours).
 * - Multi-valued keys: each "some value" constraint gets its own element, and every element
 *   satisfies every "all values" constraint; an absent key satisfies every `ForAllValues:` clause.
 *
 * Memory is bounded by the budget (states kept), and the budget is counted in search steps, so no
 * policy can make a judgement hang: it ends as "undecided" instead.
 */
import { type Cidr, formatCidr, parseCidr } from "../net/cidr.ts";
import { parseDate } from "./conditions.ts";
import type { PolicyDocument } from "./document.ts";
import type { RequestPrincipal } from "./evaluate.ts";
import {
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
  frameTable,
  type Junction,
  type KeyLit,
  or,
  type PrincipalKind,
  type Sym,
  type Template,
  type TmplLit,
} from "./formula.ts";
import { accepts, CharClass, compileGlob, type Glob, globId, startState, stepState } from "./glob.ts";

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

const FRESH_LETTERS = "xqzjkvwybcdfghmnprstlaeiou";
const FRESH_DIGITS = "2357468910";
const FRESH_OTHERS = "-_.~+=@#%&!";

function alphabetOf(globs: readonly Glob[]): string[] {
  const mentioned = new Set<string>();
  let anyIgnoreCase = false;
  let notColon = false;
  for (const glob of globs) {
    if (glob.ignoreCase) anyIgnoreCase = true;
    for (const token of glob.tokens) {
      if (token.kind === "lit") mentioned.add(token.ch);
      else if (token.cls === CharClass.NotColon) notColon = true;
    }
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
  readonly constraint: number;
  readonly glob: Glob;
  /** Per phase: does this track read the phase's part? */
  readonly reads: readonly boolean[];
  /** Literal text consumed when phase p ends (after the part, up to the next part). */
  readonly after: readonly string[];
  readonly prefix: string;
}

function feed(glob: Glob, state: readonly number[], text: string): number[] {
  let s = state as number[];
  for (const raw of text) {
    if (s.length === 0) return s;
    s = stepState(glob, s, glob.ignoreCase ? raw.toLowerCase() : raw);
  }
  return s;
}

/**
 * Values for `parts` (in this order) such that every constraint holds. Each template must use the
 * parts in this order, each at most once.
 */
function solveTemplates(
  parts: readonly string[],
  domains: readonly Glob[],
  constraints: readonly TemplateConstraint[],
  budget: Budget,
): Check {
  const tracks: Track[] = [];
  constraints.forEach((c, ci) => {
    for (const glob of c.globs) {
      const reads = parts.map(() => false);
      const after = parts.map(() => "");
      let prefix = "";
      let lastPhase = -1;
      for (const part of c.template) {
        if (typeof part === "string") {
          if (lastPhase === -1) prefix += part;
          else after[lastPhase] += part;
          continue;
        }
        const phase = parts.indexOf(part.sym);
        if (phase <= lastPhase) throw new Error(`template parts out of order: ${part.sym}`);
        reads[phase] = true;
        lastPhase = phase;
      }
      tracks.push({ constraint: ci, glob, reads, after, prefix });
    }
  });
  const alphabet = alphabetOf([...tracks.map((t) => t.glob), ...domains]);
  const initial = tracks.map((t) => feed(t.glob, startState(t.glob), t.prefix));

  interface Node {
    readonly phase: number;
    readonly sets: readonly (readonly number[])[];
    readonly domain: readonly number[];
    readonly parent: number;
    readonly via: string | null;
  }
  const nodes: Node[] = [];
  const seen = new Set<string>();
  const byConstraint = constraints.map((_, ci) =>
    tracks.map((t, i) => (t.constraint === ci ? i : -1)).filter((i) => i >= 0),
  );
  // A negative constraint one of whose globs can no longer match is satisfied for good: forget its
  // tracks (so equal states merge). A positive one with a dead glob kills the state.
  const normalise = (sets: (readonly number[])[]): boolean => {
    for (let ci = 0; ci < constraints.length; ci++) {
      const ids = byConstraint[ci] as number[];
      if (!ids.some((i) => (sets[i] as readonly number[]).length === 0)) continue;
      if (!(constraints[ci] as TemplateConstraint).neg) return false;
      for (const i of ids) sets[i] = [];
    }
    return true;
  };
  const push = (node: Node): boolean => {
    const key = `${node.phase}|${node.domain.join(",")}|${node.sets.map((s) => s.join(",")).join(";")}`;
    if (seen.has(key)) return false;
    seen.add(key);
    nodes.push(node);
    budget.spend();
    return true;
  };
  const firstSets = [...initial];
  if (!normalise(firstSets)) return UNSAT;
  const startDomain = parts.length > 0 ? startState(domains[0] as Glob) : [];
  push({ phase: 0, sets: firstSets, domain: startDomain, parent: -1, via: null });

  const finished = (sets: readonly (readonly number[])[]): boolean =>
    constraints.every((c, ci) => {
      const all = (byConstraint[ci] as number[]).every((i) =>
        accepts(tracks[i]?.glob as Glob, sets[i] as readonly number[]),
      );
      return all !== c.neg;
    });

  for (let head = 0; head < nodes.length; head++) {
    const node = nodes[head] as Node;
    if (node.phase === parts.length) {
      if (finished(node.sets)) return { status: "sat", value: rebuild(nodes, head, parts.length) };
      continue;
    }
    const domain = domains[node.phase] as Glob;
    // End the current part.
    if (accepts(domain, node.domain)) {
      const sets = node.sets.map((s, i) => {
        const t = tracks[i] as Track;
        return t.reads[node.phase] ? feed(t.glob, s, t.after[node.phase] as string) : s;
      });
      if (normalise(sets)) {
        const nextPhase = node.phase + 1;
        push({
          phase: nextPhase,
          sets,
          domain: nextPhase < parts.length ? startState(domains[nextPhase] as Glob) : [],
          parent: head,
          via: null,
        });
      }
    }
    // Or read one more character of it.
    for (const ch of alphabet) {
      budget.spend();
      const nextDomain = stepState(domain, node.domain, ch);
      if (nextDomain.length === 0) continue;
      const sets = node.sets.map((s, i) => {
        const t = tracks[i] as Track;
        if (!t.reads[node.phase] || s.length === 0) return s;
        return stepState(t.glob, s, t.glob.ignoreCase ? ch.toLowerCase() : ch);
      });
      if (!normalise(sets)) continue;
      push({ phase: node.phase, sets, domain: nextDomain, parent: head, via: ch });
    }
  }
  return UNSAT;

  function rebuild(list: Node[], end: number, count: number): string[] {
    const values = Array.from({ length: count }, () => "");
    let i = end;
    while (i > 0) {
      const n = list[i] as Node;
      const p = list[n.parent] as Node;
      if (n.via !== null) values[p.phase] = n.via + values[p.phase];
      i = n.parent;
    }
    return values;
  }
}

// ---------------------------------------------------------------------------------------------
// One value of a context key: string patterns, numbers, dates, addresses.

const ANY_VALUE: Glob = compileGlob("*", "like");

function stringsFor(atoms: readonly Extract<ElemAtom, { t: "glob" }>[], budget: Budget): Check {
  const result = solveTemplates(
    ["X"],
    [ANY_VALUE],
    atoms.map((a) => ({
      template: [{ sym: "X" as Sym }] as unknown as Template,
      globs: a.globs,
      neg: a.neg,
    })),
    budget,
  );
  if (result.status !== "sat") return result;
  return { status: "sat", value: (result.value as string[])[0] as string };
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
function solveElement(atoms: readonly ElemAtom[], budget: Budget): Check {
  const globs: Extract<ElemAtom, { t: "glob" }>[] = [];
  const typed: Extract<ElemAtom, { t: "typed" }>[] = [];
  for (const atom of atoms) {
    if (atom.t === "const") {
      if (!atom.value) return UNSAT;
    } else if (atom.t === "glob") globs.push(atom);
    else if (atom.t === "typed") typed.push(atom);
  }
  if (typed.length === 0) return stringsFor(globs, budget);
  const sorts = new Set(typed.map((a) => a.sort));
  const positive = new Set(typed.filter((a) => !a.neg).map((a) => a.sort));
  const candidates: string[] = [];
  for (const sort of positive.size > 0 ? positive : sorts) {
    const mine = typed.filter((a) => a.sort === sort);
    if (sort === "num") candidates.push(...numberCandidates(mine.map((a) => Number(a.value))));
    else if (sort === "date") candidates.push(...dateCandidates(mine.map((a) => parseDate(a.value))));
    else candidates.push(...addressCandidates(mine.map((a) => a.value)));
  }
  if (positive.size === 0) {
    const text = stringsFor(globs, budget);
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

/** A value satisfying a CNF of element atoms (each clause: one of its atoms). */
function solveCnf(
  units: readonly ElemAtom[],
  clauses: readonly (readonly ElemAtom[])[],
  budget: Budget,
): Check {
  let unknown = false;
  const chosen: ElemAtom[] = [...units];
  const go = (i: number): Check => {
    budget.spend();
    if (i === clauses.length) return solveElement(chosen, budget);
    const clause = clauses[i] as readonly ElemAtom[];
    for (const atom of clause) {
      chosen.push(atom);
      // Prune early: the atoms chosen so far must agree.
      const partial = solveElement(chosen, budget);
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

// ---------------------------------------------------------------------------------------------
// Context keys: absent, one value, or a set of values.

/** Keys IAM includes in every request (IAM User Guide, global condition keys: "always included"). */
const ALWAYS_PRESENT = new Set(["aws:securetransport", "aws:currenttime", "aws:epochtime"]);
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

function domainLits(key: string): KeyLit[] {
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

interface Stores {
  principal: TmplLit[];
  action: TmplLit[];
  resource: TmplLit[];
  keys: Map<string, KeyLit[]>;
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
  private readonly stores: Stores = { principal: [], action: [], resource: [], keys: new Map() };
  private readonly localMemo = new Map<string, Check>();
  /** Truth values chosen for opaque literals (conditions with policy variables). */
  private readonly opaques = new Map<string, boolean>();
  unknown = false;
  solution: Map<string, Check> | undefined;

  constructor(
    private readonly frame: Frame,
    private readonly multivalued: ReadonlySet<string>,
    private readonly budget: Budget,
  ) {}

  private storeKey(lit: KeyLit | TmplLit): string {
    if (lit.lit === "key") return `k:${lit.key}`;
    return lit.group;
  }

  private listOf(name: string): (KeyLit | TmplLit)[] {
    if (name.startsWith("k:")) {
      const key = name.slice(2);
      let list = this.stores.keys.get(key);
      if (!list) {
        list = [];
        this.stores.keys.set(key, list);
      }
      return list;
    }
    return this.stores[name as "principal" | "action" | "resource"];
  }

  check(name: string): Check {
    const list = this.listOf(name);
    // This search's own memo first, keyed by the literals in the order they were added (cheap);
    // then the shared one, keyed canonically.
    let quick = `${name}#`;
    for (const lit of list) quick += `${litId(lit)},`;
    const local = this.localMemo.get(quick);
    if (local) return local;
    const scopeOfCheck = name.startsWith("k:")
      ? `${name}${this.multivalued.has(name.slice(2)) ? "*" : ""}`
      : name === "principal"
        ? `p${this.frame.kind}${this.frame.fixed ? "f" : ""}`
        : `${name}${name === "action" ? (this.frame.action ?? "") : (this.frame.resource ?? "")}`;
    const memoKey = `${scopeOfCheck}#${[...new Set(list.map(litId))].sort((a, b) => a - b).join(",")}`;
    const known = checkMemo.get(memoKey);
    if (known) {
      if (known.generation !== generation) {
        this.budget.spend(known.steps);
        known.generation = generation;
      }
      this.localMemo.set(quick, known.result);
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
    this.localMemo.set(quick, result);
    return result;
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
    const added: { name: string }[] = [];
    const chosen: string[] = [];
    const undo = () => {
      for (const { name } of added.reverse()) this.listOf(name).pop();
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
      added.push({ name });
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
      for (const name of [
        "principal",
        "action",
        "resource",
        ...[...this.stores.keys.keys()].map((k) => `k:${k}`),
      ]) {
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

function buildWitness(frame: Frame, checks: Map<string, Check>): Witness {
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
          const witness = buildWitness(frame, search.solution);
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

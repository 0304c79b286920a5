/**
 * Matching of actions, resources, ARNs and condition values, with IAM's wildcards and policy
 * variables, on the linear-time automata of `glob.ts` (no regular expressions: a pattern such as
 * `*a*a*a…b` against a long value costs text × pattern steps, never exponential backtracking).
 * Compiled patterns without variables are cached: a judgement matches the same few patterns often.
 */
import {
  ARN_SHAPE,
  compilePieces,
  type Glob,
  globMatches,
  type PatternMode,
  type PatternPiece,
} from "./glob.ts";

export type { PatternMode } from "./glob.ts";

/** Request context: condition keys lower-cased (IAM compares keys case-insensitively). */
export type ContextValues = ReadonlyMap<string, string | readonly string[]>;

/** A policy variable inside a value: `${key}`, `${key, 'default'}`, or the escapes `${*}`, `${?}`, `${$}`. */
export interface VariableRef {
  readonly key: string;
  readonly fallback: string | undefined;
  /** `${*}`, `${?}`, `${$}`: the character itself. */
  readonly escape: string | undefined;
}

export function parseVariable(inner: string): VariableRef {
  const trimmed = inner.trim();
  if (trimmed === "*" || trimmed === "?" || trimmed === "$")
    return { key: "", fallback: undefined, escape: trimmed };
  const comma = trimmed.indexOf(",");
  const key = (comma === -1 ? trimmed : trimmed.slice(0, comma)).trim().toLowerCase();
  const fallback = comma === -1 ? undefined : /^'(.*)'$/.exec(trimmed.slice(comma + 1).trim())?.[1];
  return { key, fallback, escape: undefined };
}

/** Splits a value into text and `${...}` references (in version 2012-10-17 policies). */
export function splitVariables(value: string): (string | VariableRef)[] {
  const out: (string | VariableRef)[] = [];
  let i = 0;
  let text = "";
  while (i < value.length) {
    if (value[i] === "$" && value[i + 1] === "{") {
      const end = value.indexOf("}", i + 2);
      if (end !== -1) {
        if (text) out.push(text);
        text = "";
        out.push(parseVariable(value.slice(i + 2, end)));
        i = end + 1;
        continue;
      }
    }
    text += value[i];
    i++;
  }
  if (text) out.push(text);
  return out;
}

/** True when the value holds a policy variable other than the `${*}`-style escapes. */
export function hasPolicyVariable(value: string): boolean {
  if (!value.includes("${")) return false;
  return splitVariables(value).some((part) => typeof part !== "string" && part.escape === undefined);
}

/**
 * The value of one policy variable. Undefined when the key is absent and there is no default: IAM
 * then treats the value as not matching.
 */
function variableValue(ref: VariableRef, context: ContextValues): string | undefined {
  if (ref.escape !== undefined) return ref.escape;
  const value = context.get(ref.key);
  const text = Array.isArray(value) ? value[0] : (value as string | undefined);
  return text ?? ref.fallback;
}

/** Pattern pieces with variables resolved from the context; undefined when one cannot be. */
function resolvedPieces(pattern: string, context: ContextValues): PatternPiece[] | undefined {
  const pieces: PatternPiece[] = [];
  for (const part of splitVariables(pattern)) {
    if (typeof part === "string") pieces.push({ text: part, literal: false });
    else {
      const value = variableValue(part, context);
      if (value === undefined) return undefined;
      pieces.push({ text: value, literal: true });
    }
  }
  return pieces;
}

const NON_ASCII = /[\u0080-\uffff]/;

const compiled = new Map<string, Glob>();
const CACHE_LIMIT = 10_000;

/** The compiled glob of a pattern without variables, cached. */
export function globOf(pattern: string, mode: PatternMode, ignoreCase: boolean): Glob {
  const key = `${mode}${ignoreCase ? "i" : "c"}${pattern}`;
  let glob = compiled.get(key);
  if (!glob) {
    glob = compilePieces([{ text: pattern, literal: false }], mode, ignoreCase);
    if (compiled.size >= CACHE_LIMIT) compiled.clear();
    compiled.set(key, glob);
  }
  return glob;
}

/**
 * True when `value` matches `pattern` under `mode`. `context` resolves policy variables (version
 * 2012-10-17 only; pass undefined to treat `${...}` literally, as IAM does for 2008-10-17).
 */
export function matchesPattern(
  pattern: string,
  value: string,
  mode: PatternMode,
  ignoreCase = false,
  context?: ContextValues,
): boolean {
  if (mode === "arn" && !globMatches(ARN_SHAPE, value)) return false;
  if (context !== undefined && pattern.includes("${")) {
    const pieces = resolvedPieces(pattern, context);
    if (!pieces) return false;
    return globMatches(compilePieces(pieces, mode, ignoreCase), value);
  }
  if (mode === "equals")
    return ignoreCase ? pattern.toLowerCase() === value.toLowerCase() : pattern === value;
  // A pattern without a wildcard matches only itself, in every mode (ASCII case folding is the
  // same whole or per character, so the automaton is not needed).
  if (!pattern.includes("*") && !pattern.includes("?") && (!ignoreCase || !NON_ASCII.test(pattern + value)))
    return ignoreCase ? pattern.toLowerCase() === value.toLowerCase() : pattern === value;
  return globMatches(globOf(pattern, mode, ignoreCase), value);
}

/** IAM actions are matched case-insensitively, with `*` and `?`. */
export function matchesAction(pattern: string, action: string): boolean {
  if (pattern === "*") return true;
  // Policies name few action patterns and requests few actions: each pair is matched once.
  let byAction = actionMatches.get(pattern);
  if (byAction === undefined) {
    if (actionMatches.size >= CACHE_LIMIT) actionMatches.clear();
    byAction = new Map();
    actionMatches.set(pattern, byAction);
  }
  let matched = byAction.get(action);
  if (matched === undefined) {
    matched = matchesPattern(pattern, action, "like", true);
    if (byAction.size < ACTIONS_PER_PATTERN) byAction.set(action, matched);
  }
  return matched;
}

const actionMatches = new Map<string, Map<string, boolean>>();
/** Actions remembered per pattern (a request's action is one of a service's few hundred). */
const ACTIONS_PER_PATTERN = 1_000;

/** True when the text carries a wildcard (`*`, `?`) or a policy variable: not a fixed value. */
export function isFixedValue(value: string): boolean {
  return !value.includes("*") && !value.includes("?") && !value.includes("${");
}

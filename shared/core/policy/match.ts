/**
 * Matching of actions, resources, ARNs and condition values, with IAM's wildcards and policy
 * variables. Compiled patterns are cached: a judgement evaluates the same few patterns thousands of
 * times.
 */

/** Request context: condition keys lower-cased (IAM compares keys case-insensitively). */
export type ContextValues = ReadonlyMap<string, string | readonly string[]>;

export type PatternMode =
  /** `*` and `?` are wildcards anywhere (StringLike, Action). */
  | "like"
  /** No wildcards: the whole text must be equal (StringEquals). */
  | "equals"
  /**
   * ARN matching (ArnLike, ArnEquals, Resource): each of the six colon-separated parts is matched
   * on its own, so a wildcard in the region or account never spans a colon.
   */
  | "arn";

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/**
 * The value of one policy variable: `${aws:username}`, `${aws:username, 'default'}`, and the
 * escapes `${*}`, `${?}`, `${$}`. Undefined when the key is absent and there is no default: IAM
 * then treats the value as not matching.
 */
function variableValue(inner: string, context: ContextValues): { literal: string } | undefined {
  const trimmed = inner.trim();
  if (trimmed === "*" || trimmed === "?" || trimmed === "$") return { literal: trimmed };
  const comma = trimmed.indexOf(",");
  const key = (comma === -1 ? trimmed : trimmed.slice(0, comma)).trim().toLowerCase();
  const fallback = comma === -1 ? undefined : /^'(.*)'$/.exec(trimmed.slice(comma + 1).trim())?.[1];
  const value = context.get(key);
  const text = Array.isArray(value) ? value[0] : (value as string | undefined);
  if (text !== undefined) return { literal: text };
  return fallback === undefined ? undefined : { literal: fallback };
}

/** Regex source for a pattern; undefined when a policy variable cannot be resolved. */
function patternSource(
  pattern: string,
  mode: PatternMode,
  context: ContextValues | undefined,
): string | undefined {
  let source = "";
  let colons = 0;
  let i = 0;
  while (i < pattern.length) {
    const ch = pattern[i] as string;
    if (ch === "$" && pattern[i + 1] === "{" && context !== undefined) {
      const end = pattern.indexOf("}", i + 2);
      if (end !== -1) {
        const resolved = variableValue(pattern.slice(i + 2, end), context);
        if (!resolved) return undefined;
        source += escapeRegex(resolved.literal);
        i = end + 1;
        continue;
      }
    }
    if (mode !== "equals" && (ch === "*" || ch === "?")) {
      const any = mode === "arn" && colons < 5 ? "[^:]" : "[\\s\\S]";
      source += ch === "*" ? `${any}*` : any;
    } else {
      if (ch === ":") colons++;
      source += escapeRegex(ch);
    }
    i++;
  }
  return source;
}

/** Compiled patterns without variables, one cache per (mode, case, variables) combination. */
const compiled = new Map<string, Map<string, RegExp>>();
const CACHE_LIMIT = 10_000;

/**
 * Compiles a pattern. `context` resolves policy variables (version 2012-10-17 only; pass undefined
 * to treat `${...}` literally, as IAM does for version 2008-10-17). Returns undefined when a
 * variable's key is absent from the request.
 */
export function compilePattern(
  pattern: string,
  mode: PatternMode,
  ignoreCase: boolean,
  context: ContextValues | undefined,
): RegExp | undefined {
  const hasVariable = context !== undefined && pattern.includes("${");
  if (hasVariable) {
    const source = patternSource(pattern, mode, context);
    return source === undefined ? undefined : new RegExp(`^${source}$`, ignoreCase ? "i" : "");
  }
  const bucketKey = `${mode}${ignoreCase ? "i" : ""}${context === undefined ? "0" : "1"}`;
  let bucket = compiled.get(bucketKey);
  if (!bucket) {
    bucket = new Map();
    compiled.set(bucketKey, bucket);
  }
  const cached = bucket.get(pattern);
  if (cached) return cached;
  const source = patternSource(pattern, mode, context) as string;
  const regex = new RegExp(`^${source}$`, ignoreCase ? "i" : "");
  if (bucket.size >= CACHE_LIMIT) bucket.clear();
  bucket.set(pattern, regex);
  return regex;
}

/** True when `value` matches `pattern` under `mode`. */
export function matchesPattern(
  pattern: string,
  value: string,
  mode: PatternMode,
  ignoreCase = false,
  context?: ContextValues,
): boolean {
  if (mode === "equals" && !(context !== undefined && pattern.includes("${"))) {
    return ignoreCase ? pattern.toLowerCase() === value.toLowerCase() : pattern === value;
  }
  return compilePattern(pattern, mode, ignoreCase, context)?.test(value) ?? false;
}

/** IAM actions are matched case-insensitively, with `*` and `?`. */
export function matchesAction(pattern: string, action: string): boolean {
  if (pattern === "*") return true;
  return matchesPattern(pattern, action, "like", true);
}

/** True when the text carries a wildcard (`*`, `?`) or a policy variable: not a fixed value. */
export function isFixedValue(value: string): boolean {
  return !value.includes("*") && !value.includes("?") && !value.includes("${");
}

/**
 * Condition evaluation as the IAM documentation describes it ("IAM JSON policy elements: Condition
 * operators" and "Multivalued context keys"):
 * - clauses of one statement are ANDed; the values of one clause are ORed;
 * - a negated operator (StringNotEquals, NotIpAddress, ArnNotLike, ...) matches when the request
 *   value matches none of the policy values;
 * - a key absent from the request makes a positive operator false and a negated one true;
 *   `...IfExists` makes the clause true; `ForAllValues:` is true and `ForAnyValue:` false;
 * - `Null` tests presence: "true" means the key is absent.
 */
import { cidrContains, parseCidr } from "../net/cidr.ts";
import type { BaseOperator, ConditionClause } from "./document.ts";
import { NEGATED_OPERATORS } from "./document.ts";
import { type ContextValues, matchesPattern } from "./match.ts";

export function parseDate(text: string): number {
  // IAM accepts ISO 8601 dates and epoch seconds.
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  return Date.parse(text);
}

const parsedIps = new Map<string, ReturnType<typeof parseCidr> | undefined>();

/** Parses an address or range, cached (policies and representative requests repeat a few); undefined when it is neither. */
export function parseIp(text: string) {
  if (parsedIps.has(text)) return parsedIps.get(text);
  let value: ReturnType<typeof parseCidr> | undefined;
  try {
    value = parseCidr(text);
  } catch {
    value = undefined;
  }
  if (parsedIps.size >= 10_000) parsedIps.clear();
  parsedIps.set(text, value);
  return value;
}

/** Whether one request value matches one policy value under the (positive form of the) operator. */
export function valueMatches(
  base: BaseOperator,
  policyValue: string,
  requestValue: string,
  variables: ContextValues | undefined,
): boolean {
  switch (base) {
    case "StringEquals":
    case "StringNotEquals":
      return matchesPattern(policyValue, requestValue, "equals", false, variables);
    case "StringEqualsIgnoreCase":
    case "StringNotEqualsIgnoreCase":
      return matchesPattern(policyValue, requestValue, "equals", true, variables);
    case "StringLike":
    case "StringNotLike":
      return matchesPattern(policyValue, requestValue, "like", false, variables);
    case "ArnEquals":
    case "ArnLike":
    case "ArnNotEquals":
    case "ArnNotLike": {
      // An ARN operator never matches a value that is not an ARN (six colon-separated parts).
      if (requestValue.split(":").length < 6) return false;
      return matchesPattern(policyValue, requestValue, "arn", false, variables);
    }
    case "NumericEquals":
    case "NumericNotEquals":
    case "NumericLessThan":
    case "NumericLessThanEquals":
    case "NumericGreaterThan":
    case "NumericGreaterThanEquals": {
      const p = Number(policyValue);
      const r = Number(requestValue);
      if (policyValue.trim() === "" || requestValue.trim() === "" || Number.isNaN(p) || Number.isNaN(r))
        return false;
      return compare(base, r, p);
    }
    case "DateEquals":
    case "DateNotEquals":
    case "DateLessThan":
    case "DateLessThanEquals":
    case "DateGreaterThan":
    case "DateGreaterThanEquals": {
      const p = parseDate(policyValue);
      const r = parseDate(requestValue);
      if (Number.isNaN(p) || Number.isNaN(r)) return false;
      return compare(base, r, p);
    }
    case "Bool":
      return policyValue.toLowerCase() === requestValue.toLowerCase();
    case "BinaryEquals":
      return policyValue === requestValue;
    case "IpAddress":
    case "NotIpAddress": {
      const range = parseIp(policyValue);
      const address = parseIp(requestValue);
      return range !== undefined && address !== undefined && cidrContains(range, address);
    }
    case "Null":
      return false; // handled by the caller
  }
}

function compare(base: BaseOperator, request: number, policy: number): boolean {
  if (base.endsWith("NotEquals")) return request === policy; // positive form; the caller negates
  if (base.endsWith("Equals") && !base.includes("Than")) return request === policy;
  if (base.endsWith("LessThan")) return request < policy;
  if (base.endsWith("LessThanEquals")) return request <= policy;
  if (base.endsWith("GreaterThan")) return request > policy;
  if (base.endsWith("GreaterThanEquals")) return request >= policy;
  return false;
}

/** Operators whose values may hold policy variables (IAM substitutes them in string and ARN operators). */
function acceptsVariables(base: BaseOperator): boolean {
  return base.startsWith("String") || base.startsWith("Arn");
}

/**
 * Evaluates one clause against the request context. `variablesEnabled` is false for policies of
 * version 2008-10-17, where `${...}` is literal text.
 */
export function clauseMatches(
  clause: ConditionClause,
  context: ContextValues,
  variablesEnabled: boolean,
): boolean {
  const raw = context.get(clause.keyLower);
  const present = raw !== undefined && (!Array.isArray(raw) || raw.length > 0);
  if (clause.base === "Null") {
    return clause.values.some((v) =>
      v.toLowerCase() === "true" ? !present : v.toLowerCase() === "false" && present,
    );
  }
  const negated = NEGATED_OPERATORS.has(clause.base);
  if (!present) {
    if (clause.set === "all") return true;
    if (clause.set === "any") return false;
    if (clause.ifExists) return true;
    return negated;
  }
  const requestValues: readonly string[] = Array.isArray(raw) ? raw : [raw as string];
  const variables = variablesEnabled && acceptsVariables(clause.base) ? context : undefined;
  const matchesAny = (requestValue: string) =>
    clause.values.some((policyValue) => valueMatches(clause.base, policyValue, requestValue, variables));
  // For a negated operator a request value "matches" the clause when it equals none of the values.
  const valueOk = (requestValue: string) => (negated ? !matchesAny(requestValue) : matchesAny(requestValue));
  if (clause.set === "all") return requestValues.every(valueOk);
  if (clause.set === "any") return requestValues.some(valueOk);
  return negated ? requestValues.every(valueOk) : requestValues.some(valueOk);
}

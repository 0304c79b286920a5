/**
 * The policy model: a resource policy parsed and normalised once (string-or-array fields become
 * arrays, condition operators are split into base operator, `IfExists` and set qualifier), with the
 * raw JSON kept beside it so that an edit can change one statement and leave every other byte alone.
 */
import { InvalidInputError } from "../errors.ts";

/** PutFileSystemPolicy rejects longer policies (S3 Files and EFS: 20,000 characters). */
export const MAX_POLICY_CHARS = 20_000;

export type Effect = "Allow" | "Deny";

/** The base condition operators IAM documents; `IfExists` and `ForAnyValue:`/`ForAllValues:` wrap them. */
export const BASE_OPERATORS = [
  "StringEquals",
  "StringNotEquals",
  "StringEqualsIgnoreCase",
  "StringNotEqualsIgnoreCase",
  "StringLike",
  "StringNotLike",
  "NumericEquals",
  "NumericNotEquals",
  "NumericLessThan",
  "NumericLessThanEquals",
  "NumericGreaterThan",
  "NumericGreaterThanEquals",
  "DateEquals",
  "DateNotEquals",
  "DateLessThan",
  "DateLessThanEquals",
  "DateGreaterThan",
  "DateGreaterThanEquals",
  "Bool",
  "BinaryEquals",
  "IpAddress",
  "NotIpAddress",
  "ArnEquals",
  "ArnLike",
  "ArnNotEquals",
  "ArnNotLike",
  "Null",
] as const;

export type BaseOperator = (typeof BASE_OPERATORS)[number];

const BASE_BY_LOWER = new Map<string, BaseOperator>(BASE_OPERATORS.map((op) => [op.toLowerCase(), op]));

/** Operators that match when the request value matches none of the policy values. */
export const NEGATED_OPERATORS: ReadonlySet<BaseOperator> = new Set<BaseOperator>([
  "StringNotEquals",
  "StringNotEqualsIgnoreCase",
  "StringNotLike",
  "NumericNotEquals",
  "DateNotEquals",
  "NotIpAddress",
  "ArnNotEquals",
  "ArnNotLike",
]);

/** One key of one operator block: `"StringEquals": {"aws:SourceVpc": ["vpc-1"]}`. */
export interface ConditionClause {
  /** The operator as written, e.g. `ForAnyValue:StringLikeIfExists`. */
  readonly operator: string;
  readonly base: BaseOperator;
  readonly ifExists: boolean;
  readonly set: "any" | "all" | undefined;
  /** The key as written, and lower-cased (condition keys are case-insensitive). */
  readonly key: string;
  readonly keyLower: string;
  readonly values: readonly string[];
}

/** Two JSON values are equal (key order aside): early out on the first difference. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every(
    (k) =>
      Object.hasOwn(b, k) && sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}

/** The two statements' JSON is the same but for their Principal and Action elements (and their `Not` forms). */
export function sameBesidesPrincipalAndAction(a: PolicyStatement, b: PolicyStatement): boolean {
  const rest = (raw: Readonly<Record<string, unknown>>) => {
    const { Principal: _p, NotPrincipal: _np, Action: _a, NotAction: _na, ...others } = raw;
    return others;
  };
  return sameJson(rest(a.raw), rest(b.raw));
}

/** The two statements' Principal (or NotPrincipal) elements are the same JSON. */
export function samePrincipalElement(a: PolicyStatement, b: PolicyStatement): boolean {
  return sameJson(a.raw.Principal, b.raw.Principal) && sameJson(a.raw.NotPrincipal, b.raw.NotPrincipal);
}

/** One entry of `Principal`/`NotPrincipal`: `"*"` is `{type: "AWS", value: "*"}`. */
export interface PrincipalEntry {
  readonly type: "AWS" | "Service" | "Federated" | "CanonicalUser";
  readonly value: string;
}

export interface PolicyStatement {
  /** Position in the `Statement` array (0-based): names the statement when it has no Sid. */
  readonly index: number;
  readonly sid: string | undefined;
  readonly effect: Effect;
  /** Exactly one of `principals` / `notPrincipals` is set. */
  readonly principals: readonly PrincipalEntry[] | undefined;
  readonly notPrincipals: readonly PrincipalEntry[] | undefined;
  /** Exactly one of `actions` / `notActions` is set. */
  readonly actions: readonly string[] | undefined;
  readonly notActions: readonly string[] | undefined;
  /** Both absent: the statement applies to the policy's own resource (the file system). */
  readonly resources: readonly string[] | undefined;
  readonly notResources: readonly string[] | undefined;
  readonly conditions: readonly ConditionClause[];
  readonly raw: Readonly<Record<string, unknown>>;
}

export interface PolicyDocument {
  readonly version: string | undefined;
  readonly id: string | undefined;
  readonly statements: readonly PolicyStatement[];
  /** The parsed JSON, untouched. */
  readonly raw: Readonly<Record<string, unknown>>;
}

/** How a statement is named in findings: its Sid, else its position. */
export function statementLabel(statement: PolicyStatement): string {
  return statement.sid !== undefined && statement.sid !== ""
    ? `statement "${statement.sid}"`
    : `statement #${statement.index + 1}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringList(value: unknown, where: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new InvalidInputError(`${where}: must not be empty`);
  return list.map((item, i) => {
    if (typeof item !== "string" || item.length === 0) {
      throw new InvalidInputError(
        `${where}${Array.isArray(value) ? `[${i}]` : ""}: must be a non-empty string`,
      );
    }
    return item;
  });
}

function conditionValues(value: unknown, where: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map((item, i) => {
    // IAM accepts numbers and booleans as condition values and compares their text.
    if (typeof item === "string" || typeof item === "number" || typeof item === "boolean")
      return String(item);
    throw new InvalidInputError(
      `${where}${Array.isArray(value) ? `[${i}]` : ""}: must be a string, number or boolean`,
    );
  });
}

function principalEntries(value: unknown, where: string): PrincipalEntry[] {
  if (value === "*") return [{ type: "AWS", value: "*" }];
  if (!isRecord(value))
    throw new InvalidInputError(`${where}: must be "*" or an object such as {"AWS": [...]}`);
  const entries: PrincipalEntry[] = [];
  for (const [type, values] of Object.entries(value)) {
    if (type !== "AWS" && type !== "Service" && type !== "Federated" && type !== "CanonicalUser") {
      throw new InvalidInputError(`${where}: unknown principal type "${type}"`);
    }
    for (const v of stringList(values, `${where}.${type}`)) entries.push({ type, value: v });
  }
  if (entries.length === 0) throw new InvalidInputError(`${where}: names no principal`);
  return entries;
}

/** Splits `ForAnyValue:StringLikeIfExists` into its parts; undefined when it is not an IAM operator. */
export function parseOperator(
  operator: string,
): Pick<ConditionClause, "base" | "ifExists" | "set"> | undefined {
  let rest = operator;
  let set: ConditionClause["set"];
  const lower = rest.toLowerCase();
  if (lower.startsWith("foranyvalue:")) {
    set = "any";
    rest = rest.slice("ForAnyValue:".length);
  } else if (lower.startsWith("forallvalues:")) {
    set = "all";
    rest = rest.slice("ForAllValues:".length);
  }
  let ifExists = false;
  if (rest.toLowerCase().endsWith("ifexists")) {
    ifExists = true;
    rest = rest.slice(0, -"IfExists".length);
  }
  const base = BASE_BY_LOWER.get(rest.toLowerCase());
  // `NullIfExists` is meaningless and IAM rejects it.
  if (!base || (base === "Null" && ifExists)) return undefined;
  return { base, ifExists, set };
}

function parseConditions(value: unknown, where: string): ConditionClause[] {
  if (value === undefined) return [];
  if (!isRecord(value)) throw new InvalidInputError(`${where}: must be an object of operators`);
  const clauses: ConditionClause[] = [];
  for (const [operator, block] of Object.entries(value)) {
    const parsed = parseOperator(operator);
    if (!parsed) throw new InvalidInputError(`${where}: unknown condition operator "${operator}"`);
    if (!isRecord(block))
      throw new InvalidInputError(`${where}.${operator}: must be an object of condition keys`);
    for (const [key, values] of Object.entries(block)) {
      clauses.push({
        operator,
        ...parsed,
        key,
        keyLower: key.toLowerCase(),
        values: conditionValues(values, `${where}.${operator}.${key}`),
      });
    }
  }
  return clauses;
}

function exactlyOne(
  raw: Record<string, unknown>,
  a: string,
  b: string,
  where: string,
  required: boolean,
): void {
  const hasA = raw[a] !== undefined;
  const hasB = raw[b] !== undefined;
  if (hasA && hasB) throw new InvalidInputError(`${where}: has both ${a} and ${b}`);
  if (required && !hasA && !hasB) throw new InvalidInputError(`${where}: needs ${a} or ${b}`);
}

/** A resource policy names its principals; an identity policy never does (it applies to its identity). */
export type PolicyKind = "resource" | "identity";

function parseStatement(raw: unknown, index: number, kind: PolicyKind = "resource"): PolicyStatement {
  const where = `Statement[${index}]`;
  if (!isRecord(raw)) throw new InvalidInputError(`${where}: must be an object`);
  const effect = raw.Effect;
  if (effect !== "Allow" && effect !== "Deny") {
    throw new InvalidInputError(`${where}.Effect: must be "Allow" or "Deny"`);
  }
  // A resource policy always says whom it applies to; AWS rejects a statement without one.
  exactlyOne(raw, "Principal", "NotPrincipal", where, kind === "resource");
  if (kind === "identity" && (raw.Principal !== undefined || raw.NotPrincipal !== undefined))
    throw new InvalidInputError(`${where}: an identity policy cannot name a Principal`);
  exactlyOne(raw, "Action", "NotAction", where, true);
  exactlyOne(raw, "Resource", "NotResource", where, false);
  if (raw.Sid !== undefined && typeof raw.Sid !== "string")
    throw new InvalidInputError(`${where}.Sid: must be a string`);
  return {
    index,
    sid: raw.Sid as string | undefined,
    effect,
    principals:
      raw.Principal === undefined ? undefined : principalEntries(raw.Principal, `${where}.Principal`),
    notPrincipals:
      raw.NotPrincipal === undefined
        ? undefined
        : principalEntries(raw.NotPrincipal, `${where}.NotPrincipal`),
    actions: raw.Action === undefined ? undefined : stringList(raw.Action, `${where}.Action`),
    notActions: raw.NotAction === undefined ? undefined : stringList(raw.NotAction, `${where}.NotAction`),
    resources: raw.Resource === undefined ? undefined : stringList(raw.Resource, `${where}.Resource`),
    notResources:
      raw.NotResource === undefined ? undefined : stringList(raw.NotResource, `${where}.NotResource`),
    conditions: parseConditions(raw.Condition, `${where}.Condition`),
    raw,
  };
}

/**
 * Builds the model from an already-parsed JSON value (the document's shape is still checked).
 * `kind` "identity" reads an identity policy (statements without Principal).
 */
export function policyFromJson(json: unknown, kind: PolicyKind = "resource"): PolicyDocument {
  if (!isRecord(json)) throw new InvalidInputError("policy: must be a JSON object");
  const version = json.Version;
  if (version !== undefined && version !== "2012-10-17" && version !== "2008-10-17") {
    throw new InvalidInputError(`policy.Version: must be "2012-10-17" or "2008-10-17"`);
  }
  if (json.Id !== undefined && typeof json.Id !== "string")
    throw new InvalidInputError("policy.Id: must be a string");
  const rawStatements = json.Statement;
  if (rawStatements === undefined) throw new InvalidInputError("policy.Statement: missing");
  const list = Array.isArray(rawStatements) ? rawStatements : [rawStatements];
  if (list.length === 0) throw new InvalidInputError("policy.Statement: must hold at least one statement");
  return {
    version: version as string | undefined,
    id: json.Id as string | undefined,
    statements: list.map((raw, i) => parseStatement(raw, i, kind)),
    raw: json,
  };
}

/** Why a policy text is too long to be a file-system policy, or `undefined`. */
export function policyLengthProblem(text: string): string | undefined {
  return text.length > MAX_POLICY_CHARS
    ? `policy: ${text.length} characters, more than the ${MAX_POLICY_CHARS} a file-system policy may have`
    : undefined;
}

/**
 * Parses a policy document as sent to PutFileSystemPolicy. Throws `InvalidInputError` with a plain
 * message for text that is not JSON (malformed or truncated), longer than 20,000 characters, or not
 * shaped like an IAM policy.
 */
export function parsePolicy(text: string, kind: PolicyKind = "resource"): PolicyDocument {
  // The intake checks a policy text and the judgement then reads it: parsed once. A document is
  // never changed once built (an edit builds a new one), so the same one can be handed out again.
  if (lastParsed?.text === text && lastParsed.kind === kind) return lastParsed.document;
  const tooLong = policyLengthProblem(text);
  if (tooLong) throw new InvalidInputError(tooLong);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new InvalidInputError(`policy: not valid JSON (malformed or truncated): ${detail}`);
  }
  const document = policyFromJson(json, kind);
  lastParsed = { text, kind, document };
  return document;
}

let lastParsed:
  | { readonly text: string; readonly kind: PolicyKind; readonly document: PolicyDocument }
  | undefined;

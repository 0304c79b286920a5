/**
 * Policies as formulas over the request space, for the solver (`solver.ts`).
 *
 * A request is a principal (one of six kinds, with symbolic parts: account `A`, name `N`, unique id
 * `U`, session `S`, service `SVC`), an action `ACT`, a resource `RES` and a context (each key
 * absent, or a non-empty set of values). A statement applies when its principal, action, resource
 * and condition parts hold; each part becomes a formula of literals:
 * - a template literal: a pattern (an automaton of `glob.ts`) matched, or not, against a text built
 *   from literal pieces and the symbolic parts, e.g. `arn:aws:iam::{A}:user/{N}` for `aws:PrincipalArn`
 *   of an IAM user (so every principal-derived key agrees with the caller's kind and account);
 * - a key literal: one condition clause on one context key, with IAM's rules for absent keys,
 *   `…IfExists`, `ForAnyValue:` / `ForAllValues:` and `Null`.
 * Formulas are built positive and negated structurally (negation normal form); the solver then
 * searches for a satisfying assignment.
 *
 * Policy variables (`${aws:username}`) make a literal depend on another key. The engine reads such a
 * literal as "unknown": true in whichever polarity it is used. That over-approximates what a policy
 * allows and under-approximates what its Denies take back (a Deny is never credited unless it
 * provably applies), so a proof stays a proof; a witness found this way is confirmed by the
 * concrete evaluator before it is reported, and a witness that does not confirm leaves the question
 * undecided.
 */
import { parseDate, parseIp, valueMatches } from "./conditions.ts";
import {
  type BaseOperator,
  type ConditionClause,
  NEGATED_OPERATORS,
  type PolicyDocument,
  type PolicyStatement,
  type PrincipalEntry,
  sameJson,
} from "./document.ts";
import {
  ARN_SHAPE,
  CharClass,
  compileGlob,
  compilePieces,
  compileStrictGlob,
  type Glob,
  globMatches,
  type PatternPiece,
  type Token,
} from "./glob.ts";
import { hasPolicyVariable, matchesAction, matchesPattern, splitVariables } from "./match.ts";

/** The kinds of caller. NFS clients that mount without IAM are anonymous. */
export type PrincipalKind = "anonymous" | "root" | "user" | "session" | "federated" | "service";

export const PRINCIPAL_KINDS: readonly PrincipalKind[] = [
  "anonymous",
  "root",
  "user",
  "session",
  "federated",
  "service",
];

/** Kinds with an AWS account (an IAM identity). */
export const AWS_KINDS: readonly PrincipalKind[] = ["root", "user", "session", "federated"];

/** The symbolic parts of a request. */
export type Sym = "A" | "N" | "U" | "S" | "SVC" | "ACT" | "RES";
export type Part = string | { readonly sym: Sym };
export type Template = readonly Part[];
export type Group = "principal" | "action" | "resource";

const A = { sym: "A" } as const;
const N = { sym: "N" } as const;
const U = { sym: "U" } as const;
const S = { sym: "S" } as const;
const SVC = { sym: "SVC" } as const;
export const ACT_TEMPLATE: Template = [{ sym: "ACT" }];
export const RES_TEMPLATE: Template = [{ sym: "RES" }];

/** A value constraint on one element of a key's values. */
export type ElemAtom =
  | {
      readonly t: "glob";
      /** Every glob must match (ARN operators add the six-part shape). */
      readonly globs: readonly Glob[];
      readonly neg: boolean;
      readonly base: BaseOperator;
      readonly value: string;
    }
  | {
      readonly t: "typed";
      readonly sort: "num" | "date" | "ip";
      readonly base: BaseOperator;
      readonly value: string;
      readonly neg: boolean;
    }
  | { readonly t: "const"; readonly value: boolean }
  /** Holds a policy variable: true in either polarity (see the module comment). */
  | { readonly t: "unknown" };

/** A condition clause on a context key: `absent` when the key is absent, else `q e ∈ values: junction(atoms(e))`. */
export interface KeyLit {
  readonly lit: "key";
  readonly key: string;
  readonly absent: boolean;
  readonly q: "all" | "some";
  readonly and: boolean;
  readonly atoms: readonly ElemAtom[];
  id: number;
}

/** A pattern matched (or, with `neg`, not matched) against a template. */
export interface TmplLit {
  readonly lit: "tmpl";
  readonly group: Group;
  readonly template: Template;
  readonly globs: readonly Glob[];
  readonly neg: boolean;
  id: number;
}

/**
 * A condition (or resource pattern) that holds a policy variable: its truth depends on two values of
 * the request at once, so the solver treats it as a free boolean, named by its text so that every
 * occurrence of the same condition (in both policies of an edit, say) takes the same value.
 */
export interface OpaqueLit {
  readonly lit: "opaque";
  readonly name: string;
  readonly neg: boolean;
}

export function opaque(name: string): OpaqueLit {
  return { lit: "opaque", name, neg: false };
}

export type Lit = KeyLit | TmplLit | OpaqueLit;
export interface Junction {
  readonly op: "and" | "or";
  readonly fs: readonly Formula[];
}
export type Formula = boolean | Lit | Junction;

export function and(fs: readonly Formula[]): Formula {
  return junction("and", fs);
}

export function or(fs: readonly Formula[]): Formula {
  return junction("or", fs);
}

/**
 * `first ∧ rest`, building `rest` only when `first` is not false: most frames of a question rule
 * its statement out at once (another kind of caller, another action), and the rest is then waste.
 */
export function andThen(first: Formula, rest: () => readonly Formula[]): Formula {
  return first === false ? false : and([first, ...rest()]);
}

/** A flattened conjunction or disjunction: its unit (true for and, false for or) drops out, its zero absorbs. */
function junction(op: Junction["op"], fs: readonly Formula[]): Formula {
  const unit = op === "and";
  const out: Formula[] = [];
  for (const f of fs) {
    if (f === unit) continue;
    if (f === !unit) return !unit;
    if (typeof f === "object" && "op" in f && f.op === op) out.push(...f.fs);
    else out.push(f);
  }
  if (out.length === 0) return unit;
  if (out.length === 1) return out[0] as Formula;
  return { op, fs: out };
}

function negateAtom(atom: ElemAtom): ElemAtom {
  if (atom.t === "const") return { t: "const", value: !atom.value };
  if (atom.t === "unknown") return atom;
  return { ...atom, neg: !atom.neg };
}

/**
 * Negations of the formulas built once and shared by many questions (a statement's, a policy's
 * Denies): undefined for a formula that is not shared, null until its negation is first asked for.
 * Fresh formulas are negated without being remembered (remembering every node costs more than
 * negating it again).
 */
const sharedNegations = new WeakMap<object, Formula | null>();

function share(f: Formula): Formula {
  if (typeof f === "object" && !sharedNegations.has(f)) sharedNegations.set(f, null);
  return f;
}

/** Negation normal form of ¬f. */
export function not(f: Formula): Formula {
  if (f === true) return false;
  if (f === false) return true;
  const known = sharedNegations.get(f);
  if (known === undefined) return negate(f);
  if (known !== null) return known;
  const negated = negate(f);
  sharedNegations.set(f, negated);
  return negated;
}

function negate(f: Exclude<Formula, boolean>): Formula {
  if ("op" in f) return f.op === "and" ? or(f.fs.map(not)) : and(f.fs.map(not));
  if (f.lit === "opaque") return { ...f, neg: !f.neg };
  if (f.lit === "tmpl") return { ...f, neg: !f.neg, id: 0 };
  return {
    ...f,
    absent: !f.absent,
    q: f.q === "all" ? "some" : "all",
    and: !f.and,
    atoms: f.atoms.map(negateAtom),
    id: 0,
  };
}

/** A principal fixed by the question (an identity policy's own principal; a bucket's file-system role). */
export interface FixedPrincipal {
  readonly kind: PrincipalKind;
  readonly account: string;
  /** User, role or federated-user name (without path). */
  readonly name: string;
  /** For a role given by its ARN: the role ARN itself (with its path). */
  readonly arn: string;
}

/** What is fixed while the formula of one branch of the search is built. */
export interface Frame {
  readonly kind: PrincipalKind;
  readonly partition: string;
  /** The action, or undefined when the action is a symbolic part (`ACT`). */
  readonly action: string | undefined;
  /** The resource, or undefined when it is a symbolic part (`RES`). */
  readonly resource: string | undefined;
  readonly fixed?: FixedPrincipal;
}

function sym(frame: Frame, s: "A" | "N"): Part {
  if (!frame.fixed) return s === "A" ? A : N;
  return s === "A" ? frame.fixed.account : frame.fixed.name;
}

/** The caller's ARN as the evaluator sees it (a session's own ARN), per kind. */
export function callerArnTemplate(frame: Frame): Template | undefined {
  const p = frame.partition;
  switch (frame.kind) {
    case "root":
      return [`arn:${p}:iam::`, sym(frame, "A"), ":root"];
    case "user":
      return frame.fixed ? [frame.fixed.arn] : [`arn:${p}:iam::`, A, ":user/", N];
    case "session":
      return [`arn:${p}:sts::`, sym(frame, "A"), ":assumed-role/", sym(frame, "N"), "/", S];
    case "federated":
      return [`arn:${p}:sts::`, sym(frame, "A"), ":federated-user/", sym(frame, "N")];
    default:
      return undefined;
  }
}

/** `aws:PrincipalArn`: for a session, the role's ARN. */
export function principalArnTemplate(frame: Frame): Template | undefined {
  if (frame.kind === "session")
    return frame.fixed ? [frame.fixed.arn] : [`arn:${frame.partition}:iam::`, A, ":role/", N];
  return callerArnTemplate(frame);
}

const PRINCIPAL_TYPES: Partial<Record<PrincipalKind, string>> = {
  root: "Account",
  user: "User",
  session: "AssumedRole",
  federated: "FederatedUser",
};

/**
 * The context keys IAM derives from the caller, as templates for a kind; undefined when the key is
 * absent for that kind. (IAM User Guide, global condition keys: `aws:userid` is the account for
 * the root user, the unique id for a user, `role-id:session-name` for a session and
 * `account:caller-specified-name` for a federated user.)
 */
export function derivedKeyTemplate(key: string, frame: Frame): Template | undefined {
  const aws = AWS_KINDS.includes(frame.kind);
  switch (key) {
    case "aws:principalarn":
      return principalArnTemplate(frame);
    case "aws:principalaccount":
      return aws ? [sym(frame, "A")] : undefined;
    case "aws:principaltype": {
      const type = PRINCIPAL_TYPES[frame.kind];
      return type === undefined ? undefined : [type];
    }
    case "aws:userid":
      if (frame.kind === "root") return [sym(frame, "A")];
      if (frame.kind === "user") return [U];
      if (frame.kind === "session") return [U, ":", S];
      if (frame.kind === "federated") return [sym(frame, "A"), ":", sym(frame, "N")];
      return undefined;
    case "aws:username":
      return frame.kind === "user" ? [sym(frame, "N")] : undefined;
    case "aws:principalservicename":
      return frame.kind === "service" ? [SVC] : undefined;
    default:
      return undefined;
  }
}

/** Keys fixed by the caller's kind (templates above). */
export const DERIVED_KEYS: ReadonlySet<string> = new Set([
  "aws:principalarn",
  "aws:principalaccount",
  "aws:principaltype",
  "aws:userid",
  "aws:username",
  "aws:principalservicename",
]);

/** Keys only a caller with an AWS identity can carry: absent for anonymous callers and services. */
export function identityOnlyKey(key: string): boolean {
  return (
    key === "aws:principalorgid" ||
    key === "aws:principalorgpaths" ||
    key.startsWith("aws:principaltag/") ||
    key === "aws:multifactorauthpresent" ||
    key === "aws:multifactorauthage"
  );
}

function tmpl(group: Group, template: Template, globs: readonly Glob[], neg = false): Formula {
  // A template without symbolic parts is decided here.
  if (template.every((p) => typeof p === "string")) {
    const text = template.join("");
    const matched = globs.every((g) => globMatches(g, text));
    return matched !== neg;
  }
  return { lit: "tmpl", group, template, globs, neg, id: 0 };
}

const ANY_NAME: Glob = {
  tokens: [
    { kind: "one", cls: CharClass.NotColon },
    { kind: "star", cls: CharClass.NotColon },
  ],
  ignoreCase: false,
};
const ACCOUNT: Glob = {
  tokens: Array.from({ length: 12 }, (): Token => ({ kind: "one", cls: CharClass.Digit })),
  ignoreCase: false,
};
const ANY_TEXT: Glob = {
  tokens: [
    { kind: "one", cls: CharClass.Any },
    { kind: "star", cls: CharClass.Any },
  ],
  ignoreCase: false,
};

/** What values a symbolic part may take. */
export function domainOf(s: Sym): Glob {
  if (s === "A") return ACCOUNT;
  if (s === "SVC" || s === "ACT" || s === "RES") return ANY_TEXT;
  return ANY_NAME;
}

const ROOT_ARN = /^arn:[^:]+:iam::(\d{12}):root$/;
const ACCOUNT_ID = /^\d{12}$/;

/** The account a Principal value names (an account id, or the account part of an ARN); else undefined. */
export function accountNamedBy(value: string): string | undefined {
  if (ACCOUNT_ID.test(value)) return value;
  // The fifth `:`-separated field (`arn:partition:service:region:account:…`), found without splitting.
  let start = 0;
  for (let colons = 0; colons < 4; colons++) {
    start = value.indexOf(":", start) + 1;
    if (start === 0) return undefined;
  }
  const end = value.indexOf(":", start);
  const account = value.slice(start, end === -1 ? undefined : end);
  return ACCOUNT_ID.test(account) ? account : undefined;
}

/** The account a Principal value stands for as a whole (an account id, or its root ARN); else undefined. */
export function wholeAccountOf(value: string): string | undefined {
  return ACCOUNT_ID.test(value) ? value : ROOT_ARN.exec(value)?.[1];
}

/** One entry of Principal / NotPrincipal, as the evaluator matches it (`evaluate.ts`). */
function principalEntryF(entry: PrincipalEntry, frame: Frame): Formula {
  const { kind } = frame;
  if (entry.type === "Service") {
    if (kind !== "service") return false;
    return tmpl("principal", [SVC], [compileGlob(entry.value, "equals")]);
  }
  if (entry.type !== "AWS") return false;
  if (entry.value === "*") return true;
  if (!AWS_KINDS.includes(kind)) return false;
  const value = entry.value;
  const account = wholeAccountOf(value);
  if (account !== undefined) return tmpl("principal", [sym(frame, "A")], [compileGlob(account, "equals")]);
  const caller = callerArnTemplate(frame) as Template;
  if (value.includes("*") || value.includes("?")) {
    // AWS rejects partial wildcards in principals; read one as broadly as it can match.
    const glob = compileGlob(value, "like");
    const candidates: Template[] = [caller, [`arn:${frame.partition}:iam::`, sym(frame, "A"), ":root"]];
    if (kind === "session") candidates.push(principalArnTemplate(frame) as Template);
    return or(candidates.map((t) => tmpl("principal", t, [glob])));
  }
  const glob = compileGlob(value, "equals");
  const options: Template[] = [caller];
  if (kind === "session") options.push(principalArnTemplate(frame) as Template);
  return or(options.map((t) => tmpl("principal", t, [glob])));
}

function principalF(statement: PolicyStatement, frame: Frame): Formula {
  if (statement.principals === undefined && statement.notPrincipals === undefined) return true;
  if (statement.principals) return or(statement.principals.map((e) => principalEntryF(e, frame)));
  return not(or((statement.notPrincipals ?? []).map((e) => principalEntryF(e, frame))));
}

/**
 * Whether a pattern matches a concrete action or resource, remembered: every frame of every
 * question asks the same few (a policy's patterns against the client actions and the file
 * system's ARN), and matching is a pure function of the two texts. Bounded.
 */
const MATCH_MEMO_LIMIT = 20_000;
const matchMemo = new Map<string, boolean>();

function memoMatch(kind: "a" | "r", pattern: string, value: string, match: () => boolean): boolean {
  // Without a wildcard the comparison is as cheap as the look-up.
  if (!pattern.includes("*") && !pattern.includes("?")) return match();
  // Length-prefixed: no pattern text can make two pairs share a key.
  const key = `${kind}${pattern.length}:${pattern}${value}`;
  let known = matchMemo.get(key);
  if (known === undefined) {
    known = match();
    if (matchMemo.size >= MATCH_MEMO_LIMIT) matchMemo.clear();
    matchMemo.set(key, known);
  }
  return known;
}

function actionF(statement: PolicyStatement, frame: Frame): Formula {
  const patterns = statement.actions ?? statement.notActions ?? [];
  let any: Formula;
  if (frame.action !== undefined) {
    const action = frame.action;
    any = patterns.some((p) => memoMatch("a", p, action, () => matchesAction(p, action)));
  } else {
    any = or(
      patterns.map((p) => (p === "*" ? true : tmpl("action", ACT_TEMPLATE, [compileGlob(p, "like", true)]))),
    );
  }
  return statement.actions ? any : not(any);
}

/** A glob for pattern pieces, cached when the pieces are one plain pattern (the common case). */
function globOfPieces(
  pieces: readonly PatternPiece[],
  mode: "like" | "equals" | "arn" | "resource",
  ignoreCase: boolean,
): Glob {
  const only = pieces[0];
  if (pieces.length === 1 && only !== undefined && !only.literal)
    return compileGlob(only.text, mode, ignoreCase);
  return compilePieces(pieces, mode, ignoreCase);
}

/** Pieces of a value with `${*}`-style escapes made literal; undefined when it holds a real variable. */
function escapedPieces(value: string, variables: boolean): PatternPiece[] | undefined {
  if (!variables || !value.includes("${")) return [{ text: value, literal: false }];
  const pieces: PatternPiece[] = [];
  for (const part of splitVariables(value)) {
    if (typeof part === "string") pieces.push({ text: part, literal: false });
    else if (part.escape !== undefined) pieces.push({ text: part.escape, literal: true });
    else return undefined;
  }
  return pieces;
}

function resourceF(statement: PolicyStatement, frame: Frame, variables: boolean): Formula {
  const patterns = statement.resources ?? statement.notResources;
  if (patterns === undefined) return true;
  const one = (pattern: string): Formula => {
    if (pattern === "*") return true;
    const pieces = escapedPieces(pattern, variables);
    if (!pieces) return opaque(`resource ${pattern}`);
    if (frame.resource !== undefined) {
      const text = pieces.map((p) => p.text).join("");
      const literal = pieces.every((p) => !p.literal);
      const resource = frame.resource;
      return literal
        ? memoMatch("r", text, resource, () => matchesPattern(text, resource, "resource"))
        : globMatches(globOfPieces(pieces, "resource", false), resource);
    }
    return tmpl("resource", RES_TEMPLATE, [globOfPieces(pieces, "resource", false)]);
  };
  const any = or(patterns.map(one));
  return statement.resources ? any : not(any);
}

const STRING_LIKE: ReadonlySet<BaseOperator> = new Set(["StringLike", "StringNotLike"]);

/** One policy value of a clause as an element atom (the operator's positive form). */
function elemAtom(base: BaseOperator, value: string, variables: boolean): ElemAtom {
  if (base.startsWith("Numeric")) {
    const ok = value.trim() !== "" && !Number.isNaN(Number(value));
    return ok ? { t: "typed", sort: "num", base, value, neg: false } : { t: "const", value: false };
  }
  if (base.startsWith("Date")) {
    return Number.isNaN(parseDate(value))
      ? { t: "const", value: false }
      : { t: "typed", sort: "date", base, value, neg: false };
  }
  if (base === "IpAddress" || base === "NotIpAddress") {
    return parseIp(value) === undefined
      ? { t: "const", value: false }
      : { t: "typed", sort: "ip", base, value, neg: false };
  }
  if (base === "Bool")
    return { t: "glob", globs: [compileGlob(value, "equals", true)], neg: false, base, value };
  if (base === "BinaryEquals")
    return { t: "glob", globs: [compileGlob(value, "equals")], neg: false, base, value };
  const acceptsVariables = base.startsWith("String") || base.startsWith("Arn");
  const pieces = escapedPieces(value, variables && acceptsVariables);
  if (!pieces) return { t: "unknown" };
  if (base.startsWith("Arn"))
    return { t: "glob", globs: [ARN_SHAPE, globOfPieces(pieces, "arn", false)], neg: false, base, value };
  const ignoreCase = base.endsWith("IgnoreCase");
  const mode = STRING_LIKE.has(base) ? "like" : "equals";
  return { t: "glob", globs: [globOfPieces(pieces, mode, ignoreCase)], neg: false, base, value };
}

/** One condition clause as a key literal, or an opaque one when it holds a policy variable. */
export function clauseF(clause: ConditionClause, variables: boolean): KeyLit | OpaqueLit {
  const acceptsVariables = clause.base.startsWith("String") || clause.base.startsWith("Arn");
  if (variables && acceptsVariables && clause.values.some(hasPolicyVariable))
    return opaque(`${clause.operator} ${clause.keyLower} ${JSON.stringify(clause.values)}`);
  return clauseLit(clause, variables);
}

/** One condition clause as a key literal (before the caller's kind is taken into account). */
export function clauseLit(clause: ConditionClause, variables: boolean): KeyLit {
  if (clause.base === "Null") {
    const wantsAbsent = clause.values.some((v) => v.toLowerCase() === "true");
    const wantsPresent = clause.values.some((v) => v.toLowerCase() === "false");
    return {
      lit: "key",
      key: clause.keyLower,
      absent: wantsAbsent,
      q: wantsPresent ? "all" : "some",
      and: wantsPresent,
      atoms: [],
      id: 0,
    };
  }
  const negated = NEGATED_OPERATORS.has(clause.base);
  const atoms = clause.values.map((v) => {
    const atom = elemAtom(clause.base, v, variables);
    return negated ? negateAtom(atom) : atom;
  });
  const absent =
    clause.set === "all" ? true : clause.set === "any" ? false : clause.ifExists ? true : negated;
  const q = clause.set === "all" ? "all" : clause.set === "any" ? "some" : negated ? "all" : "some";
  return { lit: "key", key: clause.keyLower, absent, q, and: negated, atoms, id: 0 };
}

/**
 * A key literal on a key the caller's kind fixes: decided (key absent for the kind), or turned into
 * template literals on the caller's symbolic parts.
 */
export function resolveDerived(lit: KeyLit, frame: Frame): Formula {
  if (keyAbsentFor(lit.key, frame)) return lit.absent;
  if (!DERIVED_KEYS.has(lit.key)) return lit;
  const anonymousValue = frame.kind === "anonymous" ? ANONYMOUS_VALUES[lit.key] : undefined;
  if (anonymousValue !== undefined) {
    // Either reading, chosen once per request (the same choice for both keys).
    const carried = opaque(ANONYMOUS_CARRIES_IDS);
    return or([and([carried, onValue(lit, [anonymousValue])]), and([not(carried), lit.absent])]);
  }
  const template = derivedKeyTemplate(lit.key, frame);
  if (template === undefined) return lit.absent;
  return onValue(lit, template);
}

/** A key no request of the frame's caller and action carries (`resolveDerived` reads it as absent). */
export function keyAbsentFor(key: string, frame: Frame): boolean {
  return (identityOnlyKey(key) && !AWS_KINDS.includes(frame.kind)) || otherFileSystemServiceKey(key, frame);
}

/** The condition-key prefixes of the two file-system services. */
const FILE_SYSTEM_KEY_PREFIXES = ["elasticfilesystem:", "s3files:"];

/**
 * A key of one file-system service in a request to the other: absent. A service puts its own keys
 * in its requests (S3 Files documents `s3files:AccessPointArn` and no `elasticfilesystem:` key; EFS
 * none of S3 Files'), so `elasticfilesystem:AccessedViaMountTarget` never reaches S3 Files.
 */
function otherFileSystemServiceKey(key: string, frame: Frame): boolean {
  const action = frame.action?.toLowerCase();
  if (action === undefined) return false;
  const prefix = FILE_SYSTEM_KEY_PREFIXES.find((p) => key.startsWith(p));
  return (
    prefix !== undefined &&
    FILE_SYSTEM_KEY_PREFIXES.some((p) => action.startsWith(p)) &&
    !action.startsWith(prefix)
  );
}

/**
 * AWS documents `aws:PrincipalType` = `Anonymous` and `aws:userid` = `anonymous` for anonymous
 * callers of Amazon S3 (and SQS, SNS), and says nothing of NFS clients that mount without IAM: an
 * anonymous caller is read as carrying both, or neither, whichever a question can use (the opaque
 * choice below; a witness that carries them says so in its context).
 */
const ANONYMOUS_VALUES: Readonly<Record<string, string>> = {
  "aws:principaltype": "Anonymous",
  "aws:userid": "anonymous",
};
export const ANONYMOUS_CARRIES_IDS = "an anonymous caller carries aws:PrincipalType and aws:userid";

/** A key literal on a present single value given by a template: the element formula applied to it. */
function onValue(lit: KeyLit, template: Template): Formula {
  const parts = lit.atoms.map((atom): Formula => {
    if (atom.t === "const") return atom.value;
    if (atom.t === "unknown") return opaque(`${lit.key} ?`);
    if (atom.t === "glob") return tmpl("principal", template, atom.globs, atom.neg);
    if (template.every((p) => typeof p === "string")) return typedHolds(atom, template.join(""));
    // A number, date or address compared with an ARN or account: a free boolean (confirmed later).
    return opaque(`${lit.key} ${atom.base} ${atom.value}`);
  });
  return lit.and ? and(parts) : or(parts);
}

/** Concrete truth of an atom on a value (the evaluator's own comparison). */
export function atomHolds(atom: ElemAtom, value: string): boolean {
  if (atom.t === "const") return atom.value;
  if (atom.t === "unknown") return true;
  if (atom.t === "typed") return typedHolds(atom, value);
  return atom.globs.every((g) => globMatches(g, value)) !== atom.neg;
}

function typedHolds(atom: Extract<ElemAtom, { t: "typed" }>, value: string): boolean {
  return valueMatches(atom.base, atom.value, value, undefined) !== atom.neg;
}

const FRAME_LIMIT = 1_024;
/** Interned frames: by what a question fixes (partition, resource, caller), then kind, then action. */
const frames = new Map<string, FrameTable>();

/** The frames of one space (partition, resource, caller), by kind and action. */
export class FrameTable {
  private readonly byKind = new Map<PrincipalKind, Map<string | undefined, Frame>>();

  constructor(
    private readonly partition: string,
    private readonly resource: string | undefined,
    private readonly fixed: FixedPrincipal | undefined,
  ) {}

  frame(kind: PrincipalKind, action: string | undefined): Frame {
    let byAction = this.byKind.get(kind);
    if (byAction === undefined) {
      byAction = new Map();
      this.byKind.set(kind, byAction);
    }
    let frame = byAction.get(action);
    if (frame === undefined) {
      const { partition, resource, fixed } = this;
      frame = { kind, partition, action, resource, ...(fixed ? { fixed } : {}) };
      byAction.set(action, frame);
    }
    return frame;
  }
}

/**
 * The one frame table for these values: frames are interned, so the formulas built for a frame
 * are remembered by its identity (a look-up per statement and frame, no key to build). Bounded.
 */
export function frameTable(
  partition: string,
  resource: string | undefined,
  fixed?: FixedPrincipal,
): FrameTable {
  const fixedKey = fixed ? `${fixed.kind}|${fixed.arn}|${fixed.account}|${fixed.name}` : "";
  const key = `${partition}|${resource ?? "*"}|${fixedKey}`;
  let table = frames.get(key);
  if (table === undefined) {
    if (frames.size >= FRAME_LIMIT) frames.clear();
    table = new FrameTable(partition, resource, fixed);
    frames.set(key, table);
  }
  return table;
}

/** Per-frame formulas of an immutable object (a statement, a policy), with and without policy variables. */
class PerFrame<K extends object> {
  private readonly known = new WeakMap<K, [Map<Frame, Formula>, Map<Frame, Formula>]>();

  get(owner: K, frame: Frame, variables: boolean, build: () => Formula): Formula {
    let pair = this.known.get(owner);
    if (!pair) {
      pair = [new Map(), new Map()];
      this.known.set(owner, pair);
    }
    const byFrame = pair[variables ? 1 : 0];
    let formula = byFrame.get(frame);
    if (formula === undefined) {
      formula = share(build());
      byFrame.set(frame, formula);
    }
    return formula;
  }
}

/**
 * Formulas are immutable: one per statement text and frame, shared by every question. By text, not
 * by object: an edited policy is parsed anew, yet most of its statements are the current policy's,
 * word for word (and a warm function sees the same statements again and again). Bounded.
 */
const statementFormulas = new PerFrame<object>();
const STATEMENT_LIMIT = 2_000;
const statementIdentities = new Map<string, object>();
/** By raw statement JSON (never changed once parsed: an edit changes a copy), for open and closed readings. */
const identityOfRaw = [new WeakMap<object, object>(), new WeakMap<object, object>()] as const;

/**
 * One object per statement text (what its formulas are remembered by): two statements with the same
 * identity are the same words. (After the bounded table is emptied, equal words may get a second
 * identity: a missed "same", never a false one.)
 */
export function statementIdentity(statement: PolicyStatement): object {
  // Whether the statement names principals at all depends on the policy kind, not only its text.
  const open = statement.principals === undefined && statement.notPrincipals === undefined;
  // An edited policy keeps the current policy's unchanged statements as the same JSON objects.
  const byRaw = identityOfRaw[open ? 0 : 1];
  let identity = byRaw.get(statement.raw);
  if (identity === undefined) {
    const text = `${open ? "i" : "r"}${JSON.stringify(statement.raw)}`;
    identity = statementIdentities.get(text);
    if (identity === undefined) {
      identity = {};
      if (statementIdentities.size >= STATEMENT_LIMIT) statementIdentities.clear();
      statementIdentities.set(text, identity);
    }
    byRaw.set(statement.raw, identity);
  }
  return identity;
}

/** The two statements are the same words (same effect, same JSON, principals read alike). */
export function sameStatement(a: PolicyStatement, b: PolicyStatement): boolean {
  return (
    a.effect === b.effect &&
    (a.principals === undefined && a.notPrincipals === undefined) ===
      (b.principals === undefined && b.notPrincipals === undefined) &&
    sameJson(a.raw, b.raw)
  );
}

/** The formula "this statement applies" for one frame. */
export function statementF(statement: PolicyStatement, frame: Frame, variables: boolean): Formula {
  return statementFormulas.get(statementIdentity(statement), frame, variables, () =>
    buildStatementF(statement, frame, variables),
  );
}

/** A clause's literal does not depend on the frame: built once per clause, for every frame. */
const clauseLits = new WeakMap<
  ConditionClause,
  [KeyLit | OpaqueLit | undefined, KeyLit | OpaqueLit | undefined]
>();

function clauseOnce(clause: ConditionClause, variables: boolean): KeyLit | OpaqueLit {
  let pair = clauseLits.get(clause);
  if (pair === undefined) {
    pair = [undefined, undefined];
    clauseLits.set(clause, pair);
  }
  const slot = variables ? 1 : 0;
  let lit = pair[slot];
  if (lit === undefined) {
    lit = clauseF(clause, variables);
    pair[slot] = lit;
  }
  return lit;
}

function buildStatementF(statement: PolicyStatement, frame: Frame, variables: boolean): Formula {
  // The Principal, Action and Resource elements rule out most frames: the rest is not built then.
  const parts: Formula[] = [];
  for (const element of [principalF, actionF] as const) {
    const f = element(statement, frame);
    if (f === false) return false;
    parts.push(f);
  }
  const resource = resourceF(statement, frame, variables);
  if (resource === false) return false;
  parts.push(resource);
  for (const clause of statement.conditions) {
    const lit = clauseOnce(clause, variables);
    parts.push(lit.lit === "key" ? resolveDerived(lit, frame) : lit);
  }
  return and(parts);
}

export function variablesOf(policy: PolicyDocument): boolean {
  return policy.version === "2012-10-17";
}

/** Some Allow statement of the policy applies. */
export function anyAllowF(policy: PolicyDocument, frame: Frame): Formula {
  const v = variablesOf(policy);
  return or(policy.statements.filter((s) => s.effect === "Allow").map((s) => statementF(s, frame, v)));
}

const denyFormulas = new PerFrame<PolicyDocument>();

/** Some Deny statement of the policy applies. */
export function anyDenyF(policy: PolicyDocument, frame: Frame): Formula {
  const v = variablesOf(policy);
  return denyFormulas.get(policy, frame, v, () =>
    or(policy.statements.filter((s) => s.effect === "Deny").map((s) => statementF(s, frame, v))),
  );
}

/** The policy allows the request: an Allow applies and no Deny does. */
export function allowedF(policy: PolicyDocument, frame: Frame): Formula {
  return and([anyAllowF(policy, frame), not(anyDenyF(policy, frame))]);
}

/** A key literal built directly (for questions): `key` holds one of `values` (fixed, exact). */
export function keyEquals(key: string, values: readonly string[], ignoreCase = false): KeyLit {
  return {
    lit: "key",
    key,
    absent: false,
    q: "some",
    and: false,
    atoms: values.map((value) => ({
      t: "glob" as const,
      globs: [compileGlob(value, "equals", ignoreCase)],
      neg: false,
      base: (ignoreCase ? "StringEqualsIgnoreCase" : "StringEquals") as BaseOperator,
      value,
    })),
    id: 0,
  };
}

/** `key` is present with some value matching one of the glob patterns. */
export function keyLike(key: string, patterns: readonly string[]): KeyLit {
  return {
    lit: "key",
    key,
    absent: false,
    q: "some",
    and: false,
    atoms: patterns.map((value) => ({
      t: "glob" as const,
      globs: [compileGlob(value, "like")],
      neg: false,
      base: "StringLike" as BaseOperator,
      value,
    })),
    id: 0,
  };
}

/** `key` is present with some address in one of the ranges. */
export function keyInRanges(key: string, cidrs: readonly string[]): KeyLit {
  return {
    lit: "key",
    key,
    absent: false,
    q: "some",
    and: false,
    atoms: cidrs.map((value) => ({
      t: "typed" as const,
      sort: "ip" as const,
      base: "IpAddress" as BaseOperator,
      value,
      neg: false,
    })),
    id: 0,
  };
}

/** The caller's account is one of `accounts` (false for callers without an account). */
export function accountIn(frame: Frame, accounts: readonly string[]): Formula {
  if (!AWS_KINDS.includes(frame.kind)) return false;
  return or(accounts.map((a) => tmpl("principal", [sym(frame, "A")], [compileGlob(a, "equals")])));
}

/** The caller is one of the principals named by these ARNs or account ids (Principal-element semantics). */
export function principalIn(frame: Frame, values: readonly string[]): Formula {
  return or(values.map((value) => principalEntryF({ type: "AWS", value }, frame)));
}

/** The action (when symbolic) matches one of the patterns (case-insensitive). */
export function actionLike(frame: Frame, patterns: readonly string[]): Formula {
  if (frame.action !== undefined) {
    const action = frame.action;
    return patterns.some((p) => matchesAction(p, action));
  }
  return or(patterns.map((p) => tmpl("action", ACT_TEMPLATE, [compileGlob(p, "like", true)])));
}

/**
 * The resource (when symbolic) matches one of the patterns: `like` (wildcards match anything, e.g.
 * object keys) or `strict` (wildcards never match `:`, e.g. file-system and access-point ARNs).
 */
export function resourceLike(frame: Frame, patterns: readonly string[], mode: "strict" | "like"): Formula {
  const globs = patterns.map((p) => (mode === "strict" ? compileStrictGlob(p) : compileGlob(p, "like")));
  if (frame.resource !== undefined) {
    const resource = frame.resource;
    return globs.some((g) => globMatches(g, resource));
  }
  return or(globs.map((g) => tmpl("resource", RES_TEMPLATE, [g])));
}

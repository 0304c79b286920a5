// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables are written ${key}
/**
 * A differential oracle for file-system resource policies that reasons over every request, not a
 * sample: the policy is encoded into the Z3 SMT solver as AWS's Zelkova does (Backes et al.,
 * "Semantic-based automated reasoning for AWS access policies using SMT", FMCAD 2018), and each
 * question the engine answers ("is a client action allowed to someone outside the trusted
 * accounts?", "does the edited policy allow a request the current one denies?") becomes one
 * satisfiability query. `sat` comes with a model, turned back into a concrete request (a witness);
 * `unsat` is a proof over every request of the model below.
 *
 * Development-only (like `@cloud-copilot/iam-simulate`): imported from test/, bench/ and scripts/,
 * never from shared/, functions/ or cli/, and kept out of every bundle by `esbuild.config.ts`.
 *
 * The request model:
 * - the caller is one of: anonymous (an NFS client mounting without IAM), an account root, an IAM
 *   user, a role session, an STS federated user, or an AWS service principal; its account is any
 *   12-digit id, its names any IAM name, and the keys IAM derives from it are tied to it:
 *   `aws:PrincipalArn` (the role, not the session, for a role session), `aws:PrincipalAccount`,
 *   `aws:PrincipalType` (`Account`, `User`, `AssumedRole`, `FederatedUser`, `Anonymous`),
 *   `aws:userid` (the account for a root, `ROLEID:session`, `account:name`, `anonymous`),
 *   `aws:username` (users only), `aws:PrincipalOrgID` / `aws:PrincipalOrgPaths` (any organization,
 *   or none; ids and paths of AWS Organizations' shapes), `aws:PrincipalServiceName` (services only);
 * - an anonymous caller carries `aws:PrincipalType = Anonymous` and `aws:userid = anonymous`, or
 *   neither: the IAM User Guide documents those values for anonymous callers of Amazon S3, SQS and
 *   SNS only ("Request information that you can use for policy variables") and says nothing of NFS
 *   clients that mount without IAM, so both readings are requests AWS may send;
 * - a service's own keys (`s3files:…`, `elasticfilesystem:…`) are absent from requests to the other;
 *   the organization, MFA, token and principal-tag keys only come with an authenticated caller;
 * - every other condition key is independent: absent, or present with a value of its type: strings
 *   (printable ASCII), numbers (reals on a 1/1000 grid, finer than any value the generator writes),
 *   dates (integer milliseconds), booleans, IPv4/IPv6 addresses (bit-vectors); multi-valued keys
 *   (`aws:PrincipalOrgPaths`, `aws:TagKeys`, `aws:CalledVia`) hold up to three values;
 * - the action is one of the service's three client actions; the resource is the file system.
 *
 * Matching, as the IAM User Guide documents it:
 * - `StringLike`, `Action`: `*` any sequence, `?` any one character; actions ignore case;
 *   `...IgnoreCase` folds ASCII case;
 * - `Resource` / `NotResource`: `*` and `?` stay inside an ARN segment, except a `*` that ends a
 *   segment, which may match across colons ("Resource" element);
 * - `ArnLike` / `ArnEquals`: part by part (a value with fewer than six parts matches nothing); a
 *   `*` in the pattern's last part may span the rest of the ARN, so `"*"` matches every ARN (AWS
 *   does not say how a pattern with fewer than six parts matches: this is the broad reading).
 */
import type { Arith, BitVec, Bool, Context, Expr, Model, Re, Seq, Solver, Z3HighLevel } from "z3-solver";

export type FileSystemService = "s3files" | "efs";

/** What a policy is judged against (the same fields as the engine's `PolicyScope`). */
export interface OracleScope {
  readonly service: FileSystemService;
  readonly ownerAccount: string;
  readonly region: string;
  readonly fileSystemId: string;
  readonly trustedAccounts: readonly string[];
  readonly adminPrincipals: readonly string[];
}

export type PrincipalKind = "anonymous" | "root" | "user" | "role-session" | "federated-user" | "service";
const KINDS: readonly PrincipalKind[] = [
  "anonymous",
  "root",
  "user",
  "role-session",
  "federated-user",
  "service",
];
export const AUTHENTICATED_KINDS: readonly PrincipalKind[] = [
  "root",
  "user",
  "role-session",
  "federated-user",
];

/** A concrete request, in the engine's request shape (principal, action, resource, lower-cased context). */
export interface OracleRequest {
  readonly kind: PrincipalKind;
  readonly principal:
    | { readonly kind: "anonymous" }
    | { readonly kind: "aws"; readonly arn: string; readonly account: string; readonly roleArn?: string }
    | { readonly kind: "service"; readonly service: string };
  readonly action: string;
  readonly resource: string;
  readonly context: ReadonlyMap<string, string | readonly string[]>;
}

export type OracleAnswer =
  | { readonly verdict: "sat"; readonly witness: OracleRequest }
  | { readonly verdict: "unsat" }
  | { readonly verdict: "unknown"; readonly reason: string };

/** A policy shape the encoding does not cover (the generator never writes one). */
export class UnsupportedPolicyError extends Error {}

// ---------------------------------------------------------------------------------------------
// An independent reading of the policy JSON (the oracle shares no code with the engine).

interface Clause {
  readonly base: string;
  readonly ifExists: boolean;
  readonly set: "any" | "all" | undefined;
  readonly key: string;
  readonly values: readonly string[];
}

interface PrincipalRef {
  readonly type: string;
  readonly value: string;
}

interface Statement {
  readonly effect: "Allow" | "Deny";
  readonly principals: readonly PrincipalRef[] | undefined;
  readonly notPrincipals: readonly PrincipalRef[] | undefined;
  readonly actions: readonly string[] | undefined;
  readonly notActions: readonly string[] | undefined;
  readonly resources: readonly string[] | undefined;
  readonly notResources: readonly string[] | undefined;
  readonly conditions: readonly Clause[];
}

interface Policy {
  readonly variables: boolean;
  readonly statements: readonly Statement[];
}

const NEGATED = new Set([
  "stringnotequals",
  "stringnotequalsignorecase",
  "stringnotlike",
  "numericnotequals",
  "datenotequals",
  "notipaddress",
  "arnnotequals",
  "arnnotlike",
]);

function list(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value : [value]).map(String);
}

function principalRefs(value: unknown): PrincipalRef[] | undefined {
  if (value === undefined) return undefined;
  if (value === "*") return [{ type: "AWS", value: "*" }];
  const refs: PrincipalRef[] = [];
  for (const [type, values] of Object.entries(value as Record<string, unknown>))
    for (const v of list(values) ?? []) refs.push({ type, value: v });
  return refs;
}

function readClauses(value: unknown): Clause[] {
  const clauses: Clause[] = [];
  for (const [operator, block] of Object.entries((value ?? {}) as Record<string, unknown>)) {
    let rest = operator.toLowerCase();
    let set: Clause["set"];
    if (rest.startsWith("foranyvalue:")) [set, rest] = ["any", rest.slice(12)];
    else if (rest.startsWith("forallvalues:")) [set, rest] = ["all", rest.slice(13)];
    const ifExists = rest.endsWith("ifexists");
    if (ifExists) rest = rest.slice(0, -8);
    for (const [key, values] of Object.entries(block as Record<string, unknown>))
      clauses.push({ base: rest, ifExists, set, key: key.toLowerCase(), values: list(values) ?? [] });
  }
  return clauses;
}

/** Reads a policy document (already valid JSON of an IAM policy). */
export function readPolicy(json: unknown): Policy {
  const doc = json as Record<string, unknown>;
  const raw = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  return {
    variables: doc.Version === "2012-10-17",
    statements: raw.map((s: Record<string, unknown>) => ({
      effect: s.Effect as "Allow" | "Deny",
      principals: principalRefs(s.Principal),
      notPrincipals: principalRefs(s.NotPrincipal),
      actions: list(s.Action),
      notActions: list(s.NotAction),
      resources: list(s.Resource),
      notResources: list(s.NotResource),
      conditions: readClauses(s.Condition),
    })),
  };
}

// ---------------------------------------------------------------------------------------------
// Key types.

type KeyType = "string" | "numeric" | "date" | "bool" | "ip";

const KNOWN_TYPES: Record<string, KeyType> = {
  "aws:sourceip": "ip",
  "aws:securetransport": "bool",
  "aws:viaawsservice": "bool",
  "aws:multifactorauthpresent": "bool",
  "elasticfilesystem:accessedviamounttarget": "bool",
  "aws:multifactorauthage": "numeric",
  "aws:epochtime": "date",
  "aws:currenttime": "date",
  "aws:tokenissuetime": "date",
};

const MULTI_VALUED = new Set(["aws:principalorgpaths", "aws:tagkeys", "aws:calledvia"]);
const MAX_VALUES = 2;

/**
 * Keys only a caller with credentials carries (IAM User Guide, global condition keys: the
 * organization keys for a principal in an organization, the MFA keys and aws:TokenIssueTime for
 * requests signed with credentials, aws:PrincipalTag/* for a principal's tags): absent for anonymous
 * callers and service principals.
 */
const IDENTITY_KEYS = new Set([
  "aws:principalorgid",
  "aws:principalorgpaths",
  "aws:multifactorauthage",
  "aws:multifactorauthpresent",
  "aws:tokenissuetime",
]);

/** Keys IAM fills from the caller; never chosen independently of it. */
const DERIVED = new Set([
  "aws:principalarn",
  "aws:principalaccount",
  "aws:principaltype",
  "aws:userid",
  "aws:username",
  "aws:principalorgid",
  "aws:principalorgpaths",
  "aws:principalservicename",
]);

function typeOfOperator(base: string): KeyType | undefined {
  if (base.startsWith("numeric")) return "numeric";
  if (base.startsWith("date")) return "date";
  if (base === "bool") return "bool";
  if (base === "ipaddress" || base === "notipaddress") return "ip";
  if (base === "null") return undefined;
  return "string";
}

/** Keys whose fixed values keep a wildcard-principal grant from being public (AWS's published list). */
const LIMITING_STRING_KEYS = [
  "aws:sourcearn",
  "aws:sourcevpc",
  "aws:sourcevpce",
  "aws:sourceowner",
  "aws:sourceaccount",
  "aws:userid",
];

// ---------------------------------------------------------------------------------------------
// The solver.

type Z = Context<"oracle">;

interface KeyVar {
  readonly key: string;
  readonly type: KeyType;
  readonly present: Bool<"oracle">;
  readonly count: Arith<"oracle">;
  readonly slots: number;
  /** Filled from the caller (no free variable of its own). */
  readonly derived?: boolean;
  /** Values restricted to printable ASCII (keys compared ignoring case, where folding must stay ASCII). */
  readonly printable?: boolean;
  /** One expression per slot, of the key's sort. */
  readonly values: readonly Expr<"oracle">[];
  /** IP keys: per slot, IPv6 or not, and the two addresses. */
  readonly v6?: readonly Bool<"oracle">[];
  readonly v4addr?: readonly BitVec<32, "oracle">[];
  readonly v6addr?: readonly BitVec<128, "oracle">[];
}

/** What the policies use that the encoding must provide for. */
interface Shape {
  /** Keys compared ignoring case. */
  readonly folded: ReadonlySet<string>;
  /** Some IPv6 address or range is mentioned. */
  readonly ipv6: boolean;
}

function shapeOf(policies: readonly Policy[], pin: OracleRequest | undefined): Shape {
  const folded = new Set<string>();
  let ipv6 = false;
  for (const p of policies)
    for (const s of p.statements)
      for (const c of s.conditions) {
        if (c.base.endsWith("ignorecase")) folded.add(c.key);
        if ((c.base === "ipaddress" || c.base === "notipaddress") && c.values.some((v) => v.includes(":")))
          ipv6 = true;
      }
  const ip = pin?.context.get("aws:sourceip");
  if (typeof ip === "string" && ip.includes(":")) ipv6 = true;
  return { folded, ipv6 };
}

interface RequestVars {
  /** The kinds of caller this query covers; with more than one, `kindVar` picks among them. */
  readonly kinds: readonly PrincipalKind[];
  readonly kindVar: Arith<"oracle">;
  readonly account: Seq<"oracle">;
  readonly userName: Seq<"oracle">;
  readonly roleName: Seq<"oracle">;
  readonly sessionName: Seq<"oracle">;
  readonly fedName: Seq<"oracle">;
  readonly userUniqueId: Seq<"oracle">;
  readonly roleUniqueId: Seq<"oracle">;
  readonly service: Seq<"oracle">;
  /** An anonymous caller carries `aws:PrincipalType` and `aws:userid` (Amazon S3's reading) or neither. */
  readonly anonymousKeys: Bool<"oracle">;
  /** The action, as an index into `actions` (the service's client actions). */
  readonly action: Arith<"oracle">;
  readonly actions: readonly string[];
  readonly keys: Map<string, KeyVar>;
}

let z3Promise: Promise<Z3HighLevel> | undefined;

/** Starts Z3 once per process (the WASM module takes a fraction of a second to load). */
async function z3(): Promise<Z3HighLevel> {
  z3Promise ??= import("z3-solver").then(async (module) => {
    const api = await module.init();
    return api as unknown as Z3HighLevel;
  });
  return z3Promise;
}

export interface OracleOptions {
  /** Milliseconds a query about one kind of caller may take before Z3 gives up with `unknown`. */
  readonly timeoutMs?: number;
  /**
   * Milliseconds for the first try of a question over several kinds of caller at once; on a
   * timeout it is asked again once per kind (smaller queries, each with `timeoutMs`).
   */
  readonly groupTimeoutMs?: number;
}

/** A query Z3 neither answered nor gave up on in time, even when interrupted: the Z3 context is unusable. */
export class OracleHangError extends Error {}

/** The solver's statistics: calls and time, and the queries retried or left unknown. */
export interface OracleStats {
  calls: number;
  ms: number;
  /** Questions over several kinds whose first try timed out and were asked again kind by kind. */
  split: number;
  /** Queries that ended `unknown` (a timeout), after any retry. */
  unknown: number;
}

function prefixOf(service: FileSystemService): string {
  return service === "efs" ? "elasticfilesystem" : "s3files";
}

export function clientActionsOf(service: FileSystemService): readonly string[] {
  const prefix = prefixOf(service);
  return [`${prefix}:ClientMount`, `${prefix}:ClientWrite`, `${prefix}:ClientRootAccess`];
}

export function fileSystemArnOf(scope: OracleScope): string {
  return `arn:aws:${prefixOf(scope.service)}:${scope.region}:${scope.ownerAccount}:file-system/${scope.fileSystemId}`;
}

/** Every 12-digit account id written anywhere in the policies, the owner and the trusted accounts. */
function knownAccounts(jsons: readonly unknown[], scope: OracleScope): string[] {
  const found = new Set<string>([scope.ownerAccount, ...scope.trustedAccounts]);
  for (const json of jsons)
    for (const m of JSON.stringify(json).matchAll(/(?<!\d)\d{12}(?!\d)/g)) found.add(m[0]);
  return [...found];
}

/** Accounts the policies name as principals (the engine's "cross-account" set): Principal elements and fixed principal keys. */
function namedAccounts(policies: readonly Policy[]): Set<string> {
  const named = new Set<string>();
  const take = (text: string) => {
    if (text.includes("*") || text.includes("?") || text.includes("${")) return;
    if (/^\d{12}$/.test(text)) named.add(text);
    const arn = /^arn:[^:]*:(?:iam|sts)::(\d{12}):/.exec(text);
    if (arn) named.add(arn[1] as string);
  };
  for (const policy of policies)
    for (const s of policy.statements) {
      for (const p of [...(s.principals ?? []), ...(s.notPrincipals ?? [])])
        if (p.type === "AWS") take(p.value);
      for (const c of s.conditions)
        if (c.key === "aws:principalaccount" || c.key === "aws:principalarn")
          for (const v of c.values) take(v);
    }
  return named;
}

function parseDateMs(text: string): number {
  if (/^-?\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  return Date.parse(text);
}

interface ParsedCidr {
  readonly v6: boolean;
  readonly bits: bigint;
  readonly prefix: number;
}

function parseV4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n);
}

function parseV6(text: string): bigint | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const left = groups(halves[0] as string);
  const right = halves.length === 2 ? groups(halves[1] as string) : [];
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...right];
  if (all.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return all.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
}

export function parseCidrText(text: string): ParsedCidr | undefined {
  const [address = "", prefixText, extra] = text.split("/");
  if (extra !== undefined) return undefined;
  const v6 = address.includes(":");
  const bits = v6 ? parseV6(address) : parseV4(address);
  const width = v6 ? 128 : 32;
  const prefix = prefixText === undefined ? width : /^\d+$/.test(prefixText) ? Number(prefixText) : -1;
  if (bits === undefined || prefix < 0 || prefix > width) return undefined;
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(width - prefix);
  return { v6, bits: bits & mask, prefix };
}

export function formatV4(bits: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((bits >> s) & 255n)).join(".");
}

export function formatV6(bits: bigint): string {
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((bits >> BigInt(i * 16)) & 0xffffn).toString(16));
  return groups.join(":");
}

/** Private and non-routable space, as the product classifies it (RFC 1918, CGNAT, loopback, link-local, ULA). */
const PRIVATE_RANGES = [
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "fc00::/7",
  "fe80::/10",
  "::1/128",
].map((c) => parseCidrText(c) as ParsedCidr);

/** A value with `${...}` parts, split: literal text and variables (with their defaults). */
type Part = { readonly literal: string } | { readonly variable: string; readonly fallback?: string };

function splitVariables(value: string, enabled: boolean): Part[] {
  if (!enabled || !value.includes("${")) return [{ literal: value }];
  const parts: Part[] = [];
  let i = 0;
  while (i < value.length) {
    const start = value.indexOf("${", i);
    const end = start === -1 ? -1 : value.indexOf("}", start + 2);
    if (start === -1 || end === -1) {
      parts.push({ literal: value.slice(i) });
      break;
    }
    if (start > i) parts.push({ literal: value.slice(i, start) });
    const inner = value.slice(start + 2, end).trim();
    if (inner === "*" || inner === "?" || inner === "$") parts.push({ literal: inner });
    else {
      const comma = inner.indexOf(",");
      const key = (comma === -1 ? inner : inner.slice(0, comma)).trim().toLowerCase();
      const fallback = comma === -1 ? undefined : /^'(.*)'$/.exec(inner.slice(comma + 1).trim())?.[1];
      parts.push(fallback === undefined ? { variable: key } : { variable: key, fallback });
    }
    i = end + 1;
  }
  return parts;
}

/**
 * One oracle per process and test file: Z3's WASM module is loaded once; every query runs in its
 * own solver.
 */
export class PolicyOracle {
  /** Solver calls made and the time they took (a question is one call per group of caller kinds). */
  readonly stats: OracleStats = { calls: 0, ms: 0, split: 0, unknown: 0 };
  private constructor(
    private readonly z: Z,
    private readonly timeoutMs: number,
    private readonly groupTimeoutMs: number,
  ) {}

  static async create(options: OracleOptions = {}): Promise<PolicyOracle> {
    const api = await z3();
    const timeoutMs = options.timeoutMs ?? 20_000;
    return new PolicyOracle(
      api.Context("oracle"),
      timeoutMs,
      Math.min(timeoutMs, options.groupTimeoutMs ?? 1_000),
    );
  }

  /** Disjunction; the API's `Or` rejects a single argument in some builds, so one is returned as is. */
  private any(...fs: Bool<"oracle">[]): Bool<"oracle"> {
    if (fs.length === 0) return this.z.Bool.val(false);
    if (fs.length === 1) return fs[0] as Bool<"oracle">;
    return this.z.Or(...fs);
  }

  /** Conjunction, as `any`. */
  private all(...fs: Bool<"oracle">[]): Bool<"oracle"> {
    if (fs.length === 0) return this.z.Bool.val(true);
    if (fs.length === 1) return fs[0] as Bool<"oracle">;
    return this.z.And(...fs);
  }

  /** String equality with a constant (the API coerces no JavaScript string in `eq`). */
  private is(seq: Seq<"oracle">, text: string | Seq<"oracle">): Bool<"oracle"> {
    return seq.eq(typeof text === "string" ? this.z.String.val(text) : text);
  }

  // ----- regular expressions (built once per pattern: building terms through the API costs as much as solving)

  private readonly regexes = new Map<string, Re<"oracle">>();

  private cached(key: string, make: () => Re<"oracle">): Re<"oracle"> {
    let re = this.regexes.get(key);
    if (!re) {
      re = make();
      this.regexes.set(key, re);
    }
    return re;
  }

  private printable(): Re<"oracle"> {
    return this.cached("printable", () => this.makePrintable());
  }

  private makePrintable(): Re<"oracle"> {
    return this.z.Range(" ", "~");
  }

  private anyString(): Re<"oracle"> {
    return this.cached("any", () => this.makeAnyString());
  }

  private makeAnyString(): Re<"oracle"> {
    return this.z.Star(this.printable());
  }

  private notColon(): Re<"oracle"> {
    return this.cached("notColon", () => this.makeNotColon());
  }

  private makeNotColon(): Re<"oracle"> {
    return this.z.Union(this.z.Range(" ", "9"), this.z.Range(";", "~"));
  }

  private orgIdRe(): Re<"oracle"> {
    return this.cached("orgId", () =>
      this.z.ReConcat(this.z.Re.toRe("o-"), this.z.Loop(this.lowerAlnum(), 10, 32)),
    );
  }

  private orgPathRe(): Re<"oracle"> {
    return this.cached("orgPath", () => {
      const z = this.z;
      const id = (prefix: string, lo: number) =>
        z.ReConcat(z.Re.toRe(prefix), z.Loop(this.lowerAlnum(), lo, 32));
      const ou = z.ReConcat(id("ou-", 4), id("-", 8), z.Re.toRe("/"));
      return z.ReConcat(this.orgIdRe(), z.Re.toRe("/"), id("r-", 4), z.Re.toRe("/"), z.Star(ou));
    });
  }

  private lowerAlnum(): Re<"oracle"> {
    return this.cached("lowerAlnum", () => this.z.Union(this.z.Range("a", "z"), this.z.Range("0", "9")));
  }

  private literalRe(text: string, ignoreCase: boolean): Re<"oracle"> {
    return this.cached(`literal|${ignoreCase}|${text}`, () => this.makeLiteralRe(text, ignoreCase));
  }

  private makeLiteralRe(text: string, ignoreCase: boolean): Re<"oracle"> {
    const z = this.z;
    if (!ignoreCase || !/[a-zA-Z]/.test(text)) return z.Re.toRe(text);
    const pieces = [...text].map((ch) =>
      /[a-zA-Z]/.test(ch) ? z.Union(z.Re.toRe(ch.toLowerCase()), z.Re.toRe(ch.toUpperCase())) : z.Re.toRe(ch),
    );
    return pieces.length === 1 ? (pieces[0] as Re<"oracle">) : z.ReConcat(...pieces);
  }

  /** `*`/`?` glob as a regex; `star`/`one` say what a wildcard may stand for at each position. */
  private globRe(
    pattern: string,
    ignoreCase: boolean,
    wildcard: (index: number) => { star: Re<"oracle">; one: Re<"oracle"> },
  ): Re<"oracle"> {
    const z = this.z;
    const pieces: Re<"oracle">[] = [];
    let literal = "";
    const flush = () => {
      if (literal !== "") pieces.push(this.literalRe(literal, ignoreCase));
      literal = "";
    };
    for (let i = 0; i < pattern.length; i++) {
      const ch = pattern[i] as string;
      if (ch === "*" || ch === "?") {
        flush();
        const w = wildcard(i);
        pieces.push(ch === "*" ? z.Star(w.star) : w.one);
      } else literal += ch;
    }
    flush();
    if (pieces.length === 0) return z.Re.toRe("");
    return pieces.length === 1 ? (pieces[0] as Re<"oracle">) : z.ReConcat(...pieces);
  }

  private likeRe(pattern: string, ignoreCase: boolean): Re<"oracle"> {
    return this.cached(`like|${ignoreCase}|${pattern}`, () => this.makeLikeRe(pattern, ignoreCase));
  }

  private makeLikeRe(pattern: string, ignoreCase: boolean): Re<"oracle"> {
    const any = this.printable();
    return this.globRe(pattern, ignoreCase, () => ({ star: any, one: any }));
  }

  /** The Resource element: wildcards stay in their segment, except a `*` that ends one. */
  private resourceRe(pattern: string): Re<"oracle"> {
    return this.cached(`resource|${pattern}`, () => this.makeResourceRe(pattern));
  }

  private makeResourceRe(pattern: string): Re<"oracle"> {
    const any = this.printable();
    const inSegment = this.notColon();
    return this.globRe(pattern, false, (i) => {
      const next = pattern[i + 1];
      const endsSegment = pattern[i] === "*" && (next === undefined || next === ":");
      return endsSegment ? { star: any, one: any } : { star: inSegment, one: inSegment };
    });
  }

  /** `ArnLike`/`ArnEquals`: part by part; the pattern's last part may span the rest of the ARN. */
  private arnRe(pattern: string): Re<"oracle"> {
    return this.cached(`arn|${pattern}`, () => this.makeArnRe(pattern));
  }

  private makeArnRe(pattern: string): Re<"oracle"> {
    const any = this.printable();
    const inSegment = this.notColon();
    const colonsBefore: number[] = [];
    let colons = 0;
    for (const ch of pattern) {
      colonsBefore.push(colons);
      if (ch === ":") colons++;
    }
    const lastPart = Math.min(colons, 5);
    return this.globRe(pattern, false, (i) =>
      (colonsBefore[i] as number) >= lastPart ? { star: any, one: any } : { star: inSegment, one: inSegment },
    );
  }

  // ----- the request

  /**
   * The request's variables for some kinds of caller. When the policy reads `aws:PrincipalArn` or
   * `aws:userid`, each question is asked once per kind: those keys are then plain concatenations
   * over the caller's account and names, with no case split for Z3's string solver to explore (a
   * case split over string concatenations makes it time out).
   */
  private requestVars(
    keys: ReadonlyMap<string, KeyType>,
    kinds: readonly PrincipalKind[],
    actions: readonly string[],
    tag: string,
    shape: Shape,
  ): RequestVars {
    const z = this.z;
    const s = (name: string) => z.String.const(`${tag}${name}`);
    const vars: RequestVars = {
      kinds,
      kindVar: z.Int.const(`${tag}kind`),
      account: s("account"),
      userName: s("userName"),
      roleName: s("roleName"),
      sessionName: s("sessionName"),
      fedName: s("fedName"),
      userUniqueId: s("userUniqueId"),
      roleUniqueId: s("roleUniqueId"),
      service: s("service"),
      anonymousKeys: z.Bool.const(`${tag}anonymousKeys`),
      action: z.Int.const(`${tag}action`),
      actions,
      keys: new Map(),
    };
    const derived = this.derivedValues(vars);
    for (const [key, type] of keys) {
      const slots = MULTI_VALUED.has(key) ? MAX_VALUES : 1;
      const name = `${tag}k:${key}`;
      const fixed = derived.get(key);
      if (fixed !== undefined) {
        const present = fixed === null ? z.Bool.val(false) : fixed.present;
        vars.keys.set(key, {
          key,
          type: "string",
          present,
          count: z.If(present, z.Int.val(1), z.Int.val(0)) as Arith<"oracle">,
          slots: 1,
          derived: true,
          values: [fixed?.value ?? z.String.val("")],
        });
        continue;
      }
      const base = {
        key,
        type,
        present: z.Bool.const(`${name}:present`),
        count: z.Int.const(`${name}:count`),
        slots,
      };
      const index = [...Array(slots).keys()];
      if (type === "ip") {
        // IPv6 only when something mentions it: a 128-bit vector per value slows every query down.
        const v6 = index.map((j) => (shape.ipv6 ? z.Bool.const(`${name}:${j}:v6`) : z.Bool.val(false)));
        const v4addr = index.map((j) => z.BitVec.const(`${name}:${j}:v4`, 32));
        const v6addr = index.map((j) => z.BitVec.const(`${name}:${j}:v6addr`, 128));
        vars.keys.set(key, { ...base, values: v4addr, v6, v4addr, v6addr });
      } else {
        const make = (j: number): Expr<"oracle"> => {
          const n = `${name}:${j}`;
          if (type === "string") return z.String.const(n);
          if (type === "numeric") return z.Real.const(n);
          if (type === "date") return z.Int.const(n);
          return z.Bool.const(n);
        };
        vars.keys.set(key, { ...base, values: index.map(make), printable: shape.folded.has(key) });
      }
    }
    return vars;
  }

  /** The keys IAM derives from the caller, as expressions (null: absent for these kinds of caller). */
  private derivedValues(
    vars: RequestVars,
  ): Map<string, { present: Bool<"oracle">; value: Seq<"oracle"> } | null> {
    const z = this.z;
    const cat = (...parts: (string | Seq<"oracle">)[]) =>
      parts.reduce<Seq<"oracle">>((acc, p) => acc.concat(p), z.String.val(""));
    const a = vars.account;
    const values = new Map<string, { present: Bool<"oracle">; value: Seq<"oracle"> } | null>();
    const authenticated = this.kindIs(vars, ...AUTHENTICATED_KINDS);
    values.set("aws:principalaccount", { present: authenticated, value: a });
    values.set("aws:username", { present: this.kindIs(vars, "user"), value: vars.userName });
    values.set("aws:principalservicename", { present: this.kindIs(vars, "service"), value: vars.service });
    const typeNames: [PrincipalKind, string][] = [
      ["anonymous", "Anonymous"],
      ["root", "Account"],
      ["user", "User"],
      ["role-session", "AssumedRole"],
      ["federated-user", "FederatedUser"],
    ];
    values.set("aws:principaltype", {
      present: this.all(
        z.Not(this.kindIs(vars, "service")),
        z.Implies(this.kindIs(vars, "anonymous"), vars.anonymousKeys),
      ),
      value: typeNames.reduce<Seq<"oracle">>(
        (rest, [kind, name]) => z.If(this.kindIs(vars, kind), z.String.val(name), rest) as Seq<"oracle">,
        z.String.val(""),
      ),
    });
    if (!vars.kinds.some((k) => AUTHENTICATED_KINDS.includes(k))) {
      values.set("aws:principalorgid", null);
      values.set("aws:principalorgpaths", null);
    }
    if (vars.kinds.length > 1) return values;
    const yes = z.Bool.val(true);
    const set = (arn: Seq<"oracle"> | null, userId: Seq<"oracle"> | null) => {
      values.set("aws:principalarn", arn === null ? null : { present: yes, value: arn });
      values.set("aws:userid", userId === null ? null : { present: yes, value: userId });
    };
    switch (vars.kinds[0]) {
      case "anonymous":
        values.set("aws:principalarn", null);
        values.set("aws:userid", { present: vars.anonymousKeys, value: z.String.val("anonymous") });
        break;
      case "root":
        set(cat("arn:aws:iam::", a, ":root"), a);
        break;
      case "user":
        set(cat("arn:aws:iam::", a, ":user/", vars.userName), vars.userUniqueId);
        break;
      case "role-session":
        // aws:PrincipalArn of a role session is the role's ARN (IAM User Guide, aws:PrincipalArn).
        set(cat("arn:aws:iam::", a, ":role/", vars.roleName), cat(vars.roleUniqueId, ":", vars.sessionName));
        break;
      case "federated-user":
        set(cat("arn:aws:sts::", a, ":federated-user/", vars.fedName), cat(a, ":", vars.fedName));
        break;
      default:
        set(null, null);
    }
    return values;
  }

  private kindIs(vars: RequestVars, ...kinds: PrincipalKind[]): Bool<"oracle"> {
    const z = this.z;
    const covered = vars.kinds.filter((k) => kinds.includes(k));
    if (covered.length === vars.kinds.length) return z.Bool.val(true);
    if (covered.length === 0) return z.Bool.val(false);
    return this.any(...covered.map((k) => vars.kindVar.eq(KINDS.indexOf(k))));
  }

  /** Domains of the free variables this kind of caller uses, and of every key. */
  private requestAxioms(vars: RequestVars, service: FileSystemService): Bool<"oracle">[] {
    const z = this.z;
    const facts: Bool<"oracle">[] = [];
    const name = z.Plus(
      z.Union(z.Range("a", "z"), z.Range("A", "Z"), z.Range("0", "9"), z.Re.toRe("-"), z.Re.toRe("_")),
    );
    const inRe = (s: Seq<"oracle">, re: Re<"oracle">) => z.InRe(s, re);
    const has = (kind: PrincipalKind) => vars.kinds.includes(kind);
    facts.push(this.any(...vars.kinds.map((k) => vars.kindVar.eq(KINDS.indexOf(k)))));
    // Any digit string: an exact length of 12 makes Z3's string solver a hundred times slower, and
    // the generator writes no pattern that counts an account's digits.
    if (vars.kinds.some((k) => AUTHENTICATED_KINDS.includes(k)))
      facts.push(inRe(vars.account, z.Plus(z.Range("0", "9"))));
    if (has("user")) {
      facts.push(inRe(vars.userName, name));
      // Unique ids are opaque (AWS's start AIDA/AROA; nothing in IAM's evaluation depends on it).
      facts.push(inRe(vars.userUniqueId, z.Plus(this.notColon())));
    }
    if (has("role-session")) {
      facts.push(inRe(vars.roleName, name), inRe(vars.sessionName, name));
      facts.push(inRe(vars.roleUniqueId, z.Plus(this.notColon())));
    }
    if (has("federated-user")) facts.push(inRe(vars.fedName, name));
    if (has("service"))
      facts.push(inRe(vars.service, z.ReConcat(z.Plus(z.Range("a", "z")), z.Re.toRe(".amazonaws.com"))));
    facts.push(vars.action.ge(0), vars.action.lt(vars.actions.length));

    for (const key of vars.keys.values()) {
      if (key.derived) continue;
      // A service's own condition keys are only in requests to that service (IAM User Guide,
      // "service-specific condition keys"): S3 Files has no `elasticfilesystem:` keys, EFS no `s3files:` ones.
      const other = service === "efs" ? "s3files:" : "elasticfilesystem:";
      if (key.key.startsWith(other)) facts.push(z.Not(key.present));
      facts.push(key.count.ge(0), key.count.le(key.slots), key.present.eq(key.count.gt(0)));
      for (let j = 0; j < key.slots; j++) facts.push(...this.valueDomain(key, j));
      if (!MULTI_VALUED.has(key.key)) facts.push(z.Implies(key.present, key.count.eq(1)));
      if (IDENTITY_KEYS.has(key.key) || key.key.startsWith("aws:principaltag/"))
        facts.push(z.Implies(key.present, this.kindIs(vars, ...AUTHENTICATED_KINDS)));
      // Any organization, or none; its id and paths as AWS Organizations writes them (API
      // reference: Organization.Id `o-[a-z0-9]{10,32}`, Root.Id `r-[0-9a-z]{4,32}`,
      // OrganizationalUnit.Id `ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}`; a path is `org/root/ou/.../`).
      if (key.key === "aws:principalorgid")
        facts.push(z.Implies(key.present, z.InRe(key.values[0] as Seq<"oracle">, this.orgIdRe())));
      if (key.key === "aws:principalorgpaths") {
        const org = vars.keys.get("aws:principalorgid");
        if (org) facts.push(key.present.eq(org.present));
        for (let j = 0; j < key.slots; j++)
          facts.push(z.Implies(key.count.gt(j), z.InRe(key.values[j] as Seq<"oracle">, this.orgPathRe())));
      }
    }
    return facts;
  }

  private valueDomain(key: KeyVar, j: number): Bool<"oracle">[] {
    const z = this.z;
    const value = key.values[j] as Expr<"oracle">;
    switch (key.type) {
      case "string":
        return key.printable ? [z.InRe(value as Seq<"oracle">, this.anyString())] : [];
      case "numeric": {
        // A grid of 1/1000: every value the generator writes has at most two decimals, so an
        // open interval between two of them always holds a grid point.
        const n = z.Int.const(`grid:${key.key}:${j}`);
        return [(value as Arith<"oracle">).mul(1000).eq(z.ToReal(n))];
      }
      case "date": {
        const ms = value as Arith<"oracle">;
        return [ms.ge(0), ms.le(253402300799000)];
      }
      default:
        return [];
    }
  }

  // ----- the policy

  private keyTypes(policies: readonly Policy[]): Map<string, KeyType> {
    const types = new Map<string, KeyType>();
    const note = (key: string, type: KeyType | undefined) => {
      if (types.has(key)) return;
      types.set(key, KNOWN_TYPES[key] ?? (DERIVED.has(key) ? "string" : (type ?? "string")));
    };
    for (const policy of policies)
      for (const s of policy.statements)
        for (const c of s.conditions) {
          note(c.key, typeOfOperator(c.base));
          for (const v of c.values)
            for (const part of splitVariables(v, policy.variables))
              if ("variable" in part) note(part.variable, "string");
        }
    if (types.has("aws:principalorgpaths")) note("aws:principalorgid", "string");
    return types;
  }

  // ----- concrete matches

  /**
   * Whether each action and the resource match each Action/Resource pattern of the policies: both
   * sides are constants, so Z3's simplifier settles each membership once (and it is remembered);
   * the queries then carry the action as an index instead of a string matched against patterns.
   */
  private readonly settled = new Map<string, { test: Bool<"oracle">; holds?: boolean }>();

  private actionMatch(pattern: string, action: string): string {
    return this.concrete(`action|${pattern}|${action}`, () =>
      this.z.InRe(this.z.String.val(action), this.likeRe(pattern, true)),
    );
  }

  private resourceMatch(pattern: string, resource: string): string {
    return this.concrete(`resource|${pattern}|${resource}`, () =>
      this.z.InRe(this.z.String.val(resource), this.resourceRe(pattern)),
    );
  }

  private concrete(key: string, test: () => Bool<"oracle">): string {
    if (!this.settled.has(key)) this.settled.set(key, { test: test() });
    return key;
  }

  private async settle(policies: readonly Policy[], scope: OracleScope): Promise<void> {
    const resource = fileSystemArnOf(scope);
    for (const p of policies)
      for (const s of p.statements) {
        for (const pattern of [...(s.actions ?? []), ...(s.notActions ?? [])])
          for (const action of clientActionsOf(scope.service)) this.actionMatch(pattern, action);
        for (const pattern of [...(s.resources ?? []), ...(s.notResources ?? [])])
          this.resourceMatch(pattern, resource);
      }
    for (const [key, entry] of this.settled) {
      if (entry.holds !== undefined) continue;
      const result = await this.z.simplify(entry.test);
      if (!this.z.isTrue(result) && !this.z.isFalse(result))
        throw new Error(`Z3 did not settle the concrete match ${key}`);
      entry.holds = this.z.isTrue(result);
    }
  }

  private settledMatch(key: string): boolean {
    const holds = this.settled.get(key)?.holds;
    if (holds === undefined) throw new Error(`concrete match ${key} asked before it was settled`);
    return holds;
  }

  /** The request's action is `action` (action names ignore case). */
  private actionIs(vars: RequestVars, action: string): Bool<"oracle"> {
    const i = vars.actions.findIndex((a) => a.toLowerCase() === action.toLowerCase());
    return i === -1 ? this.z.Bool.val(false) : vars.action.eq(i);
  }

  private principalMatches(ref: PrincipalRef, vars: RequestVars): Bool<"oracle"> {
    const z = this.z;
    if (ref.type === "Service")
      return this.all(this.kindIs(vars, "service"), this.is(vars.service, ref.value));
    if (ref.type !== "AWS") return z.Bool.val(false);
    if (ref.value === "*") return z.Bool.val(true);
    const inAccount = (account: string) =>
      this.all(this.kindIs(vars, ...AUTHENTICATED_KINDS), this.is(vars.account, account));
    if (/^\d{12}$/.test(ref.value)) return inAccount(ref.value);
    const m = /^arn:aws:(iam|sts)::(\d{12}):(.*)$/.exec(ref.value);
    if (!m || ref.value.includes("*") || ref.value.includes("?"))
      throw new UnsupportedPolicyError(`principal ${ref.value}`);
    const [, service, account, resource] = m as unknown as [string, string, string, string];
    if (service === "iam" && resource === "root") return inAccount(account);
    const [type, first = "", second] = resource.split("/");
    const here = this.is(vars.account, account);
    if (service === "iam" && type === "user" && second === undefined)
      return this.all(this.kindIs(vars, "user"), here, this.is(vars.userName, first));
    if (service === "iam" && type === "role" && second === undefined)
      return this.all(this.kindIs(vars, "role-session"), here, this.is(vars.roleName, first));
    if (service === "sts" && type === "assumed-role" && second !== undefined)
      return this.all(
        this.kindIs(vars, "role-session"),
        here,
        this.is(vars.roleName, first),
        this.is(vars.sessionName, second),
      );
    if (service === "sts" && type === "federated-user" && second === undefined)
      return this.all(this.kindIs(vars, "federated-user"), here, this.is(vars.fedName, first));
    throw new UnsupportedPolicyError(`principal ${ref.value}`);
  }

  /** The value of a policy variable: the key's (first) value, else the default; undefined when neither. */
  private variableValue(
    part: { variable: string; fallback?: string },
    vars: RequestVars,
  ): { defined: Bool<"oracle">; value: Seq<"oracle"> } {
    const z = this.z;
    const key = vars.keys.get(part.variable);
    if (key?.type !== "string") {
      if (part.fallback === undefined) return { defined: z.Bool.val(false), value: z.String.val("") };
      return { defined: z.Bool.val(true), value: z.String.val(part.fallback) };
    }
    const first = key.values[0] as Seq<"oracle">;
    if (part.fallback === undefined) return { defined: key.present, value: first };
    return {
      defined: z.Bool.val(true),
      value: z.If(key.present, first, z.String.val(part.fallback)) as Seq<"oracle">,
    };
  }

  /** Whether one request value matches one policy value under the positive form of the operator. */
  private valueMatches(
    base: string,
    policyValue: string,
    key: KeyVar,
    slot: number,
    vars: RequestVars,
    variables: boolean,
  ): Bool<"oracle"> {
    const z = this.z;
    const no = z.Bool.val(false);
    if (base.startsWith("string") || base.startsWith("arn")) {
      if (key.type !== "string") throw new UnsupportedPolicyError(`${base} on ${key.type} key ${key.key}`);
      const value = key.values[slot] as Seq<"oracle">;
      const parts = splitVariables(policyValue, variables);
      const ignoreCase = base.endsWith("ignorecase");
      const like =
        base.startsWith("stringlike") || base.startsWith("stringnotlike") || base.startsWith("arn");
      if (parts.some((p) => "variable" in p)) {
        const literalText = parts.map((p) => ("literal" in p ? p.literal : "")).join("");
        if (ignoreCase || (like && /[*?]/.test(literalText)))
          throw new UnsupportedPolicyError(`variable with wildcards or case folding: ${policyValue}`);
        const defined: Bool<"oracle">[] = [];
        let text: Seq<"oracle"> = z.String.val("");
        for (const p of parts) {
          if ("literal" in p) text = text.concat(p.literal);
          else {
            const v = this.variableValue(p, vars);
            defined.push(v.defined);
            text = text.concat(v.value);
          }
        }
        const arnShape = base.startsWith("arn") ? [this.hasSixParts(value)] : [];
        return this.all(...defined, ...arnShape, this.is(value, text));
      }
      const literal = parts.map((p) => (p as { literal: string }).literal).join("");
      if (base.startsWith("arn"))
        return this.all(this.hasSixParts(value), z.InRe(value, this.arnRe(literal)));
      if (like) return z.InRe(value, this.likeRe(literal, false));
      if (ignoreCase) return z.InRe(value, this.literalRe(literal, true));
      return this.is(value, literal);
    }
    if (base.startsWith("numeric")) {
      if (key.type !== "numeric") throw new UnsupportedPolicyError(`${base} on ${key.type} key ${key.key}`);
      if (!/^-?\d+(\.\d+)?$/.test(policyValue.trim())) return no;
      return this.compare(base, key.values[slot] as Arith<"oracle">, this.z.Real.val(policyValue.trim()));
    }
    if (base.startsWith("date")) {
      if (key.type !== "date") throw new UnsupportedPolicyError(`${base} on ${key.type} key ${key.key}`);
      const ms = parseDateMs(policyValue);
      if (Number.isNaN(ms)) return no;
      return this.compare(base, key.values[slot] as Arith<"oracle">, this.z.Int.val(ms));
    }
    if (base === "bool") {
      if (key.type !== "bool") throw new UnsupportedPolicyError(`Bool on ${key.type} key ${key.key}`);
      const b = key.values[slot] as Bool<"oracle">;
      const text = policyValue.toLowerCase();
      return text === "true" ? b : text === "false" ? z.Not(b) : no;
    }
    if (base === "ipaddress" || base === "notipaddress") {
      if (key.type !== "ip") throw new UnsupportedPolicyError(`${base} on ${key.type} key ${key.key}`);
      const cidr = parseCidrText(policyValue);
      if (!cidr) return no;
      return this.inCidr(key, slot, cidr);
    }
    throw new UnsupportedPolicyError(`operator ${base}`);
  }

  private hasSixParts(value: Seq<"oracle">): Bool<"oracle"> {
    const z = this.z;
    const sixParts = this.cached("sixParts", () => {
      const part = z.ReConcat(z.Star(this.notColon()), z.Re.toRe(":"));
      return z.ReConcat(part, part, part, part, part, this.anyString());
    });
    return z.InRe(value, sixParts);
  }

  private inCidr(key: KeyVar, slot: number, cidr: ParsedCidr): Bool<"oracle"> {
    const z = this.z;
    const v6 = (key.v6 as Bool<"oracle">[])[slot] as Bool<"oracle">;
    const width = cidr.v6 ? 128 : 32;
    const mask = cidr.prefix === 0 ? 0n : ((1n << BigInt(cidr.prefix)) - 1n) << BigInt(width - cidr.prefix);
    if (cidr.v6) {
      const a = (key.v6addr as BitVec<128, "oracle">[])[slot] as BitVec<128, "oracle">;
      return this.all(v6, a.and(z.BitVec.val(mask, 128)).eq(z.BitVec.val(cidr.bits, 128)));
    }
    const a = (key.v4addr as BitVec<32, "oracle">[])[slot] as BitVec<32, "oracle">;
    return this.all(z.Not(v6), a.and(z.BitVec.val(mask, 32)).eq(z.BitVec.val(cidr.bits, 32)));
  }

  private compare(base: string, request: Arith<"oracle">, policy: Arith<"oracle">): Bool<"oracle"> {
    if (base.endsWith("lessthan")) return request.lt(policy);
    if (base.endsWith("lessthanequals")) return request.le(policy);
    if (base.endsWith("greaterthan")) return request.gt(policy);
    if (base.endsWith("greaterthanequals")) return request.ge(policy);
    return request.eq(policy);
  }

  /** One clause, as the IAM documentation describes conditions, `IfExists`, set qualifiers and `Null`. */
  private clauseHolds(clause: Clause, vars: RequestVars, variables: boolean): Bool<"oracle"> {
    const z = this.z;
    const key = vars.keys.get(clause.key) as KeyVar;
    if (clause.base === "null") {
      return this.any(
        ...clause.values.map((v) =>
          v.toLowerCase() === "true"
            ? z.Not(key.present)
            : v.toLowerCase() === "false"
              ? key.present
              : z.Bool.val(false),
        ),
      );
    }
    const negated = NEGATED.has(clause.base);
    const absent =
      clause.set === "all" ? true : clause.set === "any" ? false : clause.ifExists ? true : negated;
    const valueOk: Bool<"oracle">[] = [];
    const active: Bool<"oracle">[] = [];
    for (let j = 0; j < key.slots; j++) {
      const any = this.any(
        ...clause.values.map((v) => this.valueMatches(clause.base, v, key, j, vars, variables)),
      );
      valueOk.push(negated ? z.Not(any) : any);
      active.push(key.count.gt(j));
    }
    const every = this.all(...valueOk.map((ok, j) => z.Implies(active[j] as Bool<"oracle">, ok)));
    const some = this.any(...valueOk.map((ok, j) => this.all(active[j] as Bool<"oracle">, ok)));
    const whenPresent = clause.set === "all" ? every : clause.set === "any" ? some : negated ? every : some;
    return z.If(key.present, whenPresent, z.Bool.val(absent)) as Bool<"oracle">;
  }

  private statementApplies(
    s: Statement,
    policy: Policy,
    vars: RequestVars,
    resource: string,
  ): Bool<"oracle"> {
    const z = this.z;
    const principal = s.principals
      ? this.any(...s.principals.map((p) => this.principalMatches(p, vars)))
      : z.Not(this.any(...(s.notPrincipals ?? []).map((p) => this.principalMatches(p, vars))));
    const actionRe = (p: string) =>
      this.any(
        ...vars.actions
          .filter((a) => this.settledMatch(this.actionMatch(p, a)))
          .map((a) => this.actionIs(vars, a)),
      );
    const action = s.actions
      ? this.any(...s.actions.map(actionRe))
      : z.Not(this.any(...(s.notActions ?? []).map(actionRe)));
    const resourceMatches = (p: string) => z.Bool.val(this.settledMatch(this.resourceMatch(p, resource)));
    const resourceOk = s.resources
      ? this.any(...s.resources.map(resourceMatches))
      : s.notResources
        ? z.Not(this.any(...s.notResources.map(resourceMatches)))
        : z.Bool.val(true);
    const conditions = s.conditions.map((c) => this.clauseHolds(c, vars, policy.variables));
    return this.all(principal, action, resourceOk, ...conditions);
  }

  /** `allowed` and `explicitDeny` of a policy for the request. */
  private decision(policy: Policy, vars: RequestVars, resource: string) {
    const z = this.z;
    const allows = policy.statements
      .filter((s) => s.effect === "Allow")
      .map((s) => this.statementApplies(s, policy, vars, resource));
    const denies = policy.statements
      .filter((s) => s.effect === "Deny")
      .map((s) => this.statementApplies(s, policy, vars, resource));
    const explicitDeny = this.any(...denies);
    return { allowed: this.all(this.any(...allows), z.Not(explicitDeny)), explicitDeny };
  }

  // ----- "outside" and "public"

  /**
   * Not equal to any of `constants`. Exact spelling: AWS does not say whether a case variant of a
   * fixed value (`StringEqualsIgnoreCase`) is itself "fixed", so the safe reading counts it as an
   * outsider's value (the policy is then public).
   */
  private freshAgainst(value: Seq<"oracle">, constants: Iterable<string>): Bool<"oracle"> {
    const z = this.z;
    return this.all(...[...constants].map((c) => z.Not(this.is(value, c))));
  }

  /** Fixed (no wildcard, no variable) values a policy mentions for a key, under any operator. */
  private fixedValues(policies: readonly Policy[], key: string): Set<string> {
    const values = new Set<string>();
    for (const p of policies)
      for (const s of p.statements)
        for (const c of s.conditions)
          if (c.key === key && c.base !== "null")
            for (const v of c.values) if (!/[*?]/.test(v) && !v.includes("${")) values.add(v);
    return values;
  }

  /**
   * The request is "public" in AWS's sense: an anonymous caller, or a caller of an account the
   * policy never writes, with no fixed-value limit: every limiting key is absent or holds a value
   * the policy does not fix (Zelkova's reading of "fixed values": a wildcard or a negated match
   * limits nothing, since an outsider can pick a value no constant names).
   */
  private publicRequest(
    policies: readonly Policy[],
    jsons: readonly unknown[],
    vars: RequestVars,
    scope: OracleScope,
  ) {
    const z = this.z;
    const facts: Bool<"oracle">[] = [
      this.any(
        this.kindIs(vars, "anonymous"),
        this.all(
          this.kindIs(vars, ...AUTHENTICATED_KINDS),
          this.all(...knownAccounts(jsons, scope).map((a) => z.Not(this.is(vars.account, a)))),
        ),
      ),
    ];
    const org = vars.keys.get("aws:principalorgid");
    if (org)
      facts.push(
        z.Implies(
          org.present,
          this.freshAgainst(org.values[0] as Seq<"oracle">, this.fixedValues(policies, org.key)),
        ),
      );
    for (const k of LIMITING_STRING_KEYS) {
      const key = vars.keys.get(k);
      if (!key) continue;
      const fixed = this.fixedValues(policies, k);
      const value = key.values[0] as Seq<"oracle">;
      const outside = [this.freshAgainst(value, fixed)];
      if (k === "aws:userid") {
        // `AROLEID:*` limits to one role's sessions.
        for (const p of policies)
          for (const s of p.statements)
            for (const c of s.conditions)
              if (c.key === k)
                for (const v of c.values) {
                  const m = /^([^*?$]+):\*$/.exec(v);
                  if (m)
                    outside.push(
                      z.Not(z.InRe(value, z.ReConcat(this.literalRe(`${m[1]}:`, true), this.anyString()))),
                    );
                }
      }
      facts.push(z.Implies(key.present, this.all(...outside)));
    }
    const ip = vars.keys.get("aws:sourceip");
    if (ip) {
      const limiting = [...this.fixedValues(policies, "aws:sourceip")]
        .map(parseCidrText)
        .filter((c): c is ParsedCidr => c !== undefined && c.prefix >= (c.v6 ? 32 : 8));
      facts.push(
        z.Implies(
          ip.present,
          this.all(...[...PRIVATE_RANGES, ...limiting].map((c) => z.Not(this.inCidr(ip, 0, c)))),
        ),
      );
    }
    const viaMountTarget = vars.keys.get("elasticfilesystem:accessedviamounttarget");
    if (viaMountTarget && scope.service === "efs")
      facts.push(z.Implies(viaMountTarget.present, z.Not(viaMountTarget.values[0] as Bool<"oracle">)));
    return this.all(...facts);
  }

  private orgLimited(policies: readonly Policy[], vars: RequestVars): Bool<"oracle"> {
    const z = this.z;
    const org = vars.keys.get("aws:principalorgid");
    if (!org) return z.Bool.val(false);
    return this.all(
      org.present,
      z.Not(this.freshAgainst(org.values[0] as Seq<"oracle">, this.fixedValues(policies, org.key))),
    );
  }

  private isAdmin(vars: RequestVars, scope: OracleScope): Bool<"oracle"> {
    const terms: Bool<"oracle">[] = [];
    for (const admin of scope.adminPrincipals) {
      const root = /^arn:aws:iam::(\d{12}):root$/.exec(admin);
      if (root) {
        terms.push(
          this.all(this.kindIs(vars, ...AUTHENTICATED_KINDS), this.is(vars.account, root[1] as string)),
        );
        continue;
      }
      terms.push(this.principalMatches({ type: "AWS", value: admin }, vars));
    }
    return this.any(...terms);
  }

  // ----- queries

  /**
   * Asks the question about every kind of caller in `kinds` (the first witness found answers it).
   * Several kinds go in one query first, with a short timeout: most questions are answered in a
   * few milliseconds that way. A query Z3 cannot settle in that time is asked again once per kind
   * (no case split over the caller for the string solver to explore), each with the full timeout;
   * only a per-kind query that still times out leaves the question `unknown`.
   */
  private async solve(
    jsons: readonly unknown[],
    scope: OracleScope,
    kinds: readonly PrincipalKind[],
    build: (vars: RequestVars, policies: readonly Policy[]) => Bool<"oracle">[],
    pin?: OracleRequest,
  ): Promise<OracleAnswer> {
    const policies = jsons.map(readPolicy);
    const types = this.keyTypes(policies);
    if (pin)
      for (const key of pin.context.keys()) if (!types.has(key)) types.set(key, KNOWN_TYPES[key] ?? "string");
    const unknown: string[] = [];
    const asked = pin ? kinds.filter((k) => k === pin.kind) : kinds;
    const shape = shapeOf(policies, pin);
    const split = types.has("aws:principalarn") || types.has("aws:userid");
    await this.settle(policies, scope);
    const query = (group: readonly PrincipalKind[], timeoutMs: number) =>
      this.check(group, timeoutMs, scope, shape, types, (vars) => [
        ...this.requestAxioms(vars, scope.service),
        ...build(vars, policies),
        ...(pin ? this.pinned(vars, pin) : []),
      ]);
    for (const group of split ? asked.map((k) => [k]) : [asked]) {
      if (group.length === 0) continue;
      const answer =
        group.length === 1 ? await query(group, this.timeoutMs) : await query(group, this.groupTimeoutMs);
      if (answer.verdict === "sat") return answer;
      if (answer.verdict === "unsat") continue;
      if (group.length === 1) {
        unknown.push(`${group[0]}: ${answer.reason}`);
        continue;
      }
      this.stats.split++;
      for (const kind of group) {
        const one = await query([kind], this.timeoutMs);
        if (one.verdict === "sat") return one;
        if (one.verdict === "unknown") unknown.push(`${kind}: ${one.reason}`);
      }
    }
    if (unknown.length === 0) return { verdict: "unsat" };
    this.stats.unknown++;
    return { verdict: "unknown", reason: unknown.join("; ") };
  }

  /** One query in a fresh solver. A query past its timeout (plus a grace period) is interrupted. */
  private async check(
    kinds: readonly PrincipalKind[],
    timeoutMs: number,
    scope: OracleScope,
    shape: Shape,
    types: ReadonlyMap<string, KeyType>,
    facts: (vars: RequestVars) => Bool<"oracle">[],
  ): Promise<OracleAnswer> {
    const start = performance.now();
    const vars = this.requestVars(types, kinds, clientActionsOf(scope.service), "r.", shape);
    const solver: Solver<"oracle"> = new this.z.Solver();
    solver.set("timeout", timeoutMs);
    let running = false;
    try {
      solver.add(...facts(vars));
      running = true;
      const result = await this.watched(solver.check(), timeoutMs);
      running = false;
      this.stats.calls++;
      this.stats.ms += performance.now() - start;
      if (result === "sat") return { verdict: "sat", witness: this.witness(solver.model(), vars, scope) };
      if (result === "unsat") return { verdict: "unsat" };
      return { verdict: "unknown", reason: solver.reasonUnknown() };
    } finally {
      // A solver Z3 is still running on (a hung query) is left alone: releasing it would free memory in use.
      if (!running) solver.release();
    }
  }

  /**
   * Z3's own timeout is checked inside its search loops; a few loops do not check it. A query that
   * outlives its timeout by 5 s is interrupted; one that outlives the interrupt by another 5 s
   * throws `OracleHangError` (the context is then stuck, and the process must start a new one).
   */
  private async watched(check: Promise<"sat" | "unsat" | "unknown">, timeoutMs: number) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = (ms: number) =>
      new Promise<"late">((resolve) => {
        timer = setTimeout(() => resolve("late"), ms);
      });
    try {
      const first = await Promise.race([check, late(timeoutMs + 5_000)]);
      if (first !== "late") return first;
      this.z.interrupt();
      clearTimeout(timer);
      const second = await Promise.race([check, late(5_000)]);
      if (second !== "late") return second;
      throw new OracleHangError(
        `a query ran past its ${timeoutMs} ms timeout and did not stop when interrupted`,
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /** Is some client action allowed to a public caller (AWS's definition)? */
  publicAccess(policy: unknown, scope: OracleScope, pin?: OracleRequest): Promise<OracleAnswer> {
    return this.solve(
      [policy],
      scope,
      ["anonymous", ...AUTHENTICATED_KINDS],
      (vars, [p]) => [
        this.decision(p as Policy, vars, fileSystemArnOf(scope)).allowed,
        this.publicRequest([p as Policy], [policy], vars, scope),
      ],
      pin,
    );
  }

  /**
   * Is some client action allowed to a principal of an account the policy names that is neither
   * the owner nor trusted (and not let in by a fixed `aws:PrincipalOrgID`: the owner's choice)?
   */
  crossAccountAccess(policy: unknown, scope: OracleScope, pin?: OracleRequest): Promise<OracleAnswer> {
    return this.solve(
      [policy],
      scope,
      AUTHENTICATED_KINDS,
      (vars, [p]) => {
        const z = this.z;
        const outside = [...namedAccounts([p as Policy])].filter(
          (a) => a !== scope.ownerAccount && !scope.trustedAccounts.includes(a),
        );
        return [
          this.decision(p as Policy, vars, fileSystemArnOf(scope)).allowed,
          this.kindIs(vars, ...AUTHENTICATED_KINDS),
          this.any(...outside.map((a) => this.is(vars.account, a))),
          z.Not(this.orgLimited([p as Policy], vars)),
        ];
      },
      pin,
    );
  }

  /** Is `ClientRootAccess` allowed to a caller outside the admin principals? */
  rootOutsideAdmins(policy: unknown, scope: OracleScope, pin?: OracleRequest): Promise<OracleAnswer> {
    return this.solve(
      [policy],
      scope,
      ["anonymous", ...AUTHENTICATED_KINDS],
      (vars, [p]) => {
        const z = this.z;
        return [
          this.decision(p as Policy, vars, fileSystemArnOf(scope)).allowed,
          this.actionIs(vars, clientActionsOf(scope.service)[2] as string),
          z.Not(this.kindIs(vars, "service")),
          z.Not(this.isAdmin(vars, scope)),
        ];
      },
      pin,
    );
  }

  /**
   * Does `after` allow a request `before` does not, or drop an explicit Deny? (Allowed > implicitly
   * denied > explicitly denied: without the Deny, an identity policy could allow the request.)
   */
  widening(before: unknown, after: unknown, scope: OracleScope, pin?: OracleRequest): Promise<OracleAnswer> {
    return this.solve(
      [before, after],
      scope,
      KINDS,
      (vars, [a, b]) => {
        const z = this.z;
        const resource = fileSystemArnOf(scope);
        const was = this.decision(a as Policy, vars, resource);
        const now = this.decision(b as Policy, vars, resource);
        return [
          this.any(
            this.all(now.allowed, z.Not(was.allowed)),
            this.all(was.explicitDeny, z.Not(now.explicitDeny)),
          ),
        ];
      },
      pin,
    );
  }

  /** Is this one request allowed by the policy? (The concrete check, through the same encoding.) */
  allows(policy: unknown, scope: OracleScope, request: OracleRequest): Promise<OracleAnswer> {
    return this.solve(
      [policy],
      scope,
      KINDS,
      (vars, [p]) => [this.decision(p as Policy, vars, fileSystemArnOf(scope)).allowed],
      request,
    );
  }

  // ----- models and pins

  private witness(model: Model<"oracle">, vars: RequestVars, scope: OracleScope): OracleRequest {
    const z = this.z;
    const str = (e: Seq<"oracle">) => (model.eval(e, true) as Seq<"oracle">).asString();
    const kind =
      vars.kinds.length === 1
        ? (vars.kinds[0] as PrincipalKind)
        : (KINDS[
            Number((model.eval(vars.kindVar, true) as unknown as { value(): bigint }).value())
          ] as PrincipalKind);
    const account = str(vars.account);
    const principal: OracleRequest["principal"] =
      kind === "anonymous"
        ? { kind: "anonymous" }
        : kind === "service"
          ? { kind: "service", service: str(vars.service) }
          : kind === "root"
            ? { kind: "aws", arn: `arn:aws:iam::${account}:root`, account }
            : kind === "user"
              ? { kind: "aws", arn: `arn:aws:iam::${account}:user/${str(vars.userName)}`, account }
              : kind === "role-session"
                ? {
                    kind: "aws",
                    arn: `arn:aws:sts::${account}:assumed-role/${str(vars.roleName)}/${str(vars.sessionName)}`,
                    account,
                    roleArn: `arn:aws:iam::${account}:role/${str(vars.roleName)}`,
                  }
                : {
                    kind: "aws",
                    arn: `arn:aws:sts::${account}:federated-user/${str(vars.fedName)}`,
                    account,
                  };
    const context = new Map<string, string | readonly string[]>();
    for (const key of vars.keys.values()) {
      if (!z.isTrue(model.eval(key.present, true))) continue;
      const count = Number((model.eval(key.count, true) as unknown as { value(): bigint }).value());
      const values: string[] = [];
      for (let j = 0; j < count; j++) values.push(this.valueText(model, key, j));
      context.set(key.key, MULTI_VALUED.has(key.key) ? values : (values[0] as string));
    }
    return {
      kind,
      principal,
      action: vars.actions[
        Number((model.eval(vars.action, true) as unknown as { value(): bigint }).value())
      ] as string,
      resource: fileSystemArnOf(scope),
      context,
    };
  }

  private valueText(model: Model<"oracle">, key: KeyVar, j: number): string {
    const z = this.z;
    switch (key.type) {
      case "string":
        return (model.eval(key.values[j] as Seq<"oracle">, true) as Seq<"oracle">).asString();
      case "bool":
        return z.isTrue(model.eval(key.values[j] as Bool<"oracle">, true)) ? "true" : "false";
      case "date": {
        const ms = (
          model.eval(key.values[j] as Arith<"oracle">, true) as unknown as { value(): bigint }
        ).value();
        return new Date(Number(ms)).toISOString();
      }
      case "numeric": {
        const v = (
          model.eval(key.values[j] as Arith<"oracle">, true) as unknown as {
            value(): { numerator: bigint; denominator: bigint };
          }
        ).value();
        return decimalText(v.numerator, v.denominator);
      }
      case "ip": {
        const v6 = z.isTrue(model.eval((key.v6 as Bool<"oracle">[])[j] as Bool<"oracle">, true));
        const bits = (
          model.eval(
            (v6 ? (key.v6addr as BitVec<128, "oracle">[]) : (key.v4addr as BitVec<32, "oracle">[]))[
              j
            ] as BitVec<number, "oracle">,
            true,
          ) as unknown as { value(): bigint }
        ).value();
        return v6 ? formatV6(bits) : formatV4(bits);
      }
    }
  }

  /** Constraints that fix the request to `request` (its derived keys follow from its caller). */
  private pinned(vars: RequestVars, request: OracleRequest): Bool<"oracle">[] {
    const z = this.z;
    const facts: Bool<"oracle">[] = [
      this.actionIs(vars, request.action),
      vars.kindVar.eq(KINDS.indexOf(request.kind)),
    ];
    const p = request.principal;
    if (request.kind === "anonymous") {
      const carried = request.context.has("aws:principaltype") || request.context.has("aws:userid");
      facts.push(carried ? vars.anonymousKeys : this.z.Not(vars.anonymousKeys));
    }
    if (p.kind === "service") facts.push(this.is(vars.service, p.service));
    if (p.kind === "aws") {
      facts.push(this.is(vars.account, p.account));
      const resource = p.arn.split(":").slice(5).join(":");
      const [, a = "", b = ""] = resource.split("/");
      // A name the request does not carry (a role named as the caller itself has no session) stays free.
      if (request.kind === "user" && a) facts.push(this.is(vars.userName, a));
      if (request.kind === "role-session" && a) facts.push(this.is(vars.roleName, a));
      if (request.kind === "role-session" && b) facts.push(this.is(vars.sessionName, b));
      if (request.kind === "federated-user" && a) facts.push(this.is(vars.fedName, a));
    }
    for (const key of vars.keys.values()) {
      if (DERIVED.has(key.key) && key.key !== "aws:principalorgid" && key.key !== "aws:principalorgpaths") {
        // The engine's own rendering of derived keys is checked by the evaluator; here they follow the caller,
        // except a role session's unique id, which only aws:userid reveals.
        const raw = request.context.get(key.key);
        if (key.key === "aws:userid" && request.kind === "role-session" && typeof raw === "string") {
          const colon = raw.indexOf(":");
          if (colon > 0) facts.push(this.is(vars.roleUniqueId, raw.slice(0, colon)));
        }
        if (key.key === "aws:userid" && request.kind === "user" && typeof raw === "string" && raw !== "")
          facts.push(this.is(vars.userUniqueId, raw));
        continue;
      }
      const raw = request.context.get(key.key);
      const values = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw as string];
      if (values.length > key.slots) return [z.Bool.val(false)];
      facts.push(key.count.eq(values.length));
      values.forEach((text, j) => {
        facts.push(this.valueIs(key, j, text));
      });
    }
    return facts;
  }

  private valueIs(key: KeyVar, j: number, text: string): Bool<"oracle"> {
    const z = this.z;
    switch (key.type) {
      case "string":
        return this.is(key.values[j] as Seq<"oracle">, text);
      case "bool":
        return text.toLowerCase() === "true"
          ? (key.values[j] as Bool<"oracle">)
          : text.toLowerCase() === "false"
            ? z.Not(key.values[j] as Bool<"oracle">)
            : z.Bool.val(false);
      case "date": {
        const ms = parseDateMs(text);
        return Number.isNaN(ms) ? z.Bool.val(false) : (key.values[j] as Arith<"oracle">).eq(z.Int.val(ms));
      }
      case "numeric":
        return /^-?\d+(\.\d+)?$/.test(text)
          ? (key.values[j] as Arith<"oracle">).eq(z.Real.val(text))
          : z.Bool.val(false);
      case "ip": {
        const cidr = parseCidrText(text);
        if (!cidr || cidr.prefix !== (cidr.v6 ? 128 : 32)) return z.Bool.val(false);
        return this.inCidr(key, j, cidr);
      }
    }
  }
}

/** A rational with a power-of-ten-friendly denominator, as decimal text. */
function decimalText(numerator: bigint, denominator: bigint): string {
  const negative = numerator < 0n;
  const n = negative ? -numerator : numerator;
  const whole = n / denominator;
  let rest = n % denominator;
  let digits = "";
  for (let i = 0; i < 6 && rest !== 0n; i++) {
    rest *= 10n;
    digits += String(rest / denominator);
    rest %= denominator;
  }
  return `${negative ? "-" : ""}${whole}${digits ? `.${digits}` : ""}`;
}

/**
 * A representative set of requests for judging a policy: every kind of caller and every context
 * that can make a difference to the policy's statements.
 *
 * A policy's statements only ever compare request values with the values the policy itself
 * mentions, so for each condition key it is enough to try: the key absent, each fixed value
 * mentioned, an instance of each wildcard pattern or policy variable, a value no statement mentions,
 * and (for IP, number and date keys) the points on either side of each boundary. Callers are the
 * anonymous NFS client, a probe role in the owner's account, each trusted account, each account the
 * policy names, an account the policy does not know, and every principal the policy names.
 */
import { type Cidr, formatCidr, parseCidr } from "../net/cidr.ts";
import type { FileSystemService } from "../types.ts";
import type { PolicyDocument } from "./document.ts";
import type { RequestPrincipal } from "./evaluate.ts";
import { principalContext } from "./evaluate.ts";
import { isFixedValue } from "./match.ts";
import { SERVICE_ACTIONS } from "./service-actions.generated.ts";

/** What a policy is judged against: whose file system it guards and who is trusted. */
export interface PolicyScope {
  readonly service: FileSystemService;
  /** The file system's account (the change's account). */
  readonly ownerAccount: string | undefined;
  readonly partition: string;
  readonly region: string | undefined;
  readonly fileSystemId: string | undefined;
  /** Accounts besides the owner whose principals may be granted client access. */
  readonly trustedAccounts: readonly string[];
  /** Principal ARNs that may be granted `ClientRootAccess`. */
  readonly adminPrincipals: readonly string[];
}

/** An account no policy names: stands for "any other AWS account". */
export const UNKNOWN_ACCOUNT = "999999999999";
const PROBE_ROLE = "remediator-probe";
/** What a wildcard or policy variable is instantiated to. */
const INSTANCE = "x0";
const FRESH_VALUE = "remediator-unmentioned-value";
const FRESH_IPV4 = "52.94.76.10";
const FRESH_IPV6 = "2600:1f14:abcd::10";

const ACCOUNT_ID = /^\d{12}$/;

/** Condition keys IAM fills from the caller itself: never chosen independently of the principal. */
const PRINCIPAL_DERIVED = new Set(["aws:principalarn", "aws:principalaccount", "aws:principaltype"]);

export function prefixOf(service: FileSystemService): string {
  return SERVICE_ACTIONS[service].prefix;
}

/** The NFS client actions of a service: mount (read), write, root. */
export function clientActions(service: FileSystemService): readonly string[] {
  const prefix = prefixOf(service);
  return [`${prefix}:ClientMount`, `${prefix}:ClientWrite`, `${prefix}:ClientRootAccess`];
}

export function rootActionOf(service: FileSystemService): string {
  return `${prefixOf(service)}:ClientRootAccess`;
}

/** `arn:{partition}:{s3files|elasticfilesystem}:{region}:{account}:file-system/{id}`, when all are known. */
export function fileSystemArn(scope: PolicyScope): string | undefined {
  if (!scope.ownerAccount || !scope.region || !scope.fileSystemId) return undefined;
  return `arn:${scope.partition}:${prefixOf(scope.service)}:${scope.region}:${scope.ownerAccount}:file-system/${scope.fileSystemId}`;
}

/** Replaces wildcards and policy variables by a concrete instance. */
export function instantiate(value: string): string {
  return value
    .replace(/\$\{[^}]*\}/g, INSTANCE)
    .replace(/\*/g, INSTANCE)
    .replace(/\?/g, "x");
}

/** The caller an ARN (or account id) in a policy stands for; undefined for non-IAM text. */
export function principalFromArn(value: string, partition: string): RequestPrincipal | undefined {
  if (value === "*") return undefined;
  if (ACCOUNT_ID.test(value)) return probeIn(value, partition);
  const parts = value.split(":");
  if (parts.length < 6 || parts[0] !== "arn") return undefined;
  const accountPart = parts[4] ?? "";
  const account = ACCOUNT_ID.test(accountPart) ? accountPart : UNKNOWN_ACCOUNT;
  const arnPartition = isFixedValue(parts[1] ?? "") ? (parts[1] as string) : partition;
  const resource = instantiate(parts.slice(5).join(":"));
  const service = parts[2];
  if (service === "iam" && resource === "root") return probeIn(account, arnPartition);
  if (service === "sts" && resource.startsWith("assumed-role/")) {
    const role = resource.split("/")[1] ?? INSTANCE;
    return {
      kind: "aws",
      arn: `arn:${arnPartition}:sts::${account}:${resource}`,
      account,
      roleArn: `arn:${arnPartition}:iam::${account}:role/${role}`,
    };
  }
  if (service === "iam")
    return { kind: "aws", arn: `arn:${arnPartition}:iam::${account}:${resource}`, account };
  return undefined;
}

export function probeIn(account: string, partition: string): RequestPrincipal {
  return { kind: "aws", arn: `arn:${partition}:iam::${account}:role/${PROBE_ROLE}`, account };
}

function principalKey(p: RequestPrincipal): string {
  if (p.kind === "anonymous") return "anonymous";
  if (p.kind === "service") return `service|${p.service}`;
  return `aws|${p.arn}|${p.roleArn ?? ""}`;
}

/** The condition values and principals the policies mention, gathered once. */
export interface Mentions {
  /** Condition values by lower-cased key. */
  readonly values: ReadonlyMap<string, readonly string[]>;
  /** Lower-cased keys referenced as policy variables. */
  readonly variableKeys: ReadonlySet<string>;
  /** Literal account ids named as principals (Principal, NotPrincipal, aws:PrincipalAccount, aws:PrincipalArn). */
  readonly namedAccounts: ReadonlySet<string>;
  readonly principalValues: readonly string[];
  readonly servicePrincipals: readonly string[];
}

export function gatherMentions(policies: readonly PolicyDocument[]): Mentions {
  const values = new Map<string, string[]>();
  const variableKeys = new Set<string>();
  const namedAccounts = new Set<string>();
  const principalValues: string[] = [];
  const servicePrincipals: string[] = [];
  const addAccountOf = (value: string) => {
    if (ACCOUNT_ID.test(value)) namedAccounts.add(value);
    const account = value.split(":")[4];
    if (account !== undefined && ACCOUNT_ID.test(account)) namedAccounts.add(account);
  };
  for (const policy of policies) {
    for (const statement of policy.statements) {
      for (const entry of [...(statement.principals ?? []), ...(statement.notPrincipals ?? [])]) {
        if (entry.type === "Service") servicePrincipals.push(entry.value);
        if (entry.type !== "AWS") continue;
        principalValues.push(entry.value);
        addAccountOf(entry.value);
      }
      for (const clause of statement.conditions) {
        const list = values.get(clause.keyLower) ?? [];
        list.push(...clause.values);
        values.set(clause.keyLower, list);
        for (const value of clause.values) {
          for (const match of value.matchAll(/\$\{([^},]*)/g))
            variableKeys.add((match[1] ?? "").trim().toLowerCase());
        }
        if (clause.keyLower === "aws:principalaccount" || clause.keyLower === "aws:principalarn") {
          for (const value of clause.values) addAccountOf(value);
        }
        if (clause.keyLower === "aws:principalarn") principalValues.push(...clause.values);
      }
    }
  }
  return { values, variableKeys, namedAccounts, principalValues, servicePrincipals };
}

function addressesAround(cidr: Cidr): string[] {
  const bits = cidr.bytes.length * 8;
  const toBig = (bytes: Uint8Array) => bytes.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
  const fromBig = (value: bigint) => {
    const bytes = new Uint8Array(cidr.bytes.length);
    let v = value;
    for (let i = bytes.length - 1; i >= 0; i--) {
      bytes[i] = Number(v & 0xffn);
      v >>= 8n;
    }
    return formatCidr({ version: cidr.version, bytes, prefix: bits }).replace(/\/\d+$/, "");
  };
  const first = toBig(cidr.bytes);
  const size = 1n << BigInt(bits - cidr.prefix);
  const last = first + size - 1n;
  const max = (1n << BigInt(bits)) - 1n;
  const points = [first, last, first + size / 2n];
  if (first > 0n) points.push(first - 1n);
  if (last < max) points.push(last + 1n);
  return points.map(fromBig);
}

const boundaries = new Map<string, readonly string[]>();

/**
 * `addressesAround` of a policy's address value, cached: the same few ranges come back in every
 * universe of a judgement (the policy, the edited policy, both), and the arithmetic is not free.
 */
function boundaryAddresses(value: string): readonly string[] {
  const known = boundaries.get(value);
  if (known) return known;
  let addresses: readonly string[];
  try {
    addresses = addressesAround(parseCidr(value));
  } catch {
    // A value that is not an address can match nothing.
    addresses = [];
  }
  if (boundaries.size >= 10_000) boundaries.clear();
  boundaries.set(value, addresses);
  return addresses;
}

const IP_KEYS = new Set(["aws:sourceip", "aws:vpcsourceip"]);
const BOOL_KEYS = new Set([
  "aws:securetransport",
  "elasticfilesystem:accessedviamounttarget",
  "aws:multifactorauthpresent",
  "aws:viaawsservice",
  "aws:principalisawsservice",
]);

/** Candidate values for one condition key; `undefined` stands for "absent from the request". */
function candidatesFor(key: string, mentioned: readonly string[]): (string | undefined)[] {
  const out = new Set<string | undefined>([undefined]);
  if (IP_KEYS.has(key)) {
    out.add(FRESH_IPV4);
    out.add(FRESH_IPV6);
    for (const value of mentioned) for (const address of boundaryAddresses(value)) out.add(address);
    return [...out];
  }
  if (BOOL_KEYS.has(key)) {
    out.add("true");
    out.add("false");
  }
  out.add(FRESH_VALUE);
  out.add(INSTANCE);
  for (const value of mentioned) {
    out.add(isFixedValue(value) ? value : instantiate(value));
    if (/^-?\d+(\.\d+)?$/.test(value)) {
      out.add(String(Number(value) - 1));
      out.add(String(Number(value) + 1));
    } else if (!Number.isNaN(Date.parse(value)) && /^\d{4}-/.test(value)) {
      const t = Date.parse(value);
      out.add(new Date(t - 1000).toISOString());
      out.add(new Date(t + 1000).toISOString());
    }
  }
  return [...out];
}

export interface Universe {
  readonly principals: readonly RequestPrincipal[];
  /** Every context to try, for every principal (principal-derived keys are added per principal). */
  readonly dimensions: readonly {
    readonly key: string;
    readonly candidates: readonly (string | undefined)[];
  }[];
  /** Number of requests per action. */
  readonly size: number;
  /** False when the product of candidates was too large and has been cut. */
  readonly complete: boolean;
}

/** Beyond this many contexts per principal the enumeration is cut and reported incomplete. */
export const MAX_CONTEXTS = 20_000;

export function buildUniverse(
  policies: readonly PolicyDocument[],
  scope: PolicyScope,
  mentions = gatherMentions(policies),
): Universe {
  const principals = new Map<string, RequestPrincipal>();
  const add = (p: RequestPrincipal | undefined) => {
    if (p) principals.set(principalKey(p), p);
  };
  add({ kind: "anonymous" });
  const accounts = new Set<string>([
    ...(scope.ownerAccount ? [scope.ownerAccount] : []),
    ...scope.trustedAccounts,
    ...mentions.namedAccounts,
    UNKNOWN_ACCOUNT,
  ]);
  for (const account of accounts) add(probeIn(account, scope.partition));
  for (const value of [...mentions.principalValues, ...scope.adminPrincipals])
    add(principalFromArn(value, scope.partition));
  for (const service of mentions.servicePrincipals) add({ kind: "service", service });

  const dimensions: { key: string; candidates: (string | undefined)[] }[] = [];
  const keys = new Set<string>([...mentions.values.keys(), ...mentions.variableKeys]);
  // A policy variable compares one key with another: the caller may make them equal, also to a
  // value IAM derives from the caller itself (its account, its ARN).
  const callerValues: string[] = [];
  if (mentions.variableKeys.size > 0) {
    for (const p of principals.values())
      if (p.kind === "aws") callerValues.push(p.account, p.arn, ...(p.roleArn ? [p.roleArn] : []));
  }
  for (const key of [...keys].sort()) {
    if (PRINCIPAL_DERIVED.has(key)) continue;
    const candidates = candidatesFor(key, mentions.values.get(key) ?? []);
    const usesVariables =
      mentions.variableKeys.has(key) ||
      (mentions.values.get(key) ?? []).some((value) => value.includes("${"));
    if (usesVariables)
      for (const value of callerValues) if (!candidates.includes(value)) candidates.push(value);
    dimensions.push({ key, candidates });
  }
  let size = 1;
  let complete = true;
  for (const dimension of dimensions) {
    size *= dimension.candidates.length;
    if (size > MAX_CONTEXTS) {
      complete = false;
      size = MAX_CONTEXTS;
    }
  }
  return { principals: [...principals.values()], dimensions, size: size * principals.size, complete };
}

/** Every (principal, context) of the universe, principal-derived keys included. */
export function* universeRequests(
  universe: Universe,
): Generator<{ principal: RequestPrincipal; context: Map<string, string | readonly string[]> }> {
  const { dimensions } = universe;
  for (const principal of universe.principals) {
    const base = principalContext(principal);
    const indexes = dimensions.map(() => 0);
    let produced = 0;
    while (produced < MAX_CONTEXTS) {
      const context = new Map(base);
      let skip = false;
      for (let d = 0; d < dimensions.length; d++) {
        const dimension = dimensions[d] as (typeof dimensions)[number];
        const value = dimension.candidates[indexes[d] as number];
        if (value === undefined) continue;
        // The anonymous caller has no organization or user id; a service has no organization.
        if (
          principal.kind !== "aws" &&
          (dimension.key === "aws:principalorgid" || dimension.key === "aws:userid")
        ) {
          skip = true;
          break;
        }
        context.set(dimension.key, value);
      }
      if (!skip) {
        produced++;
        yield { principal, context };
      }
      // Next combination (odometer).
      let d = 0;
      while (d < dimensions.length) {
        const dimension = dimensions[d] as (typeof dimensions)[number];
        indexes[d] = (indexes[d] as number) + 1;
        if ((indexes[d] as number) < dimension.candidates.length) break;
        indexes[d] = 0;
        d++;
      }
      if (d === dimensions.length) break;
    }
  }
}

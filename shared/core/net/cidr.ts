/**
 * CIDR parsing, canonicalisation and classification.
 *
 * CloudTrail records carry CIDRs exactly as the caller typed them, and EC2 accepts non-canonical
 * input such as `0.0.0.0/16` or `208.236.235.254/0`. Every decision is therefore made on the
 * canonical network (host bits cleared), never on the string.
 */

import { InvalidInputError } from "../errors.ts";

export type IpVersion = 4 | 6;

/** A parsed network: the address bytes with host bits cleared, and the prefix length. */
export interface Cidr {
  readonly version: IpVersion;
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

/**
 * How reachable a source range is.
 * - `internet`: 0.0.0.0/0, ::/0, or a range that reaches beyond private space and is broader than
 *   /8 (IPv4) or /32 (IPv6), the limits AWS uses when it decides whether a policy is public.
 * - `private`: wholly inside private or non-routable space (RFC 1918, CGNAT, loopback, link-local, ULA).
 * - `public-network`: a specific public host or network (a partner's office, say); not "the internet".
 */
export type SourceReach = "internet" | "private" | "public-network";

/** Not a CIDR. Input, so like every input error it carries no stack trace (see `InvalidInputError`). */
export class InvalidCidrError extends InvalidInputError {}
InvalidCidrError.prototype.name = "InvalidCidrError";

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i] as string;
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    bytes[i] = value;
  }
  return bytes;
}

function parseIpv6(text: string): Uint8Array | undefined {
  let head = text;
  let embeddedV4: Uint8Array | undefined;
  // An IPv4 tail such as ::ffff:192.0.2.1 takes the last 32 bits.
  const lastColon = head.lastIndexOf(":");
  if (head.slice(lastColon + 1).includes(".")) {
    embeddedV4 = parseIpv4(head.slice(lastColon + 1));
    if (!embeddedV4) return undefined;
    head = `${head.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split("::");
  if (halves.length > 2) return undefined;
  const toGroups = (s: string): string[] => (s === "" ? [] : s.split(":"));
  const left = toGroups(halves[0] as string);
  const right = halves.length === 2 ? toGroups(halves[1] as string) : [];
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...right];
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const group = groups[i] as string;
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
    const value = Number.parseInt(group, 16);
    bytes[i * 2] = value >> 8;
    bytes[i * 2 + 1] = value & 0xff;
  }
  if (embeddedV4) bytes.set(embeddedV4, 12);
  return bytes;
}

function clearHostBits(bytes: Uint8Array, prefix: number): void {
  for (let bit = prefix; bit < bytes.length * 8; bit++) {
    const index = bit >> 3;
    bytes[index] = (bytes[index] as number) & ~(0x80 >> (bit & 7));
  }
}

/** Parses `a.b.c.d/n` or an IPv6 `x::y/n`. A bare address is a host route (/32 or /128). */
export function parseCidr(text: string): Cidr {
  const trimmed = text.trim();
  const slash = trimmed.indexOf("/");
  const address = slash === -1 ? trimmed : trimmed.slice(0, slash);
  const version: IpVersion = address.includes(":") ? 6 : 4;
  const bytes = version === 4 ? parseIpv4(address) : parseIpv6(address);
  if (!bytes) throw new InvalidCidrError(`not an IPv${version} address: "${text}"`);
  const maxPrefix = bytes.length * 8;
  const prefixText = slash === -1 ? String(maxPrefix) : trimmed.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > maxPrefix) {
    throw new InvalidCidrError(`invalid prefix length in "${text}" (0-${maxPrefix} expected)`);
  }
  const prefix = Number(prefixText);
  clearHostBits(bytes, prefix);
  return { version, bytes, prefix };
}

/** The canonical text of a network: host bits cleared, IPv6 compressed as RFC 5952 prescribes. */
export function formatCidr(cidr: Cidr): string {
  if (cidr.version === 4) return `${Array.from(cidr.bytes).join(".")}/${cidr.prefix}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2)
    groups.push(((cidr.bytes[i] as number) << 8) | (cidr.bytes[i + 1] as number));
  // Longest run of two or more zero groups becomes "::" (first one on a tie).
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  const text =
    bestStart === -1
      ? hex.join(":")
      : `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
  return `${text}/${cidr.prefix}`;
}

/** True when every address of `inner` is inside `outer`. */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  if (outer.version !== inner.version || outer.prefix > inner.prefix) return false;
  const fullBytes = outer.prefix >> 3;
  for (let i = 0; i < fullBytes; i++) if (outer.bytes[i] !== inner.bytes[i]) return false;
  const restBits = outer.prefix & 7;
  if (restBits === 0) return true;
  const mask = (0xff << (8 - restBits)) & 0xff;
  return ((outer.bytes[fullBytes] as number) & mask) === ((inner.bytes[fullBytes] as number) & mask);
}

/** The two networks one bit longer that make up `cidr` (undefined for a single address). */
function halvesOf(cidr: Cidr): [Cidr, Cidr] | undefined {
  if (cidr.prefix === cidr.bytes.length * 8) return undefined;
  const high = new Uint8Array(cidr.bytes);
  const index = cidr.prefix >> 3;
  high[index] = (high[index] as number) | (0x80 >> (cidr.prefix & 7));
  const prefix = cidr.prefix + 1;
  return [
    { version: cidr.version, bytes: cidr.bytes, prefix },
    { version: cidr.version, bytes: high, prefix },
  ];
}

/**
 * True when every address of `inner` lies in the union of `outers`: a VPC with the CIDR blocks
 * 10.0.0.0/16 and 10.1.0.0/16 covers 10.0.0.0/15, which neither block contains alone. Splits
 * `inner` in halves only where a block's boundary falls inside it: at most one level per prefix
 * bit for each block, never one per address.
 */
export function cidrCoveredBy(inner: Cidr, outers: readonly Cidr[]): boolean {
  const overlapping = outers.filter((outer) => cidrOverlaps(outer, inner));
  if (overlapping.length === 0) return false;
  if (overlapping.some((outer) => cidrContains(outer, inner))) return true;
  // Every overlapping block is strictly inside `inner`: each half must be covered in turn.
  const halves = halvesOf(inner);
  if (!halves) return false;
  return cidrCoveredBy(halves[0], overlapping) && cidrCoveredBy(halves[1], overlapping);
}

/** True when the two networks share at least one address. */
export function cidrOverlaps(a: Cidr, b: Cidr): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

/** Private and non-routable space: traffic from here cannot come straight from the internet. */
export const PRIVATE_RANGE_TEXTS: readonly string[] = [
  "10.0.0.0/8", // RFC 1918
  "172.16.0.0/12", // RFC 1918
  "192.168.0.0/16", // RFC 1918
  "100.64.0.0/10", // RFC 6598 carrier-grade NAT
  "127.0.0.0/8", // loopback
  "169.254.0.0/16", // link-local
  "fc00::/7", // RFC 4193 unique local
  "fe80::/10", // link-local
  "::1/128", // loopback
];
const PRIVATE_RANGES: readonly Cidr[] = PRIVATE_RANGE_TEXTS.map(parseCidr);

/** Broadest prefix that still counts as a specific network, per AWS's definition of a public policy. */
const NARROWEST_INTERNET_PREFIX: Record<IpVersion, number> = { 4: 8, 6: 32 };

export function isPrivateCidr(cidr: Cidr): boolean {
  return PRIVATE_RANGES.some((range) => cidrContains(range, cidr));
}

export function classifyCidr(cidr: Cidr): SourceReach {
  if (isPrivateCidr(cidr)) return "private";
  return cidr.prefix < NARROWEST_INTERNET_PREFIX[cidr.version] ? "internet" : "public-network";
}

/*
 * A trail repeats the same few sources (0.0.0.0/0, the VPC ranges) thousands of times: remember
 * what each string means. Bounded, so a trail of endless distinct CIDRs cannot grow it without limit.
 */
const CIDR_MEMO_LIMIT = 4096;
const cidrByText = new Map<string, { readonly canonical: string; readonly reach: SourceReach }>();

function describeCidr(text: string): { readonly canonical: string; readonly reach: SourceReach } {
  let known = cidrByText.get(text);
  if (known === undefined) {
    const cidr = parseCidr(text);
    known = { canonical: formatCidr(cidr), reach: classifyCidr(cidr) };
    if (cidrByText.size >= CIDR_MEMO_LIMIT) cidrByText.clear();
    cidrByText.set(text, known);
  }
  return known;
}

/** `classifyCidr(parseCidr(text))`, memoised. Throws `InvalidCidrError` like `parseCidr`. */
export function reachOf(text: string): SourceReach {
  return describeCidr(text).reach;
}

/** The canonical text of a network (host bits cleared), memoised. Throws `InvalidCidrError`. */
export function canonicalCidr(text: string): string {
  return describeCidr(text).canonical;
}

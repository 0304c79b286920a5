/**
 * Security-group protocol and port logic.
 *
 * EC2 writes protocols as names or IANA numbers ("tcp" or "6", "-1" for all traffic) and uses
 * fromPort/toPort as a range for TCP/UDP but as ICMP type/code for ICMP; CloudTrail may carry them
 * as strings. Everything is normalised here so the rules compare like with like.
 */

export type Protocol = "all" | "tcp" | "udp" | "icmp" | "icmpv6" | `proto-${number}`;

const PROTOCOL_BY_NAME: Record<string, Protocol> = {
  "-1": "all",
  all: "all",
  tcp: "tcp",
  "6": "tcp",
  udp: "udp",
  "17": "udp",
  icmp: "icmp",
  "1": "icmp",
  icmpv6: "icmpv6",
  "58": "icmpv6",
};

export function normalizeProtocol(value: string | number): Protocol | undefined {
  const text = String(value).trim().toLowerCase();
  const known = PROTOCOL_BY_NAME[text];
  if (known) return known;
  if (/^\d{1,3}$/.test(text) && Number(text) <= 255) return `proto-${Number(text)}`;
  return undefined;
}

/** An inclusive port range; absent bounds on TCP/UDP mean every port. */
export interface PortRange {
  readonly from: number;
  readonly to: number;
}

export const ALL_PORTS: PortRange = { from: 0, to: 65535 };

/** The TCP/UDP ports a rule opens. `-1` bounds, as EC2 returns for "all", mean every port. */
export function portRangeOf(fromPort: number | undefined, toPort: number | undefined): PortRange {
  if (fromPort === undefined || toPort === undefined || fromPort < 0 || toPort < 0) return ALL_PORTS;
  return { from: Math.min(fromPort, toPort), to: Math.max(fromPort, toPort) };
}

export function rangeContainsPort(range: PortRange, port: number): boolean {
  return port >= range.from && port <= range.to;
}

/**
 * The sensitive ports a rule exposes. All traffic exposes every one; TCP and UDP expose those in
 * their range (a wide range such as 0-65535 *contains* 22 and 2049); ICMP and other IP protocols
 * carry no ports and expose none.
 */
export function exposedSensitivePorts(
  protocol: Protocol,
  range: PortRange,
  sensitivePorts: readonly number[],
): number[] {
  if (protocol === "all") return [...sensitivePorts];
  if (protocol !== "tcp" && protocol !== "udp") return [];
  return sensitivePorts.filter((port) => rangeContainsPort(range, port));
}

export function describePorts(protocol: Protocol, range: PortRange): string {
  if (protocol === "all") return "all traffic";
  if (protocol !== "tcp" && protocol !== "udp") return protocol;
  if (range.from === range.to) return `${protocol}/${range.from}`;
  return `${protocol}/${range.from}-${range.to}`;
}

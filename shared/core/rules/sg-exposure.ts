/**
 * What the security-group rules share: which peers reach a sensitive port from the internet, and
 * the surgical revoke that removes exactly those rules and nothing else.
 */
import { reachOf } from "../net/cidr.ts";
import { describePorts, exposedSensitivePorts } from "../net/ports.ts";
import type { PlanStep, SgRule } from "../types.ts";
import type { JudgeContext } from "./rule.ts";

const PORT_NAMES: Readonly<Record<number, string>> = {
  22: "SSH",
  111: "rpcbind",
  445: "SMB",
  2049: "NFS",
  3389: "RDP",
};

export interface Exposure {
  readonly rule: SgRule;
  readonly ports: readonly number[];
  /** The internet CIDR behind the peer (the peer itself, or an entry of its prefix list). */
  readonly internetCidr: string;
}

export interface ExposureScan {
  readonly exposures: readonly Exposure[];
  /** What could not be decided offline and will be read live. */
  readonly notes: readonly string[];
}

export function describeSensitivePorts(ports: readonly number[]): string {
  return ports.map((p) => (PORT_NAMES[p] ? `${p} (${PORT_NAMES[p]})` : String(p))).join(", ");
}

/** Rules of `direction` that let the internet reach a sensitive port. */
export function scanInternetExposure(
  rules: readonly SgRule[],
  direction: "ingress" | "egress",
  context: JudgeContext,
): ExposureScan {
  const exposures: Exposure[] = [];
  const notes: string[] = [];
  for (const rule of rules) {
    if (rule.direction !== direction) continue;
    const ports = exposedSensitivePorts(rule.protocol, rule.ports, context.config.sensitivePorts);
    if (ports.length === 0) continue;
    const { peer } = rule;
    if (peer.kind === "cidr") {
      if (reachOf(peer.cidr) === "internet") exposures.push({ rule, ports, internetCidr: peer.cidr });
    } else if (peer.kind === "prefix-list") {
      const entries = context.facts.prefixListCidrs?.get(peer.prefixListId);
      if (!entries) {
        notes.push(
          `${peer.prefixListId} opens ${describePorts(rule.protocol, rule.ports)}: its entries are read live and judged as sources`,
        );
        continue;
      }
      const internet = entries.find((cidr) => reachOf(cidr) === "internet");
      if (internet) exposures.push({ rule, ports, internetCidr: internet });
    }
  }
  return { exposures, notes };
}

function peerText(rule: SgRule): string {
  const { peer } = rule;
  if (peer.kind === "cidr") return peer.cidr;
  if (peer.kind === "prefix-list") return peer.prefixListId;
  return peer.groupId;
}

export function describeExposure(exposure: Exposure): string {
  const { rule } = exposure;
  const via = rule.peer.kind === "prefix-list" ? ` (prefix list containing ${exposure.internetCidr})` : "";
  const id = rule.ruleId ? ` [${rule.ruleId}]` : "";
  const preposition = rule.direction === "ingress" ? "from" : "to";
  return `${rule.groupId}${id} ${rule.direction} ${describePorts(rule.protocol, rule.ports)} ${preposition} ${peerText(rule)}${via} exposes ${describeSensitivePorts(exposure.ports)}`;
}

/** The narrowest `IpPermissions` entry naming exactly one rule: its protocol, ports and one peer. */
function ipPermissionOf(rule: SgRule): Record<string, unknown> {
  const permission: Record<string, unknown> = { IpProtocol: rule.rawProtocol };
  if (rule.protocol !== "all" && rule.fromPort !== undefined) permission.FromPort = rule.fromPort;
  if (rule.protocol !== "all" && rule.toPort !== undefined) permission.ToPort = rule.toPort;
  const { peer } = rule;
  // The CIDR is revoked as written: EC2 matches the rule it stored, not our canonical form.
  if (peer.kind === "cidr") {
    if (peer.cidr.includes(":")) permission.Ipv6Ranges = [{ CidrIpv6: peer.cidr }];
    else permission.IpRanges = [{ CidrIp: peer.cidr }];
  } else if (peer.kind === "prefix-list") {
    permission.PrefixListIds = [{ PrefixListId: peer.prefixListId }];
  } else {
    permission.UserIdGroupPairs = [{ GroupId: peer.groupId }];
  }
  return permission;
}

/**
 * Revokes exactly the offending rules of one group: by `SecurityGroupRuleIds` where the record gave
 * the ids, otherwise by `IpPermissions` entries that each name a single offending peer, so a safe
 * peer authorised in the same call is never touched.
 */
export function planRevoke(
  groupId: string,
  direction: "ingress" | "egress",
  exposures: readonly Exposure[],
  why: string,
): PlanStep[] {
  const api = direction === "ingress" ? "ec2:RevokeSecurityGroupIngress" : "ec2:RevokeSecurityGroupEgress";
  const group = groupId.startsWith("sg-") ? { GroupId: groupId } : { GroupName: groupId };
  const withIds = exposures.filter((e) => e.rule.ruleId !== undefined);
  const withoutIds = exposures.filter((e) => e.rule.ruleId === undefined);
  const steps: PlanStep[] = [];
  if (withIds.length > 0) {
    steps.push({
      api,
      params: { ...group, SecurityGroupRuleIds: [...new Set(withIds.map((e) => e.rule.ruleId as string))] },
      reason: why,
    });
  }
  if (withoutIds.length > 0) {
    steps.push({
      api,
      params: { ...group, IpPermissions: withoutIds.map((e) => ipPermissionOf(e.rule)) },
      reason: why,
    });
  }
  return steps;
}

/**
 * The stricter standard for security groups that guard a mount target: NFS (2049) or all traffic
 * may come only from inside the VPC (in practice from the security groups of the compute that
 * mounts). A source outside the VPC's CIDRs is a violation however narrow, public or not.
 */
import { cidrCoveredBy, classifyCidr, parseCidr } from "../net/cidr.ts";
import { describePorts, exposedSensitivePorts } from "../net/ports.ts";
import type { SgRule } from "../types.ts";
import type { LiveFacts } from "./rule.ts";
import type { Exposure } from "./sg-exposure.ts";

export const NFS_PORT = 2049;

export interface MountTargetExposure extends Exposure {
  /** True when the source reaches beyond private address space. */
  readonly publicSource: boolean;
}

/** Outside the VPC: not covered by the union of its CIDR blocks (a VPC may have several). */
function outsideVpc(cidr: string, vpcCidrs: readonly string[]): boolean {
  const blocks = vpcCidrs.flatMap((vpc) => {
    try {
      return [parseCidr(vpc)];
    } catch {
      return [];
    }
  });
  return !cidrCoveredBy(parseCidr(cidr), blocks);
}

/** Rules that admit NFS (or all traffic) from outside the VPC; notes for what must be read live. */
export function nfsFromOutsideVpc(
  rules: readonly SgRule[],
  vpcCidrs: readonly string[],
  facts: LiveFacts,
): { exposures: MountTargetExposure[]; notes: string[] } {
  const exposures: MountTargetExposure[] = [];
  const notes: string[] = [];
  // No VPC range known means nothing can be said to be outside it: judging against an empty list
  // would call every source, the VPC's own included, an outsider and revoke it.
  if (vpcCidrs.length === 0) {
    return { exposures, notes: ["the VPC's CIDRs are unknown: NFS sources are not judged against them"] };
  }
  for (const rule of rules) {
    if (rule.direction !== "ingress") continue;
    if (exposedSensitivePorts(rule.protocol, rule.ports, [NFS_PORT]).length === 0) continue;
    const { peer } = rule;
    const sources: string[] = [];
    if (peer.kind === "cidr") sources.push(peer.cidr);
    else if (peer.kind === "prefix-list") {
      const entries = facts.prefixListCidrs?.get(peer.prefixListId);
      if (!entries) {
        notes.push(
          `${peer.prefixListId} admits ${describePorts(rule.protocol, rule.ports)}: its entries would be read live`,
        );
        continue;
      }
      sources.push(...entries);
    }
    for (const cidr of sources) {
      if (!outsideVpc(cidr, vpcCidrs)) continue;
      exposures.push({
        rule,
        ports: [NFS_PORT],
        internetCidr: cidr,
        publicSource: classifyCidr(parseCidr(cidr)) !== "private",
      });
      break;
    }
  }
  return { exposures, notes };
}

export function describeMountTargetExposure(exposure: MountTargetExposure): string {
  const { rule } = exposure;
  const id = rule.ruleId ? ` [${rule.ruleId}]` : "";
  const via =
    rule.peer.kind === "prefix-list"
      ? `${rule.peer.prefixListId} (containing ${exposure.internetCidr})`
      : exposure.internetCidr;
  return `${rule.groupId}${id} admits ${describePorts(rule.protocol, rule.ports)} from ${via}, outside the VPC${exposure.publicSource ? " (a public source)" : ""}`;
}

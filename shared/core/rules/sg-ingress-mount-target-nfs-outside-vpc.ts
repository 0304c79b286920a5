import { exposedSensitivePorts } from "../net/ports.ts";
import { describeMountTargetExposure, NFS_PORT, nfsFromOutsideVpc } from "./mount-target-exposure.ts";
import { NOT_APPLICABLE, type Rule } from "./rule.ts";
import { planRevoke } from "./sg-exposure.ts";

/**
 * The runtime fills `mountTargetGuards` with every group attached to a mount target; a group it
 * does not list guards none. Offline the map is absent and the rule says what it would check.
 */
export const sgIngressMountTargetNfsOutsideVpc: Rule = {
  id: "sg-ingress-mount-target-nfs-outside-vpc",
  title: "Mount-target security group admits NFS from outside the VPC",
  severity: "high",
  defaultMode: "enforce",
  rationale:
    "A security group on a mount target must accept NFS (2049) only from inside the VPC, in practice from the security groups of the compute that mounts. A rule admitting NFS or all traffic from any CIDR outside the VPC's CIDRs is a violation even when the range is a narrow public one that the general internet rule accepts. The offending rule alone is revoked.",
  docsUrl: "https://docs.aws.amazon.com/efs/latest/ug/network-access.html",
  appliesTo: ["sg-rules-added", "sg-rules-modified"],
  evaluate(change, context) {
    const { detail } = change;
    if (detail.kind !== "sg-rules-added" && detail.kind !== "sg-rules-modified") return NOT_APPLICABLE;
    const guards = context.facts.mountTargetGuards;
    if (!guards) {
      const nfs = detail.rules.filter(
        (rule) =>
          rule.direction === "ingress" &&
          rule.peer.kind !== "security-group" &&
          exposedSensitivePorts(rule.protocol, rule.ports, [NFS_PORT]).length > 0,
      );
      if (nfs.length === 0) return { status: "compliant" };
      return {
        status: "compliant",
        notes: [
          `if ${detail.groupId} guards a mount target, its NFS sources would be judged against the VPC's CIDRs (any source outside them is a violation)`,
        ],
      };
    }
    const guard = guards.get(detail.groupId);
    if (!guard) return { status: "compliant" };
    const { exposures, notes } = nfsFromOutsideVpc(detail.rules, guard.vpcCidrs, context.facts);
    if (exposures.length === 0) return { status: "compliant", notes };
    const guarded = guard.fileSystemIds.join(", ");
    return {
      status: "violation",
      findings: exposures.map((exposure) => ({
        rule: this.id,
        severity: exposure.publicSource ? ("critical" as const) : ("high" as const),
        message: `${describeMountTargetExposure(exposure)}; it guards the mount target(s) of ${guarded}`,
      })),
      plan: planRevoke(
        detail.groupId,
        "ingress",
        exposures,
        "revoke only the rule that admits NFS from outside the VPC to a mount target",
      ),
      notes,
    };
  },
};

import type { PlanStep } from "../types.ts";
import {
  describeMountTargetExposure,
  type MountTargetExposure,
  nfsFromOutsideVpc,
} from "./mount-target-exposure.ts";
import { NOT_APPLICABLE, type Rule } from "./rule.ts";
import { planRevoke } from "./sg-exposure.ts";

/**
 * CreateMountTarget, UpdateMountTarget (S3 Files, which replaces the whole group set) and
 * ModifyMountTargetSecurityGroups (EFS, same semantics). The groups' rules and the VPC's CIDRs are
 * live state; offline the rule says what it would check.
 */
export const mountTargetNfsOutsideVpc: Rule = {
  id: "mount-target-nfs-outside-vpc",
  title: "Mount target guarded by a security group that admits NFS from outside the VPC",
  severity: "high",
  defaultMode: "enforce",
  rationale:
    "The security groups on a mount target are the network boundary of the file system: they must admit NFS (2049) only from inside the VPC. When a group put on a mount target admits NFS or all traffic from outside the VPC's CIDRs, the previous group set is restored where the groups were changed by UpdateMountTarget / ModifyMountTargetSecurityGroups and it is known; otherwise the offending rule alone is revoked.",
  docsUrl: "https://docs.aws.amazon.com/efs/latest/ug/network-access.html",
  appliesTo: ["mount-target-security-groups"],
  evaluate(change, context) {
    const { detail } = change;
    if (detail.kind !== "mount-target-security-groups") return NOT_APPLICABLE;
    const { facts } = context;
    const target = detail.mountTargetId ?? `new mount target of ${detail.fileSystemId ?? "a file system"}`;
    const notes: string[] = [];
    if (detail.securityGroups.length === 0) {
      notes.push(
        `${target}: no groups named, so the VPC's default group guards it; its inbound rules would be checked live`,
      );
    }
    const byGroup = new Map<string, MountTargetExposure[]>();
    for (const groupId of detail.securityGroups) {
      const rules = facts.securityGroupIngressRules?.get(groupId);
      const vpcCidrs =
        facts.mountTargetGuards?.get(groupId)?.vpcCidrs ??
        (detail.vpcId ? facts.vpcCidrs?.get(detail.vpcId) : undefined);
      if (!rules || !vpcCidrs) {
        notes.push(
          `${groupId} on ${target}: its inbound rules would be read live; NFS (2049) or all traffic from outside the VPC's CIDRs is a violation`,
        );
        continue;
      }
      const scan = nfsFromOutsideVpc(rules, vpcCidrs, facts);
      notes.push(...scan.notes);
      if (scan.exposures.length > 0) byGroup.set(groupId, scan.exposures);
    }
    if (byGroup.size === 0) return { status: "compliant", notes };
    const findings = [...byGroup.values()].flat().map((exposure) => ({
      rule: this.id,
      severity: exposure.publicSource ? ("critical" as const) : ("high" as const),
      message: `${target} (${detail.fileSystemId ?? "file system"}): ${describeMountTargetExposure(exposure)}`,
    }));
    const previous = detail.mountTargetId
      ? facts.previousMountTargetGroups?.get(detail.mountTargetId)
      : undefined;
    let plan: PlanStep[];
    if (detail.action === "update" && detail.mountTargetId && previous && previous.length > 0) {
      const reason = "restore the security groups the mount target had before the update";
      plan = [
        detail.service === "s3files"
          ? {
              api: "s3files:UpdateMountTarget",
              params: { mountTargetId: detail.mountTargetId, securityGroups: [...previous] },
              reason,
            }
          : {
              api: "elasticfilesystem:ModifyMountTargetSecurityGroups",
              params: { MountTargetId: detail.mountTargetId, SecurityGroups: [...previous] },
              reason,
            },
      ];
    } else {
      plan = [...byGroup].flatMap(([groupId, exposures]) =>
        planRevoke(
          groupId,
          "ingress",
          exposures,
          "revoke only the rule that admits NFS from outside the VPC to a mount target",
        ),
      );
    }
    return { status: "violation", findings, plan, notes };
  },
};

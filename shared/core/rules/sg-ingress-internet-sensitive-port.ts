import type { SgRule } from "../types.ts";
import { NOT_APPLICABLE, type Rule } from "./rule.ts";
import { describeExposure, planRevoke, scanInternetExposure } from "./sg-exposure.ts";

/** Ports whose exposure opens file data or the whole host: the worst case. */
const CRITICAL_PORTS = new Set([2049, 111]);

export const sgIngressInternetSensitivePort: Rule = {
  id: "sg-ingress-internet-sensitive-port",
  title: "Security group admits the internet to a sensitive port",
  severity: "high",
  defaultMode: "enforce",
  rationale:
    "Inbound rules from 0.0.0.0/0, ::/0 or any public range broader than /8 (IPv4) or /32 (IPv6) put NFS (2049), " +
    "rpcbind (111), SSH, RDP, SMB or all traffic within reach of every scanner on the internet. Mount targets must " +
    "accept NFS only from the security groups of the compute that mounts. The offending rule alone is revoked, by its " +
    "security-group rule id where known; safe sources granted in the same call stay.",
  docsUrl: "https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html",
  appliesTo: ["sg-rules-added", "sg-rules-modified"],
  evaluate(change, context) {
    const { detail } = change;
    if (detail.kind !== "sg-rules-added" && detail.kind !== "sg-rules-modified") return NOT_APPLICABLE;
    const { exposures, notes } = scanInternetExposure(detail.rules, "ingress", context);
    if (exposures.length === 0) return { status: "compliant", notes };
    const assumed = detail.rules.some((rule: SgRule) => rule.directionAssumed);
    const findings = exposures.map((exposure) => ({
      rule: this.id,
      severity:
        exposure.rule.protocol === "all" || exposure.ports.some((p) => CRITICAL_PORTS.has(p))
          ? ("critical" as const)
          : ("high" as const),
      message: `${describeExposure(exposure)} to the internet`,
    }));
    const why = "revoke only the rule that admits the internet to a sensitive port";
    return {
      status: "violation",
      findings,
      plan: planRevoke(detail.groupId, "ingress", exposures, why),
      notes: assumed
        ? [
            ...notes,
            "ModifySecurityGroupRules does not say whether a rule is ingress or egress: judged as ingress; the direction is confirmed live before revoking",
          ]
        : notes,
    };
  },
};

import { NOT_APPLICABLE, type Rule } from "./rule.ts";
import { describeExposure, planRevoke, scanInternetExposure } from "./sg-exposure.ts";

export const sgEgressInternetSensitivePort: Rule = {
  id: "sg-egress-internet-sensitive-port",
  title: "Security group lets traffic out to the internet on a sensitive port",
  severity: "low",
  // Every new security group allows all outbound traffic, and most workloads rely on it: egress is
  // judged only where a team opts in.
  defaultMode: "off",
  rationale:
    "Outbound NFS, SMB or all traffic to the internet is a path for data to leave. AWS creates every security group " +
    "with an allow-all egress rule, so this rule is off by default; turn it on (notify or enforce) where egress must " +
    "stay inside the network.",
  docsUrl: "https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html",
  appliesTo: ["sg-rules-added", "sg-rules-modified"],
  evaluate(change, context) {
    const { detail } = change;
    if (detail.kind !== "sg-rules-added" && detail.kind !== "sg-rules-modified") return NOT_APPLICABLE;
    const { exposures, notes } = scanInternetExposure(detail.rules, "egress", context);
    if (exposures.length === 0) return { status: "compliant", notes };
    return {
      status: "violation",
      findings: exposures.map((exposure) => ({
        rule: this.id,
        severity: this.severity,
        message: describeExposure(exposure),
      })),
      plan: planRevoke(
        detail.groupId,
        "egress",
        exposures,
        "revoke only the rule that sends a sensitive port to the internet",
      ),
      notes,
    };
  },
};

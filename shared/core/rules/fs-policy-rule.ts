/** Builds one file-system policy rule from the shared judgement. */
import { FS_POLICY_RULES, type FsPolicyProblem, judgeFsPolicy } from "./fs-policy-judgement.ts";
import { NOT_APPLICABLE, type Rule } from "./rule.ts";

/** How file-system policies decide client access (S3 Files; EFS documents the same model). */
const FS_POLICY_DOCS = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-files-security-iam.html";

export function fsPolicyRule(
  problem: FsPolicyProblem,
  text: { readonly title: string; readonly rationale: string; readonly docsUrl?: string },
  appliesTo: (service: "s3files" | "efs") => boolean = () => true,
): Rule {
  const { id, severity, defaultMode } = FS_POLICY_RULES[problem];
  return {
    id,
    title: text.title,
    severity,
    defaultMode,
    rationale: text.rationale,
    docsUrl: text.docsUrl ?? FS_POLICY_DOCS,
    appliesTo: ["fs-policy-put"],
    evaluate(change, context) {
      const { detail } = change;
      if (detail.kind !== "fs-policy-put" || !appliesTo(detail.service)) return NOT_APPLICABLE;
      const judgement = judgeFsPolicy(change, context);
      const findings = judgement.findings[problem];
      const notes = judgement.notes[problem];
      if (findings.length === 0) return { status: "compliant", notes };
      // The combined edit fixes every enforced rule's findings; one rule carries it.
      return {
        status: "violation",
        findings,
        plan: judgement.planOwner === problem ? judgement.plan : [],
        notes,
      };
    },
  };
}

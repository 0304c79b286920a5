/** Builds one bucket rule from the shared bucket judgement. */
import { BUCKET_RULES, type BucketProblem, judgeBucket } from "./bucket-judgement.ts";
import { NOT_APPLICABLE, type Rule } from "./rule.ts";

export function bucketRule(
  problem: BucketProblem,
  text: { readonly title: string; readonly rationale: string },
): Rule {
  const { id, severity, defaultMode } = BUCKET_RULES[problem];
  return {
    id,
    title: text.title,
    severity,
    defaultMode,
    rationale: text.rationale,
    appliesTo: ["bucket-state"],
    evaluate(change, context) {
      if (change.detail.kind !== "bucket-state") return NOT_APPLICABLE;
      const judgement = judgeBucket(change, context);
      const findings = judgement.findings[problem];
      const notes = judgement.notes[problem];
      // Nothing known of what this rule judges (a versioning event says nothing of the policy).
      if (findings === undefined) return notes.length > 0 ? { status: "compliant", notes } : NOT_APPLICABLE;
      if (findings.length === 0) return { status: "compliant", notes };
      return {
        status: "violation",
        findings,
        plan: judgement.steps.filter((s) => s.owner === problem).map((s) => s.step),
        notes,
      };
    },
  };
}

import { InvalidInputError } from "../errors.ts";
import { partitionOf } from "../intake/cloudtrail-record.ts";
import { builtInDenyBaseline, isPolicySafe, renderBaseline } from "../policy/index.ts";
import { putPolicyStep, scopeOf } from "./fs-policy-judgement.ts";
import { NOT_APPLICABLE, type Rule } from "./rule.ts";

/**
 * S3 Files with no policy leaves the decision to identity policies alone; EFS with no policy lets
 * any client that reaches a mount target mount, write and be root. Both are documented defaults
 * AWS recommends against.
 */
export const fsPolicyDeleted: Rule = {
  id: "fs-policy-deleted",
  title: "File-system policy deleted",
  severity: "high",
  defaultMode: "enforce",
  rationale:
    "Without a file-system policy, EFS grants full access (mount, write, root) to any client that reaches a mount target, and S3 Files leaves every decision to identity policies; AWS recommends an explicit policy on every file system. The last known good policy is restored when the runtime knows it; otherwise the deny-baseline is applied (owner-account clients may mount and write, nobody else, no root through the policy, and for EFS no client without TLS).",
  docsUrl: "https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-files-security-iam.html",
  appliesTo: ["fs-policy-deleted"],
  evaluate(change, context) {
    const { detail } = change;
    if (detail.kind !== "fs-policy-deleted") return NOT_APPLICABLE;
    const fsId = detail.fileSystemId;
    const consequence =
      detail.service === "efs"
        ? "any client that reaches a mount target may now mount, write and be root"
        : "identity policies alone now decide who may mount, write and be root";
    const finding = {
      rule: this.id,
      severity: detail.service === "efs" ? ("critical" as const) : ("high" as const),
      message: `${fsId}: file-system policy deleted; ${consequence}`,
    };
    const scope = scopeOf(change, detail.service, fsId, context);
    const notes: string[] = [];
    const lastGood = context.facts.lastKnownGoodPolicy?.get(fsId);
    if (lastGood !== undefined) {
      try {
        const verdict = isPolicySafe(lastGood, scope, { requireTls: false });
        if (verdict.safe) {
          return {
            status: "violation",
            findings: [finding],
            plan: [putPolicyStep(detail.service, fsId, lastGood, "restore the last known good policy")],
          };
        }
        notes.push(
          `the last known good policy is not safe (${verdict.problems.join("; ")}): the deny-baseline is applied instead`,
        );
      } catch (error) {
        if (!(error instanceof InvalidInputError)) throw error;
        notes.push(
          `the last known good policy cannot be parsed (${error.message}): the deny-baseline is applied instead`,
        );
      }
    } else {
      notes.push(
        `${fsId}: the last known good policy would be restored when the runtime knows one; otherwise the deny-baseline`,
      );
    }
    if (!change.meta.region || !change.meta.account) {
      return {
        status: "violation",
        findings: [finding],
        plan: [],
        notes: [...notes, "region or account unknown: no baseline can be rendered"],
      };
    }
    const template = context.config.denyBaselinePolicy ?? builtInDenyBaseline(detail.service);
    const baseline = renderBaseline(template, {
      partition: partitionOf(change.meta.region),
      region: change.meta.region,
      account: change.meta.account,
      fileSystemId: fsId,
    });
    try {
      const verdict = isPolicySafe(baseline, scope);
      if (!verdict.safe) {
        return {
          status: "violation",
          findings: [finding],
          plan: [],
          notes: [
            ...notes,
            `the configured deny-baseline is not safe (${verdict.problems.join("; ")}): nothing applied`,
          ],
        };
      }
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      return {
        status: "violation",
        findings: [finding],
        plan: [],
        notes: [
          ...notes,
          `the configured deny-baseline is not a valid policy (${error.message}): nothing applied`,
        ],
      };
    }
    return {
      status: "violation",
      findings: [finding],
      plan: [
        putPolicyStep(
          detail.service,
          fsId,
          baseline,
          "apply the deny-baseline: no last known good policy is known",
        ),
      ],
      notes,
    };
  },
};

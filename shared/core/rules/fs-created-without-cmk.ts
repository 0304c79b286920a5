import { NOT_APPLICABLE, type Rule } from "./rule.ts";

/** An AWS managed key is named by its alias `alias/aws/...`: not one the customer controls. */
function isAwsManagedKey(kmsKeyId: string): boolean {
  return /(^|:)alias\/aws\//.test(kmsKeyId);
}

/** The encryption key of a file system is fixed at creation: the rule only ever notifies. */
export const fsCreatedWithoutCmk: Rule = {
  id: "fs-created-without-cmk",
  title: "File system created without a customer-managed KMS key",
  severity: "low",
  defaultMode: "off",
  rationale:
    "A customer-managed KMS key lets the owner audit and revoke access to the data at rest independently of the file system. The key cannot be changed after creation, so this rule only notifies (it never plans anything, even when enforced); it is off by default.",
  docsUrl: "https://docs.aws.amazon.com/efs/latest/ug/encryption-at-rest.html",
  appliesTo: ["file-system-created"],
  evaluate(change) {
    const { detail } = change;
    if (detail.kind !== "file-system-created") return NOT_APPLICABLE;
    const name = detail.fileSystemId ?? "new file system";
    if (detail.encrypted === false) {
      return {
        status: "violation",
        findings: [{ rule: this.id, severity: "medium", message: `${name}: not encrypted at rest` }],
        plan: [],
      };
    }
    if (detail.kmsKeyId === undefined || isAwsManagedKey(detail.kmsKeyId)) {
      return {
        status: "violation",
        findings: [
          {
            rule: this.id,
            severity: this.severity,
            message: `${name}: encrypted with ${detail.kmsKeyId ?? "the service's default key"}, not a customer-managed KMS key`,
          },
        ],
        plan: [],
      };
    }
    return { status: "compliant" };
  },
};

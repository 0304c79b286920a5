import { bucketRule } from "./bucket-rule.ts";

export const bucketVersioningNotEnabled = bucketRule("versioning", {
  title: "Versioning not enabled on a bucket behind a file system",
  rationale:
    "S3 Files requires its bucket to keep versioning enabled; with versioning suspended, an overwrite or delete through the file system or the bucket destroys the only copy. The guardrail re-enables versioning (PutBucketVersioning with ExpectedBucketOwner) and reads it back. When MFA delete is on, changing the versioning state needs the bucket owner's MFA device, so the rule only notifies.",
});

import { bucketRule } from "./bucket-rule.ts";

export const bucketPolicyBlocksFileSystem = bucketRule("blocksFileSystem", {
  title: "Bucket policy Deny blocks a file system's role or its clients' direct reads",
  rationale:
    "A Deny in the bucket policy (typically StringNotEquals on aws:SourceVpce, aws:SourceVpc or aws:PrincipalArn) can stop the file system's own role from syncing (s3:ListBucket, s3:GetObject, s3:PutObject, s3:DeleteObject, s3:AbortMultipartUpload) or the compute role from reading objects directly (s3:GetObject, s3:GetObjectVersion), without an obvious error. The file system's own requests never come through a VPC endpoint of the account, so aws:SourceVpce and aws:SourceVpc are absent from them, and a negated operator (StringNotEquals, ArnNotLike, …) on an absent key is true: such a Deny applies. The rule notifies with the statement and the principal it blocks; it never edits a Deny.",
});

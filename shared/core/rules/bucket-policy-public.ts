import { bucketRule } from "./bucket-rule.ts";

export const bucketPolicyPublic = bucketRule("policyPublic", {
  title: "Bucket policy behind a file system is public",
  rationale:
    "A bucket policy statement that allows a wildcard principal an action exposing data (s3:Get*, s3:List*, s3:Put*, s3:Delete*, s3:AbortMultipartUpload, s3:RestoreObject), not limited by fixed values of the keys S3 accepts (aws:SourceIp, aws:SourceArn, aws:SourceVpc, aws:SourceVpce, aws:SourceOwner, aws:SourceAccount, aws:userid, s3:DataAccessPointArn, s3:DataAccessPointAccount, s3:x-amz-server-side-encryption-aws-kms-key-id, or a fixed principal such as aws:PrincipalOrgID), makes the file system's data readable or writable outside NFS. Only the public statements are narrowed (their wildcard principal becomes the owner and trusted accounts), after proving the edit allows nothing the current policy denies; the policy is never deleted. When no edit can be proved, BlockPublicPolicy and RestrictPublicBuckets are put on instead. RestrictPublicBuckets already on neutralises a public policy.",
});

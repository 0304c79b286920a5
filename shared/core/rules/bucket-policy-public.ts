import { bucketRule } from "./bucket-rule.ts";

export const bucketPolicyPublic = bucketRule("policyPublic", {
  title: "Bucket policy behind a file system is public",
  rationale:
    "A bucket policy that lets an anonymous caller, or any principal of an account it does not name, make an S3 request on the bucket or its objects, with no fixed value of a key on S3's list (aws:SourceIp ranges, aws:SourceArn, aws:SourceVpc, aws:SourceVpce, aws:SourceOwner, aws:SourceAccount, aws:userid outside AROLEID:*, s3:DataAccessPointArn, s3:DataAccessPointAccount, s3:x-amz-server-side-encryption-aws-kms-key-id) and no Deny taking it back, makes the file system's data reachable outside NFS. The verdict is a witness request or a proof over every request; an undecided policy is reported, never called safe. Only the public statements are narrowed (their Principal becomes the owner and trusted accounts), after proving the edit allows no request the current policy denies; the policy is never deleted. When no edit can be proved, BlockPublicPolicy and RestrictPublicBuckets are put on instead. RestrictPublicBuckets already on neutralises a public policy.",
});

import { bucketRule } from "./bucket-rule.ts";

export const bucketAclPublic = bucketRule("aclPublic", {
  title: "Bucket ACL behind a file system grants access to everyone",
  rationale:
    "An ACL grant to AllUsers (anyone) or AuthenticatedUsers (any AWS account) is public in S3's meaning and exposes the file system's data outside NFS. The guardrail does not rewrite ACLs: it puts BlockPublicAcls and IgnorePublicAcls on (keeping every other setting already on), after which S3 ignores the public grants. IgnorePublicAcls already on neutralises them.",
});

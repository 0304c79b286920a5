import { bucketRule } from "./bucket-rule.ts";

export const bucketPublicAccessBlockWeakened = bucketRule("publicAccessBlock", {
  title: "Block Public Access weakened on a bucket behind a file system",
  rationale:
    "Block Public Access is what keeps a mistaken bucket policy or ACL from exposing the file system's data outside NFS. A setting that is off now but was on in the bucket's last known good settings (or, with none known, any of the four) is put back on with PutPublicAccessBlock; every setting already on stays on.",
});

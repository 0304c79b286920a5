/**
 * The bucket reader, loaded on first use. Most invocations never touch a bucket (security groups,
 * file-system policies), so the S3 client and the adapter are a separate chunk, read and parsed only
 * when a bucket change arrives (the same chunk the audit archive loads).
 */
import type { BucketState } from "../core/types.ts";
import { once } from "./lazy.ts";
import type { BucketApi, CallResult, Operations } from "./live-ports.ts";

/** The writes a plan may make to a bucket; the executor allows exactly these. */
export const BUCKET_OPERATIONS = [
  "s3:PutBucketVersioning",
  "s3:PutPublicAccessBlock",
  "s3:PutBucketPolicy",
] as const;

/** A `BucketApi` whose implementation `load` builds on the first read or write. */
export function lazyBuckets(load: () => Promise<BucketApi>): BucketApi {
  const loaded = once(load);
  const operations: Operations = Object.fromEntries(
    BUCKET_OPERATIONS.map((name) => [
      name,
      async (params: Readonly<Record<string, unknown>>): Promise<CallResult> => {
        const operation = (await loaded()).operations[name];
        if (!operation) throw new Error(`the bucket adapter has no ${name}`);
        return operation(params);
      },
    ]),
  );
  return {
    async readState(bucket: string, expectedOwner: string | undefined): Promise<BucketState | undefined> {
      return (await loaded()).readState(bucket, expectedOwner);
    },
    operations,
  };
}

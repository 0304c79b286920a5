/**
 * The live state of a bucket behind an S3 Files file system. A bucket is guarded only when some file
 * system of the region names it (`ListFileSystems` gives each one's bucket ARN and role); any other
 * bucket is none of the guardrail's business and its change is ignored, with that reason.
 */
import { RemediatorError } from "../core/errors.ts";
import { partitionOf } from "../core/intake/cloudtrail-record.ts";
import type { BucketContext, KnownGoodBucket, LiveFacts } from "../core/rules/rule.ts";
import type { BucketState, Change } from "../core/types.ts";
import type { FileSystemApi } from "./live-ports.ts";
import type { LiveDeps, LiveView } from "./live-state.ts";

/** `arn:aws:s3:::name` (an S3 Files bucket may be named with a prefix path after it) → `name`. */
export function bucketNameOf(bucketArn: string): string | undefined {
  return /^arn:[^:]+:s3:::([^/]+)/.exec(bucketArn)?.[1];
}

/** The file systems that name the bucket, each with its role (read from the file system when the listing omits it). */
async function backingFileSystems(api: FileSystemApi, bucket: string): Promise<BucketContext["fileSystems"]> {
  const found: { fileSystemId: string; roleArn: string | undefined }[] = [];
  let token: string | undefined;
  do {
    const page = await api.listFileSystems(token);
    for (const fs of page.items) {
      if (!fs.bucketArn || bucketNameOf(fs.bucketArn) !== bucket) continue;
      const roleArn = fs.roleArn ?? (await api.getFileSystem(fs.fileSystemId))?.roleArn;
      found.push({ fileSystemId: fs.fileSystemId, roleArn });
    }
    token = page.nextToken;
  } while (token);
  return found;
}

async function readBucket(change: Change, bucket: string, deps: LiveDeps): Promise<BucketState | undefined> {
  if (!deps.buckets)
    throw new RemediatorError("no S3 bucket reader is configured: the bucket cannot be read");
  return deps.buckets.readState(bucket, change.meta.account);
}

/** What the audit record keeps of a bucket. */
function snapshotOf(
  bucket: string,
  fileSystems: BucketContext["fileSystems"],
  state: BucketState | undefined,
) {
  return {
    bucket,
    fileSystems: fileSystems.map((fs) => fs.fileSystemId),
    versioning: state?.versioning ?? null,
    publicAccessBlock: state?.publicAccessBlock ?? null,
    policy: state?.policyText ?? null,
    aclGrants: state?.aclGrants ?? null,
  };
}

function bucketFacts(bucket: string, context: BucketContext): LiveFacts {
  return { buckets: new Map([[bucket, context]]) };
}

/** Reads a `bucket-state` change's bucket live, or says why it is not guarded or gone. */
export async function readLiveBucket(change: Change, deps: LiveDeps): Promise<LiveView> {
  const { detail } = change;
  if (detail.kind !== "bucket-state") throw new RemediatorError("readLiveBucket needs a bucket-state change");
  const { bucket } = detail;
  const fileSystems = await backingFileSystems(deps.fileSystems.s3files, bucket);
  if (fileSystems.length === 0) {
    return {
      change: undefined,
      ignoredReason: `bucket ${bucket} backs no S3 Files file system in ${change.meta.region ?? "this region"}: not guarded`,
      related: [],
      facts: {},
      snapshot: { bucket, fileSystems: [] },
      tagSets: [],
    };
  }
  const [state, lastKnownGood] = await Promise.all([
    readBucket(change, bucket, deps),
    deps.state.lastKnownGoodBucket(bucket),
  ]);
  if (!state) {
    return {
      change: undefined,
      goneReason: `bucket ${bucket} no longer exists`,
      related: [],
      facts: {},
      snapshot: snapshotOf(bucket, fileSystems, undefined),
      tagSets: [],
    };
  }
  return {
    change: { ...change, detail: { ...detail, state } },
    related: [],
    facts: bucketFacts(bucket, { fileSystems, ...(lastKnownGood ? { lastKnownGood } : {}) }),
    snapshot: snapshotOf(bucket, fileSystems, state),
    tagSets: [],
  };
}

/**
 * For a new (or swept) S3 Files file system: its bucket, read live, as a change judged with the file
 * system's own (a file system created on a bucket that already breaks a rule). The file system that
 * names it is known to back it, with the others of the region that name it too.
 */
export async function bucketOfFileSystem(
  change: Change,
  bucketArn: string | undefined,
  deps: LiveDeps,
): Promise<
  { readonly related: Change[]; readonly facts: LiveFacts; readonly snapshot: unknown } | undefined
> {
  const bucket = bucketArn ? bucketNameOf(bucketArn) : undefined;
  if (!bucket) return undefined;
  const [fileSystems, state, lastKnownGood] = await Promise.all([
    backingFileSystems(deps.fileSystems.s3files, bucket),
    readBucket(change, bucket, deps),
    deps.state.lastKnownGoodBucket(bucket),
  ]);
  if (!state) return { related: [], facts: {}, snapshot: { bucket, gone: true } };
  const arn = `arn:${partitionOf(change.meta.region)}:s3:::${bucket}`;
  const related: Change = {
    ...change,
    resource: arn,
    resourceIds: [arn, bucket, ...change.resourceIds],
    detail: { kind: "bucket-state", bucket, trigger: change.meta.eventName, state },
  };
  return {
    related: [related],
    facts: bucketFacts(bucket, { fileSystems, ...(lastKnownGood ? { lastKnownGood } : {}) }),
    snapshot: snapshotOf(bucket, fileSystems, state),
  };
}

/** The settings to remember once a bucket is judged compliant. */
export function knownGoodOf(state: BucketState): KnownGoodBucket {
  return {
    ...(state.versioning ? { versioningStatus: state.versioning.status } : {}),
    ...(state.publicAccessBlock !== undefined ? { publicAccessBlock: state.publicAccessBlock } : {}),
    ...(state.policyText !== undefined ? { policyText: state.policyText } : {}),
  };
}

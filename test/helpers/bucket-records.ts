/**
 * Bucket-layer records and judgements for the rule tests: the synthetic S3 records of
 * `test/fixtures/cloudtrail`, variants of them, and the bucket as the runtime would have read it.
 */

import { intakeRecord } from "../../shared/core/intake/intake.ts";
import { evaluateRecord, judgeChange } from "../../shared/core/judge.ts";
import type { BucketContext, LiveFacts } from "../../shared/core/rules/rule.ts";
import type { BucketState, Change } from "../../shared/core/types.ts";
import { loadFixture, testConfig, variantOf } from "./fixtures.ts";

export const NOW = new Date("2026-11-22T12:00:00Z");
export const BUCKET = "fs-data-bucket";
export const OWNER = "111122223333";
export const FS_ROLE = `arn:aws:iam::${OWNER}:role/s3files-sync`;
export const POLICY_RECORD = "synthetic-s3-PutBucketPolicy-public-read.json";

/** A bucket backing one file system that syncs with `FS_ROLE`. */
export function backing(context: Partial<BucketContext> = {}): LiveFacts {
  return {
    buckets: new Map([
      [BUCKET, { fileSystems: [{ fileSystemId: "fs-0123456789abcdef0", roleArn: FS_ROLE }], ...context }],
    ]),
  };
}

export function judge(raw: unknown, overrides = {}, facts: LiveFacts = {}) {
  return evaluateRecord(raw, { config: testConfig(overrides), now: NOW, facts });
}

/** The PutBucketPolicy record carrying `statements`. */
export function putBucketPolicy(statements: Record<string, unknown>[]) {
  return variantOf(POLICY_RECORD, (r) => {
    r.requestParameters.bucketPolicy = { Version: "2012-10-17", Statement: statements };
  });
}

/**
 * The change of a bucket record with the bucket's whole state as the runtime reads it (the record
 * only tells what its call changed).
 */
export function liveChange(record: string, state: BucketState): Change {
  const intake = intakeRecord(loadFixture(record), { selfRoleArns: [] });
  if (intake.status !== "change" || intake.change.detail.kind !== "bucket-state")
    throw new Error(`${record} is not a bucket change`);
  return { ...intake.change, detail: { ...intake.change.detail, state } };
}

export function judgeLive(change: Change, facts: LiveFacts = backing(), overrides = {}) {
  return judgeChange(change, { config: testConfig(overrides), now: NOW, facts });
}

export const ALL_ON = {
  blockPublicAcls: true,
  ignorePublicAcls: true,
  blockPublicPolicy: true,
  restrictPublicBuckets: true,
};

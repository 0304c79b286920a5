import { describe, expect, it } from "vitest";
import { BUCKET_OPERATIONS, lazyBuckets } from "../../../shared/runtime/lazy-buckets.ts";
import type { BucketApi } from "../../../shared/runtime/live-ports.ts";

describe("lazyBuckets", () => {
  it("builds the adapter on first use only, once, and passes reads and writes through", async () => {
    let loads = 0;
    const calls: string[] = [];
    const real: BucketApi = {
      readState: async (bucket, owner) => {
        calls.push(`read ${bucket} ${owner}`);
        return { policyText: null };
      },
      operations: Object.fromEntries(
        BUCKET_OPERATIONS.map((name) => [
          name,
          async (params: Readonly<Record<string, unknown>>) => {
            calls.push(`${name} ${String(params.Bucket)}`);
            return { requestId: "r-1", alreadyGone: false };
          },
        ]),
      ),
    };
    const buckets = lazyBuckets(async () => {
      loads++;
      return real;
    });
    expect(loads).toBe(0);
    expect(Object.keys(buckets.operations).sort()).toEqual([...BUCKET_OPERATIONS].sort());

    expect(await buckets.readState("b", "111122223333")).toEqual({ policyText: null });
    expect(await buckets.operations["s3:PutBucketVersioning"]?.({ Bucket: "b" })).toEqual({
      requestId: "r-1",
      alreadyGone: false,
    });

    expect(loads).toBe(1);
    expect(calls).toEqual(["read b 111122223333", "s3:PutBucketVersioning b"]);
  });

  it("a failed load is tried again on the next call", async () => {
    let attempts = 0;
    const buckets = lazyBuckets(async () => {
      attempts++;
      if (attempts === 1) throw new Error("chunk not loaded");
      return { readState: async () => undefined, operations: {} };
    });
    await expect(buckets.readState("b", undefined)).rejects.toThrow("chunk not loaded");
    expect(await buckets.readState("b", undefined)).toBeUndefined();
    expect(attempts).toBe(2);
  });
});

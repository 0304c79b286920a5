import { describe, expect, it } from "vitest";
import { RemediatorError } from "../../../shared/core/errors.ts";
import {
  backoffDelay,
  isRetryableAwsError,
  isThrottlingError,
  ThrottleGate,
  withRetry,
} from "../../../shared/runtime/retry.ts";

const awsError = (name: string, status: number) =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

describe("retry policy", () => {
  it("classifies throttling, 5xx and dropped connections as retryable, the rest not", () => {
    expect(isRetryableAwsError(awsError("ThrottlingException", 400))).toBe(true);
    expect(isRetryableAwsError(awsError("RequestLimitExceeded", 503))).toBe(true);
    expect(isRetryableAwsError(awsError("Whatever", 502))).toBe(true);
    expect(isRetryableAwsError(Object.assign(new Error("reset"), { code: "ECONNRESET" }))).toBe(true);
    expect(isRetryableAwsError(awsError("AccessDeniedException", 403))).toBe(false);
    expect(isRetryableAwsError(awsError("InvalidPermission.NotFound", 400))).toBe(false);
    expect(isRetryableAwsError(new RemediatorError("x", { retryable: true }))).toBe(true);
  });

  it("backs off exponentially with full jitter, capped", () => {
    const policy = { maxAttempts: 10, baseDelayMs: 100, random: () => 1 };
    expect([1, 2, 3, 4].map((a) => backoffDelay(policy, a))).toEqual([100, 200, 400, 800]);
    expect(backoffDelay(policy, 20)).toBe(5000);
    expect(backoffDelay({ ...policy, random: () => 0 }, 3)).toBe(0);
  });

  it("retries until success, sleeping between attempts", async () => {
    const sleeps: number[] = [];
    let calls = 0;
    const result = await withRetry(
      "op",
      { maxAttempts: 4, baseDelayMs: 10, random: () => 1, sleep: async (ms) => void sleeps.push(ms) },
      async () => {
        calls++;
        if (calls < 3) throw awsError("ThrottlingException", 400);
        return "ok";
      },
    );
    expect(result).toBe("ok");
    expect(sleeps).toEqual([10, 20]);
  });

  it("turns persistent throttling into a retryable RemediatorError, and rethrows the rest at once", async () => {
    const policy = { maxAttempts: 3, baseDelayMs: 1, sleep: async () => {} };
    await expect(
      withRetry("ec2:RevokeSecurityGroupIngress", policy, async () => {
        throw awsError("RequestLimitExceeded", 503);
      }),
    ).rejects.toMatchObject({ retryable: true, message: expect.stringContaining("after 3 attempt(s)") });
    let calls = 0;
    await expect(
      withRetry("op", policy, async () => {
        calls++;
        throw awsError("AccessDeniedException", 403);
      }),
    ).rejects.toMatchObject({ name: "AccessDeniedException" });
    expect(calls).toBe(1);
  });
});

describe("throttle gate", () => {
  it("is unlimited until throttled, then spaces calls at half the rate measured, and recovers", () => {
    let now = 0;
    const gate = new ThrottleGate(() => now);
    for (let i = 0; i < 8; i++) expect(gate.reserve()).toBe(0);
    gate.throttled();
    expect(gate.rate).toBe(4);
    expect(gate.reserve()).toBe(0);
    expect(gate.reserve()).toBe(250);
    expect(gate.reserve()).toBe(500);
    now = 10_000;
    for (let i = 0; i < 200; i++) gate.succeeded();
    expect(gate.rate).toBeUndefined();
  });

  it("is told of every throttled answer and every success of the calls it gates", async () => {
    const gate = new ThrottleGate(() => 0);
    let calls = 0;
    await withRetry("op", { maxAttempts: 3, baseDelayMs: 0, gate, sleep: async () => {} }, async () => {
      calls++;
      if (calls === 1) throw awsError("RequestLimitExceeded", 503);
      return "ok";
    });
    // One throttle halves the measured rate (1 call) to the floor, then one success adds 1.
    expect(gate.rate).toBe(ThrottleGate.MIN_RATE + 1);
    expect(isThrottlingError(awsError("InternalError", 500))).toBe(false);
    expect(isThrottlingError(awsError("ProvisionedThroughputExceededException", 400))).toBe(true);
  });
});

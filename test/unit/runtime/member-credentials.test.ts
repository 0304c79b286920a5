/**
 * The member-role credentials cache and the account router: one AssumeRole per account until
 * shortly before expiry, accounts isolated, failures classified (denied: plain and final;
 * throttled: retryable) and never cached; home-account changes never assume anything.
 */
import { describe, expect, it } from "vitest";
import { RemediatorError } from "../../../shared/core/errors.ts";
import { type AccountResources, AccountRouter } from "../../../shared/runtime/accounts.ts";
import { PlanExecutor } from "../../../shared/runtime/executor.ts";
import type { FileSystemApi, SecurityGroupApi } from "../../../shared/runtime/live-ports.ts";
import {
  BoundedCache,
  MemberCredentials,
  REFRESH_MARGIN_MS,
  sessionNameFor,
  type TemporaryCredentials,
} from "../../../shared/runtime/member-credentials.ts";
import { isRetryableAwsError } from "../../../shared/runtime/retry.ts";

const START = new Date("2026-11-22T12:00:00Z");
const HOUR = 3_600_000;
const noSleep = async () => {};

interface Call {
  readonly roleArn: string;
  readonly sessionName: string;
}

/** A fake STS: one-hour credentials, numbered so tests can tell sessions apart; failures on demand. */
function fakeSts(clock: { now: () => Date }) {
  const calls: Call[] = [];
  const failures: unknown[] = [];
  const assumeRole = async (roleArn: string, sessionName: string): Promise<TemporaryCredentials> => {
    calls.push({ roleArn, sessionName });
    const failure = failures.shift();
    if (failure) throw failure;
    const n = calls.length;
    return {
      accessKeyId: `ASIA${n}`,
      secretAccessKey: `secret-${n}`,
      sessionToken: `token-${n}`,
      expiration: new Date(clock.now().getTime() + HOUR),
    };
  };
  return { calls, failures, assumeRole };
}

function setup(options: { maxAccounts?: number; maxAttempts?: number } = {}) {
  let now = START;
  const clock = { now: () => now };
  const sts = fakeSts(clock);
  const credentials = new MemberCredentials({
    assumeRole: sts.assumeRole,
    roleArn: (account) => `arn:aws:iam::${account}:role/s3files-remediator-member`,
    clock,
    retry: { maxAttempts: options.maxAttempts ?? 3, baseDelayMs: 1, sleep: noSleep },
    ...(options.maxAccounts ? { maxAccounts: options.maxAccounts } : {}),
  });
  return {
    credentials,
    sts,
    advance: (ms: number) => {
      now = new Date(now.getTime() + ms);
    },
  };
}

const awsError = (name: string, status: number, message = name) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

describe("member credentials", () => {
  it("assumes the member role of the account once and reuses it while it is valid", async () => {
    const { credentials, sts, advance } = setup();

    const first = await credentials.get("222233334444", "event-1");
    advance(HOUR - REFRESH_MARGIN_MS - 1000);
    const again = await credentials.get("222233334444", "event-2");

    expect(again).toBe(first);
    expect(sts.calls).toEqual([
      {
        roleArn: "arn:aws:iam::222233334444:role/s3files-remediator-member",
        sessionName: "s3files-remediator@event-1",
      },
    ]);
  });

  it("refreshes within the margin before expiry, naming the latest event in the session", async () => {
    const { credentials, sts, advance } = setup();
    const first = await credentials.get("222233334444", "event-1");

    advance(HOUR - REFRESH_MARGIN_MS + 1000);
    const provider = credentials.provider("222233334444");
    await credentials.get("222233334444", "event-2");
    const refreshed = await provider();

    expect(refreshed.accessKeyId).not.toBe(first.accessKeyId);
    expect(sts.calls.map((c) => c.sessionName)).toEqual([
      "s3files-remediator@event-1",
      "s3files-remediator@event-2",
    ]);
    expect(refreshed.expiration.getTime()).toBeGreaterThan(first.expiration.getTime());
  });

  it("keeps accounts apart: each has its own role ARN and its own credentials", async () => {
    const { credentials, sts } = setup();

    const [b, c] = await Promise.all([
      credentials.get("222233334444", "e-b"),
      credentials.get("333344445555", "e-c"),
    ]);

    expect(b.accessKeyId).not.toBe(c.accessKeyId);
    expect(sts.calls.map((call) => call.roleArn).sort()).toEqual([
      "arn:aws:iam::222233334444:role/s3files-remediator-member",
      "arn:aws:iam::333344445555:role/s3files-remediator-member",
    ]);
    expect(await credentials.provider("222233334444")()).toBe(b);
  });

  it("shares one AssumeRole between concurrent callers of an account", async () => {
    const { credentials, sts } = setup();
    const all = await Promise.all([1, 2, 3].map((n) => credentials.get("222233334444", `e-${n}`)));
    expect(new Set(all.map((c) => c.accessKeyId)).size).toBe(1);
    expect(sts.calls).toHaveLength(1);
  });

  it("AccessDenied (member not enrolled) fails at once, plainly, not retryable, and is not cached", async () => {
    const { credentials, sts } = setup();
    sts.failures.push(
      awsError("AccessDenied", 403, "User is not authorized to perform: sts:AssumeRole on resource"),
    );

    const error = await credentials.get("444455556666", "e-1").catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RemediatorError);
    expect(isRetryableAwsError(error)).toBe(false);
    expect((error as Error).message).toMatch(
      /cannot act in account 444455556666: sts:AssumeRole on arn:aws:iam::444455556666:role\/s3files-remediator-member failed \(AccessDenied: .*\)\. Is the account enrolled/,
    );
    expect(sts.calls).toHaveLength(1);
    // Enrolled since: the next event tries again and succeeds.
    expect((await credentials.get("444455556666", "e-2")).accessKeyId).toBe("ASIA2");
  });

  it("throttling is retried, then surfaces as retryable when it persists", async () => {
    const { credentials, sts } = setup({ maxAttempts: 3 });
    sts.failures.push(awsError("Throttling", 400), awsError("Throttling", 400));
    expect((await credentials.get("222233334444", "e-1")).accessKeyId).toBe("ASIA3");

    const other = setup({ maxAttempts: 2 });
    other.sts.failures.push(awsError("Throttling", 400), awsError("Throttling", 400));
    const error = await other.credentials.get("222233334444", "e-1").catch((e: unknown) => e);
    expect(isRetryableAwsError(error)).toBe(true);
    expect((error as Error).message).toMatch(/sts:AssumeRole .* failed after 2 attempt/);
  });

  it("drops expired credentials when their refresh fails", async () => {
    const { credentials, sts, advance } = setup();
    await credentials.get("222233334444", "e-1");
    advance(HOUR);
    sts.failures.push(awsError("AccessDenied", 403));
    await expect(credentials.get("222233334444", "e-2")).rejects.toThrow(/AccessDenied/);
    expect((await credentials.get("222233334444", "e-3")).accessKeyId).toBe("ASIA3");
  });

  it("keeps at most maxAccounts accounts (least recently used dropped)", async () => {
    const { credentials, sts } = setup({ maxAccounts: 2 });
    await credentials.get("111111111111");
    await credentials.get("222222222222");
    await credentials.get("111111111111");
    await credentials.get("333333333333"); // drops 222222222222
    await credentials.get("111111111111");
    await credentials.get("222222222222");
    expect(sts.calls.map((c) => c.roleArn.split(":")[4])).toEqual([
      "111111111111",
      "222222222222",
      "333333333333",
      "222222222222",
    ]);
  });

  it("session names are valid STS session names", () => {
    expect(sessionNameFor(undefined)).toBe("s3files-remediator");
    expect(sessionNameFor("sqs:m-1/2")).toBe("s3files-remediator@sqs-m-1-2");
    const long = sessionNameFor("x".repeat(100));
    expect(long).toHaveLength(64);
    expect(long).toMatch(/^[\w+=,.@-]{2,64}$/);
  });

  it("BoundedCache evicts the least recently used entry", () => {
    const cache = new BoundedCache<string, number>(2);
    cache.set("a", 1);
    cache.set("b", 2);
    cache.get("a");
    cache.set("c", 3);
    expect([cache.get("a"), cache.get("b"), cache.get("c"), cache.size]).toEqual([1, undefined, 3, 2]);
  });
});

function resources(name: string): AccountResources {
  const noFileSystems = { service: "efs" } as FileSystemApi;
  return {
    ec2: { name } as unknown as SecurityGroupApi,
    fileSystems: { efs: noFileSystems, s3files: noFileSystems },
    executor: new PlanExecutor(),
  };
}

describe("account router", () => {
  function router(maxAccounts = 10) {
    const { credentials, sts } = setup();
    const home = resources("home");
    const built: string[] = [];
    const providers: (() => Promise<TemporaryCredentials>)[] = [];
    const accounts = new AccountRouter({
      homeAccount: "123456789012",
      home,
      credentials,
      build: (account, provider) => {
        built.push(account);
        providers.push(provider);
        return resources(account);
      },
      maxAccounts,
    });
    return { accounts, home, built, providers, sts };
  }

  it("the central account, and a change naming no account, use the function's own resources", async () => {
    const { accounts, home, sts, built } = router();
    expect(await accounts.resourcesFor("123456789012", "e-1")).toBe(home);
    expect(await accounts.resourcesFor(undefined, "e-2")).toBe(home);
    expect(sts.calls).toEqual([]);
    expect(built).toEqual([]);
  });

  it("a member account: assumes its role first, then builds its clients once and reuses them", async () => {
    const { accounts, home, sts, built, providers } = router();

    const first = await accounts.resourcesFor("222233334444", "e-1");
    const second = await accounts.resourcesFor("222233334444", "e-2");
    const other = await accounts.resourcesFor("333344445555", "e-3");

    expect(first).not.toBe(home);
    expect(second).toBe(first);
    expect(other).not.toBe(first);
    expect(built).toEqual(["222233334444", "333344445555"]);
    expect(sts.calls.map((c) => c.sessionName)).toEqual(["s3files-remediator@e-1", "s3files-remediator@e-3"]);
    // The clients' provider hands out the cached credentials of their own account.
    expect((await providers[0]?.())?.accessKeyId).toBe("ASIA1");
    expect((await providers[1]?.())?.accessKeyId).toBe("ASIA2");
  });

  it("a member whose role cannot be assumed: fails before anything is built", async () => {
    const { accounts, sts, built } = router();
    sts.failures.push(awsError("AccessDenied", 403));
    await expect(accounts.resourcesFor("444455556666", "e-1")).rejects.toThrow(/Is the account enrolled/);
    expect(built).toEqual([]);
  });

  it("keeps a bounded number of member accounts' clients", async () => {
    const { accounts, built } = router(1);
    await accounts.resourcesFor("222233334444", "e-1");
    await accounts.resourcesFor("333344445555", "e-2");
    await accounts.resourcesFor("222233334444", "e-3");
    expect(built).toEqual(["222233334444", "333344445555", "222233334444"]);
  });
});

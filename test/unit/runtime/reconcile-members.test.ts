/**
 * The reconcile sweep over member accounts, with in-memory ports: each listed account is listed
 * through the pipeline's account routing, judged as a change of that account, and keeps its own
 * cursors; an unreachable account, or one there is no time left for, is reported and skipped.
 */
import { describe, expect, it } from "vitest";
import type { Change, FileSystemService } from "../../../shared/core/types.ts";
import type { FileSystemApi, FileSystemSummary, StateStore } from "../../../shared/runtime/live-ports.ts";
import type { RemediationPipeline } from "../../../shared/runtime/pipeline.ts";
import { Reconciler } from "../../../shared/runtime/reconcile.ts";

const HOME = "123456789012";
const MEMBER = "222233334444";
const GONE = "444455556666";

/** One file system per account and service, no access points or mount targets. */
function fileSystems(account: string, service: FileSystemService): FileSystemApi {
  const summary: FileSystemSummary = {
    fileSystemId: `fs-${account}`,
    fileSystemArn: undefined,
    ownerId: account,
    kmsKeyId: undefined,
    encrypted: true,
  };
  return {
    service,
    listFileSystems: async () => ({ items: [summary], nextToken: service === "efs" ? "next" : undefined }),
    listAccessPoints: async () => [],
    listMountTargets: async () => [],
  } as unknown as FileSystemApi;
}

function setup(hasTimeFor = Number.POSITIVE_INFINITY) {
  const handled: Change[] = [];
  const cursors = new Map<string, string | undefined>();
  const reached: string[] = [];
  const pipeline = {
    handleChange: async (change: Change) => {
      handled.push(change);
      return { status: "compliant", resource: change.resource };
    },
    fileSystemsIn: async (account: string) => {
      reached.push(account);
      if (account === GONE) throw new Error(`cannot act in account ${GONE}: AccessDenied`);
      return { efs: fileSystems(account, "efs"), s3files: fileSystems(account, "s3files") };
    },
  } as unknown as RemediationPipeline;
  const state = {
    reconcileCursor: async (service: FileSystemService, account?: string) =>
      cursors.get(`${account ?? "home"}/${service}`),
    saveReconcileCursor: async (
      service: FileSystemService,
      token: string | undefined,
      _at: Date,
      account?: string,
    ) => void cursors.set(`${account ?? "home"}/${service}`, token),
  } as unknown as StateStore;
  let checks = 0;
  const reconciler = new Reconciler({
    pipeline,
    fileSystems: [fileSystems(HOME, "s3files"), fileSystems(HOME, "efs")],
    state,
    clock: { now: () => new Date("2026-11-22T12:00:00Z") },
    maxFileSystems: 1,
    region: "eu-west-1",
    memberAccounts: [MEMBER, GONE],
  });
  const hasTime = () => checks++ < hasTimeFor;
  return { reconciler, handled, cursors, reached, hasTime };
}

describe("reconcile over member accounts", () => {
  it("sweeps home, then each member as a change of that account, with cursors per account", async () => {
    const { reconciler, handled, cursors, reached, hasTime } = setup();

    const summary = await reconciler.sweep("run-1", hasTime);

    expect(reached).toEqual([MEMBER, GONE]);
    expect(summary.complete).toEqual({
      s3files: true,
      efs: false,
      [`${MEMBER}/s3files`]: true,
      [`${MEMBER}/efs`]: false,
    });
    expect(summary.errors).toEqual({ [GONE]: `cannot act in account ${GONE}: AccessDenied` });
    const member = handled.filter((c) => c.meta.account === MEMBER);
    expect(member.map((c) => c.meta.eventId)).toContain(`reconcile:run-1:${MEMBER}:efs:fs-${MEMBER}:policy`);
    expect(handled.filter((c) => c.meta.account === HOME)).toHaveLength(member.length);
    expect(Object.fromEntries(cursors)).toEqual({
      "home/s3files": undefined,
      "home/efs": "next",
      [`${MEMBER}/s3files`]: undefined,
      [`${MEMBER}/efs`]: "next",
    });
  });

  it("reports the members there was no time left for, and does not touch them", async () => {
    const { reconciler, reached, hasTime } = setup(0);

    const summary = await reconciler.sweep("run-2", hasTime);

    expect(reached).toEqual([]);
    expect(Object.keys(summary.errors).sort()).toEqual([MEMBER, GONE].sort());
    expect(summary.errors[MEMBER]).toMatch(/out of time/);
  });
});

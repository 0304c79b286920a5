/**
 * The reconcile sweep of the function's own account, with in-memory ports: the kill switch, and
 * one file system that cannot be read among others that can.
 */
import { describe, expect, it } from "vitest";
import type { Change, FileSystemService } from "../../../shared/core/types.ts";
import type { FileSystemApi, FileSystemSummary, StateStore } from "../../../shared/runtime/live-ports.ts";
import type { RemediationPipeline } from "../../../shared/runtime/pipeline.ts";
import type { RemediationMode } from "../../../shared/runtime/ports.ts";
import { Reconciler } from "../../../shared/runtime/reconcile.ts";

function summaryOf(fileSystemId: string): FileSystemSummary {
  return {
    fileSystemId,
    fileSystemArn: undefined,
    ownerId: "123456789012",
    kmsKeyId: undefined,
    encrypted: true,
  };
}

function setup(mode: RemediationMode, broken: readonly string[] = []) {
  const handled: Change[] = [];
  const listed: string[] = [];
  const cursors = new Map<string, string | undefined>();
  const api = (service: FileSystemService): FileSystemApi =>
    ({
      service,
      listFileSystems: async () => {
        listed.push(service);
        return { items: [summaryOf("fs-a"), summaryOf("fs-b"), summaryOf("fs-c")], nextToken: "next" };
      },
      listAccessPoints: async (fileSystemId: string) => {
        if (broken.includes(fileSystemId)) throw new Error(`${fileSystemId}: AccessDenied`);
        return [];
      },
      listMountTargets: async () => [],
    }) as unknown as FileSystemApi;
  const pipeline = {
    handleChange: async (change: Change) => {
      handled.push(change);
      return { status: "compliant", resource: change.resource };
    },
  } as unknown as RemediationPipeline;
  const state = {
    reconcileCursor: async () => undefined,
    saveReconcileCursor: async (service: FileSystemService, token: string | undefined) =>
      void cursors.set(service, token),
  } as unknown as StateStore;
  const reconciler = new Reconciler({
    pipeline,
    fileSystems: [api("s3files"), api("efs")],
    state,
    clock: { now: () => new Date("2026-11-22T12:00:00Z") },
    maxFileSystems: 3,
    region: "eu-west-1",
    mode,
  });
  return { reconciler, handled, listed, cursors };
}

describe("reconcile sweep", () => {
  it("mode off: reads nothing and records nothing, and the summary says so", async () => {
    const { reconciler, handled, listed, cursors } = setup("off");

    const summary = await reconciler.sweep("run-off");

    expect(listed).toEqual([]);
    expect(handled).toEqual([]);
    expect(cursors.size).toBe(0);
    expect(summary).toMatchObject({ fileSystems: 0, resources: 0, recorded: 0 });
    expect(summary.skipped).toMatch(/remediation is off/);
  });

  it("one file system that cannot be listed is reported; the others are swept and the cursor saved", async () => {
    const { reconciler, handled, cursors } = setup("enforce", ["fs-b"]);

    const summary = await reconciler.sweep("run-1");

    const swept = new Set(
      handled.flatMap((c) => (c.detail.kind === "file-system-created" ? [c.detail.fileSystemId] : [])),
    );
    expect(swept).toEqual(new Set(["fs-a", "fs-c"]));
    expect(summary.errors).toEqual({
      "s3files/fs-b": "Error: fs-b: AccessDenied",
      "efs/fs-b": "Error: fs-b: AccessDenied",
    });
    expect(cursors.get("efs")).toBe("next");
    expect(cursors.get("s3files")).toBe("next");
    expect(summary.fileSystems).toBe(6);
  });
});

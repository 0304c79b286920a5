import { describe, expect, it } from "vitest";
import { lazyNotifier, once } from "../../../shared/runtime/lazy.ts";
import type { AuditRecord, Notifier } from "../../../shared/runtime/ports.ts";
import { auditRecord } from "../../helpers/audit-records.ts";

describe("once", () => {
  it("loads once for concurrent and later callers", async () => {
    let loads = 0;
    const load = once(async () => ++loads);
    expect(await Promise.all([load(), load()])).toEqual([1, 1]);
    expect(await load()).toBe(1);
    expect(loads).toBe(1);
  });

  it("forgets a failed load, so the next call tries again", async () => {
    let loads = 0;
    const load = once(async () => {
      if (++loads === 1) throw new Error("chunk not readable");
      return loads;
    });
    await expect(load()).rejects.toThrow("chunk not readable");
    expect(await load()).toBe(2);
  });
});

describe("lazyNotifier", () => {
  it("has its name before loading, loads on the first notification only, and passes failures on", async () => {
    const seen: AuditRecord[] = [];
    let loads = 0;
    const notifier = lazyNotifier("securityhub", async (): Promise<Notifier> => {
      loads++;
      return {
        name: "securityhub",
        async notify(record) {
          if (record.eventId === "boom") throw new Error("BatchImportFindings denied");
          seen.push(record);
        },
      };
    });
    expect(notifier.name).toBe("securityhub");
    expect(loads).toBe(0);

    await notifier.notify(auditRecord());
    await expect(notifier.notify(auditRecord({ eventId: "boom" }))).rejects.toThrow("denied");

    expect(loads).toBe(1);
    expect(seen.map((r) => r.eventId)).toEqual([auditRecord().eventId]);
  });
});

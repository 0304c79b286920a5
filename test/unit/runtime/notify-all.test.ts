import { describe, expect, it } from "vitest";
import { notifyAll, shouldNotify } from "../../../shared/runtime/notify-all.ts";
import type { AuditRecord, Notifier } from "../../../shared/runtime/ports.ts";
import { auditRecord } from "../../helpers/audit-records.ts";

function channel(
  name: string,
  behaviour: (record: AuditRecord) => Promise<void>,
): Notifier & { calls: number } {
  const notifier = {
    name,
    calls: 0,
    async notify(record: AuditRecord) {
      notifier.calls++;
      await behaviour(record);
    },
  };
  return notifier;
}

describe("notifyAll", () => {
  it("sends to every channel in parallel and returns each failure instead of throwing", async () => {
    const started: string[] = [];
    const slow = channel("sns", async () => {
      started.push("sns");
      await new Promise((resolve) => setTimeout(resolve, 50));
    });
    const broken = channel("slack", async () => {
      started.push("slack");
      throw new Error("Slack webhook answered HTTP 500");
    });
    const throwsAtOnce: Notifier = {
      name: "securityhub",
      notify: () => {
        throw new Error("synchronous failure");
      },
    };

    const result = await notifyAll([slow, broken, throwsAtOnce], auditRecord());

    expect(started).toEqual(["sns", "slack"]);
    expect(result.sent).toEqual(["sns"]);
    expect(result.failures.map((f) => [f.notifier, f.message])).toEqual([
      ["slack", "Slack webhook answered HTTP 500"],
      ["securityhub", "synchronous failure"],
    ]);
  });

  it("counts a channel that hangs as failed after the timeout, without waiting for it", async () => {
    const hanging = channel("eventbridge", () => new Promise(() => {}));
    const fine = channel("sns", async () => {});

    const result = await notifyAll([hanging, fine], auditRecord(), { timeoutMs: 30 });

    expect(result.sent).toEqual(["sns"]);
    expect(result.failures[0]?.message).toBe("eventbridge did not answer within 30 ms");
  });

  it("does not notify compliant or ignored decisions by default", async () => {
    const sns = channel("sns", async () => {});

    const compliant = await notifyAll([sns], auditRecord({ verdict: "compliant", outcome: "no-action" }));
    const ignored = await notifyAll([sns], auditRecord({ verdict: "ignored", outcome: "no-action" }));

    expect(sns.calls).toBe(0);
    expect(compliant.skipped).toEqual(["sns"]);
    expect(ignored.sent).toEqual([]);
  });

  it("lets one channel take every verdict (EventBridge for routing) while people get the default", async () => {
    const sns = channel("sns", async () => {});
    const bus = channel("eventbridge", async () => {});
    const options = {
      verdictsByNotifier: {
        eventbridge: ["violation", "compliant", "ignored", "exempted", "invalid", "failed"] as const,
      },
    };

    const result = await notifyAll([sns, bus], auditRecord({ verdict: "compliant" }), options);

    expect(result).toMatchObject({ sent: ["eventbridge"], skipped: ["sns"], failures: [] });
    expect(shouldNotify("sns", "failed", options)).toBe(true);
    expect(shouldNotify("sns", "invalid", { verdicts: ["invalid"] })).toBe(true);
  });
});

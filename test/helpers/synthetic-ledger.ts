/**
 * A synthetic ledger for the report: `count` decisions spread over a period, varied the way a real
 * one is (mostly compliant and ignored, some violations reverted, a few exempted, failed, invalid),
 * each one a variation of the realistic {@link auditRecord}. Deterministic: the same count gives the
 * same records, so a figure shown can be checked against the records themselves.
 */
import type { AuditRecord } from "../../shared/runtime/ports.ts";
import { auditRecord } from "./audit-records.ts";

const ACCOUNTS = ["111122223333", "444455556666", "777788889999"] as const;
const ACTORS = [
  "arn:aws:sts::111122223333:assumed-role/DevOps/alice",
  "arn:aws:sts::444455556666:assumed-role/Platform/bob",
  "arn:aws:iam::777788889999:user/carol",
  "arn:aws:sts::111122223333:assumed-role/terraform/ci",
] as const;

/** A small deterministic generator (mulberry32), so runs are comparable. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function syntheticLedger(count: number, since: Date, until: Date, seed = 7): AuditRecord[] {
  const next = random(seed);
  const span = until.getTime() - since.getTime();
  const records: AuditRecord[] = [];
  for (let i = 0; i < count; i++) {
    const decided = since.getTime() + Math.floor(next() * span);
    const delay = 500 + Math.floor(next() * 30_000);
    const account = ACCOUNTS[i % ACCOUNTS.length] as string;
    const sg = `sg-${(i % 97).toString(16).padStart(17, "0")}`;
    const base = {
      eventId: `synthetic-${String(i).padStart(6, "0")}`,
      eventTime: new Date(decided - delay).toISOString(),
      decidedAt: new Date(decided).toISOString(),
      account,
      actor: ACTORS[Math.floor(next() * ACTORS.length)] as string,
      resource: `arn:aws:ec2:eu-west-1:${account}:security-group/${sg}`,
      requestIds: [`synthetic-req-${i}`],
    };
    const roll = next();
    if (roll < 0.45) {
      records.push(
        auditRecord({
          ...base,
          verdict: "compliant",
          outcome: "no-action",
          rules: [],
          findings: [],
          plan: [],
          after: null,
          requestIds: [],
        }),
      );
    } else if (roll < 0.6) {
      records.push(
        auditRecord({
          ...base,
          verdict: "ignored",
          outcome: "no-action",
          rules: [],
          findings: [],
          plan: [],
          after: null,
          requestIds: [],
        }),
      );
    } else if (roll < 0.85) {
      records.push(auditRecord(base));
    } else if (roll < 0.92) {
      records.push(
        auditRecord({
          ...base,
          eventName: "PutFileSystemPolicy",
          eventSource: "elasticfilesystem.amazonaws.com",
          resource: `arn:aws:elasticfilesystem:eu-west-1:${account}:file-system/fs-${(i % 13).toString(16).padStart(17, "0")}`,
          rules: ["fs-policy-public-access"],
          findings: [
            { rule: "fs-policy-public-access", severity: "critical", message: "grants mount to the public" },
          ],
          verdict: "exempted",
          outcome: "notified",
          plan: [],
          after: null,
          requestIds: [],
          reason: `exempted until 2027-0${1 + (i % 3)}-15 (owner data-team-${i % 3}@example.com): migration window ${i % 3}.`,
        }),
      );
    } else if (roll < 0.97) {
      records.push(
        auditRecord({
          ...base,
          verdict: "failed",
          outcome: "failed",
          after: auditRecord().before,
          error: "read back after the plan ran, still unsafe: the rule is still there",
        }),
      );
    } else {
      records.push(
        auditRecord({
          ...base,
          verdict: "invalid",
          outcome: "no-action",
          rules: [],
          findings: [],
          plan: [],
          before: null,
          after: null,
          requestIds: [],
          error: "requestParameters: expected an object",
        }),
      );
    }
  }
  return records;
}

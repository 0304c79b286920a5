/**
 * An in-memory audit ledger with the semantics the pipeline relies on: one record per eventId
 * (a second write answers `duplicate`), and the outbox of owed channels written with the record.
 */
import type { AuditLedger, AuditRecord, RecordedDecision } from "../../shared/runtime/ports.ts";

export class MemoryLedger implements AuditLedger {
  readonly outbox = new Map<string, readonly string[]>();

  /** @param records where written records go (a test may hold the array). */
  constructor(readonly records: AuditRecord[] = []) {}

  async record(entry: AuditRecord, owed: readonly string[] = []): Promise<"written" | "duplicate"> {
    if (this.records.some((r) => r.eventId === entry.eventId)) return "duplicate";
    this.records.push(entry);
    if (owed.length > 0) this.outbox.set(entry.eventId, owed);
    return "written";
  }

  async recorded(eventId: string): Promise<RecordedDecision | undefined> {
    const record = this.records.find((r) => r.eventId === eventId);
    return record ? { record, owed: this.outbox.get(eventId) ?? [] } : undefined;
  }

  async settle(eventId: string, owed: readonly string[]): Promise<void> {
    this.outbox.set(eventId, owed);
  }
}

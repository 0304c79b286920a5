/**
 * The audit ledger with an append-only copy: the primary ledger (DynamoDB, the source of truth)
 * first, the archive (S3 Object Lock) after, and only for a record the primary has just written.
 *
 * The copy never costs the record: a failing archive (after its own retries) is reported to
 * `archiveFailed` for logs and metrics and swallowed, so the message is acknowledged and never
 * redelivered because of it; a redelivery would find the eventId already recorded anyway, and the
 * primary's conditional write keeps it to one record. A primary failure propagates as before (the
 * message goes back to the queue) and nothing is archived, so the copy never holds a record the
 * source of truth lacks. A `"duplicate"` from the primary is not archived either: the record that
 * counts is the first delivery's, and that one was archived (or reported) then.
 */
import type { AuditArchive, AuditLedger, AuditRecord, RecordedDecision } from "./ports.ts";

export interface ArchivingAuditLedgerOptions {
  readonly primary: AuditLedger;
  /** The archive, loaded on first use (its SDK client is a separate chunk, parsed only when on). */
  readonly archive: () => Promise<AuditArchive>;
  readonly archiveFailed: (record: AuditRecord, error: unknown) => void;
}

export class ArchivingAuditLedger implements AuditLedger {
  readonly #options: ArchivingAuditLedgerOptions;

  constructor(options: ArchivingAuditLedgerOptions) {
    this.#options = options;
  }

  async record(entry: AuditRecord, owed?: readonly string[]): Promise<"written" | "duplicate"> {
    const result = await this.#options.primary.record(entry, owed);
    if (result === "written") {
      try {
        await (await this.#options.archive()).record(entry);
      } catch (error) {
        this.#options.archiveFailed(entry, error);
      }
    }
    return result;
  }

  recorded(eventId: string): Promise<RecordedDecision | undefined> {
    return this.#options.primary.recorded(eventId);
  }

  settle(eventId: string, owed: readonly string[]): Promise<void> {
    return this.#options.primary.settle(eventId, owed);
  }
}

/**
 * The audit ledger in DynamoDB: one item per decision, written once per CloudTrail `eventID`.
 *
 * Key design (the table only guarantees `pk` (S, hash) and `sk` (S, range); no index is needed):
 * - the record:  `pk = DAY#<YYYY-MM-DD of decidedAt, UTC>`, `sk = <decidedAt ISO-8601>#<eventId>`.
 *   A time-range read is one Query per day, newest first with `ScanIndexForward: false`.
 * - a marker:    `pk = sk = EVENT#<eventId>`, pointing at the record's key.
 * Both are written in one TransactWriteItems, each with `attribute_not_exists(pk)`. A second
 * decision for the same eventId (a redelivered event decided at another instant) finds the marker
 * and cancels the whole transaction, so it never creates a second record: that is `"duplicate"`.
 *
 * The outbox: the same transaction puts `pk = outbox#<eventId>`, `sk = outbox` in the state table
 * (a transaction may span tables of one account and region), listing the channels the record must
 * notify. The audit table stays append-only; the outbox is the one mutable part, rewritten with
 * what is still owed after each delivery round, and expired by the state table's TTL.
 *
 * A lost answer (the write committed, the answer never came, the retry finds the marker) is
 * resolved by reading the marker back: it carries the attempt's random `writeToken`, so "my own
 * earlier try" (written) is told from "another attempt" (duplicate), never guessed.
 */

import { createHash, randomUUID } from "node:crypto";
import { type DynamoDBClient, TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import {
  DynamoDBDocumentClient,
  GetCommand,
  type NativeAttributeValue,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
} from "@aws-sdk/lib-dynamodb";
import { errorMessage, RemediatorError } from "../core/errors.ts";
import type { Finding, PlanStep } from "../core/types.ts";
import type {
  AuditLedger,
  AuditRecord,
  AuditVerdict,
  Clock,
  Outcome,
  RecordedDecision,
} from "../runtime/ports.ts";
import { type RetryPolicy, withRetry } from "../runtime/retry.ts";

/** Bumped when the item layout changes, so readers can tell old items from new ones. */
export const AUDIT_ITEM_SCHEMA_VERSION = 1;

/**
 * Byte budgets per attribute. DynamoDB items are at most 400 KB (names and values, UTF-8); these
 * caps add up to about 350 KB whatever the record holds, so a huge `before` (a security group with
 * hundreds of rules) truncates, with a marker, instead of failing the write and losing the evidence.
 */
export const AUDIT_FIELD_BUDGETS = {
  before: 110_000,
  after: 110_000,
  plan: 50_000,
  findings: 30_000,
  error: 8_000,
  reason: 4_000,
  text: 2_048,
} as const;

const MAX_LIST_ITEMS = 200;
/** Key attributes are limited (sort key 1 KB): a longer eventId is keyed by its hash. */
const MAX_KEY_EVENT_ID_BYTES = 512;

/** A JSON field that did not fit its budget, as read back: the kept prefix and the original size. */
export interface TruncatedJson {
  readonly truncated: true;
  readonly originalBytes: number;
  readonly text: string;
}

/** A record as read back from the ledger. */
export interface StoredAuditRecord extends AuditRecord {
  /** When the ledger wrote it (the ledger's clock), as opposed to `decidedAt` (the pipeline's). */
  readonly recordedAt: string;
  /** Fields cut to fit the item limit; their value ends with a `[truncated …]` marker. */
  readonly truncated: readonly string[];
}

/** A read of the ledger. Text filters are case-sensitive substring matches; `rule` is exact. */
export interface AuditQuery {
  /** Inclusive lower bound on `decidedAt`. */
  readonly since: Date;
  /** Exclusive upper bound on `decidedAt`. */
  readonly until: Date;
  readonly resource?: string;
  readonly rule?: string;
  readonly actor?: string;
  readonly verdicts?: readonly AuditVerdict[];
  readonly outcomes?: readonly Outcome[];
  /** Items DynamoDB evaluates per page (before filters). */
  readonly pageSize?: number;
}

export interface DynamoDbAuditLedgerOptions {
  readonly tableName: string;
  readonly clock: Clock;
  /** The runtime's retry policy; without it each call is tried once (the CLI's reads). */
  readonly retry?: RetryPolicy;
  /** The state table, which holds the outbox; without it no outbox is written (nothing is owed). */
  readonly outboxTableName?: string;
  /** How long a settled outbox item stays before the state table's TTL removes it. */
  readonly outboxTtlDays?: number;
}

/** The outbox item of one eventId, in the state table. */
export function outboxKey(eventId: string): { pk: string; sk: string } {
  return { pk: `outbox#${keyEventId(eventId)}`, sk: "outbox" };
}

/** DynamoDB error names that mean "try again later" rather than "this will never work". */
const RETRYABLE_ERROR_NAMES = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
  "InternalServerError",
  "ServiceUnavailable",
  "TransactionInProgressException",
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
]);

/** Cancellation reasons of a transaction that a later attempt can get past. */
const RETRYABLE_CANCELLATION_CODES = new Set([
  "ThrottlingError",
  "ProvisionedThroughputExceeded",
  "RequestLimitExceeded",
  "TransactionConflict",
]);

/** Whether a DynamoDB failure is transient: throttling, 5xx, timeouts, a conflicting transaction. */
export function isRetryableDynamoDbError(error: unknown): boolean {
  if (error instanceof RemediatorError) return error.retryable;
  if (typeof error !== "object" || error === null) return false;
  const e = error as {
    name?: string;
    code?: string;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: number };
    CancellationReasons?: readonly { Code?: string }[];
  };
  if (e.$retryable) return true;
  if (e.name && RETRYABLE_ERROR_NAMES.has(e.name)) return true;
  if (e.code && RETRYABLE_ERROR_NAMES.has(e.code)) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  return (e.CancellationReasons ?? []).some(
    (r) => r.Code !== undefined && RETRYABLE_CANCELLATION_CODES.has(r.Code),
  );
}

function toLedgerError(action: string, error: unknown): RemediatorError {
  const retryable = isRetryableDynamoDbError(error);
  const name = error instanceof Error ? error.name : "Error";
  return new RemediatorError(`audit ledger: ${action} failed (${name}: ${errorMessage(error)})`, {
    retryable,
    cause: error,
  });
}

const utf8 = new TextEncoder();

/** Cuts `text` to at most `budget` UTF-8 bytes (marker included) without splitting a character. */
export function truncateUtf8(text: string, budget: number): { text: string; truncated: boolean } {
  const bytes = utf8.encode(text);
  if (bytes.length <= budget) return { text, truncated: false };
  const marker = `…[truncated by s3files-remediator: ${bytes.length} bytes in all]`;
  let keep = Math.max(0, budget - utf8.encode(marker).length);
  // Step back over UTF-8 continuation bytes (10xxxxxx) so the cut falls between characters.
  while (keep > 0 && ((bytes[keep] ?? 0) & 0xc0) === 0x80) keep--;
  return { text: new TextDecoder().decode(bytes.subarray(0, keep)) + marker, truncated: true };
}

function keyEventId(eventId: string): string {
  return utf8.encode(eventId).length <= MAX_KEY_EVENT_ID_BYTES
    ? eventId
    : `sha256:${createHash("sha256").update(eventId).digest("hex")}`;
}

/** The marker's key: one per eventId, whatever instant the decision was made. */
export function markerKey(eventId: string): { pk: string; sk: string } {
  const id = `EVENT#${keyEventId(eventId)}`;
  return { pk: id, sk: id };
}

/** The record's key: a day partition, sorted by decision time. */
export function recordKey(decidedAt: Date, eventId: string): { pk: string; sk: string } {
  const iso = decidedAt.toISOString();
  return { pk: `DAY#${iso.slice(0, 10)}`, sk: `${iso}#${keyEventId(eventId)}` };
}

type Item = Record<string, NativeAttributeValue>;

/**
 * The item for one record. Plain strings stay strings (filterable); structured fields (`before`,
 * `after`, `plan`, `findings`) are JSON text, which keeps their exact shape and lets them be cut to
 * a byte budget. Undefined fields are left out, never stored as empty strings.
 */
export function toAuditItem(entry: AuditRecord, key: { pk: string; sk: string }, recordedAt: string): Item {
  const truncated: string[] = [];
  const item: Item = {
    ...key,
    kind: "decision",
    schemaVersion: AUDIT_ITEM_SCHEMA_VERSION,
    recordedAt,
  };
  const put = (field: string, value: string | undefined, budget: number) => {
    if (value === undefined) return;
    const cut = truncateUtf8(value, budget);
    if (cut.truncated) truncated.push(field);
    item[field] = cut.text;
  };
  const putJson = (field: "before" | "after" | "plan" | "findings", value: unknown) => {
    if (value === undefined) return;
    put(field, JSON.stringify(value) ?? "null", AUDIT_FIELD_BUDGETS[field]);
  };
  const putList = (field: string, values: readonly string[]) => {
    if (values.length > MAX_LIST_ITEMS) truncated.push(field);
    item[field] = values
      .slice(0, MAX_LIST_ITEMS)
      .map((value) => truncateUtf8(value, AUDIT_FIELD_BUDGETS.text / 4).text);
  };

  put("eventId", entry.eventId, AUDIT_FIELD_BUDGETS.text);
  for (const field of [
    "eventTime",
    "decidedAt",
    "account",
    "region",
    "actor",
    "sourceIp",
    "userAgent",
    "eventName",
    "eventSource",
    "resource",
    "verdict",
    "mode",
    "outcome",
  ] as const) {
    put(field, entry[field], AUDIT_FIELD_BUDGETS.text);
  }
  put("reason", entry.reason, AUDIT_FIELD_BUDGETS.reason);
  put("error", entry.error, AUDIT_FIELD_BUDGETS.error);
  putList("rules", entry.rules);
  putList("requestIds", entry.requestIds);
  putJson("findings", entry.findings);
  putJson("plan", entry.plan);
  putJson("before", entry.before);
  putJson("after", entry.after);
  if (truncated.length > 0) item.truncated = truncated;
  return item;
}

function parseJsonField(item: Item, field: string, truncated: readonly string[]): unknown {
  const text = item[field];
  if (typeof text !== "string") return undefined;
  if (truncated.includes(field)) {
    const originalBytes = Number(
      /\[truncated by s3files-remediator: (\d+) bytes/.exec(text)?.[1] ?? Number.NaN,
    );
    return { truncated: true, originalBytes, text } satisfies TruncatedJson;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { truncated: true, originalBytes: Number.NaN, text } satisfies TruncatedJson;
  }
}

const str = (value: NativeAttributeValue): string | undefined =>
  typeof value === "string" ? value : undefined;
const strList = (value: NativeAttributeValue): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];

/** The record an item holds (the inverse of {@link toAuditItem}, truncation aside). */
export function fromAuditItem(item: Item): StoredAuditRecord {
  const truncated = strList(item.truncated);
  const findings = parseJsonField(item, "findings", truncated);
  const plan = parseJsonField(item, "plan", truncated);
  return {
    eventId: str(item.eventId) ?? "",
    eventTime: str(item.eventTime),
    decidedAt: str(item.decidedAt) ?? "",
    account: str(item.account),
    region: str(item.region),
    actor: str(item.actor),
    sourceIp: str(item.sourceIp),
    userAgent: str(item.userAgent),
    eventName: str(item.eventName),
    eventSource: str(item.eventSource),
    resource: str(item.resource),
    rules: strList(item.rules),
    verdict: (str(item.verdict) ?? "invalid") as AuditVerdict,
    mode: (str(item.mode) ?? "off") as AuditRecord["mode"],
    findings: Array.isArray(findings) ? (findings as Finding[]) : [],
    before: parseJsonField(item, "before", truncated),
    plan: Array.isArray(plan) ? (plan as PlanStep[]) : [],
    after: parseJsonField(item, "after", truncated),
    outcome: (str(item.outcome) ?? "no-action") as Outcome,
    requestIds: strList(item.requestIds),
    error: str(item.error),
    reason: str(item.reason) ?? "",
    recordedAt: str(item.recordedAt) ?? "",
    truncated,
  };
}

const DAY_MS = 86_400_000;

/** The UTC days a `[since, until)` range touches, newest first. */
export function daysNewestFirst(since: Date, until: Date): string[] {
  const days: string[] = [];
  if (since.getTime() >= until.getTime()) return days;
  const last = new Date(until.getTime() - 1);
  let day = Date.UTC(last.getUTCFullYear(), last.getUTCMonth(), last.getUTCDate());
  for (; day + DAY_MS > since.getTime(); day -= DAY_MS) days.push(new Date(day).toISOString().slice(0, 10));
  return days;
}

/** The audit ledger port over DynamoDB, plus the reads the `remediator audit` command needs. */
export class DynamoDbAuditLedger implements AuditLedger {
  readonly #documents: DynamoDBDocumentClient;
  readonly #tableName: string;
  readonly #clock: Clock;
  readonly #retry: RetryPolicy;
  readonly #outboxTable: string | undefined;
  readonly #outboxTtlDays: number;

  /**
   * @param client a DynamoDB client, or a document client already wrapping one (the items this
   *   adapter builds never hold `undefined`, so the wrapper's marshalling options do not matter).
   */
  constructor(client: DynamoDBClient | DynamoDBDocumentClient, options: DynamoDbAuditLedgerOptions) {
    if (!options.tableName) throw new RemediatorError("audit ledger: no table name given");
    // A thin marshalling wrapper over the injected client (same connection, same middleware).
    this.#documents =
      client instanceof DynamoDBDocumentClient
        ? client
        : DynamoDBDocumentClient.from(client, {
            marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
          });
    this.#tableName = options.tableName;
    this.#clock = options.clock;
    this.#retry = options.retry ?? { maxAttempts: 1, baseDelayMs: 0 };
    this.#outboxTable = options.outboxTableName;
    this.#outboxTtlDays = options.outboxTtlDays ?? 14;
  }

  #send<T>(operation: string, call: () => Promise<T>): Promise<T> {
    return withRetry(`audit ledger: ${operation}`, this.#retry, call);
  }

  #outboxItem(eventId: string, owed: readonly string[], now: Date): Item {
    return {
      ...outboxKey(eventId),
      eventId,
      owed: [...owed],
      updatedAt: now.toISOString(),
      expiresAt: Math.floor(now.getTime() / 1000) + this.#outboxTtlDays * 86_400,
    };
  }

  async record(entry: AuditRecord, owed: readonly string[] = []): Promise<"written" | "duplicate"> {
    if (!entry.eventId) {
      throw new RemediatorError("audit ledger: a record needs an eventId (the deduplication key)");
    }
    const now = this.#clock.now();
    const decided = new Date(entry.decidedAt);
    // An unparseable decidedAt must not cost the record: key it by the ledger's clock instead.
    const key = recordKey(Number.isNaN(decided.getTime()) ? now : decided, entry.eventId);
    const marker = markerKey(entry.eventId);
    const writeToken = randomUUID();
    const outbox =
      this.#outboxTable && owed.length > 0
        ? [{ Put: { TableName: this.#outboxTable, Item: this.#outboxItem(entry.eventId, owed, now) } }]
        : [];
    try {
      await this.#send(`recording event ${entry.eventId}`, () =>
        this.#documents.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.#tableName,
                  Item: toAuditItem(entry, key, now.toISOString()),
                  ConditionExpression: "attribute_not_exists(pk)",
                },
              },
              {
                Put: {
                  TableName: this.#tableName,
                  Item: {
                    ...marker,
                    kind: "event-marker",
                    eventId: entry.eventId,
                    recordPk: key.pk,
                    recordSk: key.sk,
                    recordedAt: now.toISOString(),
                    writeToken,
                  },
                  ConditionExpression: "attribute_not_exists(pk)",
                },
              },
              ...outbox,
            ],
          }),
        ),
      );
      return "written";
    } catch (error) {
      const cause = error instanceof RemediatorError && error.cause !== undefined ? error.cause : error;
      if (
        cause instanceof TransactionCanceledException &&
        (cause.CancellationReasons ?? []).some((reason) => reason.Code === "ConditionalCheckFailed")
      ) {
        // Either another attempt recorded this eventId, or an earlier try of this very call
        // committed and its answer was lost: the marker's token tells which.
        const found = await this.#getItem(marker, `reading back event ${entry.eventId}`);
        return found?.writeToken === writeToken ? "written" : "duplicate";
      }
      throw toLedgerError(`recording event ${entry.eventId}`, error);
    }
  }

  async #getItem(key: { pk: string; sk: string }, action: string, table = this.#tableName) {
    try {
      const answer = await this.#send(action, () =>
        this.#documents.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true })),
      );
      return answer?.Item;
    } catch (error) {
      throw toLedgerError(action, error);
    }
  }

  async recorded(eventId: string): Promise<RecordedDecision | undefined> {
    const record = await this.get(eventId);
    if (!record) return undefined;
    if (!this.#outboxTable) return { record, owed: [] };
    const outbox = await this.#getItem(
      outboxKey(eventId),
      `reading the outbox of ${eventId}`,
      this.#outboxTable,
    );
    return { record, owed: strList(outbox?.owed) };
  }

  async settle(eventId: string, owed: readonly string[]): Promise<void> {
    const table = this.#outboxTable;
    if (!table) return;
    const item = this.#outboxItem(eventId, owed, this.#clock.now());
    try {
      await this.#send(`settling the outbox of ${eventId}`, () =>
        this.#documents.send(new PutCommand({ TableName: table, Item: item })),
      );
    } catch (error) {
      throw toLedgerError(`settling the outbox of ${eventId}`, error);
    }
  }

  /** The record of one CloudTrail event, through its marker; undefined when none was written. */
  async get(eventId: string): Promise<StoredAuditRecord | undefined> {
    const marker = await this.#getItem(markerKey(eventId), `reading event ${eventId}`);
    const pk = str(marker?.recordPk);
    const sk = str(marker?.recordSk);
    if (!pk || !sk) return undefined;
    const record = await this.#getItem({ pk, sk }, `reading event ${eventId}`);
    return record ? fromAuditItem(record) : undefined;
  }

  /**
   * Records decided in `[since, until)`, newest first, filtered server-side. One Query per UTC day,
   * each followed page by page (`LastEvaluatedKey`), so memory stays flat over long ranges.
   */
  async *query(query: AuditQuery): AsyncGenerator<StoredAuditRecord> {
    const names: Record<string, string> = { "#pk": "pk", "#sk": "sk" };
    const values: Record<string, NativeAttributeValue> = {
      ":from": query.since.toISOString(),
      // `<until>` sorts before `<until>#<eventId>`, so BETWEEN leaves `until` itself out.
      ":to": query.until.toISOString(),
    };
    const filters: string[] = [];
    if (query.resource) {
      names["#resource"] = "resource";
      values[":resource"] = query.resource;
      filters.push("contains(#resource, :resource)");
    }
    if (query.actor) {
      names["#actor"] = "actor";
      values[":actor"] = query.actor;
      filters.push("contains(#actor, :actor)");
    }
    if (query.rule) {
      names["#rules"] = "rules";
      values[":rule"] = query.rule;
      filters.push("contains(#rules, :rule)");
    }
    const anyOf = (field: string, wanted: readonly string[] | undefined) => {
      if (!wanted || wanted.length === 0) return;
      names[`#${field}`] = field;
      const placeholders = wanted.map((value, i) => {
        values[`:${field}${i}`] = value;
        return `:${field}${i}`;
      });
      filters.push(`#${field} IN (${placeholders.join(", ")})`);
    };
    anyOf("verdict", query.verdicts);
    anyOf("outcome", query.outcomes);

    for (const day of daysNewestFirst(query.since, query.until)) {
      let startKey: Record<string, NativeAttributeValue> | undefined;
      do {
        const page = await this.#page(day, {
          KeyConditionExpression: "#pk = :pk AND #sk BETWEEN :from AND :to",
          ...(filters.length > 0 ? { FilterExpression: filters.join(" AND ") } : {}),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ...values, ":pk": `DAY#${day}` },
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          ...(query.pageSize ? { Limit: query.pageSize } : {}),
        });
        for (const item of page.Items ?? []) yield fromAuditItem(item);
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    }
  }

  async #page(
    day: string,
    input: Omit<ConstructorParameters<typeof QueryCommand>[0], "TableName" | "ScanIndexForward">,
  ): Promise<{ Items?: Item[]; LastEvaluatedKey?: Record<string, NativeAttributeValue> }> {
    try {
      return await this.#send(`reading day ${day}`, () =>
        this.#documents.send(
          new QueryCommand({ ...input, TableName: this.#tableName, ScanIndexForward: false }),
        ),
      );
    } catch (error) {
      throw toLedgerError(`reading day ${day}`, error);
    }
  }
}

/**
 * What `remediator report` tells an auditor, computed from audit records alone: counts, breakdowns,
 * time to remediate, decisions over time, exemptions in force and every remediation with its
 * evidence. Pure: the records come in one at a time (the ledger is read page by page) and only the
 * figures, the exemptions and the remediations are kept.
 */
import type { StoredAuditRecord } from "../../shared/adapters/audit-dynamodb.ts";
import type { Exemption } from "../../shared/core/config.ts";
import { maxSeverity, stateDiff } from "../../shared/runtime/notification-text.ts";
import type { AuditVerdict, Outcome } from "../../shared/runtime/ports.ts";

export const VERDICTS: readonly AuditVerdict[] = [
  "violation",
  "compliant",
  "ignored",
  "exempted",
  "invalid",
  "failed",
];
export const OUTCOMES: readonly Outcome[] = [
  "remediated",
  "already-compliant",
  "notified",
  "dry-run",
  "no-action",
  "failed",
];

/** One row of a breakdown (by rule, account or actor). */
export interface BreakdownRow {
  readonly key: string;
  readonly records: number;
  /** Decisions that found something unsafe: `violation`, `exempted` and `failed`. */
  readonly findings: number;
  readonly remediated: number;
  readonly exempted: number;
  readonly failed: number;
}

/** Time from the CloudTrail event to the verified revert, in milliseconds (nearest-rank percentiles). */
export interface TimeToRemediate {
  /** Remediations whose event time and decision time could both be read. */
  readonly count: number;
  readonly p50Ms: number | null;
  readonly p90Ms: number | null;
  readonly maxMs: number | null;
}

/** The decisions of one bucket of time (an hour or a UTC day), by verdict. */
export interface TimeBucket {
  readonly start: string;
  readonly counts: Readonly<Record<AuditVerdict, number>>;
}

/** An exemption in force at the end of the period: from the configuration, or exercised in the ledger. */
export interface ExemptionInForce {
  readonly source: "configuration" | "ledger";
  /** The resource (or `account <id>`) it covers. */
  readonly scope: string;
  readonly rules: readonly string[] | "all";
  readonly owner: string;
  readonly expires: string;
  readonly reason: string;
  /** Ledger: how many decisions it exempted in the period, and the last one. */
  readonly exercised: number;
  readonly lastExercised: string | null;
}

/** One remediation the remediator ran, with its evidence. */
export interface RemediationEntry {
  readonly eventId: string;
  readonly eventTime: string | null;
  readonly decidedAt: string;
  readonly account: string | null;
  readonly region: string | null;
  readonly actor: string | null;
  readonly eventName: string | null;
  readonly resource: string | null;
  readonly rules: readonly string[];
  readonly severity: string | null;
  readonly outcome: Outcome;
  /** CloudTrail event time to verified revert; null when a time is missing or the revert failed. */
  readonly timeToRemediateMs: number | null;
  readonly plan: readonly { readonly api: string; readonly params: unknown }[];
  /** `- removed`, `+ added`, `~ changed`, one line per difference between `before` and `after`. */
  readonly diff: readonly string[];
  readonly requestIds: readonly string[];
  readonly error: string | null;
}

export interface Report {
  readonly generatedAt: string;
  readonly period: { readonly since: string; readonly until: string };
  readonly filters: { readonly accounts: readonly string[]; readonly rules: readonly string[] };
  readonly table: string;
  readonly totals: {
    readonly records: number;
    readonly byVerdict: Readonly<Record<AuditVerdict, number>>;
    readonly byOutcome: Readonly<Record<Outcome, number>>;
  };
  readonly timeToRemediate: TimeToRemediate;
  readonly byRule: readonly BreakdownRow[];
  readonly byAccount: readonly BreakdownRow[];
  readonly byActor: readonly BreakdownRow[];
  readonly overTime: { readonly bucket: "hour" | "day"; readonly buckets: readonly TimeBucket[] };
  readonly exemptions: readonly ExemptionInForce[];
  readonly remediations: readonly RemediationEntry[];
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** At most this many bars in the chart: hours up to 3 days, UTC days beyond. */
const MAX_HOURLY_BUCKETS = 72;

const zeroes = <K extends string>(keys: readonly K[]): Record<K, number> =>
  Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

/** The reason text `judgeChange` gives a wholly exempted violation: `exempted until X (owner Y): why`. */
const EXEMPTED_REASON = /^exempted until (\S+) \(owner (.+?)\): (.*)$/s;

/** Nearest-rank percentile of sorted values: the smallest value with at least p % at or below it. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? null;
}

/** The last instant an exemption applies: a bare date covers that whole UTC day. */
export function exemptionEndsAt(expires: string): number {
  return /^\d{4}-\d{2}-\d{2}$/.test(expires)
    ? Date.parse(`${expires}T00:00:00.000Z`) + DAY_MS - 1
    : Date.parse(expires);
}

/** Whether a decision found something unsafe (whatever was done about it). */
function isFinding(verdict: AuditVerdict): boolean {
  return verdict === "violation" || verdict === "exempted" || verdict === "failed";
}

class Breakdown {
  readonly #rows = new Map<
    string,
    { records: number; findings: number; remediated: number; exempted: number; failed: number }
  >();

  add(key: string, record: StoredAuditRecord): void {
    let row = this.#rows.get(key);
    if (!row) {
      row = { records: 0, findings: 0, remediated: 0, exempted: 0, failed: 0 };
      this.#rows.set(key, row);
    }
    row.records++;
    if (isFinding(record.verdict)) row.findings++;
    if (record.outcome === "remediated") row.remediated++;
    if (record.verdict === "exempted") row.exempted++;
    if (record.verdict === "failed") row.failed++;
  }

  /** Most findings first, then most records, then by name. */
  rows(): BreakdownRow[] {
    return [...this.#rows]
      .map(([key, row]) => ({ key, ...row }))
      .sort((a, b) => b.findings - a.findings || b.records - a.records || a.key.localeCompare(b.key));
  }
}

export interface ReportOptions {
  readonly since: Date;
  readonly until: Date;
  readonly generatedAt: Date;
  readonly table: string;
  /** Keep only these accounts / records where one of these rules fired; empty keeps all. */
  readonly accounts?: readonly string[];
  readonly rules?: readonly string[];
  /** Exemptions of the configuration the remediator runs with, when given. */
  readonly configuredExemptions?: readonly Exemption[];
}

/** Builds a {@link Report} from records fed one at a time, in any order. */
export class ReportBuilder {
  readonly #options: ReportOptions;
  readonly #byVerdict = zeroes(VERDICTS);
  readonly #byOutcome = zeroes(OUTCOMES);
  readonly #byRule = new Breakdown();
  readonly #byAccount = new Breakdown();
  readonly #byActor = new Breakdown();
  readonly #durations: number[] = [];
  readonly #buckets = new Map<number, Record<AuditVerdict, number>>();
  readonly #exempted = new Map<string, ExemptionInForce>();
  readonly #remediations: RemediationEntry[] = [];
  readonly #bucketMs: number;
  #records = 0;

  constructor(options: ReportOptions) {
    this.#options = options;
    const span = options.until.getTime() - options.since.getTime();
    this.#bucketMs = span <= MAX_HOURLY_BUCKETS * HOUR_MS ? HOUR_MS : DAY_MS;
  }

  /** Whether the record is inside the report's filters (the ledger query already applied the period). */
  matches(record: StoredAuditRecord): boolean {
    const { accounts = [], rules = [] } = this.#options;
    if (accounts.length > 0 && !accounts.includes(record.account ?? "")) return false;
    if (rules.length > 0 && !record.rules.some((rule) => rules.includes(rule))) return false;
    return true;
  }

  add(record: StoredAuditRecord): void {
    if (!this.matches(record)) return;
    this.#records++;
    this.#byVerdict[record.verdict]++;
    this.#byOutcome[record.outcome]++;
    for (const rule of record.rules) this.#byRule.add(rule, record);
    this.#byAccount.add(record.account ?? "(unknown)", record);
    this.#byActor.add(record.actor ?? "(unknown)", record);

    const decided = Date.parse(record.decidedAt);
    if (!Number.isNaN(decided)) {
      const start = Math.floor(decided / this.#bucketMs) * this.#bucketMs;
      let bucket = this.#buckets.get(start);
      if (!bucket) {
        bucket = zeroes(VERDICTS);
        this.#buckets.set(start, bucket);
      }
      bucket[record.verdict]++;
    }
    if (record.verdict === "exempted") this.#addExempted(record);
    if (record.outcome === "remediated" || (record.outcome === "failed" && record.plan.length > 0)) {
      this.#addRemediation(record, decided);
    }
  }

  #addExempted(record: StoredAuditRecord): void {
    const match = EXEMPTED_REASON.exec(record.reason);
    if (!match) return;
    const [, expires = "", owner = "", text = ""] = match;
    const reason = text.replace(/\.$/, "");
    const scope = record.resource ?? "(unknown resource)";
    const key = `${scope}\u0000${expires}\u0000${owner}\u0000${reason}`;
    const known = this.#exempted.get(key);
    const rules = [
      ...new Set([...(known && known.rules !== "all" ? known.rules : []), ...record.rules]),
    ].sort();
    const last =
      known?.lastExercised && known.lastExercised > record.decidedAt ? known.lastExercised : record.decidedAt;
    this.#exempted.set(key, {
      source: "ledger",
      scope,
      rules,
      owner,
      expires,
      reason,
      exercised: (known?.exercised ?? 0) + 1,
      lastExercised: last,
    });
  }

  #addRemediation(record: StoredAuditRecord, decided: number): void {
    const eventTime = record.eventTime ? Date.parse(record.eventTime) : Number.NaN;
    // `decidedAt` is stamped once the read-back has verified the revert (see the pipeline's recordOf).
    const duration =
      record.outcome === "remediated" && !Number.isNaN(eventTime) && !Number.isNaN(decided)
        ? Math.max(0, decided - eventTime)
        : null;
    if (duration !== null) this.#durations.push(duration);
    this.#remediations.push({
      eventId: record.eventId,
      eventTime: record.eventTime ?? null,
      decidedAt: record.decidedAt,
      account: record.account ?? null,
      region: record.region ?? null,
      actor: record.actor ?? null,
      eventName: record.eventName ?? null,
      resource: record.resource ?? null,
      rules: record.rules,
      severity: maxSeverity(record) ?? null,
      outcome: record.outcome,
      timeToRemediateMs: duration,
      plan: record.plan.map((step) => ({ api: step.api, params: step.params })),
      diff: record.after === undefined ? [] : stateDiff(record.before, record.after),
      requestIds: record.requestIds,
      error: record.error ?? null,
    });
  }

  build(): Report {
    const { since, until, generatedAt } = this.#options;
    const durations = [...this.#durations].sort((a, b) => a - b);
    const buckets: TimeBucket[] = [];
    const first = Math.floor(since.getTime() / this.#bucketMs) * this.#bucketMs;
    for (let start = first; start < until.getTime(); start += this.#bucketMs) {
      buckets.push({
        start: new Date(start).toISOString(),
        counts: this.#buckets.get(start) ?? zeroes(VERDICTS),
      });
    }
    const end = until.getTime();
    const configured: ExemptionInForce[] = (this.#options.configuredExemptions ?? [])
      .filter((e) => exemptionEndsAt(e.expires) >= end)
      .filter(
        (e) =>
          (this.#options.accounts ?? []).length === 0 ||
          e.account === undefined ||
          this.#options.accounts?.includes(e.account),
      )
      .map((e) => ({
        source: "configuration",
        scope: e.resource ?? `account ${e.account}`,
        rules: e.rules ?? "all",
        owner: e.owner,
        expires: e.expires,
        reason: e.reason,
        exercised: 0,
        lastExercised: null,
      }));
    const exercised = [...this.#exempted.values()].filter((e) => exemptionEndsAt(e.expires) >= end);
    return {
      generatedAt: generatedAt.toISOString(),
      period: { since: since.toISOString(), until: until.toISOString() },
      filters: { accounts: this.#options.accounts ?? [], rules: this.#options.rules ?? [] },
      table: this.#options.table,
      totals: {
        records: this.#records,
        byVerdict: { ...this.#byVerdict },
        byOutcome: { ...this.#byOutcome },
      },
      timeToRemediate: {
        count: durations.length,
        p50Ms: percentile(durations, 50),
        p90Ms: percentile(durations, 90),
        maxMs: durations.at(-1) ?? null,
      },
      byRule: this.#byRule.rows(),
      byAccount: this.#byAccount.rows(),
      byActor: this.#byActor.rows(),
      overTime: { bucket: this.#bucketMs === HOUR_MS ? "hour" : "day", buckets },
      exemptions: [...configured, ...exercised.sort((a, b) => a.expires.localeCompare(b.expires))],
      remediations: [...this.#remediations].sort((a, b) => b.decidedAt.localeCompare(a.decidedAt)),
    };
  }
}

/** `1.2 s`, `3 min 4 s`, `2 h 5 min`: a duration for people. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return "-";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < HOUR_MS) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(ms / HOUR_MS)} h ${Math.round((ms % HOUR_MS) / 60_000)} min`;
}

/**
 * The remediation use-case: one input in, one audit record out.
 *
 *   intake → claim → read LIVE state → judge → decide (mode, exemption, loop guard)
 *          → plan → save the intent → execute → read back and verify → audit (+ outbox) → notify
 *
 * What holds whatever happens to an attempt (a lost answer, a kill between two calls):
 * - one record per eventId: the ledger's conditional write;
 * - the guardrail's own fix is never recorded as someone else's: the intent (plan, findings, state
 *   before) is saved before the first call that changes anything, and a later attempt that finds it
 *   finishes that decision (`remediated`), never `already-compliant`;
 * - every committed record notifies each channel it owes at least once: the channels are written
 *   with the record (its outbox) and crossed off only once told; an attempt that takes over an
 *   event (or finds it already recorded) drains what is still owed before anything else.
 * Retryable failures (throttling, 5xx, timeouts that outlast the retries, a channel still owed)
 * are rethrown after the claim on the eventID is released, so the queue redelivers the input;
 * everything else ends as an audit record.
 */
import { createHash } from "node:crypto";
import type { Config } from "../core/config.ts";
import { errorMessage, RemediatorError } from "../core/errors.ts";
import { describeActor } from "../core/intake/cloudtrail-record.ts";
import { intakeRecord } from "../core/intake/intake.ts";
import { type Evaluation, evaluateIntake, judgeChange } from "../core/judge.ts";
import type { Change, ChangeMeta, PlanStep, RuleMode } from "../core/types.ts";
import type { AccountResolver, AccountResources } from "./accounts.ts";
import type { PlanExecutor } from "./executor.ts";
import { exemptionFromTags } from "./exemption-tag.ts";
import { knownGoodOf } from "./live-bucket.ts";
import type { DecisionIntent, StateStore } from "./live-ports.ts";
import { type LiveDeps, type LiveView, readLive } from "./live-state.ts";
import { type NotifyAllOptions, notifyAll, shouldNotify } from "./notify-all.ts";
import { rulesFor, rulesJudgingWhole } from "./passed-rules.ts";
import type { AuditLedger, AuditRecord, AuditVerdict, Clock, Notifier, RemediationMode } from "./ports.ts";
import { isRetryableAwsError, type RetryPolicy } from "./retry.ts";

/** Where the pipeline reports what logs and metrics should show; a no-op by default. */
export interface PipelineObserver {
  decided?(record: AuditRecord, ledger: "written" | "duplicate"): void;
  duplicate?(eventId: string): void;
  notifyFailed?(notifier: string, record: AuditRecord, error: unknown): void;
  /** An attempt took over an event an earlier one had recorded, or had acted on (`intent`). */
  resumed?(eventId: string, what: "recorded" | "intent"): void;
  /** The audit archive copy failed; the ledger record itself is written. */
  archiveFailed?(record: AuditRecord, error: unknown): void;
  stateWriteFailed?(what: string, error: unknown): void;
}

export interface PipelineDeps extends LiveDeps {
  readonly mode: RemediationMode;
  readonly config: Config;
  readonly exemptTagKey: string;
  readonly state: StateStore;
  readonly executor: PlanExecutor;
  /**
   * Organization mode: the resources of the change's account (member role credentials). Without
   * it, `ec2`, `fileSystems` and `executor` above serve every change.
   */
  readonly accounts?: AccountResolver;
  /**
   * The function's own account. Without `accounts`, a change of any other account cannot be read
   * with these clients (it would look gone): it ends as `failed` instead. A change that names no
   * account uses the clients above.
   */
  readonly homeAccount?: string;
  readonly ledger: AuditLedger;
  readonly notifiers: readonly Notifier[];
  readonly clock: Clock;
  readonly observer?: PipelineObserver;
  /** Which verdicts reach which channel (default: violation, exempted, failed). */
  readonly notifyOptions?: NotifyAllOptions;
  /** The retry policy of the notifiers' calls (the adapters carry their own). */
  readonly retry?: RetryPolicy;
}

/** What became of one input. */
export type PipelineResult =
  | { readonly status: "decided"; readonly record: AuditRecord; readonly ledger: "written" | "duplicate" }
  /** The eventID was already handled: nothing read, done or recorded again. */
  | { readonly status: "duplicate"; readonly eventId: string }
  /** Reconcile only: a compliant resource, not recorded (it would flood the ledger every run). */
  | { readonly status: "compliant"; readonly resource: string };

export interface HandleChangeOptions {
  readonly dedupe: boolean;
  readonly recordCompliant: boolean;
  /**
   * Reconcile only: a stable name for the swept resource across runs. Each run records a new
   * eventId, so without this a finding left in place (notify or dry-run mode, an exemption) would
   * be notified every run; with it, only a new or changed decision is notified, and a compliant
   * resource clears what was notified, so a later regression is notified again.
   */
  readonly notifyKey?: string;
}

/** What the pipeline decided about one change: the audit record, less the evidence of the event. */
type Decision = Pick<
  AuditRecord,
  | "verdict"
  | "outcome"
  | "mode"
  | "findings"
  | "rules"
  | "plan"
  | "before"
  | "after"
  | "requestIds"
  | "error"
  | "reason"
  | "passedRules"
  | "resourceGone"
>;

/**
 * What makes a decision worth telling again: verdict, outcome, rules and finding messages, in a
 * stable order. Not the reason or the snapshots, which carry run-specific text.
 */
function notifyFingerprint(record: AuditRecord): string {
  const sorted = (items: readonly string[]) => [...items].sort();
  const basis = JSON.stringify([
    record.verdict,
    record.outcome,
    sorted(record.rules),
    sorted(record.findings.map((f) => f.message)),
  ]);
  return createHash("sha256").update(basis).digest("hex");
}

function uniqueBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const k = key(item);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** JSON with object keys sorted, so equal params built in different orders compare equal. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** Two steps with the same key make the same call. */
function stepKey(step: PlanStep): string {
  return `${step.api}|${stableJson(step.params)}`;
}

/** How many times a decision is read and judged again when a policy moves under it. */
const MAX_DECIDE_ROUNDS = 3;

/** A policy text as comparable data (key order and spacing aside); the text itself if it does not parse. */
function canonicalPolicy(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  try {
    return stableJson(JSON.parse(text));
  } catch {
    return text;
  }
}

/** The policy text a PutFileSystemPolicy step writes (S3 Files camelCase, EFS PascalCase). */
function policyWritten(step: PlanStep): { fileSystemId: string; policy: string } | undefined {
  if (!step.api.endsWith(":PutFileSystemPolicy")) return undefined;
  const fileSystemId = step.params.fileSystemId ?? step.params.FileSystemId;
  const policy = step.params.policy ?? step.params.Policy;
  return typeof fileSystemId === "string" && typeof policy === "string"
    ? { fileSystemId, policy }
    : undefined;
}

/**
 * The decision an earlier attempt of the same event made and acted on, finished: the live state
 * read now is what its plan left (the attempt stopped before recording). Attributed to the
 * guardrail, with the state before it saw, never to "someone fixed it first".
 */
function finishedEarlier(intent: DecisionIntent, snapshot: unknown, why: string): Decision {
  const ids = intent.requestIds;
  return {
    verdict: "violation",
    outcome: "remediated",
    mode: intent.mode as Decision["mode"],
    findings: intent.findings,
    rules: intent.rules,
    plan: intent.plan,
    before: intent.before,
    after: snapshot,
    requestIds: ids ?? [],
    error: undefined,
    reason:
      `${intent.reason} Remediated by an earlier attempt of this event (intent saved ${intent.at}` +
      `${ids ? "" : "; it stopped before keeping its request ids: see CloudTrail"}), ` +
      `verified on redelivery: ${why}.`,
  };
}

/** Merges the main evaluation with those of related changes (a mount target's groups). */
function combine(evaluations: readonly Evaluation[]): Evaluation {
  const [first, ...rest] = evaluations;
  if (!first) throw new RemediatorError("nothing to combine");
  const violations = evaluations.filter((e) => e.verdict === "violation");
  if (violations.length === 0) {
    const invalid = evaluations.find((e) => e.verdict === "invalid");
    return invalid ?? first;
  }
  if (rest.length === 0) return first;
  const allExempt = violations.every((e) => e.exemption !== undefined);
  return {
    ...first,
    verdict: "violation",
    // A mount target's rule and its groups' rules can find, and plan, the very same thing.
    findings: uniqueBy(
      violations.flatMap((e) => e.findings),
      (f) => `${f.rule}|${f.severity}|${f.message}`,
    ),
    plan: uniqueBy(
      violations.flatMap((e) => e.plan),
      stepKey,
    ),
    modes: Object.assign({}, ...violations.map((e) => e.modes ?? {})),
    ...(allExempt ? { exemption: violations[0]?.exemption } : { exemption: undefined }),
    reason: violations.map((e) => e.reason).join(" "),
  };
}

/** The rule that judges a mount target's own group set. */
const MOUNT_TARGET_RULE = "mount-target-nfs-outside-vpc";

/**
 * For a mount target whose group set was replaced (UpdateMountTarget, ModifyMountTargetSecurityGroups):
 * restoring the known-good set undoes exactly that change and leaves groups shared with other
 * resources untouched. Offered only when the known-good set, read and judged as it is now, is
 * compliant, and the restore alone removes every finding: those of the mount target's own rule and
 * those of groups the restore detaches (judged here only because they are on it); any other
 * finding keeps the revoke plan.
 */
function restorePlan(
  view: LiveView,
  evaluations: readonly Evaluation[],
  combined: Evaluation,
  options: { readonly config: Config; readonly now: Date },
): readonly PlanStep[] {
  const { change, knownGoodGroups, knownGoodCheck, mountTarget } = view;
  if (change?.detail.kind !== "mount-target-security-groups" || change.detail.action !== "update") {
    return combined.plan;
  }
  if (!knownGoodGroups || !knownGoodCheck || !mountTarget || combined.plan.length === 0) return combined.plan;
  const restored = knownGoodCheck.changes.map((c) =>
    judgeChange(c, { ...options, facts: knownGoodCheck.facts }),
  );
  if (!restored.every((e) => e.verdict === "compliant")) return combined.plan;
  const kept = new Set(knownGoodGroups);
  const [main, ...related] = evaluations;
  if (main?.verdict === "violation" && !main.findings.every((f) => f.rule === MOUNT_TARGET_RULE)) {
    return combined.plan;
  }
  const detachedOnly = related.every((e, index) => {
    const groupId = view.related[index]?.resource;
    return e.verdict !== "violation" || (groupId !== undefined && !kept.has(groupId));
  });
  if (!detachedOnly) return combined.plan;
  const reason = "restore the mount target's last known good security groups (undo the swap)";
  return mountTarget.service === "s3files"
    ? [
        {
          api: "s3files:UpdateMountTarget",
          params: { mountTargetId: mountTarget.mountTargetId, securityGroups: [...knownGoodGroups] },
          reason,
        },
      ]
    : [
        {
          api: "elasticfilesystem:ModifyMountTargetSecurityGroups",
          params: { MountTargetId: mountTarget.mountTargetId, SecurityGroups: [...knownGoodGroups] },
          reason,
        },
      ];
}

function effectiveMode(
  global: RemediationMode,
  modes: Readonly<Record<string, RuleMode>>,
): RemediationMode | RuleMode {
  if (global !== "enforce") return global;
  const ruleModes = Object.values(modes);
  return ruleModes.length > 0 && ruleModes.every((m) => m === "notify") ? "notify" : "enforce";
}

export class RemediationPipeline {
  constructor(private readonly deps: PipelineDeps) {}

  /** The engine configuration this pipeline judges with. */
  get config(): Config {
    return this.deps.config;
  }

  /**
   * One input (EventBridge event or CloudTrail record). `fallbackId` names the audit record of an
   * input so broken it carries no eventID (the SQS message id, say).
   */
  async handle(raw: unknown, fallbackId: string): Promise<PipelineResult> {
    const { deps } = this;
    // A policy event whose text cannot be parsed still names the file system: the live policy decides.
    const intake = intakeRecord(raw, {
      selfRoleArns: deps.config.selfRoleArns,
      judgeUnparsedPolicyLive: true,
    });
    if (intake.status !== "change") {
      const evaluation = evaluateIntake(intake, { config: deps.config, now: deps.clock.now() });
      const invalid = evaluation.verdict === "invalid";
      return this.finish(
        this.recordOf(
          evaluation.meta,
          evaluation,
          fallbackId,
          this.noAction(
            invalid ? "invalid" : "ignored",
            evaluation.reason,
            invalid ? evaluation.reason : undefined,
          ),
        ),
      );
    }
    return this.handleChange(intake.change, { dedupe: true, recordCompliant: true });
  }

  /** An input that is not even JSON: acknowledged with an `invalid` record keyed by `fallbackId`. */
  async recordUnreadable(fallbackId: string, problem: string): Promise<PipelineResult> {
    return this.finish(
      this.recordOf(
        undefined,
        undefined,
        fallbackId,
        this.noAction("invalid", `unreadable input: ${problem}`, problem),
      ),
    );
  }

  /** A change already normalised (by intake, or built by the reconcile sweep). */
  async handleChange(change: Change, options: HandleChangeOptions): Promise<PipelineResult> {
    const { deps } = this;
    const eventId = change.meta.eventId;
    let intent: DecisionIntent | undefined;
    if (options.dedupe) {
      const claim = await deps.state.claimEvent(eventId, deps.clock.now());
      if (claim === "done") {
        deps.observer?.duplicate?.(eventId);
        return { status: "duplicate", eventId };
      }
      if (claim === "in-progress") {
        throw new RemediatorError(`event ${eventId} is being handled by another delivery`, {
          retryable: true,
        });
      }
      if (claim === "reclaimed") {
        try {
          // An earlier attempt may have recorded (then only its notifications may be owed) or
          // acted (then its decision is finished, not made anew).
          const recorded = await deps.ledger.recorded(eventId);
          if (recorded) {
            deps.observer?.resumed?.(eventId, "recorded");
            deps.observer?.decided?.(recorded.record, "duplicate");
            await this.deliver(recorded.record, recorded.owed, true);
            await deps.state.completeEvent(
              eventId,
              `${recorded.record.verdict}/${recorded.record.outcome}`,
              deps.clock.now(),
            );
            return { status: "decided", record: recorded.record, ledger: "duplicate" };
          }
          intent = await deps.state.intent(eventId);
          if (intent) deps.observer?.resumed?.(eventId, "intent");
        } catch (error) {
          await this.release(eventId);
          throw error;
        }
      }
    }
    try {
      let decision: Decision;
      try {
        decision = await this.decide(change, { intent, saveIntent: options.dedupe });
      } catch (error) {
        if (isRetryableAwsError(error)) throw error;
        decision = this.failed(error);
      }
      if (!options.recordCompliant && (decision.verdict === "compliant" || decision.verdict === "ignored")) {
        if (options.notifyKey !== undefined) await this.clearNotified(options.notifyKey);
        // Not recorded, but a channel that tracks findings over time (Security Hub) hears that the
        // resource passed, so a finding raised earlier is resolved.
        if (decision.passedRules?.length) {
          await this.notifyCompliant(
            this.recordOf(change.meta, undefined, eventId, decision, change.resource),
          );
        }
        return { status: "compliant", resource: change.resource };
      }
      const record = this.recordOf(change.meta, undefined, eventId, decision, change.resource);
      // Reconcile records carry a new eventId every run: nothing redelivers them, and the next run
      // tells again what was not told (its fingerprint is saved only once someone was).
      const result = await this.finish(record, options.notifyKey, options.dedupe);
      if (options.dedupe)
        await deps.state.completeEvent(eventId, `${record.verdict}/${record.outcome}`, deps.clock.now());
      return result;
    } catch (error) {
      if (options.dedupe) await this.release(eventId);
      throw error;
    }
  }

  private async release(eventId: string): Promise<void> {
    await this.deps.state
      .releaseEvent(eventId)
      .catch((e: unknown) => this.deps.observer?.stateWriteFailed?.("release", e));
  }

  private failed(error: unknown): Decision {
    const message = errorMessage(error);
    return { ...this.noAction("failed", `could not decide: ${message}`, message), outcome: "failed" };
  }

  /** A decision with nothing read and nothing done: ignored, invalid or failed input. */
  private noAction(verdict: AuditVerdict, reason: string, error: string | undefined): Decision {
    return {
      verdict,
      outcome: "no-action",
      mode: this.deps.mode,
      findings: [],
      rules: [],
      plan: [],
      before: null,
      after: null,
      requestIds: [],
      error,
      reason,
    };
  }

  /** The channels a record owes: those its verdict routes to, unless the kill switch is on. */
  private owedChannels(record: AuditRecord): string[] {
    const { deps } = this;
    // Mode `off` is the kill switch: decisions are recorded, nobody is paged.
    if (deps.mode === "off") return [];
    return deps.notifiers
      .filter((n) => shouldNotify(n.name, record.verdict, deps.notifyOptions))
      .map((n) => n.name);
  }

  /**
   * Audit first, with the channels the record owes (its outbox) in the same write; then tell each
   * of them. A record already there (another attempt wrote it) is not written again: what it still
   * owes is told instead. With `notifyKey`, a decision equal to the one last notified for that
   * resource owes nothing.
   */
  private async finish(
    record: AuditRecord,
    notifyKey?: string,
    redeliverable = true,
  ): Promise<PipelineResult> {
    const { deps } = this;
    const fingerprint = notifyKey === undefined ? undefined : notifyFingerprint(record);
    let owed = this.owedChannels(record);
    if (notifyKey !== undefined && fingerprint !== undefined && owed.length > 0) {
      if (await this.notifiedAlready(notifyKey, fingerprint)) owed = [];
    }
    const ledger = await deps.ledger.record(record, owed);
    if (ledger === "duplicate") {
      const recorded = await deps.ledger.recorded(record.eventId);
      deps.observer?.decided?.(recorded?.record ?? record, ledger);
      if (recorded) await this.deliver(recorded.record, recorded.owed, redeliverable);
      return { status: "decided", record: recorded?.record ?? record, ledger };
    }
    deps.observer?.decided?.(record, ledger);
    const sent = await this.deliver(record, owed, redeliverable);
    if (notifyKey !== undefined && fingerprint !== undefined && sent.length > 0) {
      await deps.state
        .saveNotifiedFingerprint(notifyKey, fingerprint, deps.clock.now())
        .catch((error: unknown) => deps.observer?.stateWriteFailed?.("notified fingerprint", error));
    }
    return { status: "decided", record, ledger };
  }

  /** A compliant sweep result, to the channels that take compliant decisions (by default none). */
  private async notifyCompliant(record: AuditRecord): Promise<void> {
    const { deps } = this;
    if (deps.mode === "off") return;
    const result = await notifyAll(deps.notifiers, record, deps.notifyOptions);
    for (const failure of result.failures)
      deps.observer?.notifyFailed?.(failure.notifier, record, failure.error);
  }

  /**
   * Tells each owed channel, then crosses off those told. A channel that failed for a reason that
   * may pass (throttling, 5xx, a timeout, after the retries) stays owed and, when the input can be
   * redelivered, sends it back to the queue so the redelivery tells it; one that failed for good (a
   * revoked webhook, say) stays owed as evidence, is logged and counted, and holds nothing up.
   * Returns the channels told.
   */
  private async deliver(
    record: AuditRecord,
    owed: readonly string[],
    redeliverable: boolean,
  ): Promise<string[]> {
    const { deps } = this;
    if (owed.length === 0) return [];
    const result = await notifyAll(deps.notifiers, record, {
      ...deps.notifyOptions,
      channels: owed,
      ...(deps.retry ? { retry: deps.retry } : {}),
    });
    for (const failure of result.failures)
      deps.observer?.notifyFailed?.(failure.notifier, record, failure.error);
    const stillOwed = owed.filter((name) => !result.sent.includes(name));
    if (stillOwed.length < owed.length) {
      // Best effort: if this write is lost, a later attempt tells those channels again (at least once).
      await deps.ledger
        .settle(record.eventId, stillOwed)
        .catch((error: unknown) => deps.observer?.stateWriteFailed?.("outbox", error));
    }
    const passing = result.failures.filter((f) => f.retryable).map((f) => f.notifier);
    if (redeliverable && passing.length > 0) {
      throw new RemediatorError(
        `event ${record.eventId} is recorded; notification still owed to ${passing.join(", ")}`,
        { retryable: true },
      );
    }
    return [...result.sent];
  }

  /**
   * Whether this very decision was last notified for the resource. A fingerprint that cannot be
   * read counts as not notified: better told twice than never.
   */
  private async notifiedAlready(key: string, fingerprint: string): Promise<boolean> {
    try {
      return (await this.deps.state.notifiedFingerprint(key)) === fingerprint;
    } catch (error) {
      this.deps.observer?.stateWriteFailed?.("notified fingerprint (read)", error);
      return false;
    }
  }

  /** A compliant resource forgets what was notified, so a later regression is notified again. */
  private async clearNotified(key: string): Promise<void> {
    const { deps } = this;
    try {
      // Read first: most resources are compliant every run, and were never notified.
      if ((await deps.state.notifiedFingerprint(key)) === undefined) return;
      await deps.state.saveNotifiedFingerprint(key, undefined, deps.clock.now());
    } catch (error) {
      // The fingerprint stays; the next compliant run clears it.
      deps.observer?.stateWriteFailed?.("notified fingerprint (clear)", error);
    }
  }

  private recordOf(
    meta: ChangeMeta | undefined,
    evaluation: Evaluation | undefined,
    fallbackId: string,
    decision: Decision,
    resource?: string,
  ): AuditRecord {
    return {
      eventId: meta?.eventId ?? evaluation?.eventID ?? fallbackId,
      eventTime: meta?.eventTime,
      decidedAt: this.deps.clock.now().toISOString(),
      account: meta?.account,
      region: meta?.region,
      actor: meta ? describeActor(meta.actor) : undefined,
      sourceIp: meta?.sourceIp,
      userAgent: meta?.userAgent,
      eventName: meta?.eventName ?? evaluation?.eventName ?? undefined,
      eventSource: meta?.eventSource ?? evaluation?.eventSource ?? undefined,
      resource: resource ?? evaluation?.resource ?? undefined,
      ...decision,
    };
  }

  private judge(view: LiveView, change: Change, config: Config): Evaluation {
    const now = this.deps.clock.now();
    const options = { config, now, facts: view.facts };
    const evaluations = [change, ...view.related].map((c) => judgeChange(c, options));
    const combined = combine(evaluations);
    return { ...combined, plan: restorePlan(view, evaluations, combined, { config, now }) };
  }

  private configWithTag(view: LiveView): { config: Config; note: string } {
    const tag = exemptionFromTags(view.tagSets, this.deps.exemptTagKey);
    if (tag.status === "valid") {
      return {
        config: { ...this.deps.config, exemptions: [...this.deps.config.exemptions, tag.exemption] },
        note: "",
      };
    }
    return {
      config: this.deps.config,
      note: tag.status === "malformed" ? ` Ignored exemption: ${tag.problem}.` : "",
    };
  }

  /**
   * The decision about one change. `intent`: what an earlier attempt of the same event saved before
   * acting; with `saveIntent`, this attempt saves its own before acting.
   */
  private async decide(
    change: Change,
    options: { readonly intent?: DecisionIntent | undefined; readonly saveIntent: boolean },
  ): Promise<Decision> {
    const { detail } = change;
    const problem =
      detail.kind === "fs-policy-put" || detail.kind === "bucket-state" ? detail.unparsedProblem : undefined;
    if (problem === undefined) return this.decideLive(change, options);
    // The event's policy text cannot be parsed: the record says so, and what the live policy is.
    if (this.deps.mode === "off") {
      return this.noAction(
        "invalid",
        `remediation is off: judged from the event only, whose ${problem}.`,
        problem,
      );
    }
    const decision = await this.decideLive(change, options);
    return {
      ...decision,
      error: decision.error ?? `the event's policy text: ${problem}`,
      reason: `The event's policy text cannot be parsed (${problem}): the live policy was judged instead. ${decision.reason}`,
    };
  }

  private async decideLive(
    change: Change,
    options: { readonly intent?: DecisionIntent | undefined; readonly saveIntent: boolean },
  ): Promise<Decision> {
    const { deps } = this;
    const base = { mode: deps.mode, requestIds: [] as string[], error: undefined };
    if (deps.mode === "off") {
      // The kill switch: judged from the event alone, nothing read, nothing done, nothing sent.
      const offline = judgeChange(change, { config: deps.config, now: deps.clock.now() });
      return {
        ...base,
        verdict: offline.verdict === "invalid" ? "invalid" : offline.verdict,
        outcome: "no-action",
        findings: offline.findings,
        rules: Object.keys(offline.modes ?? {}),
        plan: offline.plan,
        before: null,
        after: null,
        reason: `remediation is off: judged from the event only. ${offline.reason}`,
      };
    }
    const live = await this.liveDepsFor(change);
    for (let round = 1; ; round++) {
      const decision = await this.decideOnce(change, live, options, round);
      if (decision) return decision;
    }
  }

  /**
   * One read-judge-act round; `undefined` when a policy changed between the read and the write
   * it was about to make (optimistic concurrency): then the caller reads and judges again.
   */
  private async decideOnce(
    change: Change,
    live: LiveDeps & Pick<AccountResources, "executor">,
    options: { readonly intent?: DecisionIntent | undefined; readonly saveIntent: boolean },
    round: number,
  ): Promise<Decision | undefined> {
    const { deps } = this;
    const { intent } = options;
    const base = { mode: deps.mode, requestIds: [] as string[], error: undefined };
    const view = await readLive(change, live);
    if (view.ignoredReason !== undefined) {
      return {
        ...base,
        verdict: "ignored",
        outcome: "no-action",
        findings: [],
        rules: [],
        plan: [],
        before: view.snapshot,
        after: null,
        reason: view.ignoredReason,
      };
    }
    if (!view.change) {
      // The guardrail's own earlier attempt made it so: its decision, finished.
      if (intent) return finishedEarlier(intent, view.snapshot, view.goneReason ?? "gone");
      return {
        ...base,
        verdict: "compliant",
        outcome: "already-compliant",
        findings: [],
        rules: [],
        plan: [],
        before: view.snapshot,
        after: null,
        reason: `${view.goneReason}: nothing to do.`,
        ...(view.resourceGone ? { resourceGone: true, passedRules: rulesFor([change], deps.config) } : {}),
      };
    }
    await this.learnGuards(view);
    const { config, note } = this.configWithTag(view);
    const evaluation = this.judge(view, view.change, config);
    const rules = Object.keys(evaluation.modes ?? {});
    if (evaluation.verdict !== "violation") {
      // Only a state judged compliant is known-good; an invalid or ignored one (a policy that does
      // not parse, say) must never become what a later deletion or swap restores.
      const compliant = evaluation.verdict === "compliant";
      if (compliant) await this.learn(view);
      if (compliant && intent) return finishedEarlier(intent, view.snapshot, evaluation.reason);
      const passedRules = compliant ? rulesJudgingWhole([view.change, ...view.related], config) : [];
      const offline = judgeChange(change, { config: deps.config, now: deps.clock.now() });
      const fixedAlready = compliant && offline.verdict === "violation";
      return {
        ...base,
        verdict: evaluation.verdict === "invalid" ? "invalid" : evaluation.verdict,
        outcome: fixedAlready ? "already-compliant" : "no-action",
        findings: [],
        rules: [],
        plan: [],
        before: view.snapshot,
        after: null,
        reason: fixedAlready
          ? `the change was unsafe when made, but the live state is compliant now (fixed before this event was handled): nothing to do. ${evaluation.reason}${note}`
          : `${evaluation.reason}${note}`,
        ...(passedRules.length > 0 ? { passedRules } : {}),
      };
    }
    const mode = effectiveMode(deps.mode, evaluation.modes ?? {});
    // After an earlier attempt acted, the state before is the one it saw.
    const before = intent ? intent.before : view.snapshot;
    // The other rules that judged the whole resource passed (a rule that errored did not): their
    // earlier findings are resolved.
    const passedRules = rulesJudgingWhole([view.change, ...view.related], config).filter(
      (id) => !rules.includes(id) && !evaluation.reason.includes(`rule ${id} errored`),
    );
    const violation = {
      ...base,
      findings: evaluation.findings,
      rules,
      before,
      after: null,
      ...(passedRules.length > 0 ? { passedRules } : {}),
    };
    if (evaluation.exemption) {
      return {
        ...violation,
        verdict: "exempted",
        outcome: "notified",
        mode,
        plan: [],
        reason: evaluation.reason,
      };
    }
    const reason = `${evaluation.reason}${note}`;
    if (deps.mode === "notify" || deps.mode === "dry-run") {
      const outcome = deps.mode === "notify" ? "notified" : "dry-run";
      return {
        ...violation,
        verdict: "violation",
        outcome,
        mode,
        plan: evaluation.plan,
        reason: `${reason} Mode ${deps.mode}: nothing done.`,
      };
    }
    if (evaluation.plan.length === 0) {
      // Only notify-only findings left (EFS without TLS enforcement, say) after the guardrail's own
      // earlier attempt acted: that attempt's decision, finished.
      if (intent) return finishedEarlier(intent, view.snapshot, evaluation.reason);
      return { ...violation, verdict: "violation", outcome: "notified", mode, plan: [], reason };
    }
    if (await this.policyMovedOn(view, evaluation.plan, live)) {
      if (round < MAX_DECIDE_ROUNDS) return undefined;
      throw new RemediatorError(
        `the file-system policy changed between each read and the edit planned on it (${round} rounds): left to a redelivery`,
        { retryable: true },
      );
    }
    const plan = uniqueBy([...(intent?.plan ?? []), ...evaluation.plan], stepKey);
    const earlierIds = intent?.requestIds ?? [];
    const eventId = change.meta.eventId;
    const intended: DecisionIntent = {
      plan,
      findings: evaluation.findings,
      rules,
      mode,
      reason,
      before,
      ...(intent?.requestIds ? { requestIds: earlierIds } : {}),
      at: deps.clock.now().toISOString(),
    };
    // Before the first call that changes anything: a later attempt then knows the guardrail acted.
    if (options.saveIntent) await deps.state.saveIntent(eventId, intended);
    const execution = await live.executor.run(evaluation.plan);
    const requestIds = [...earlierIds, ...execution.steps.flatMap((s) => (s.requestId ? [s.requestId] : []))];
    if (options.saveIntent && execution.steps.length > 0) {
      await deps.state
        .saveIntent(eventId, { ...intended, requestIds })
        .catch((error: unknown) => deps.observer?.stateWriteFailed?.("intent (request ids)", error));
    }
    let verified: Awaited<ReturnType<RemediationPipeline["verify"]>>;
    try {
      verified = await this.verify(change, live, evaluation.plan);
    } catch (error) {
      // Steps ran. With the intent saved (request ids included), a redelivery reads back, verifies
      // and records this decision as the guardrail's: a passing failure goes back to the queue.
      // Without one (the reconcile sweep) or for good, the record keeps what was done, as `failed`
      // because nothing was read back.
      if (execution.steps.length === 0) throw error;
      if (options.saveIntent && isRetryableAwsError(error)) throw error;
      return {
        ...violation,
        verdict: "failed",
        outcome: "failed",
        mode,
        plan,
        requestIds,
        error: execution.error ?? `read-back failed: ${errorMessage(error)}`,
        reason: `${reason} ${execution.error ? "Remediation failed" : "Remediated"}; read-back unavailable: ${errorMessage(error)}.`,
      };
    }
    if (execution.error || !verified.compliant) {
      return {
        ...violation,
        verdict: "failed",
        outcome: "failed",
        mode,
        plan,
        after: verified.snapshot,
        requestIds,
        error: execution.error ?? `read back after the plan ran, still unsafe: ${verified.reason}`,
        reason: `${reason} Remediation failed.`,
      };
    }
    const goneNote = execution.steps.some((s) => s.alreadyGone) ? " (part of it was already gone)" : "";
    return {
      ...violation,
      verdict: "violation",
      outcome: "remediated",
      mode,
      plan,
      after: verified.snapshot,
      requestIds,
      reason: `${reason} Remediated and verified${goneNote}${intent ? "; an earlier attempt of this event acted first" : ""}.`,
    };
  }

  /**
   * Whether a policy the plan is about to replace changed since it was read and judged. AWS has no
   * conditional PutFileSystemPolicy: reading it again right before the write narrows the window in
   * which another writer's policy would be overwritten with an edit of the older text to the time
   * between two calls, and the read-back after the write catches what slips through.
   */
  private async policyMovedOn(view: LiveView, plan: readonly PlanStep[], live: LiveDeps): Promise<boolean> {
    const detail = view.change?.detail;
    if (detail?.kind !== "fs-policy-put" && detail?.kind !== "fs-policy-deleted") return false;
    if (!plan.some((step) => policyWritten(step)?.fileSystemId === detail.fileSystemId)) return false;
    const judged = detail.kind === "fs-policy-put" ? detail.policyText : undefined;
    const now = await live.fileSystems[detail.service].getPolicy(detail.fileSystemId);
    return canonicalPolicy(now) !== canonicalPolicy(judged);
  }

  /**
   * Reads the state back and judges it again: the plan worked only if nothing unsafe is left, and
   * a policy it wrote reads back as written (otherwise someone else wrote one in between).
   */
  private async verify(
    change: Change,
    live: LiveDeps,
    plan: readonly PlanStep[],
  ): Promise<{ compliant: boolean; snapshot: unknown; reason: string }> {
    const view = await readLive(change, live);
    if (!view.change) return { compliant: true, snapshot: view.snapshot, reason: view.goneReason ?? "gone" };
    const detail = view.change.detail;
    if (detail.kind === "fs-policy-put" || detail.kind === "fs-policy-deleted") {
      const written = plan.flatMap((step) => {
        const put = policyWritten(step);
        return put && put.fileSystemId === detail.fileSystemId ? [put.policy] : [];
      });
      const last = written.at(-1);
      const readBack = detail.kind === "fs-policy-put" ? detail.policyText : undefined;
      if (last !== undefined && canonicalPolicy(readBack) !== canonicalPolicy(last)) {
        return {
          compliant: false,
          snapshot: view.snapshot,
          reason: "the policy read back is not the one written (another writer changed it right after)",
        };
      }
    }
    const evaluation = this.judge(view, view.change, this.deps.config);
    if (evaluation.verdict === "compliant") await this.learn(view);
    // Done when nothing is left that an enforced rule would change; findings of notify-only
    // rules (TLS not enforced, say) stay in the record for people to act on.
    return {
      compliant: evaluation.verdict !== "violation" || evaluation.plan.length === 0,
      snapshot: view.snapshot,
      reason: evaluation.findings.map((f) => f.message).join("; ") || evaluation.reason,
    };
  }

  /**
   * Where the change's resources are read and acted on: the account it was made in. A member
   * account that cannot be reached throws here (non-retryable: a `failed` record; throttled:
   * back to the queue).
   */
  private async liveDepsFor(change: Change): Promise<LiveDeps & Pick<AccountResources, "executor">> {
    const { deps } = this;
    const resources = await this.resourcesIn(change.meta.account, change.meta.eventId);
    return {
      ec2: resources.ec2,
      fileSystems: resources.fileSystems,
      executor: resources.executor,
      state: deps.state,
      ...(resources.identity ? { identity: resources.identity } : {}),
      ...(resources.buckets ? { buckets: resources.buckets } : {}),
    };
  }

  /**
   * The file systems of an account, read the way this pipeline reads them (the reconcile sweep
   * lists a member account's file systems with its member role). Throws when the account cannot
   * be reached.
   */
  async fileSystemsIn(account: string | undefined, label: string): Promise<AccountResources["fileSystems"]> {
    return (await this.resourcesIn(account, label)).fileSystems;
  }

  /** The identity layer (IAM) of an account, as this pipeline reads it; undefined when not wired. */
  async identityIn(account: string | undefined, label: string): Promise<AccountResources["identity"]> {
    return (await this.resourcesIn(account, label)).identity;
  }

  /** Reconcile: a resource swept as compliant forgets what was notified for it (see `notifyKey`). */
  async forgetNotified(key: string): Promise<void> {
    await this.clearNotified(key);
  }

  private async resourcesIn(account: string | undefined, label: string): Promise<AccountResources> {
    const { deps } = this;
    if (deps.accounts) return deps.accounts.resourcesFor(account, label);
    if (account && deps.homeAccount && account !== deps.homeAccount) {
      throw new RemediatorError(
        `event of account ${account}: organization mode is off (MEMBER_ROLE_NAME unset)`,
      );
    }
    return deps;
  }

  /** A compliant live state is the new known-good state: what a later deletion or swap restores. */
  private async learn(view: LiveView): Promise<void> {
    const { deps } = this;
    const change = view.change;
    if (!change) return;
    const now = deps.clock.now();
    const { detail } = change;
    const writes: Promise<void>[] = [];
    if (detail.kind === "fs-policy-put") {
      writes.push(
        deps.state.saveKnownGoodPolicy(detail.service, detail.fileSystemId, detail.policyText, now),
      );
    } else if (
      detail.kind === "mount-target-security-groups" &&
      detail.mountTargetId &&
      detail.fileSystemId
    ) {
      writes.push(
        deps.state.saveKnownGoodSecurityGroups(
          detail.service,
          detail.mountTargetId,
          detail.securityGroups,
          now,
        ),
      );
    }
    // A bucket judged compliant (on its own, or with the S3 Files file system built on it).
    for (const judged of [change, ...view.related]) {
      if (judged.detail.kind === "bucket-state")
        writes.push(
          deps.state.saveKnownGoodBucket(judged.detail.bucket, knownGoodOf(judged.detail.state), now),
        );
    }
    await Promise.all(writes).catch((error: unknown) =>
      deps.observer?.stateWriteFailed?.("known-good state", error),
    );
  }

  /** Which file systems a group guards is a fact whatever the verdict: sg-rule events judge with it. */
  private async learnGuards(view: LiveView): Promise<void> {
    if (view.change?.detail.kind !== "mount-target-security-groups") return;
    const now = this.deps.clock.now();
    const guards = [...(view.guardsSeen ?? new Map())];
    await Promise.all(guards.map(([groupId, guard]) => this.deps.state.saveGuard(groupId, guard, now))).catch(
      (error: unknown) => this.deps.observer?.stateWriteFailed?.("mount-target guards", error),
    );
  }
}

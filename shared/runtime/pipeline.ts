/**
 * The remediation use-case: one input in, one audit record out.
 *
 *   intake → deduplicate → read LIVE state → judge → decide (mode, exemption, loop guard)
 *          → plan → execute → read back and verify → audit → notify
 *
 * The audit record is written before any notification, and a notifier failing never costs it.
 * Retryable failures (throttling, 5xx, timeouts that outlast the retries) are rethrown after the
 * claim on the eventID is released, so the queue redelivers the input; everything else ends as an
 * audit record.
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
import type { StateStore } from "./live-ports.ts";
import { type LiveDeps, type LiveView, readLive } from "./live-state.ts";
import { type NotifyAllOptions, notifyAll } from "./notify-all.ts";
import type { AuditLedger, AuditRecord, AuditVerdict, Clock, Notifier, RemediationMode } from "./ports.ts";
import { isRetryableAwsError } from "./retry.ts";

/** Where the pipeline reports what logs and metrics should show; a no-op by default. */
export interface PipelineObserver {
  decided?(record: AuditRecord, ledger: "written" | "duplicate"): void;
  duplicate?(eventId: string): void;
  notifyFailed?(notifier: string, record: AuditRecord, error: unknown): void;
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
      (step) => `${step.api}|${stableJson(step.params)}`,
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

  /**
   * One input (EventBridge event or CloudTrail record). `fallbackId` names the audit record of an
   * input so broken it carries no eventID (the SQS message id, say).
   */
  async handle(raw: unknown, fallbackId: string): Promise<PipelineResult> {
    const { deps } = this;
    const intake = intakeRecord(raw, { selfRoleArns: deps.config.selfRoleArns });
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
    }
    try {
      let decision: Decision;
      try {
        decision = await this.decide(change);
      } catch (error) {
        if (isRetryableAwsError(error)) throw error;
        decision = this.failed(error);
      }
      if (!options.recordCompliant && (decision.verdict === "compliant" || decision.verdict === "ignored")) {
        if (options.notifyKey !== undefined) await this.clearNotified(options.notifyKey);
        return { status: "compliant", resource: change.resource };
      }
      const record = this.recordOf(change.meta, undefined, eventId, decision, change.resource);
      const result = await this.finish(record, options.notifyKey);
      if (options.dedupe)
        await deps.state.completeEvent(eventId, `${record.verdict}/${record.outcome}`, deps.clock.now());
      return result;
    } catch (error) {
      if (options.dedupe) {
        await deps.state
          .releaseEvent(eventId)
          .catch((e: unknown) => deps.observer?.stateWriteFailed?.("release", e));
      }
      throw error;
    }
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

  /**
   * Audit first; then notify, once, only when the record is new (and, with `notifyKey`, only when
   * the decision differs from the one last notified for that resource).
   */
  private async finish(record: AuditRecord, notifyKey?: string): Promise<PipelineResult> {
    const { deps } = this;
    const ledger = await deps.ledger.record(record);
    deps.observer?.decided?.(record, ledger);
    // A duplicate means the first delivery already notified: each decision is told once.
    // Mode `off` is the kill switch: decisions are recorded, nobody is paged.
    if (ledger === "written" && deps.mode !== "off") {
      const fingerprint = notifyKey === undefined ? undefined : notifyFingerprint(record);
      if (notifyKey !== undefined && fingerprint !== undefined) {
        if (await this.notifiedAlready(notifyKey, fingerprint)) return { status: "decided", record, ledger };
      }
      const result = await notifyAll(deps.notifiers, record, deps.notifyOptions);
      for (const failure of result.failures)
        deps.observer?.notifyFailed?.(failure.notifier, record, failure.error);
      // When every channel asked failed, nobody was told: the next run tries again.
      const nobodyTold = result.sent.length === 0 && result.failures.length > 0;
      if (notifyKey !== undefined && fingerprint !== undefined && !nobodyTold) {
        await deps.state
          .saveNotifiedFingerprint(notifyKey, fingerprint, deps.clock.now())
          .catch((error: unknown) => deps.observer?.stateWriteFailed?.("notified fingerprint", error));
      }
    }
    return { status: "decided", record, ledger };
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

  private async decide(change: Change): Promise<Decision> {
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
      };
    }
    const mode = effectiveMode(deps.mode, evaluation.modes ?? {});
    const violation = { ...base, findings: evaluation.findings, rules, before: view.snapshot, after: null };
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
      return { ...violation, verdict: "violation", outcome: "notified", mode, plan: [], reason };
    }
    const execution = await live.executor.run(evaluation.plan);
    const requestIds = execution.steps.flatMap((s) => (s.requestId ? [s.requestId] : []));
    let verified: Awaited<ReturnType<RemediationPipeline["verify"]>>;
    try {
      verified = await this.verify(change, live);
    } catch (error) {
      // Steps ran: giving the input back to the queue would release the claim, and the redelivery
      // would find the state fixed and record `already-compliant`, losing what was done and its
      // request ids. The record keeps them instead, as `failed` because nothing was read back.
      if (execution.steps.length === 0) throw error;
      return {
        ...violation,
        verdict: "failed",
        outcome: "failed",
        mode,
        plan: evaluation.plan,
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
        plan: evaluation.plan,
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
      plan: evaluation.plan,
      after: verified.snapshot,
      requestIds,
      reason: `${reason} Remediated and verified${goneNote}.`,
    };
  }

  /** Reads the state back and judges it again: the plan worked only if nothing unsafe is left. */
  private async verify(
    change: Change,
    live: LiveDeps,
  ): Promise<{ compliant: boolean; snapshot: unknown; reason: string }> {
    const view = await readLive(change, live);
    if (!view.change) return { compliant: true, snapshot: view.snapshot, reason: view.goneReason ?? "gone" };
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

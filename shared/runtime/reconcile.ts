/**
 * The reconcile sweep: every S3 Files and EFS file system (policy, access points, mount targets
 * and the inbound rules of the groups on them) judged live, the same way as an event, so a lost
 * or late event is caught. Bounded per run: at most `maxFileSystems` per service (whole pages),
 * then the cursor is saved in the state table and the next run continues from it.
 * Compliant resources are not recorded (they would flood the ledger every run); they refresh the
 * known-good state. Every violation, exemption and failure gets its audit record every run, but is
 * notified only when it is new or changed for that resource (a finding left in place on purpose,
 * in notify mode or exempted, would otherwise page everyone every run).
 *
 * Organization mode with `memberAccounts`: after the function's own account, each listed member
 * account is swept the same way through its member role (the pipeline's account routing), with
 * its own cursors. A member that cannot be reached is reported in `errors` and the others go on.
 */
import { errorMessage } from "../core/errors.ts";
import { EFS_SOURCE, S3FILES_SOURCE } from "../core/intake/file-systems.ts";
import { resourceNames } from "../core/intake/intake.ts";
import type { Change, ChangeDetail, ChangeMeta, FileSystemService } from "../core/types.ts";
import { sweepIdentity } from "./iam-reconcile.ts";
import type { FileSystemApi, FileSystemSummary, StateStore } from "./live-ports.ts";
import type { RemediationPipeline } from "./pipeline.ts";
import type { Clock, RemediationMode } from "./ports.ts";
import { awsErrorName, isRetryableAwsError } from "./retry.ts";
import { decideSwept, type SweepCounts } from "./sweep-counts.ts";

export interface ReconcileDeps {
  readonly pipeline: RemediationPipeline;
  readonly fileSystems: readonly FileSystemApi[];
  readonly state: StateStore;
  readonly clock: Clock;
  readonly maxFileSystems: number;
  readonly region: string | undefined;
  /** Member accounts swept after the function's own (organization mode; empty by default). */
  readonly memberAccounts?: readonly string[];
  /** The remediation mode; `off` turns the sweep into a no-op. */
  readonly mode?: RemediationMode;
  /**
   * Sweep the identity layer (IAM) of each account too, at most this many roles and users per run.
   * IAM is global: only one region's sweep does it (`IAM_RECONCILE_REGION`). Absent: not swept.
   */
  readonly identityMaxPrincipals?: number;
}

export interface ReconcileSummary {
  readonly runId: string;
  readonly fileSystems: number;
  readonly resources: number;
  readonly recorded: number;
  readonly remediated: number;
  readonly failed: number;
  /**
   * Per service (`efs`; `<account>/efs` for a member account): true when the sweep reached the end
   * of the list this run.
   */
  readonly complete: Readonly<Record<string, boolean>>;
  /** Resources that hit a retryable error; the next run sees them again. */
  readonly deferred: readonly string[];
  /**
   * Services whose sweep stopped on an error (the other services are still swept); for a member
   * account that could not be reached or was not reached in time, the account itself; a file system
   * whose parts could not be listed (`<service>/<fileSystemId>`; the sweep went on past it).
   */
  readonly errors: Readonly<Record<string, string>>;
  /** Why nothing was swept at all (mode `off`). */
  readonly skipped?: string;
}

/**
 * One synthetic change, and the name of what it sweeps, the same every run. Not the resource ARN:
 * a file system's own settings and its policy are judged apart under one ARN.
 */
interface SweptChange {
  readonly change: Change;
  readonly notifyKey: string;
}

export class Reconciler {
  constructor(private readonly deps: ReconcileDeps) {}

  /** One sweep. `hasTime` lets the handler stop before the Lambda timeout. */
  async sweep(runId: string, hasTime: () => boolean = () => true): Promise<ReconcileSummary> {
    const totals = { fileSystems: 0, resources: 0, recorded: 0, remediated: 0, failed: 0 };
    const complete: Record<string, boolean> = {};
    const deferred: string[] = [];
    const errors: Record<string, string> = {};
    if (this.deps.mode === "off") {
      // The kill switch: the sweep has no event to judge offline, only synthetic starting guesses
      // (a policy "deleted" on every file system), so judging them would record false violations.
      return {
        runId,
        ...totals,
        complete,
        deferred,
        errors,
        skipped: "remediation is off: nothing read, nothing recorded",
      };
    }
    const counts = { totals, complete, deferred, errors };
    await this.sweepAccount(undefined, this.deps.fileSystems, runId, hasTime, counts);
    await this.sweepIdentityOf(undefined, runId, hasTime, counts);
    for (const account of this.deps.memberAccounts ?? []) {
      if (!hasTime()) {
        errors[account] = "not swept this run: out of time (the next run sweeps it)";
        continue;
      }
      let fileSystems: readonly FileSystemApi[];
      try {
        const apis = await this.deps.pipeline.fileSystemsIn(account, `reconcile-${runId}`);
        fileSystems = [apis.s3files, apis.efs];
      } catch (error) {
        errors[account] = errorMessage(error);
        continue;
      }
      await this.sweepAccount(account, fileSystems, runId, hasTime, counts);
      await this.sweepIdentityOf(account, runId, hasTime, counts);
    }
    return { runId, ...totals, complete, deferred, errors };
  }

  /** One account's identity layer, when this function sweeps it and there is time left. */
  private async sweepIdentityOf(
    account: string | undefined,
    runId: string,
    hasTime: () => boolean,
    counts: Parameters<typeof sweepIdentity>[5],
  ): Promise<void> {
    const max = this.deps.identityMaxPrincipals;
    if (max === undefined) return;
    const key = account ? `${account}/iam` : "iam";
    if (!hasTime()) {
      counts.errors[key] = "not swept this run: out of time (the next run sweeps it)";
      return;
    }
    let identity: Awaited<ReturnType<RemediationPipeline["identityIn"]>>;
    try {
      identity = await this.deps.pipeline.identityIn(account, `reconcile-${runId}`);
    } catch (error) {
      counts.errors[key] = errorMessage(error);
      return;
    }
    if (!identity) return;
    const { pipeline, state, clock, region } = this.deps;
    await sweepIdentity(
      { pipeline, state, clock, region, maxPrincipals: max },
      account,
      identity,
      runId,
      hasTime,
      counts,
    );
  }

  /** One account's file systems, service by service, from each service's saved cursor. */
  private async sweepAccount(
    account: string | undefined,
    fileSystems: readonly FileSystemApi[],
    runId: string,
    hasTime: () => boolean,
    counts: SweepCounts & { readonly totals: { fileSystems: number } },
  ): Promise<void> {
    const { totals, complete, errors } = counts;
    for (const api of fileSystems) {
      const key = account ? `${account}/${api.service}` : api.service;
      let token = await this.deps.state.reconcileCursor(api.service, account);
      let swept = 0;
      try {
        do {
          const page = await this.firstOrNextPage(api, token, swept === 0);
          for (const fs of page.items) {
            let changes: SweptChange[];
            try {
              changes = await this.changesOf(api, fs, runId, account);
            } catch (error) {
              // One file system that cannot be listed (access denied on its access points, say)
              // must not hold back the others of its service, nor the cursor.
              errors[`${key}/${fs.fileSystemId}`] = `${awsErrorName(error)}: ${errorMessage(error)}`;
              continue;
            }
            for (const { change, notifyKey } of changes) {
              totals.resources++;
              await decideSwept(this.deps.pipeline, change, notifyKey, counts);
            }
          }
          swept += page.items.length;
          totals.fileSystems += page.items.length;
          token = page.nextToken;
        } while (token && swept < this.deps.maxFileSystems && hasTime());
      } catch (error) {
        // One service failing (not offered in this region, access denied) must not stop the others;
        // its cursor stays where it was, so the next run starts that service over.
        errors[key] = `${awsErrorName(error)}: ${errorMessage(error)}`;
        complete[key] = false;
        continue;
      }
      complete[key] = token === undefined;
      await this.deps.state.saveReconcileCursor(api.service, token, this.deps.clock.now(), account);
    }
  }

  /**
   * A saved cursor can expire or belong to another listing: if the service rejects it, the sweep
   * starts over from the first page rather than never sweeping that service again.
   */
  private async firstOrNextPage(api: FileSystemApi, token: string | undefined, fromCursor: boolean) {
    try {
      return await api.listFileSystems(token);
    } catch (error) {
      if (!fromCursor || token === undefined || isRetryableAwsError(error)) throw error;
      return api.listFileSystems(undefined);
    }
  }

  /** The synthetic changes that make the pipeline read and judge every part of one file system. */
  private async changesOf(
    api: FileSystemApi,
    fs: FileSystemSummary,
    runId: string,
    account: string | undefined,
  ): Promise<SweptChange[]> {
    const service = api.service;
    const fileSystemId = fs.fileSystemId;
    const [accessPoints, mountTargets] = await Promise.all([
      api.listAccessPoints(fileSystemId),
      api.listMountTargets(fileSystemId),
    ]);
    const details: { aspect: string; detail: ChangeDetail }[] = [
      {
        aspect: "file-system",
        detail: {
          kind: "file-system-created",
          service,
          fileSystemId,
          fileSystemArn: fs.fileSystemArn,
          kmsKeyId: fs.kmsKeyId,
          encrypted: fs.encrypted,
        },
      },
      // The policy is read live whatever the detail says; "deleted" is only the starting guess.
      { aspect: "policy", detail: { kind: "fs-policy-deleted", service, fileSystemId } },
      ...accessPoints.map((ap) => ({
        aspect: ap.accessPointId,
        detail: {
          kind: "access-point-created" as const,
          service,
          fileSystemId,
          accessPointId: ap.accessPointId,
          accessPointArn: ap.accessPointArn,
          posixUser: ap.posixUser,
          rootDirectory: ap.rootDirectory,
        },
      })),
      ...mountTargets.map((mt) => ({
        aspect: mt.mountTargetId,
        detail: {
          kind: "mount-target-security-groups" as const,
          service,
          action: "create" as const,
          fileSystemId,
          mountTargetId: mt.mountTargetId,
          vpcId: mt.vpcId,
          securityGroups: mt.securityGroups,
        },
      })),
    ];
    const now = this.deps.clock.now().toISOString();
    return details.map(({ aspect, detail }) => {
      const notifyKey = `${account ? `${account}:` : ""}${service}:${fileSystemId}:${aspect}`;
      const meta: ChangeMeta = {
        eventId: `reconcile:${runId}:${notifyKey}`,
        eventName: "Reconcile",
        eventSource: service === "efs" ? EFS_SOURCE : S3FILES_SOURCE,
        eventTime: now,
        // A member's file system is judged and acted on in that member account.
        account: account ?? fs.ownerId,
        region: this.deps.region,
        actor: {
          arn: undefined,
          type: "Reconcile",
          accountId: undefined,
          issuerArn: undefined,
          invokedBy: undefined,
        },
        sourceIp: undefined,
        userAgent: undefined,
        requestId: undefined,
      };
      const { resource, ids } = resourceNames(meta, detail);
      return { change: { meta, resource, resourceIds: ids, detail }, notifyKey };
    });
  }
}

/** Which services a sweep covers, for the summary log. */
export type ReconcileServices = readonly FileSystemService[];

/**
 * The reconcile sweep of the identity layer: every role and user of an account, read page by page
 * with `GetAccountAuthorizationDetails`, under the same cursor (state table, service `iam`) and the
 * same time budget as the file-system sweep. IAM is global, so an account is swept once, by the
 * region `IAM_RECONCILE_REGION` names, not by every region that runs the guardrail.
 *
 * Each principal is judged on what the page (and the policies it names) showed; one that is not
 * proved free of root goes through the pipeline as a change of its own, which reads it live again,
 * records the decision and acts on it like an event would.
 */
import { errorMessage } from "../core/errors.ts";
import type { IamPrincipalState } from "../core/iam/model.ts";
import { IAM_SOURCE } from "../core/intake/iam.ts";
import { resourceNames } from "../core/intake/intake.ts";
import { judgeChange } from "../core/judge.ts";
import type { Change, ChangeMeta } from "../core/types.ts";
import type { IdentityResources } from "./iam-ports.ts";
import type { StateStore } from "./live-ports.ts";
import type { RemediationPipeline } from "./pipeline.ts";
import type { Clock } from "./ports.ts";
import { awsErrorName, isRetryableAwsError } from "./retry.ts";
import { decideSwept, type SweepCounts } from "./sweep-counts.ts";
export interface IdentitySweepDeps {
  readonly pipeline: RemediationPipeline;
  readonly state: StateStore;
  readonly clock: Clock;
  readonly region: string | undefined;
  /** Roles and users judged per run (whole pages), before the cursor hands over to the next run. */
  readonly maxPrincipals: number;
}

/** The account of an IAM ARN (`arn:aws:iam::111122223333:role/x`). */
function accountOf(arn: string): string | undefined {
  return arn.split(":")[4] || undefined;
}

function changeOf(
  principal: IamPrincipalState,
  runId: string,
  notifyKey: string,
  deps: IdentitySweepDeps,
  live: { principals: readonly IamPrincipalState[] | undefined; denyPolicyArn: string | undefined },
): Change {
  const meta: ChangeMeta = {
    eventId: `reconcile:${runId}:${notifyKey}`,
    eventName: "Reconcile",
    eventSource: IAM_SOURCE,
    eventTime: deps.clock.now().toISOString(),
    account: accountOf(principal.arn),
    region: deps.region,
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
  const detail = {
    kind: "iam-identity" as const,
    trigger: {
      eventName: "Reconcile",
      target: { kind: principal.kind, name: principal.name },
      policyArn: undefined,
      policyName: undefined,
      policyDocument: undefined,
      setAsDefault: undefined,
      groupName: undefined,
    },
    ...live,
  };
  const { resource, ids } = resourceNames(meta, detail);
  return { meta, resource, resourceIds: [...new Set([...ids, principal.arn])], detail };
}

/** Sweeps the identity layer of one account (`undefined`: the function's own). */
export async function sweepIdentity(
  deps: IdentitySweepDeps,
  account: string | undefined,
  identity: IdentityResources,
  runId: string,
  hasTime: () => boolean,
  counts: SweepCounts,
): Promise<void> {
  const { totals, complete, errors } = counts;
  const key = account ? `${account}/iam` : "iam";
  let token = await deps.state.reconcileCursor("iam", account);
  let swept = 0;
  try {
    do {
      const page = await firstOrNextPage(identity, token, swept === 0);
      for (const principal of page.principals) {
        const notifyKey = `${account ? `${account}:` : ""}iam:${principal.kind}/${principal.name}`;
        const denyPolicyArn = identity.denyPolicyArn(accountOf(principal.arn));
        const read = changeOf(principal, runId, notifyKey, deps, { principals: [principal], denyPolicyArn });
        totals.resources++;
        // What the page showed is the live state of a moment ago: a principal it proves free of root
        // is done; any other is read again and decided by the pipeline.
        const quick = judgeChange(read, { config: deps.pipeline.config, now: deps.clock.now() });
        if (quick.verdict === "compliant") {
          await deps.pipeline.forgetNotified(notifyKey);
          continue;
        }
        const change = changeOf(principal, runId, notifyKey, deps, {
          principals: undefined,
          denyPolicyArn: undefined,
        });
        await decideSwept(deps.pipeline, change, notifyKey, counts);
      }
      swept += page.principals.length;
      token = page.nextToken;
    } while (token && swept < deps.maxPrincipals && hasTime());
  } catch (error) {
    // The identity layer failing (access denied, say) must not stop the file-system sweep; its
    // cursor stays where it was, so the next run starts it over.
    errors[key] = `${awsErrorName(error)}: ${errorMessage(error)}`;
    complete[key] = false;
    return;
  }
  complete[key] = token === undefined;
  await deps.state.saveReconcileCursor("iam", token, deps.clock.now(), account);
}

/** A saved marker IAM no longer accepts starts the sweep over rather than blocking it for good. */
async function firstOrNextPage(identity: IdentityResources, token: string | undefined, fromCursor: boolean) {
  try {
    return await identity.api.principalPage(token);
  } catch (error) {
    if (!fromCursor || token === undefined || isRetryableAwsError(error)) throw error;
    return identity.api.principalPage(undefined);
  }
}

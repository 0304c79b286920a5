/**
 * The live state behind an IAM change: every role and user it affects, each with the identity
 * policies in force now. A role or user: itself. A group: its members. A managed policy: every role
 * and user it is attached to (as a permissions policy or as a boundary), and the members of every
 * group it is attached to.
 */
import { RemediatorError } from "../core/errors.ts";
import type { IamIdentityChange, IamPrincipalState } from "../core/iam/model.ts";
import type { Change } from "../core/types.ts";
import type { IdentityApi, IdentityResources } from "./iam-ports.ts";
import type { LiveView } from "./live-state.ts";

/** At most this many principals are judged for one change; beyond it the change fails and says why. */
export const MAX_PRINCIPALS_PER_CHANGE = 500;

function gone(reason: string, snapshot: unknown): LiveView {
  return { change: undefined, goneReason: reason, related: [], facts: {}, snapshot, tagSets: [] };
}

async function principalsOf(
  api: IdentityApi,
  refs: readonly { kind: "role" | "user"; name: string }[],
): Promise<IamPrincipalState[]> {
  const unique = [...new Map(refs.map((r) => [`${r.kind}/${r.name}`, r])).values()];
  if (unique.length > MAX_PRINCIPALS_PER_CHANGE) {
    throw new RemediatorError(
      `the change affects ${unique.length} roles and users, more than the ${MAX_PRINCIPALS_PER_CHANGE} judged per change: the reconcile sweep judges them one page at a time`,
    );
  }
  const read = await Promise.all(unique.map((r) => api.principal(r.kind, r.name)));
  // One that vanished since the listing is no longer anyone who could be root.
  return read.filter((p): p is IamPrincipalState => p !== undefined);
}

async function groupUsers(api: IdentityApi, groups: readonly string[]) {
  const members = await Promise.all(groups.map((g) => api.groupMembers(g)));
  return members.flatMap((names) => (names ?? []).map((name) => ({ kind: "user" as const, name })));
}

/** A plain-JSON view of the principals for the audit record: who, and which policies (not their text). */
function snapshotOf(principals: readonly IamPrincipalState[]) {
  return {
    principals: principals.map((p) => ({
      arn: p.arn,
      policies: p.policies.map((policy) => policy.arn ?? policy.label),
      boundary: p.boundary ? (p.boundary.arn ?? p.boundary.label) : null,
    })),
  };
}

export async function readIdentityLive(
  change: Change,
  detail: IamIdentityChange,
  identity: IdentityResources | undefined,
): Promise<LiveView> {
  if (!identity) {
    throw new RemediatorError("an IAM change, but the identity layer is not configured in this runtime");
  }
  const { api } = identity;
  const { target } = detail.trigger;
  let principals: IamPrincipalState[];
  if (target.kind === "policy") {
    if (!target.arn) return gone("the record names no policy ARN: nothing can be read live", {});
    const entities = await api.policyEntities(target.arn);
    if (!entities) return gone(`policy ${target.arn} no longer exists`, { policyArn: target.arn });
    principals = await principalsOf(api, [
      ...entities.roles.map((name) => ({ kind: "role" as const, name })),
      ...entities.users.map((name) => ({ kind: "user" as const, name })),
      ...(await groupUsers(api, entities.groups)),
    ]);
  } else if (target.kind === "group") {
    const members = await api.groupMembers(target.name);
    if (!members) return gone(`group ${target.name} no longer exists`, { group: target.name });
    principals = await principalsOf(
      api,
      members.map((name) => ({ kind: "user" as const, name })),
    );
  } else {
    const principal = await api.principal(target.kind, target.name);
    if (!principal)
      return gone(`${target.kind} ${target.name} no longer exists`, { [target.kind]: target.name });
    principals = [principal];
  }
  const live: IamIdentityChange = {
    ...detail,
    principals,
    denyPolicyArn: identity.denyPolicyArn(change.meta.account),
  };
  return {
    change: {
      ...change,
      // The live ARNs (with their paths) name the principals for exemptions too.
      resourceIds: [...new Set([...change.resourceIds, ...principals.map((p) => p.arn)])],
      detail: live,
    },
    related: [],
    facts: {},
    snapshot: snapshotOf(principals),
    tagSets: [],
  };
}

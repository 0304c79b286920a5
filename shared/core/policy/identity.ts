/**
 * Identity policies: does a principal's set of policies allow `ClientRootAccess` on a file system
 * of its account? IAM's evaluation for one account: a request is allowed when some policy's Allow
 * applies, no Deny of any policy applies and, with a permissions boundary, the boundary allows it
 * too. Decided over every resource (any file system or access point of the account, any region)
 * and every context, by the same solver as resource policies.
 */
import { type PolicyDocument, statementLabel } from "./document.ts";
import { evaluatePolicy } from "./evaluate.ts";
import {
  and,
  anyAllowF,
  anyDenyF,
  type FixedPrincipal,
  type Formula,
  type Frame,
  not,
  resourceLike,
  statementF,
  variablesOf,
} from "./formula.ts";
import { confirmWitness, describeWitness, witnessRequest } from "./questions.ts";
import { findRequest, multivaluedKeysOf, type Witness } from "./solver.ts";

export interface LabelledPolicy {
  readonly label: string;
  readonly document: PolicyDocument;
}

export interface IdentityRootQuery {
  readonly policies: readonly LabelledPolicy[];
  readonly boundary?: LabelledPolicy;
  readonly partition: string;
  readonly account: string;
  /** The user, role (its sessions are judged) or root ARN the policies belong to. */
  readonly principalArn: string;
}

export interface IdentityRootWitness {
  readonly action: string;
  readonly resource: string;
  /** The label of the policy whose Allow grants it. */
  readonly policy: string;
  /** `statementLabel` of that Allow. */
  readonly statement: string;
  /** Condition values of the request (lower-cased keys). */
  readonly context: Readonly<Record<string, string | readonly string[]>>;
  readonly description: string;
}

export type IdentityRootVerdict =
  | { readonly grantsRoot: false; readonly proof: string }
  | { readonly grantsRoot: true; readonly witness: IdentityRootWitness }
  | { readonly grantsRoot: "undecided"; readonly reason: string };

export const ROOT_ACTIONS = ["s3files:ClientRootAccess", "elasticfilesystem:ClientRootAccess"] as const;

/** The caller an identity ARN stands for; undefined when it is not a user, role, session or root ARN. */
export function fixedPrincipalOf(arn: string): FixedPrincipal | undefined {
  const match = /^arn:([^:]+):(iam|sts)::(\d{12}):(.+)$/.exec(arn);
  if (!match) return undefined;
  const [, partition, service, account, resource] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
  ];
  const last = resource.slice(resource.lastIndexOf("/") + 1);
  if (service === "iam" && resource === "root") return { kind: "root", account, name: "", arn };
  if (service === "iam" && resource.startsWith("user/")) return { kind: "user", account, name: last, arn };
  if (service === "iam" && resource.startsWith("role/")) return { kind: "session", account, name: last, arn };
  if (service === "sts" && resource.startsWith("assumed-role/")) {
    const role = resource.split("/")[1] ?? "";
    return { kind: "session", account, name: role, arn: `arn:${partition}:iam::${account}:role/${role}` };
  }
  if (service === "sts" && resource.startsWith("federated-user/"))
    return { kind: "federated", account, name: last, arn };
  return undefined;
}

function fileSystemPattern(query: IdentityRootQuery, action: string): string {
  const prefix = action.slice(0, action.indexOf(":"));
  return `arn:${query.partition}:${prefix}:?*:${query.account}:file-system/?*`;
}

function recordOf(
  context: ReadonlyMap<string, string | readonly string[]>,
): Record<string, string | readonly string[]> {
  return Object.fromEntries(context);
}

/**
 * Does this principal's set of identity policies (and boundary) allow `s3files:ClientRootAccess` or
 * `elasticfilesystem:ClientRootAccess` on some file system of its account? A proof, a witness
 * request, or "undecided" (budget exhausted, or a policy-variable reading the evaluator does not confirm).
 */
export function judgeIdentityRoot(query: IdentityRootQuery): IdentityRootVerdict {
  const principal = fixedPrincipalOf(query.principalArn);
  if (!principal)
    return { grantsRoot: "undecided", reason: `${query.principalArn} is not a user, role or root ARN` };
  const documents = [
    ...query.policies.map((p) => p.document),
    ...(query.boundary ? [query.boundary.document] : []),
  ];
  const space = {
    partition: query.partition,
    kinds: [principal.kind],
    fixedPrincipal: principal,
    actions: [...ROOT_ACTIONS],
    resource: undefined,
  };
  const allowedEverywhere = (witness: Witness): boolean => {
    const request = witnessRequest(witness);
    const decisions = query.policies.map((p) => evaluatePolicy(p.document, request));
    if (decisions.some((d) => d.decision === "explicit-deny")) return false;
    if (!decisions.some((d) => d.decision === "allowed")) return false;
    return query.boundary ? evaluatePolicy(query.boundary.document, request).decision === "allowed" : true;
  };
  let undecided: string | undefined;
  for (const labelled of query.policies) {
    for (const statement of labelled.document.statements) {
      if (statement.effect !== "Allow") continue;
      const build = (frame: Frame): Formula =>
        and([
          resourceLike(frame, [fileSystemPattern(query, frame.action as string)], "strict"),
          statementF(statement, frame, variablesOf(labelled.document)),
          ...documents.map((d) => not(anyDenyF(d, frame))),
          query.boundary ? anyAllowF(query.boundary.document, frame) : true,
        ]);
      const outcome = findRequest(space, build, {
        confirm: confirmWitness(documents, allowedEverywhere),
        multivalued: multivaluedKeysOf(documents),
      });
      if (outcome.status === "witness") {
        const w = outcome.witness;
        return {
          grantsRoot: true,
          witness: {
            action: w.action,
            resource: w.resource ?? "",
            policy: labelled.label,
            statement: statementLabel(statement),
            context: recordOf(w.context),
            description: `${w.action} on ${w.resource} by ${describeWitness(w)}, allowed by ${statementLabel(statement)} of ${labelled.label}`,
          },
        };
      }
      if (outcome.status === "undecided") undecided = outcome.reason;
    }
  }
  if (undecided !== undefined) return { grantsRoot: "undecided", reason: undecided };
  return {
    grantsRoot: false,
    proof: `no request for ${ROOT_ACTIONS.join(" or ")} on a file system of account ${query.account} is allowed to ${query.principalArn}: proved over every resource, context value and session of it`,
  };
}

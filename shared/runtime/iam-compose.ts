/**
 * Wiring of the identity layer for the composition root. The IAM adapter and its SDK client are
 * imported on the first IAM change (a separate chunk): most invocations judge file systems and
 * security groups, and must not parse the IAM client at cold start.
 */
import type { IAMClient } from "@aws-sdk/client-iam";
import type { IdentityApi, IdentityResources } from "./iam-ports.ts";
import { once } from "./lazy.ts";
import type { Operations } from "./live-ports.ts";
import type { TemporaryCredentials } from "./member-credentials.ts";
import type { RetryPolicy } from "./retry.ts";

/** An `IdentityApi` whose implementation is loaded on its first call. */
export function lazyIdentityApi(load: () => Promise<IdentityApi>): IdentityApi {
  const loaded = once(load);
  const operation = (name: string) => async (params: Readonly<Record<string, unknown>>) => {
    const run = (await loaded()).operations[name];
    if (!run) throw new Error(`${name} is not an IAM operation of the adapter`);
    return run(params);
  };
  const operations: Operations = {
    "iam:AttachRolePolicy": operation("iam:AttachRolePolicy"),
    "iam:AttachUserPolicy": operation("iam:AttachUserPolicy"),
  };
  return {
    principal: async (kind, name) => (await loaded()).principal(kind, name),
    groupMembers: async (name) => (await loaded()).groupMembers(name),
    policyEntities: async (arn) => (await loaded()).policyEntities(arn),
    principalPage: async (token) => (await loaded()).principalPage(token),
    operations,
  };
}

export interface IdentityOptions {
  readonly partition: string;
  /** The guardrail's deny policy name (the same in every account); undefined: never enforced. */
  readonly denyPolicyName: string | undefined;
  readonly retry: RetryPolicy;
  /** A client to use (tests); else one is created, with `credentials` for a member account. */
  readonly client?: IAMClient | undefined;
  readonly credentials?: () => Promise<TemporaryCredentials>;
}

/** The identity layer of one account, loaded lazily. */
export function identityResources(options: IdentityOptions): IdentityResources {
  const api = lazyIdentityApi(async () => {
    const [{ IamIdentityAdapter }, { IAMClient }] = await Promise.all([
      import("../adapters/iam-identity.ts"),
      import("@aws-sdk/client-iam"),
    ]);
    // One attempt per call: the runtime's retry policy retries (see compose.ts).
    const client =
      options.client ??
      new IAMClient({ maxAttempts: 1, ...(options.credentials ? { credentials: options.credentials } : {}) });
    return new IamIdentityAdapter(client, options.retry);
  });
  const { denyPolicyName, partition } = options;
  return {
    api,
    denyPolicyArn: (account) =>
      denyPolicyName && account ? `arn:${partition}:iam::${account}:policy/${denyPolicyName}` : undefined,
  };
}

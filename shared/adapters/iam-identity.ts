/**
 * IAM adapter: roles and users with every identity policy in force (attached managed policies at
 * their default version, inline policies, a user's groups' policies) and their permissions boundary;
 * what a managed policy is attached to; the account's principals page by page through
 * `GetAccountAuthorizationDetails`; and the one write the guardrail makes, attaching its own deny
 * policy. IAM's Get APIs return documents URL-encoded (RFC 3986): they are decoded here, once.
 */
import {
  type AttachedPermissionsBoundary,
  type AttachedPolicy,
  AttachRolePolicyCommand,
  type AttachRolePolicyCommandInput,
  AttachUserPolicyCommand,
  type AttachUserPolicyCommandInput,
  GetAccountAuthorizationDetailsCommand,
  GetGroupCommand,
  GetGroupPolicyCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  type IAMClient,
  ListAttachedGroupPoliciesCommand,
  ListAttachedRolePoliciesCommand,
  ListAttachedUserPoliciesCommand,
  ListEntitiesForPolicyCommand,
  ListGroupPoliciesCommand,
  ListGroupsForUserCommand,
  ListRolePoliciesCommand,
  ListUserPoliciesCommand,
} from "@aws-sdk/client-iam";
import { decodePolicyDocument } from "../core/iam/identity-policy.ts";
import type { IamPolicySource, IamPrincipalState } from "../core/iam/model.ts";
import type { IdentityApi, PolicyEntities, PrincipalPage } from "../runtime/iam-ports.ts";
import { awsErrorName, type RetryPolicy, withRetry } from "../runtime/retry.ts";
import { act, allPages, present, readOrMissing } from "./aws-calls.ts";

function isNotFound(error: unknown): boolean {
  const name = awsErrorName(error);
  return name === "NoSuchEntityException" || name === "NoSuchEntity";
}

/** Versions never change once written: their documents are remembered (bounded) across invocations. */
const VERSION_MEMO_LIMIT = 512;

/** `GetAccountAuthorizationDetails` page size (IAM's maximum is 1,000; documents make pages heavy). */
const PAGE_SIZE = 100;

type GroupPolicies = { readonly name: string; readonly policies: readonly IamPolicySource[] };

type Entity = "role" | "user" | "group";
interface Paged {
  readonly IsTruncated?: boolean | undefined;
  readonly Marker?: string | undefined;
}

/** The three calls that list and read an entity's own policies, per kind of entity. */
const ENTITY_CALLS: Record<
  Entity,
  {
    readonly api: { readonly attached: string; readonly inlineNames: string; readonly inline: string };
    attached(
      client: IAMClient,
      name: string,
      marker: string | undefined,
    ): Promise<Paged & { AttachedPolicies?: AttachedPolicy[] | undefined }>;
    inlineNames(
      client: IAMClient,
      name: string,
      marker: string | undefined,
    ): Promise<Paged & { PolicyNames?: string[] | undefined }>;
    inline(
      client: IAMClient,
      name: string,
      policyName: string,
    ): Promise<{ PolicyDocument?: string | undefined }>;
  }
> = {
  role: {
    api: {
      attached: "iam:ListAttachedRolePolicies",
      inlineNames: "iam:ListRolePolicies",
      inline: "iam:GetRolePolicy",
    },
    attached: (client, RoleName, Marker) =>
      client.send(new ListAttachedRolePoliciesCommand({ RoleName, Marker })),
    inlineNames: (client, RoleName, Marker) => client.send(new ListRolePoliciesCommand({ RoleName, Marker })),
    inline: (client, RoleName, PolicyName) => client.send(new GetRolePolicyCommand({ RoleName, PolicyName })),
  },
  user: {
    api: {
      attached: "iam:ListAttachedUserPolicies",
      inlineNames: "iam:ListUserPolicies",
      inline: "iam:GetUserPolicy",
    },
    attached: (client, UserName, Marker) =>
      client.send(new ListAttachedUserPoliciesCommand({ UserName, Marker })),
    inlineNames: (client, UserName, Marker) => client.send(new ListUserPoliciesCommand({ UserName, Marker })),
    inline: (client, UserName, PolicyName) => client.send(new GetUserPolicyCommand({ UserName, PolicyName })),
  },
  group: {
    api: {
      attached: "iam:ListAttachedGroupPolicies",
      inlineNames: "iam:ListGroupPolicies",
      inline: "iam:GetGroupPolicy",
    },
    attached: (client, GroupName, Marker) =>
      client.send(new ListAttachedGroupPoliciesCommand({ GroupName, Marker })),
    inlineNames: (client, GroupName, Marker) =>
      client.send(new ListGroupPoliciesCommand({ GroupName, Marker })),
    inline: (client, GroupName, PolicyName) =>
      client.send(new GetGroupPolicyCommand({ GroupName, PolicyName })),
  },
};

export class IamIdentityAdapter implements IdentityApi {
  readonly operations;
  private readonly versions = new Map<string, string>();

  constructor(
    private readonly client: IAMClient,
    private readonly retry: RetryPolicy,
  ) {
    this.operations = {
      "iam:AttachRolePolicy": (params: Readonly<Record<string, unknown>>) =>
        act("iam:AttachRolePolicy", this.retry, () =>
          this.client.send(new AttachRolePolicyCommand(params as unknown as AttachRolePolicyCommandInput)),
        ),
      "iam:AttachUserPolicy": (params: Readonly<Record<string, unknown>>) =>
        act("iam:AttachUserPolicy", this.retry, () =>
          this.client.send(new AttachUserPolicyCommand(params as unknown as AttachUserPolicyCommandInput)),
        ),
    };
  }

  private read<T>(name: string, call: () => Promise<T>): Promise<T | undefined> {
    return readOrMissing(name, this.retry, isNotFound, call);
  }

  /** A paged listing (each page already retried): `undefined` when its entity is gone. */
  private async orMissing<T>(list: () => Promise<T>): Promise<T | undefined> {
    try {
      return await list();
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** A managed policy's default version, decoded; undefined when the policy is gone. */
  async managedPolicy(arn: string, label: string, via?: string): Promise<IamPolicySource | undefined> {
    const policy = await this.read("iam:GetPolicy", () =>
      this.client.send(new GetPolicyCommand({ PolicyArn: arn })),
    );
    const versionId = policy?.Policy?.DefaultVersionId;
    if (!versionId) return undefined;
    const key = `${arn}#${versionId}`;
    let document = this.versions.get(key);
    if (document === undefined) {
      const version = await this.read("iam:GetPolicyVersion", () =>
        this.client.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: versionId })),
      );
      const text = version?.PolicyVersion?.Document;
      if (text === undefined) return undefined;
      document = decodePolicyDocument(text);
      if (this.versions.size >= VERSION_MEMO_LIMIT) this.versions.clear();
      this.versions.set(key, document);
    }
    return { label, arn, via, document };
  }

  private async attached(
    policies: readonly AttachedPolicy[],
    owner: string,
    via?: string,
  ): Promise<IamPolicySource[]> {
    const read = await Promise.all(
      policies.map((p) =>
        p.PolicyArn
          ? this.managedPolicy(
              p.PolicyArn,
              `managed policy ${p.PolicyName ?? p.PolicyArn} (attached to ${owner})`,
              via,
            )
          : undefined,
      ),
    );
    return present(read);
  }

  private async boundaryOf(boundary: AttachedPermissionsBoundary | undefined, owner: string) {
    const arn = boundary?.PermissionsBoundaryArn;
    return arn
      ? this.managedPolicy(arn, `permissions boundary ${arn.slice(arn.lastIndexOf("/") + 1)} of ${owner}`)
      : undefined;
  }

  /** Every page of a listing, each page retried; `undefined` when its entity is gone. */
  private listAll<P extends Paged, T>(
    api: string,
    send: (marker: string | undefined) => Promise<P>,
    items: (page: P) => readonly T[] | undefined,
  ): Promise<T[] | undefined> {
    return this.orMissing(() =>
      allPages(async (marker) => {
        const page = await withRetry(api, this.retry, () => send(marker));
        return { items: items(page) ?? [], next: page.IsTruncated ? page.Marker : undefined };
      }),
    );
  }

  /**
   * A role's, user's or group's own policies: attached managed policies (default versions) and
   * inline ones; `via` names the group they come through. Undefined when the entity is gone.
   */
  private async ownPolicies(
    entity: Entity,
    name: string,
    via?: string,
  ): Promise<IamPolicySource[] | undefined> {
    const calls = ENTITY_CALLS[entity];
    const owner = `${entity} ${name}`;
    const [attached, inlineNames] = await Promise.all([
      this.listAll(
        calls.api.attached,
        (marker) => calls.attached(this.client, name, marker),
        (page) => page.AttachedPolicies,
      ),
      this.listAll(
        calls.api.inlineNames,
        (marker) => calls.inlineNames(this.client, name, marker),
        (page) => page.PolicyNames,
      ),
    ]);
    if (!attached || !inlineNames) return undefined;
    const inline = await Promise.all(
      inlineNames.map(async (policyName) => {
        const got = await this.read(calls.api.inline, () => calls.inline(this.client, name, policyName));
        return got?.PolicyDocument
          ? {
              label: `inline policy ${policyName} of ${owner}`,
              arn: undefined,
              via,
              document: decodePolicyDocument(got.PolicyDocument),
            }
          : undefined;
      }),
    );
    return [...(await this.attached(attached, owner, via)), ...present(inline)];
  }

  private async groupPolicies(name: string): Promise<GroupPolicies | undefined> {
    const policies = await this.ownPolicies("group", name, name);
    return policies ? { name, policies } : undefined;
  }

  private async userPolicies(name: string): Promise<IamPolicySource[] | undefined> {
    const [own, groups] = await Promise.all([
      this.ownPolicies("user", name),
      this.listAll(
        "iam:ListGroupsForUser",
        (Marker) => this.client.send(new ListGroupsForUserCommand({ UserName: name, Marker })),
        (page) => page.Groups,
      ),
    ]);
    if (!own || !groups) return undefined;
    const groupPolicies = await Promise.all(
      groups.flatMap((g) => (g.GroupName ? [this.groupPolicies(g.GroupName)] : [])),
    );
    return [...own, ...present(groupPolicies).flatMap((g) => g.policies)];
  }

  async principal(kind: "role" | "user", name: string): Promise<IamPrincipalState | undefined> {
    if (kind === "role") {
      const got = await this.read("iam:GetRole", () =>
        this.client.send(new GetRoleCommand({ RoleName: name })),
      );
      const role = got?.Role;
      if (!role?.Arn) return undefined;
      const [policies, boundary] = await Promise.all([
        this.ownPolicies("role", name),
        this.boundaryOf(role.PermissionsBoundary, `role ${name}`),
      ]);
      if (!policies) return undefined;
      return { kind, name, arn: role.Arn, path: role.Path ?? "/", policies, boundary };
    }
    const got = await this.read("iam:GetUser", () =>
      this.client.send(new GetUserCommand({ UserName: name })),
    );
    const user = got?.User;
    if (!user?.Arn) return undefined;
    const [policies, boundary] = await Promise.all([
      this.userPolicies(name),
      this.boundaryOf(user.PermissionsBoundary, `user ${name}`),
    ]);
    if (!policies) return undefined;
    return { kind, name, arn: user.Arn, path: user.Path ?? "/", policies, boundary };
  }

  async groupMembers(groupName: string): Promise<readonly string[] | undefined> {
    return this.orMissing(() =>
      allPages(async (Marker) => {
        const page = await withRetry("iam:GetGroup", this.retry, () =>
          this.client.send(new GetGroupCommand({ GroupName: groupName, Marker })),
        );
        return {
          items: (page.Users ?? []).flatMap((u) => (u.UserName ? [u.UserName] : [])),
          next: page.IsTruncated ? page.Marker : undefined,
        };
      }),
    );
  }

  async policyEntities(policyArn: string): Promise<PolicyEntities | undefined> {
    const pages = await this.orMissing(() =>
      allPages(async (Marker) => {
        const page = await withRetry("iam:ListEntitiesForPolicy", this.retry, () =>
          this.client.send(new ListEntitiesForPolicyCommand({ PolicyArn: policyArn, Marker })),
        );
        return { items: [page], next: page.IsTruncated ? page.Marker : undefined };
      }),
    );
    if (!pages) return undefined;
    const names = <T>(items: (T[] | undefined)[], name: (item: T) => string | undefined) => [
      ...new Set(items.flatMap((list) => (list ?? []).flatMap((item) => name(item) ?? []))),
    ];
    return {
      roles: names(
        pages.map((p) => p.PolicyRoles),
        (r) => r.RoleName,
      ),
      users: names(
        pages.map((p) => p.PolicyUsers),
        (u) => u.UserName,
      ),
      groups: names(
        pages.map((p) => p.PolicyGroups),
        (g) => g.GroupName,
      ),
    };
  }

  /**
   * One page of roles and users from `GetAccountAuthorizationDetails`, with their inline documents as
   * the page carries them; attached managed policies and group policies are read through the same
   * calls as an event's principal (managed versions are remembered, so each is read once).
   */
  async principalPage(nextToken: string | undefined): Promise<PrincipalPage> {
    const page = await withRetry("iam:GetAccountAuthorizationDetails", this.retry, () =>
      this.client.send(
        new GetAccountAuthorizationDetailsCommand({
          Filter: ["Role", "User"],
          Marker: nextToken,
          MaxItems: PAGE_SIZE,
        }),
      ),
    );
    const groups = new Map<string, Promise<GroupPolicies | undefined>>();
    const groupOf = (name: string) => {
      let pending = groups.get(name);
      if (!pending) {
        pending = this.groupPolicies(name);
        groups.set(name, pending);
      }
      return pending;
    };
    const inline = (owner: string, list: { PolicyName?: string; PolicyDocument?: string }[] | undefined) =>
      (list ?? []).flatMap((p) =>
        p.PolicyDocument
          ? [
              {
                label: `inline policy ${p.PolicyName} of ${owner}`,
                arn: undefined,
                via: undefined,
                document: decodePolicyDocument(p.PolicyDocument),
              },
            ]
          : [],
      );
    const roles = (page.RoleDetailList ?? []).map(async (role): Promise<IamPrincipalState | undefined> => {
      if (!role.RoleName || !role.Arn) return undefined;
      const owner = `role ${role.RoleName}`;
      const [attached, boundary] = await Promise.all([
        this.attached(role.AttachedManagedPolicies ?? [], owner),
        this.boundaryOf(role.PermissionsBoundary, owner),
      ]);
      return {
        kind: "role",
        name: role.RoleName,
        arn: role.Arn,
        path: role.Path ?? "/",
        policies: [...attached, ...inline(owner, role.RolePolicyList)],
        boundary,
      };
    });
    const users = (page.UserDetailList ?? []).map(async (user): Promise<IamPrincipalState | undefined> => {
      if (!user.UserName || !user.Arn) return undefined;
      const owner = `user ${user.UserName}`;
      const [attached, boundary, groupPolicies] = await Promise.all([
        this.attached(user.AttachedManagedPolicies ?? [], owner),
        this.boundaryOf(user.PermissionsBoundary, owner),
        Promise.all((user.GroupList ?? []).map(groupOf)),
      ]);
      return {
        kind: "user",
        name: user.UserName,
        arn: user.Arn,
        path: user.Path ?? "/",
        policies: [
          ...attached,
          ...inline(owner, user.UserPolicyList),
          ...present(groupPolicies).flatMap((g) => g.policies),
        ],
        boundary,
      };
    });
    return {
      principals: present(await Promise.all([...roles, ...users])),
      nextToken: page.IsTruncated ? page.Marker : undefined,
    };
  }
}

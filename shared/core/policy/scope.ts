/** What a file-system policy is judged against, and the names the file-system layer needs. */
import type { FileSystemService } from "../types.ts";
import type { PolicyDocument } from "./document.ts";
import { SERVICE_ACTIONS } from "./service-actions.generated.ts";

/** What a policy is judged against: whose file system it guards and who is trusted. */
export interface PolicyScope {
  readonly service: FileSystemService;
  /** The file system's account (the change's account). */
  readonly ownerAccount: string | undefined;
  readonly partition: string;
  readonly region: string | undefined;
  readonly fileSystemId: string | undefined;
  /** Accounts besides the owner whose principals may be granted client access. */
  readonly trustedAccounts: readonly string[];
  /** Principal ARNs that may be granted `ClientRootAccess`. */
  readonly adminPrincipals: readonly string[];
}

export function prefixOf(service: FileSystemService): string {
  return SERVICE_ACTIONS[service].prefix;
}

/** The NFS client actions of a service: mount (read), write, root. */
export function clientActions(service: FileSystemService): readonly string[] {
  const prefix = prefixOf(service);
  return [`${prefix}:ClientMount`, `${prefix}:ClientWrite`, `${prefix}:ClientRootAccess`];
}

export function rootActionOf(service: FileSystemService): string {
  return `${prefixOf(service)}:ClientRootAccess`;
}

/** `arn:{partition}:{s3files|elasticfilesystem}:{region}:{account}:file-system/{id}`, when all are known. */
export function fileSystemArn(scope: PolicyScope): string | undefined {
  if (!scope.ownerAccount || !scope.region || !scope.fileSystemId) return undefined;
  return `arn:${scope.partition}:${prefixOf(scope.service)}:${scope.region}:${scope.ownerAccount}:file-system/${scope.fileSystemId}`;
}

/**
 * The file systems a scope may stand for, as a pattern whose wildcards never span a colon: the one
 * file system when everything is known, else any that fits what is.
 */
export function fileSystemPattern(scope: PolicyScope): string {
  return `arn:${scope.partition}:${prefixOf(scope.service)}:${scope.region ?? "?*"}:${scope.ownerAccount ?? "????????????"}:file-system/${scope.fileSystemId ?? "?*"}`;
}

/** The owner: the scope's account, else the one account the policy's file-system Resource ARNs name. */
export function ownerAccountOf(policy: PolicyDocument, scope: PolicyScope): string | undefined {
  if (scope.ownerAccount) return scope.ownerAccount;
  const accounts = new Set<string>();
  for (const statement of policy.statements)
    for (const resource of statement.resources ?? []) {
      const match = /^arn:[^:]+:(?:s3files|elasticfilesystem):[^:]*:(\d{12}):file-system\//.exec(resource);
      if (match) accounts.add(match[1] as string);
    }
  return accounts.size === 1 ? [...accounts][0] : undefined;
}

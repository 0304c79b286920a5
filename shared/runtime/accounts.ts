/**
 * Organization mode: which account's resources the pipeline reads and acts on. An event of the
 * central (home) account, or one that names no account, uses the function's own clients; an event
 * of a member account uses clients signed with the member role of that account, so every read,
 * revoke and read-back happens in the account the change was made in.
 */
import type { FileSystemService } from "../core/types.ts";
import type { PlanExecutor } from "./executor.ts";
import type { IdentityResources } from "./iam-ports.ts";
import type { BucketApi, FileSystemApi, SecurityGroupApi } from "./live-ports.ts";
import { BoundedCache, type MemberCredentials, type TemporaryCredentials } from "./member-credentials.ts";

/** Everything the pipeline needs to read and act in one account. */
export interface AccountResources {
  readonly ec2: SecurityGroupApi;
  readonly fileSystems: Readonly<Record<FileSystemService, FileSystemApi>>;
  readonly executor: PlanExecutor;
  /** The account's identity layer (IAM), when the runtime judges it. */
  readonly identity?: IdentityResources;
  /** The buckets behind the account's S3 Files file systems. */
  readonly buckets?: BucketApi;
}

export interface AccountResolver {
  /**
   * The resources of the account a change was made in. Throws when the account cannot be reached
   * (its member role cannot be assumed); `eventId` names the STS session opened for it.
   */
  resourcesFor(account: string | undefined, eventId: string): Promise<AccountResources>;
}

export interface AccountRouterOptions {
  /** The function's own account (the central account in organization mode). */
  readonly homeAccount: string | undefined;
  /** Resources built on the function's own credentials. */
  readonly home: AccountResources;
  readonly credentials: MemberCredentials;
  /** Builds one member account's adapters over clients signed by `credentials`. */
  readonly build: (account: string, credentials: () => Promise<TemporaryCredentials>) => AccountResources;
  /** Member accounts whose clients stay cached (least recently used dropped beyond it). */
  readonly maxAccounts: number;
}

export class AccountRouter implements AccountResolver {
  private readonly members: BoundedCache<string, AccountResources>;

  constructor(private readonly options: AccountRouterOptions) {
    this.members = new BoundedCache(options.maxAccounts);
  }

  async resourcesFor(account: string | undefined, eventId: string): Promise<AccountResources> {
    const { options } = this;
    if (!account || account === options.homeAccount) return options.home;
    // Assume first: a member that cannot be reached fails here, before anything is read, with an
    // error that says so, rather than as an opaque failure of the first EC2 or EFS call.
    await options.credentials.get(account, eventId);
    let resources = this.members.get(account);
    if (!resources) {
      resources = options.build(account, options.credentials.provider(account));
      this.members.set(account, resources);
    }
    return resources;
  }
}

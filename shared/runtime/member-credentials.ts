/**
 * Credentials of the member role in each organization account, for the SDK clients that read and
 * act there. One AssumeRole per account, cached and shared by every event of that account until
 * shortly before it expires: an event burst in one account costs one STS call, not one per event.
 *
 * A failure is never cached (the next event tries again) and is classified once, here:
 * throttling and 5xx are retried, then rethrown as retryable (the message goes back to the queue);
 * anything else (AccessDenied: the account is not enrolled, the role is missing or trusts another
 * principal) is a plain, non-retryable error that ends as a `failed` audit record.
 */
import { errorMessage, RemediatorError } from "../core/errors.ts";
import type { Clock } from "./ports.ts";
import { awsErrorName, type RetryPolicy, withRetry } from "./retry.ts";

/** What `AssumeRole` returns, in the shape SDK clients accept as `credentials`. */
/** How the error of a member role that cannot be assumed begins (an alarm counts these). */
export const MEMBER_ROLE_UNAVAILABLE = "cannot act in account";

export interface TemporaryCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
}

/** One `sts:AssumeRole` call (the STS adapter). */
export type AssumeRoleCall = (roleArn: string, sessionName: string) => Promise<TemporaryCredentials>;

/** Refreshed this long before they expire, so no call in flight carries credentials about to lapse. */
export const REFRESH_MARGIN_MS = 5 * 60_000;
/** Accounts whose credentials stay cached; the least recently used is dropped beyond it. */
export const MAX_CACHED_ACCOUNTS = 200;

const SESSION_PREFIX = "s3files-remediator";
/** `RoleSessionName`: 2 to 64 characters of `[\w+=,.@-]`. */
const SESSION_NAME_MAX = 64;

/**
 * The session name CloudTrail shows in the member account (`assumed-role/<role>/<session>`): it
 * names the remediator and the event that opened the session, so a revert can be traced back to
 * the audit record that caused it.
 */
export function sessionNameFor(label: string | undefined): string {
  const cleaned = (label ?? "").replace(/[^\w+=,.@-]/g, "-");
  const name = cleaned ? `${SESSION_PREFIX}@${cleaned}` : SESSION_PREFIX;
  return name.slice(0, SESSION_NAME_MAX);
}

/** A `Map` kept in least-recently-used order and bounded in size. */
export class BoundedCache<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(private readonly max: number) {}

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    // Re-insert: Map iteration order is insertion order, so the first key is the least recent.
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.max) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}

export interface MemberCredentialsOptions {
  readonly assumeRole: AssumeRoleCall;
  /** The member role's ARN in an account. */
  readonly roleArn: (account: string) => string;
  readonly clock: Clock;
  readonly retry: RetryPolicy;
  readonly refreshMarginMs?: number;
  readonly maxAccounts?: number;
}

interface Entry {
  credentials?: TemporaryCredentials;
  /** The AssumeRole in flight: concurrent callers of one account share it. */
  pending?: Promise<TemporaryCredentials>;
  /** The last event that needed the account: a refresh names it in its session. */
  label?: string;
}

export class MemberCredentials {
  private readonly cache: BoundedCache<string, Entry>;
  private readonly marginMs: number;

  constructor(private readonly options: MemberCredentialsOptions) {
    this.cache = new BoundedCache(options.maxAccounts ?? MAX_CACHED_ACCOUNTS);
    this.marginMs = options.refreshMarginMs ?? REFRESH_MARGIN_MS;
  }

  /**
   * Valid credentials for the account: the cached ones while more than the margin remains,
   * otherwise a fresh AssumeRole. `label` (the eventID) names the session when one is opened.
   */
  async get(account: string, label?: string): Promise<TemporaryCredentials> {
    const entry = this.cache.get(account) ?? {};
    if (label) entry.label = label;
    this.cache.set(account, entry);
    const current = entry.credentials;
    if (current && current.expiration.getTime() - this.options.clock.now().getTime() > this.marginMs) {
      return current;
    }
    if (!entry.pending) {
      entry.pending = this.assume(account, entry.label).then(
        (credentials) => {
          entry.credentials = credentials;
          entry.pending = undefined;
          return credentials;
        },
        (error: unknown) => {
          // Nothing is cached on failure: stale credentials must not outlive a failed refresh.
          entry.credentials = undefined;
          entry.pending = undefined;
          throw error;
        },
      );
    }
    return entry.pending;
  }

  /** An SDK `credentials` provider for the account's clients: the SDK calls it before each request. */
  provider(account: string): () => Promise<TemporaryCredentials> {
    return () => this.get(account);
  }

  private async assume(account: string, label: string | undefined): Promise<TemporaryCredentials> {
    const roleArn = this.options.roleArn(account);
    try {
      return await withRetry(`sts:AssumeRole ${roleArn}`, this.options.retry, () =>
        this.options.assumeRole(roleArn, sessionNameFor(label)),
      );
    } catch (error) {
      if (error instanceof RemediatorError && error.retryable) throw error;
      throw new RemediatorError(
        `${MEMBER_ROLE_UNAVAILABLE} ${account}: sts:AssumeRole on ${roleArn} failed ` +
          `(${awsErrorName(error)}: ${errorMessage(error)}). Is the account enrolled, with the member ` +
          "stack's remediation role trusting this function's role?",
        { retryable: false, cause: error },
      );
    }
  }
}

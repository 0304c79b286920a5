/**
 * The state table (key `pk` S / `sk` S) in DynamoDB: last known good policy per file system and
 * last known good settings per bucket (versioning, Block Public Access, policy),
 * known-good security-group set per mount target, which file systems a security group guards,
 * the reconcile cursor, what the reconcile sweep last notified per resource, and the eventIDs
 * already handled (a conditional write with a lease, so two deliveries of one event never both
 * act, and a crashed attempt does not block the redelivery forever), and what an attempt was
 * about to do for each eventID (its intent). Items that only serve deduplication carry
 * `expiresAt` (epoch seconds) for DynamoDB TTL.
 *
 * Each claim carries a random owner token. A claim whose answer was lost (the write happened, the
 * retry finds the item) is resolved by reading the item back: the token says it is ours. A claim
 * is given back by marking it `released` (never deleting it), so the next claim can tell it is
 * taking over from an earlier attempt.
 */
import { randomUUID } from "node:crypto";
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { KnownGoodBucket } from "../core/rules/rule.ts";
import type { FileSystemService, PublicAccessBlock } from "../core/types.ts";
import type {
  Claim,
  DecisionIntent,
  GuardedMountTarget,
  StateStore,
  StoredGuard,
  SweptService,
} from "../runtime/live-ports.ts";
import { awsErrorName, type RetryPolicy, withRetry } from "../runtime/retry.ts";

export interface DynamoDbStateOptions {
  readonly tableName: string;
  readonly retry: RetryPolicy;
  /** How long a handled eventID is remembered. */
  readonly dedupeTtlDays: number;
  /** How long a claim blocks other deliveries of the same event (an attempt that died frees it then). */
  readonly leaseSeconds?: number;
}

const DONE = "done";

/** `service#mountTargetId#fileSystemId`: one string per mount target, so a set can hold them. */
function mountTargetKey(target: GuardedMountTarget): string {
  return `${target.service}#${target.mountTargetId}#${target.fileSystemId}`;
}

function mountTargetOf(value: unknown): GuardedMountTarget[] {
  if (typeof value !== "string") return [];
  const [service, mountTargetId, fileSystemId] = value.split("#");
  if ((service !== "efs" && service !== "s3files") || !mountTargetId || !fileSystemId) return [];
  return [{ service, mountTargetId, fileSystemId }];
}
const IN_PROGRESS = "in-progress";
const RELEASED = "released";
/** An intent's JSON is kept well under DynamoDB's 400 KB item limit; a longer `before` is cut. */
const MAX_INTENT_BYTES = 300_000;

export class DynamoDbStateStore implements StateStore {
  private readonly table: string;
  /** The owner token of each claim this container holds. */
  private readonly owners = new Map<string, string>();

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly options: DynamoDbStateOptions,
  ) {
    this.table = options.tableName;
  }

  private async get(pk: string, sk: string): Promise<Record<string, unknown> | undefined> {
    const answer = await withRetry("dynamodb:GetItem", this.options.retry, () =>
      this.client.send(new GetCommand({ TableName: this.table, Key: { pk, sk }, ConsistentRead: true })),
    );
    return answer.Item;
  }

  private async put(item: Record<string, unknown>): Promise<void> {
    await withRetry("dynamodb:PutItem", this.options.retry, () =>
      this.client.send(new PutCommand({ TableName: this.table, Item: item })),
    );
  }

  async lastKnownGoodPolicy(service: FileSystemService, fileSystemId: string): Promise<string | undefined> {
    const item = await this.get(`fs#${service}#${fileSystemId}`, "known-good-policy");
    return typeof item?.policy === "string" ? item.policy : undefined;
  }

  async saveKnownGoodPolicy(service: FileSystemService, fileSystemId: string, policy: string, at: Date) {
    await this.put({
      pk: `fs#${service}#${fileSystemId}`,
      sk: "known-good-policy",
      policy,
      recordedAt: at.toISOString(),
    });
  }

  async knownGoodSecurityGroups(service: FileSystemService, mountTargetId: string) {
    const item = await this.get(`mt#${service}#${mountTargetId}`, "known-good-security-groups");
    return Array.isArray(item?.securityGroups) ? (item.securityGroups as string[]) : undefined;
  }

  async saveKnownGoodSecurityGroups(
    service: FileSystemService,
    mountTargetId: string,
    groups: readonly string[],
    at: Date,
  ) {
    await this.put({
      pk: `mt#${service}#${mountTargetId}`,
      sk: "known-good-security-groups",
      securityGroups: [...groups],
      recordedAt: at.toISOString(),
    });
  }

  async guards(groupIds: readonly string[]): Promise<ReadonlyMap<string, StoredGuard>> {
    const guards = new Map<string, StoredGuard>();
    const items = await Promise.all(groupIds.map((id) => this.get(`sg#${id}`, "guard")));
    items.forEach((item, index) => {
      const id = groupIds[index];
      if (!item || !id || !Array.isArray(item.fileSystemIds) || !Array.isArray(item.vpcCidrs)) return;
      // A dropped guard is stored empty (see replaceGuard): it guards nothing.
      if (item.fileSystemIds.length === 0) return;
      const mountTargets = Array.isArray(item.mountTargets)
        ? (item.mountTargets as unknown[]).flatMap(mountTargetOf)
        : undefined;
      guards.set(id, {
        fileSystemIds: item.fileSystemIds as string[],
        vpcCidrs: item.vpcCidrs as string[],
        ...(mountTargets ? { mountTargets } : {}),
      });
    });
    return guards;
  }

  async saveGuard(groupId: string, guard: StoredGuard, at: Date): Promise<void> {
    // One group may guard mount targets of several file systems: keep the union. A lost update
    // between two writers only drops a fact the next read of a mount target puts back.
    const item = await this.get(`sg#${groupId}`, "guard");
    const known = Array.isArray(item?.fileSystemIds) ? (item.fileSystemIds as string[]) : [];
    const knownTargets = Array.isArray(item?.mountTargets) ? (item.mountTargets as unknown[]) : [];
    await this.put({
      pk: `sg#${groupId}`,
      sk: "guard",
      fileSystemIds: [...new Set([...known, ...guard.fileSystemIds])].sort(),
      vpcCidrs: [...guard.vpcCidrs],
      mountTargets: [
        ...new Set([
          ...knownTargets.filter((t): t is string => typeof t === "string"),
          ...(guard.mountTargets ?? []).map(mountTargetKey),
        ]),
      ].sort(),
      recordedAt: at.toISOString(),
    });
  }

  async replaceGuard(groupId: string, guard: StoredGuard | undefined, at: Date): Promise<void> {
    await this.put({
      pk: `sg#${groupId}`,
      sk: "guard",
      fileSystemIds: guard ? [...new Set(guard.fileSystemIds)].sort() : [],
      vpcCidrs: guard ? [...guard.vpcCidrs] : [],
      mountTargets: guard ? (guard.mountTargets ?? []).map(mountTargetKey).sort() : [],
      recordedAt: at.toISOString(),
    });
  }

  async lastKnownGoodBucket(bucket: string): Promise<KnownGoodBucket | undefined> {
    const item = await this.get(`bucket#${bucket}`, "known-good-bucket");
    if (!item) return undefined;
    const block = item.publicAccessBlock;
    return {
      ...(typeof item.versioningStatus === "string" ? { versioningStatus: item.versioningStatus } : {}),
      // `none` is stored for a bucket known to have no configuration (DynamoDB keeps no null here).
      ...(block === "none"
        ? { publicAccessBlock: null }
        : typeof block === "object" && block !== null
          ? { publicAccessBlock: block as PublicAccessBlock }
          : {}),
      ...(item.policy === "none"
        ? { policyText: null }
        : typeof item.policy === "string"
          ? { policyText: item.policy }
          : {}),
    };
  }

  async saveKnownGoodBucket(bucket: string, settings: KnownGoodBucket, at: Date): Promise<void> {
    await this.put({
      pk: `bucket#${bucket}`,
      sk: "known-good-bucket",
      ...(settings.versioningStatus ? { versioningStatus: settings.versioningStatus } : {}),
      ...(settings.publicAccessBlock !== undefined
        ? { publicAccessBlock: settings.publicAccessBlock ?? "none" }
        : {}),
      // The policy is kept as the text S3 returned (a policy holds at most 20 KB).
      ...(settings.policyText !== undefined ? { policy: settings.policyText ?? "none" } : {}),
      recordedAt: at.toISOString(),
    });
  }

  private expiresAt(at: Date): number {
    return Math.floor(at.getTime() / 1000) + this.options.dedupeTtlDays * 86_400;
  }

  async claimEvent(eventId: string, at: Date): Promise<Claim> {
    const now = at.getTime();
    const owner = randomUUID();
    try {
      const answer = await withRetry("dynamodb:PutItem (claim)", this.options.retry, () =>
        this.client.send(
          new PutCommand({
            TableName: this.table,
            Item: {
              pk: `event#${eventId}`,
              sk: "dedupe",
              status: IN_PROGRESS,
              owner,
              leaseUntil: now + (this.options.leaseSeconds ?? 120) * 1000,
              expiresAt: this.expiresAt(at),
            },
            ConditionExpression:
              "attribute_not_exists(pk) OR #status = :released OR (#status = :inProgress AND leaseUntil < :now)",
            ExpressionAttributeNames: { "#status": "status" },
            ExpressionAttributeValues: { ":inProgress": IN_PROGRESS, ":released": RELEASED, ":now": now },
            // The item it replaced, if any: an earlier attempt held this event.
            ReturnValues: "ALL_OLD",
          }),
        ),
      );
      this.owners.set(eventId, owner);
      return answer.Attributes ? "reclaimed" : "claimed";
    } catch (error) {
      if (awsErrorName(error) !== "ConditionalCheckFailedException") throw error;
      const item = await this.get(`event#${eventId}`, "dedupe");
      if (item?.owner === owner) {
        // An earlier try of this very write succeeded and its answer was lost: the claim is ours,
        // and what it replaced is unknown, so take it as taken over from an earlier attempt.
        this.owners.set(eventId, owner);
        return "reclaimed";
      }
      return item?.status === DONE ? "done" : "in-progress";
    }
  }

  async completeEvent(eventId: string, summary: string, at: Date): Promise<void> {
    await this.put({
      pk: `event#${eventId}`,
      sk: "dedupe",
      status: DONE,
      summary,
      completedAt: at.toISOString(),
      expiresAt: this.expiresAt(at),
    });
    this.owners.delete(eventId);
  }

  async releaseEvent(eventId: string): Promise<void> {
    const owner = this.owners.get(eventId);
    this.owners.delete(eventId);
    if (!owner) return;
    const at = new Date();
    await withRetry("dynamodb:PutItem (release)", this.options.retry, () =>
      this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: `event#${eventId}`, sk: "dedupe", status: RELEASED, expiresAt: this.expiresAt(at) },
          // Only our own claim: after our lease ran out another attempt may hold it.
          ConditionExpression: "#status = :inProgress AND #owner = :owner",
          ExpressionAttributeNames: { "#status": "status", "#owner": "owner" },
          ExpressionAttributeValues: { ":inProgress": IN_PROGRESS, ":owner": owner },
        }),
      ),
    ).catch((error: unknown) => {
      if (awsErrorName(error) !== "ConditionalCheckFailedException") throw error;
    });
  }

  async saveIntent(eventId: string, intent: DecisionIntent): Promise<void> {
    let text = JSON.stringify(intent);
    if (Buffer.byteLength(text) > MAX_INTENT_BYTES) {
      text = JSON.stringify({
        ...intent,
        before: { truncated: true, note: "too large for the intent item" },
      });
    }
    const at = new Date(intent.at);
    await this.put({
      pk: `event#${eventId}`,
      sk: "intent",
      intent: text,
      expiresAt: this.expiresAt(Number.isNaN(at.getTime()) ? new Date() : at),
    });
  }

  async intent(eventId: string): Promise<DecisionIntent | undefined> {
    const item = await this.get(`event#${eventId}`, "intent");
    if (typeof item?.intent !== "string") return undefined;
    try {
      return JSON.parse(item.intent) as DecisionIntent;
    } catch {
      return undefined;
    }
  }

  /** The function's own account keeps the original key; each swept member account has its own. */
  private cursorKey(service: SweptService, account: string | undefined): string {
    return account ? `reconcile#${account}#${service}` : `reconcile#${service}`;
  }

  async reconcileCursor(service: SweptService, account?: string): Promise<string | undefined> {
    const item = await this.get(this.cursorKey(service, account), "cursor");
    return typeof item?.nextToken === "string" ? item.nextToken : undefined;
  }

  async saveReconcileCursor(
    service: SweptService,
    nextToken: string | undefined,
    at: Date,
    account?: string,
  ): Promise<void> {
    await this.put({
      pk: this.cursorKey(service, account),
      sk: "cursor",
      ...(nextToken ? { nextToken } : {}),
      recordedAt: at.toISOString(),
    });
  }

  async notifiedFingerprint(key: string): Promise<string | undefined> {
    const item = await this.get(`notified#${key}`, "fingerprint");
    return typeof item?.fingerprint === "string" ? item.fingerprint : undefined;
  }

  async saveNotifiedFingerprint(key: string, fingerprint: string | undefined, at: Date): Promise<void> {
    // Cleared by overwriting with an item that has no fingerprint: no DeleteItem grant needed.
    await this.put({
      pk: `notified#${key}`,
      sk: "fingerprint",
      ...(fingerprint ? { fingerprint } : {}),
      recordedAt: at.toISOString(),
    });
  }
}

/**
 * S3 bucket adapter (`@aws-sdk/client-s3`): reads the settings of the bucket behind an S3 Files file
 * system and runs the three writes the guardrail may make to it. "Not configured" is an answer:
 * `NoSuchBucketPolicy` is no policy, `NoSuchPublicAccessBlockConfiguration` no Block Public Access;
 * `NoSuchBucket` means the bucket is gone. Every call names the owner it expects
 * (`ExpectedBucketOwner`), so a bucket name that now belongs to someone else is never read or written.
 */
import {
  GetBucketAclCommand,
  GetBucketPolicyCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  PutBucketPolicyCommand,
  type PutBucketPolicyCommandInput,
  PutBucketVersioningCommand,
  type PutBucketVersioningCommandInput,
  PutPublicAccessBlockCommand,
  type PutPublicAccessBlockCommandInput,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { BucketAclGrant, BucketState, PublicAccessBlock } from "../core/types.ts";
import type { BucketApi, CallResult } from "../runtime/live-ports.ts";
import { awsErrorName, type RetryPolicy, withRetry } from "../runtime/retry.ts";
import { act } from "./aws-calls.ts";

const isNoSuchBucket = (error: unknown) => awsErrorName(error) === "NoSuchBucket";

/** Thrown inside a read when the bucket itself is gone, so the whole read answers `undefined`. */
class BucketGone extends Error {}

export class S3BucketAdapter implements BucketApi {
  readonly operations;

  constructor(
    private readonly client: S3Client,
    private readonly retry: RetryPolicy,
  ) {
    const write =
      (
        name: string,
        send: (params: Readonly<Record<string, unknown>>) => Promise<{ $metadata: { requestId?: string } }>,
      ) =>
      (params: Readonly<Record<string, unknown>>): Promise<CallResult> =>
        // A bucket deleted since it was judged has nothing left to fix.
        act(name, this.retry, () => send(params), isNoSuchBucket);
    this.operations = {
      "s3:PutBucketVersioning": write("s3:PutBucketVersioning", (params) =>
        this.client.send(
          new PutBucketVersioningCommand(params as unknown as PutBucketVersioningCommandInput),
        ),
      ),
      "s3:PutPublicAccessBlock": write("s3:PutPublicAccessBlock", (params) =>
        this.client.send(
          new PutPublicAccessBlockCommand(params as unknown as PutPublicAccessBlockCommandInput),
        ),
      ),
      "s3:PutBucketPolicy": write("s3:PutBucketPolicy", (params) =>
        this.client.send(new PutBucketPolicyCommand(params as unknown as PutBucketPolicyCommandInput)),
      ),
    };
  }

  /** One read; `missing` (the setting is not configured) answers `null`. */
  private async read<T>(
    name: string,
    missing: string | undefined,
    call: () => Promise<T>,
  ): Promise<T | null> {
    try {
      return await withRetry(name, this.retry, call);
    } catch (error) {
      const code = awsErrorName(error);
      if (code === "NoSuchBucket") throw new BucketGone(name);
      if (missing !== undefined && code === missing) return null;
      throw error;
    }
  }

  async readState(bucket: string, expectedOwner: string | undefined): Promise<BucketState | undefined> {
    const input = { Bucket: bucket, ...(expectedOwner ? { ExpectedBucketOwner: expectedOwner } : {}) };
    try {
      const [versioning, block, policy, acl] = await Promise.all([
        this.read("s3:GetBucketVersioning", undefined, () =>
          this.client.send(new GetBucketVersioningCommand(input)),
        ),
        this.read("s3:GetPublicAccessBlock", "NoSuchPublicAccessBlockConfiguration", () =>
          this.client.send(new GetPublicAccessBlockCommand(input)),
        ),
        this.read("s3:GetBucketPolicy", "NoSuchBucketPolicy", () =>
          this.client.send(new GetBucketPolicyCommand(input)),
        ),
        this.read("s3:GetBucketAcl", undefined, () => this.client.send(new GetBucketAclCommand(input))),
      ]);
      const config = block?.PublicAccessBlockConfiguration;
      const publicAccessBlock: PublicAccessBlock | null = config
        ? {
            // A setting S3 leaves out is off.
            blockPublicAcls: config.BlockPublicAcls === true,
            ignorePublicAcls: config.IgnorePublicAcls === true,
            blockPublicPolicy: config.BlockPublicPolicy === true,
            restrictPublicBuckets: config.RestrictPublicBuckets === true,
          }
        : null;
      const aclGrants: BucketAclGrant[] = (acl?.Grants ?? []).map((grant) => ({
        granteeType: grant.Grantee?.Type ?? "",
        grantee: grant.Grantee?.URI ?? grant.Grantee?.ID ?? grant.Grantee?.EmailAddress ?? "",
        permission: grant.Permission ?? "",
      }));
      return {
        versioning: {
          // A bucket that never had versioning answers no Status at all.
          status: versioning?.Status ?? "Unversioned",
          mfaDelete: versioning?.MFADelete === undefined ? undefined : versioning.MFADelete === "Enabled",
        },
        publicAccessBlock,
        policyText: policy?.Policy || null,
        aclGrants,
      };
    } catch (error) {
      if (error instanceof BucketGone) return undefined;
      throw error;
    }
  }
}

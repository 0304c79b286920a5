/**
 * The evidence: the audit ledger and the state table (DynamoDB, `pk`/`sk`), and the append-only
 * archive bucket (S3 Object Lock) for auditors who need records nobody can edit.
 */
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as s3 from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";

export interface AuditStoreProps {
  readonly key: kms.IKey;
  readonly archiveRetentionDays: number;
  readonly archiveLockMode: "GOVERNANCE" | "COMPLIANCE";
}

/** Attribute (epoch seconds) on which the state table expires deduplication records. */
export const STATE_TTL_ATTRIBUTE = "expiresAt";

export class AuditStore extends Construct {
  readonly auditTable: dynamodb.Table;
  readonly stateTable: dynamodb.Table;
  readonly archiveBucket: s3.Bucket;
  readonly accessLogBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: AuditStoreProps) {
    super(scope, id);
    // No fixed names: the tables keep deletion protection and are retained even when the first create
    // rolls back (CloudFormation cannot delete a protected table), so a fixed name would make every
    // later deploy fail with "already exists". The names are stack outputs and function settings.
    const table = (tableId: string, timeToLiveAttribute?: string) =>
      new dynamodb.Table(this, tableId, {
        partitionKey: { name: "pk", type: dynamodb.AttributeType.STRING },
        sortKey: { name: "sk", type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryptionKey: props.key,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        deletionProtection: true,
        removalPolicy: RemovalPolicy.RETAIN,
        timeToLiveAttribute,
      });
    this.auditTable = table("AuditTable");
    this.stateTable = table("StateTable", STATE_TTL_ATTRIBUTE);

    this.accessLogBucket = new s3.Bucket(this, "AccessLogBucket", {
      // S3 server access logging delivers only into SSE-S3 buckets.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {
          expiration: Duration.days(props.archiveRetentionDays),
          noncurrentVersionExpiration: Duration.days(30),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    const days = Duration.days(props.archiveRetentionDays);
    this.archiveBucket = new s3.Bucket(this, "ArchiveBucket", {
      objectLockEnabled: true,
      objectLockDefaultRetention:
        props.archiveLockMode === "COMPLIANCE"
          ? s3.ObjectLockRetention.compliance(days)
          : s3.ObjectLockRetention.governance(days),
      versioned: true,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: "archive/",
      // Evidence: kept on update and delete; an empty bucket from a failed first create is removed.
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
  }
}

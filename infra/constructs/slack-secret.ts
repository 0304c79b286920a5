/**
 * The grants for reading the Slack webhook secret, which may live in another region than the stack
 * and may be encrypted with a customer-managed key.
 *
 * A secret ARN given without its six-character random suffix (a partial ARN) is told apart from a
 * full one by nothing in its text (`…:secret:team/slack-hook12` may be either), so both readings are
 * granted: the ARN as given, and the ARN followed by `-` and six characters.
 */
import * as iam from "aws-cdk-lib/aws-iam";

/** The parts of a Secrets Manager secret ARN. */
export interface SecretArnParts {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  /** The name as given: possibly with the random suffix, possibly without. */
  readonly name: string;
}

export function parseSecretArn(arn: string): SecretArnParts {
  const match = /^arn:(aws[a-z-]*):secretsmanager:([a-z0-9-]+):(\d{12}):secret:(.+)$/.exec(arn);
  if (!match) throw new Error(`not a Secrets Manager secret ARN: ${arn}`);
  const [, partition = "", region = "", account = "", name = ""] = match;
  return { partition, region, account, name };
}

/** The ARNs that name the secret: as given, and as a partial ARN completed with its suffix. */
export function secretArnReadings(arn: string): string[] {
  return [arn, `${arn}-??????`];
}

export function slackSecretStatements(arn: string): iam.PolicyStatement[] {
  const secret = parseSecretArn(arn);
  return [
    new iam.PolicyStatement({
      sid: "ReadSlackWebhook",
      actions: ["secretsmanager:GetSecretValue"],
      resources: secretArnReadings(arn),
    }),
    new iam.PolicyStatement({
      sid: "DecryptSlackWebhookUnderACustomerKey",
      // Only through Secrets Manager in the secret's region, and only for this secret: Secrets
      // Manager puts the secret's full ARN in the encryption context of each data key.
      actions: ["kms:Decrypt"],
      resources: [`arn:${secret.partition}:kms:${secret.region}:${secret.account}:key/*`],
      conditions: {
        StringEquals: { "kms:ViaService": `secretsmanager.${secret.region}.amazonaws.com` },
        StringLike: { "kms:EncryptionContext:SecretARN": secretArnReadings(arn) },
      },
    }),
  ];
}

/** cdk-nag `appliesTo` entries for the two wildcards above. */
export function slackSecretWildcards(arn: string): string[] {
  const secret = parseSecretArn(arn);
  return [
    `Resource::${arn}-??????`,
    `Resource::arn:${secret.partition}:kms:${secret.region}:${secret.account}:key/*`,
  ];
}

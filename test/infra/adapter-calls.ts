/**
 * Every AWS call the adapters make, read from their source (`new XxxCommand(` of an `@aws-sdk/*`
 * client), as IAM actions. An adapter added later is walked the same way, with no list to update.
 */
import { readdirSync, readFileSync } from "node:fs";

/** The SDK package name (`client-efs`) → the IAM service prefix, where they differ. */
const SERVICE_BY_CLIENT: Record<string, string> = {
  "client-efs": "elasticfilesystem",
  "client-eventbridge": "events",
  "client-secrets-manager": "secretsmanager",
  "client-cloudwatch-logs": "logs",
};

/** Document-client commands and the item actions IAM authorises them as. */
const DYNAMODB_DOCUMENT_ACTIONS: Record<string, string[]> = {
  Get: ["dynamodb:GetItem"],
  Put: ["dynamodb:PutItem"],
  Delete: ["dynamodb:DeleteItem"],
  Update: ["dynamodb:UpdateItem"],
  // The ledger writes a record and its marker as two Puts in one transaction.
  TransactWrite: ["dynamodb:PutItem"],
  // Only `remediator audit` queries the ledger, with the operator's own credentials.
  Query: [],
};

/** SDK commands whose IAM action has another name (S3 user guide, "Required permissions"). */
const ACTION_OF_COMMAND: Record<string, string> = {
  "s3:GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
  "s3:PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
};

export interface AdapterCall {
  /** The adapter file (`ec2-security-groups.ts`). */
  readonly file: string;
  readonly action: string;
}

export function iamServiceOf(sdkPackage: string): string {
  return SERVICE_BY_CLIENT[sdkPackage] ?? sdkPackage.replace(/^client-/, "");
}

export function adapterCalls(): AdapterCall[] {
  const adaptersDir = new URL("../../shared/adapters/", import.meta.url);
  const calls: AdapterCall[] = [];
  for (const file of readdirSync(adaptersDir).filter((f) => f.endsWith(".ts"))) {
    const source = readFileSync(new URL(file, adaptersDir), "utf8");
    // The document client wins: a file may also import an error class from client-dynamodb.
    const client = source.includes('from "@aws-sdk/lib-dynamodb"')
      ? "lib-dynamodb"
      : /from "@aws-sdk\/(client-[a-z0-9-]+)"/.exec(source)?.[1];
    if (!client) continue;
    const commands = [...new Set([...source.matchAll(/new (\w+)Command\(/g)].map((m) => m[1] as string))];
    for (const command of commands) {
      const actions =
        client === "lib-dynamodb"
          ? (DYNAMODB_DOCUMENT_ACTIONS[command] ?? [`dynamodb:${command}?`])
          : [ACTION_OF_COMMAND[`${iamServiceOf(client)}:${command}`] ?? `${iamServiceOf(client)}:${command}`];
      for (const action of actions) calls.push({ file, action });
    }
  }
  return calls;
}

/**
 * The deny-baseline: the policy put on a file system whose policy was deleted when no last known
 * good policy is known. Without a policy, S3 Files leaves the decision to identity policies alone
 * and EFS lets any client that reaches a mount target mount, write and be root; the baseline
 * closes that: principals of the owner's account may mount and write (their identity policies still
 * apply), nobody outside it may do anything, nobody gets root through the policy, and for EFS every
 * request without TLS is denied.
 *
 * A configured baseline (`denyBaselinePolicy`) is a template with `{Partition}`, `{Region}`,
 * `{Account}` and `{FileSystemId}` placeholders.
 */
import type { FileSystemService } from "../types.ts";
import { prefixOf } from "./universe.ts";

/** The built-in baseline template for a service. */
export function builtInDenyBaseline(service: FileSystemService): string {
  let template = builtInTemplates.get(service);
  if (template === undefined) {
    template = denyBaselineTemplate(service);
    builtInTemplates.set(service, template);
  }
  return template;
}

const builtInTemplates = new Map<FileSystemService, string>();

function denyBaselineTemplate(service: FileSystemService): string {
  const prefix = prefixOf(service);
  const resource = `arn:{Partition}:${prefix}:{Region}:{Account}:file-system/{FileSystemId}`;
  const statements: Record<string, unknown>[] = [
    {
      Sid: "AllowOwnerAccountClientsMountAndWrite",
      Effect: "Allow",
      Principal: { AWS: "arn:{Partition}:iam::{Account}:root" },
      Action: [`${prefix}:ClientMount`, `${prefix}:ClientWrite`],
      Resource: resource,
    },
    {
      Sid: "DenyClientsOutsideOwnerAccount",
      Effect: "Deny",
      Principal: { AWS: "*" },
      Action: [`${prefix}:ClientMount`, `${prefix}:ClientWrite`, `${prefix}:ClientRootAccess`],
      Resource: resource,
      Condition: { StringNotEquals: { "aws:PrincipalAccount": "{Account}" } },
    },
  ];
  if (service === "efs") {
    statements.push({
      Sid: "DenyInsecureTransport",
      Effect: "Deny",
      Principal: { AWS: "*" },
      Action: "*",
      Resource: resource,
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    });
  }
  return JSON.stringify({
    Version: "2012-10-17",
    Id: "s3files-remediator-deny-baseline",
    Statement: statements,
  });
}

export interface BaselinePlaceholders {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly fileSystemId: string;
}

/** Substitutes the placeholders of a baseline template. */
export function renderBaseline(template: string, values: BaselinePlaceholders): string {
  return template
    .replaceAll("{Partition}", values.partition)
    .replaceAll("{Region}", values.region)
    .replaceAll("{Account}", values.account)
    .replaceAll("{FileSystemId}", values.fileSystemId);
}

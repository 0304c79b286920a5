/**
 * The deny-baseline: the policy put on a file system whose policy was deleted when no last known
 * good policy is known. Without a policy, S3 Files leaves the decision to identity policies alone
 * and EFS lets any client that reaches a mount target mount, write and be root; the baseline
 * closes that: principals of the owner's account may mount and write (named in the Principal
 * element, which AWS evaluates for every request; their identity policies still apply), nobody
 * outside it is allowed anything (with a policy in place, a request it does not allow is refused
 * to anonymous clients and other accounts alike), nobody gets root through the policy, and for EFS
 * every request without TLS is denied (`aws:SecureTransport`, a key the EFS guide lists as
 * enforced for NFS clients). It relies on no other condition key. Clients that mount without IAM
 * (anonymous) lose access: they are no principal of the owner's account.
 *
 * A configured baseline (`denyBaselinePolicy`) is a template with `{Partition}`, `{Region}`,
 * `{Account}` and `{FileSystemId}` placeholders.
 */
import type { FileSystemService } from "../types.ts";
import { prefixOf } from "./scope.ts";

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

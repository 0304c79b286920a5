/**
 * The guardrail's own customer-managed policy: the one thing `enforce` attaches to a principal found
 * with root on file systems. It denies the two root actions everywhere and nothing else, so mounting,
 * reading and writing go on; the customer's own policies are never edited or detached. Undo: detach it.
 */

/** Its name in every account (the stack and the member template create it; the runtime builds its ARN). */
export function denyPolicyName(stackName: string): string {
  return `${stackName}-deny-file-system-root`;
}

export const DENY_ROOT_POLICY_DOCUMENT = {
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "DenyRootOnFileSystems",
      Effect: "Deny",
      Action: ["s3files:ClientRootAccess", "elasticfilesystem:ClientRootAccess"],
      Resource: "*",
    },
  ],
} as const;

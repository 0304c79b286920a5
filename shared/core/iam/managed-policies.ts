/**
 * AWS managed policies known to give root on file systems, and what to use instead (AWS managed-policy
 * reference): a cheap, exact finding when one of them is attached, without reading its document.
 */

export interface RootGrantingManagedPolicy {
  readonly name: string;
  /** Which root actions it allows, and how. */
  readonly grants: string;
  /** What to attach instead. */
  readonly replacement: string;
}

const POLICIES: readonly RootGrantingManagedPolicy[] = [
  {
    name: "AmazonS3FilesClientFullAccess",
    grants: "s3files:ClientMount, ClientWrite and ClientRootAccess on every file system",
    replacement: "AmazonS3FilesClientReadWriteAccess (the same without ClientRootAccess)",
  },
  {
    name: "AmazonS3FilesFullAccess",
    grants: "s3files:*, which includes s3files:ClientRootAccess, on every file system",
    replacement:
      "AmazonS3FilesClientReadWriteAccess for clients that mount; for people who manage file systems, a policy of the management actions only",
  },
  {
    name: "AmazonElasticFileSystemClientFullAccess",
    grants: "elasticfilesystem:ClientMount, ClientWrite and ClientRootAccess on every file system",
    replacement: "AmazonElasticFileSystemClientReadWriteAccess (the same without ClientRootAccess)",
  },
  {
    name: "AdministratorAccess",
    grants: "every action, s3files:ClientRootAccess and elasticfilesystem:ClientRootAccess included",
    replacement:
      "a job-scoped policy; where administrators must stay, list them in adminPrincipals, and mount with AmazonS3FilesClientReadWriteAccess / AmazonElasticFileSystemClientReadWriteAccess",
  },
  {
    name: "PowerUserAccess",
    grants:
      "every action outside IAM, Organizations and Account (NotAction), both ClientRootAccess actions included",
    replacement:
      "a job-scoped policy, or PowerUserAccess together with a policy that denies s3files:ClientRootAccess and elasticfilesystem:ClientRootAccess",
  },
];

const BY_NAME = new Map(POLICIES.map((policy) => [policy.name, policy]));

/** AWS managed policies live under the account `aws`: `arn:aws:iam::aws:policy/[path/]Name`. */
const AWS_MANAGED_ARN = /^arn:aws[a-z-]*:iam::aws:policy\/(?:.*\/)?([^/]+)$/;

/** The known root-granting AWS managed policy this ARN names, if it is one. */
export function rootGrantingManagedPolicy(
  policyArn: string | undefined,
): RootGrantingManagedPolicy | undefined {
  const name = policyArn ? AWS_MANAGED_ARN.exec(policyArn)?.[1] : undefined;
  return name ? BY_NAME.get(name) : undefined;
}

export const ROOT_GRANTING_MANAGED_POLICIES = POLICIES;

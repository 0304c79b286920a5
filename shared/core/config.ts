/**
 * The one validated configuration of the engine. It is plain data: where it comes from (a file,
 * the environment, CLI flags, stack parameters) is the caller's business; `parseConfig` is the
 * single gate. Unknown keys are an error, never silently ignored: a misspelt `exemptoins` must not
 * leave a team believing an exemption is in force.
 */
import { z } from "zod";
import { ConfigError } from "./errors.ts";
import type { RuleMode } from "./types.ts";

const ACCOUNT_ID = /^\d{12}$/;
const ARN = /^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12})?:.+$/;
/** Like ARN, but the account may be `*`: one role name deployed in every member account. */
const ROLE_ARN_PATTERN = /^arn:aws[a-z-]*:(iam|sts)::(\d{12}|\*):(role|assumed-role)\/.+$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/;

const ruleModeSchema = z.enum(["enforce", "notify", "off"]);

const exemptionSchema = z
  .strictObject({
    /** A resource id (`sg-…`, `fs-…`, `fsap-…`) or ARN. */
    resource: z.string().min(1).optional(),
    account: z.string().regex(ACCOUNT_ID, "must be a 12-digit account id").optional(),
    /** Limit the exemption to some rules; all rules when absent. */
    rules: z.array(z.string().min(1)).min(1).optional(),
    reason: z.string().trim().min(1, "an exemption needs a reason"),
    owner: z.string().trim().min(1, "an exemption needs an owner"),
    /** Last day the exemption applies (UTC), or an exact ISO timestamp. */
    expires: z.string().regex(ISO_DATE, "must be an ISO date such as 2026-12-31"),
  })
  .refine((e) => (e.resource === undefined) !== (e.account === undefined), {
    message: "an exemption names exactly one of `resource` or `account`",
  });

export const configSchema = z.strictObject({
  /** TCP/UDP ports that must never be reachable from the internet. All traffic always counts. */
  sensitivePorts: z.array(z.number().int().min(0).max(65535)).default([2049, 111, 22, 3389, 445]),
  /** Per-rule mode; rules not listed run in their default mode. */
  rules: z.record(z.string(), ruleModeSchema).default({}),
  /** The remediator's own role ARNs: changes they make are recorded and never acted on. */
  selfRoleArns: z
    .array(z.string().regex(ROLE_ARN_PATTERN, "must be a role ARN (the account may be `*`)"))
    .default([]),
  exemptions: z.array(exemptionSchema).default([]),
  /** Accounts besides the resource owner whose principals may be granted client access. */
  trustedAccounts: z.array(z.string().regex(ACCOUNT_ID, "must be a 12-digit account id")).default([]),
  /** Principals (ARNs) that may be granted `ClientRootAccess`. Empty: every root grant is a violation. */
  adminPrincipals: z.array(z.string().regex(ARN, "must be an ARN")).default([]),
  /**
   * Applied when a file-system policy is deleted and no last known good policy is known.
   * `{Partition}`, `{Region}`, `{Account}` and `{FileSystemId}` are substituted.
   */
  denyBaselinePolicy: z.string().min(2).optional(),
  /**
   * Roles of the compute that reads a file system's bucket directly (`s3:GetObject`,
   * `s3:GetObjectVersion`): a bucket-policy Deny that blocks them is reported. Empty: the direct
   * read path is not judged, and the finding notes say so.
   */
  computeRoleArns: z
    .array(z.string().regex(ROLE_ARN_PATTERN, "must be a role ARN (the account may be `*`)"))
    .default([]),
});

export type ConfigInput = z.input<typeof configSchema>;
export type Config = Readonly<z.output<typeof configSchema>>;
export type Exemption = Config["exemptions"][number];

export function formatZodIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "(root)"}: ${issue.message}`)
    .join("; ");
}

/**
 * Validates a configuration document. `knownRuleIds` guards `rules` and exemption rule lists
 * against typos.
 */
export function parseConfig(input: unknown, knownRuleIds: readonly string[]): Config {
  const result = configSchema.safeParse(input ?? {});
  if (!result.success) throw new ConfigError(`invalid configuration: ${formatZodIssues(result.error)}`);
  const config = result.data;
  const known = new Set(knownRuleIds);
  const unknownIds: string[] = [];
  for (const id of Object.keys(config.rules)) if (!known.has(id)) unknownIds.push(`rules.${id}`);
  config.exemptions.forEach((exemption, index) => {
    for (const id of exemption.rules ?? [])
      if (!known.has(id)) unknownIds.push(`exemptions.${index}.rules: ${id}`);
  });
  if (unknownIds.length > 0) {
    throw new ConfigError(
      `invalid configuration: unknown rule id (${unknownIds.join(", ")}); known rules: ${knownRuleIds.join(", ")}`,
    );
  }
  return Object.freeze(config);
}

export function ruleModeOf(config: Config, ruleId: string, defaultMode: RuleMode): RuleMode {
  return config.rules[ruleId] ?? defaultMode;
}

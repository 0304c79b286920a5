/**
 * The runtime's settings: the one module that reads `process.env` for the Lambda functions and the
 * demo. Every variable is trimmed, validated and typed at start; the result is frozen. A mistake
 * fails the cold start with one clear message naming every offending variable, rather than a
 * half-configured guardrail that silently does nothing.
 *
 * The SDK's own variables (`AWS_REGION`, `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`, …) are not
 * read here: the SDK clients resolve them themselves and nothing in the runtime overrides them.
 */
import { z } from "zod";
import type { Config } from "../core/config.ts";
import { formatZodIssues } from "../core/config.ts";
import { ConfigError, errorMessage } from "../core/errors.ts";
import { loadConfig } from "../io/load-config.ts";
import type { RemediationMode } from "./ports.ts";

const TABLE_NAME = /^[a-zA-Z0-9_.-]{3,255}$/;
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;
const EVENT_BUS = /^(arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/)?[A-Za-z0-9/._-]{1,256}$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/;
/** A general purpose bucket name: 3–63 lower-case letters, digits, dots and hyphens. */
const BUCKET_NAME = /^(?!xn--|sthree-|amzn-s3-demo-)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]{1,128}$/;
/** An IAM role name (no path): what the member template names the remediation role. */
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

const text = z.string().trim();
const positiveInt = (fallback: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(1).max(max))
    .optional()
    .transform((value) => value ?? fallback);
const flag = z
  .enum(["true", "false", "1", "0", ""])
  .optional()
  .transform((value) => value === "true" || value === "1");

const envSchema = z.object({
  AUDIT_TABLE_NAME: text.regex(TABLE_NAME, "must be a DynamoDB table name"),
  STATE_TABLE_NAME: text.regex(TABLE_NAME, "must be a DynamoDB table name"),
  NOTIFY_TOPIC_ARN: text.regex(SNS_TOPIC_ARN, "must be an SNS topic ARN"),
  EVENT_BUS_NAME: text.regex(EVENT_BUS, "must be an EventBridge bus name or ARN"),
  REMEDIATION_MODE: text.pipe(z.enum(["enforce", "notify", "dry-run", "off"])),
  SELF_ROLE_ARNS: text.min(1, "must name at least one role ARN (the loop guard)"),
  /** The engine configuration document (JSON): rule modes, exemptions, sensitive ports, … */
  REMEDIATOR_CONFIG: z.string().optional(),
  /** Tag whose presence on a resource exempts it (value: `reason=…;expires=YYYY-MM-DD[;owner=…]`). */
  EXEMPT_TAG_KEY: text
    .min(1)
    .max(128)
    .optional()
    .transform((v) => v || "remediator:exempt"),
  /** Secrets Manager secret holding the Slack incoming-webhook URL; Slack is off without it. */
  SLACK_WEBHOOK_SECRET_ARN: text.regex(SECRET_ARN, "must be a Secrets Manager secret ARN").optional(),
  /** Also report each decision as a Security Hub finding. */
  SECURITY_HUB_ENABLED: flag,
  /** Also write each new audit record as JSON to this (Object Lock) bucket; off without it. */
  AUDIT_ARCHIVE_BUCKET: text.regex(BUCKET_NAME, "must be an S3 bucket name").optional(),
  /** The archive bucket's KMS key, named on every object; the bucket's default encryption without it. */
  AUDIT_ARCHIVE_KMS_KEY_ARN: text.regex(KMS_KEY_ARN, "must be a KMS key ARN").optional(),
  /** Attempts per AWS call on throttling, 5xx and timeouts (the first included). */
  RETRY_MAX_ATTEMPTS: positiveInt(4, 10),
  /** First back-off delay; doubled each attempt, with full jitter, capped at `RETRY_MAX_DELAY_MS`. */
  RETRY_BASE_DELAY_MS: positiveInt(100, 10_000),
  /** Longest single back-off between two attempts of one call. */
  RETRY_MAX_DELAY_MS: positiveInt(5_000, 60_000),
  /** How many file systems (per service) one reconcile run sweeps before handing over to the next. */
  RECONCILE_MAX_FILE_SYSTEMS: positiveInt(50, 10_000),
  /** How long an eventID stays remembered for deduplication. */
  DEDUPE_TTL_DAYS: positiveInt(14, 365),
  /**
   * Organization mode: the remediation role every member account has (the member template's
   * `memberRoleName`). With it, a change of another account is read and reverted there, with that
   * role assumed; the role is also one of the own roles of the loop guard, in every account.
   */
  MEMBER_ROLE_NAME: text.regex(ROLE_NAME, "must be an IAM role name (no path)").optional(),
  /**
   * Organization mode: member accounts the `reconcile` sweep covers after its own (comma-separated
   * 12-digit ids). Events are handled for any member account; this list only widens the sweep.
   */
  MEMBER_ACCOUNT_IDS: text
    .regex(/^\d{12}(\s*,\s*\d{12})*$/, "must be comma-separated 12-digit account ids")
    .optional(),
});

/** Every setting of the runtime, validated. */
export interface Settings {
  readonly auditTableName: string;
  readonly stateTableName: string;
  readonly notifyTopicArn: string;
  readonly eventBusName: string;
  readonly mode: RemediationMode;
  readonly selfRoleArns: readonly string[];
  /** The engine configuration, with `SELF_ROLE_ARNS` merged into `selfRoleArns`. */
  readonly config: Config;
  readonly exemptTagKey: string;
  readonly slackWebhookSecretArn: string | undefined;
  readonly securityHubEnabled: boolean;
  /** The audit archive bucket; `undefined` writes no archive copy. */
  readonly auditArchiveBucket: string | undefined;
  readonly auditArchiveKmsKeyArn: string | undefined;
  /**
   * The retry budget of every AWS call the runtime makes (one layer: the SDK clients make one
   * attempt each). Worst case per call: `maxAttempts` attempts and `maxAttempts - 1` back-offs of at
   * most `maxDelayMs` each.
   */
  readonly retry: { readonly maxAttempts: number; readonly baseDelayMs: number; readonly maxDelayMs: number };
  readonly reconcileMaxFileSystems: number;
  readonly dedupeTtlDays: number;
  /** Organization mode: the member role's name; `undefined` acts with the function's credentials only. */
  readonly memberRoleName: string | undefined;
  /** Member accounts the reconcile sweep covers (never the home account; empty without org mode). */
  readonly memberAccountIds: readonly string[];
  /**
   * The function's own account (the central account), from `NOTIFY_TOPIC_ARN`: the stack creates
   * the topic beside the function. Its changes never need a member role.
   */
  readonly homeAccount: string;
  /** The partition of that account (`aws`, `aws-cn`, `aws-us-gov`), for the member role ARNs. */
  readonly partition: string;
}

/** The member role in one account. */
export function memberRoleArn(
  settings: Pick<Settings, "partition">,
  roleName: string,
  account: string,
): string {
  return `arn:${settings.partition}:iam::${account}:role/${roleName}`;
}

/** Reads and validates the runtime settings. Throws one `ConfigError` naming every problem. */
export function loadSettings(env: Readonly<Record<string, string | undefined>> = process.env): Settings {
  const known = Object.fromEntries(
    Object.keys(envSchema.shape).map((key) => [key, env[key] === "" ? undefined : env[key]]),
  );
  const parsed = envSchema.safeParse(known);
  if (!parsed.success) {
    throw new ConfigError(`invalid environment: ${formatZodIssues(parsed.error)}`);
  }
  const e = parsed.data;
  if (e.MEMBER_ACCOUNT_IDS && !e.MEMBER_ROLE_NAME) {
    throw new ConfigError(
      "invalid environment: MEMBER_ACCOUNT_IDS: needs MEMBER_ROLE_NAME (the role the sweep assumes in them)",
    );
  }
  const [, partition = "aws", , , homeAccount = ""] = e.NOTIFY_TOPIC_ARN.split(":");
  // Loop guard: the member role acts in every member account; its changes are the remediator's own.
  const memberPattern = e.MEMBER_ROLE_NAME
    ? memberRoleArn({ partition }, e.MEMBER_ROLE_NAME, "*")
    : undefined;
  const given = e.SELF_ROLE_ARNS.split(",").map((arn) => arn.trim());
  let config: Config;
  try {
    config = loadConfig({
      env: { REMEDIATOR_CONFIG: e.REMEDIATOR_CONFIG, SELF_ROLE_ARNS: e.SELF_ROLE_ARNS },
      selfRoleArns: memberPattern && !given.includes(memberPattern) ? [memberPattern] : [],
    });
  } catch (error) {
    throw new ConfigError(`invalid environment: ${errorMessage(error)}`);
  }
  return Object.freeze({
    auditTableName: e.AUDIT_TABLE_NAME,
    stateTableName: e.STATE_TABLE_NAME,
    notifyTopicArn: e.NOTIFY_TOPIC_ARN,
    eventBusName: e.EVENT_BUS_NAME,
    mode: e.REMEDIATION_MODE,
    selfRoleArns: config.selfRoleArns,
    config,
    exemptTagKey: e.EXEMPT_TAG_KEY,
    slackWebhookSecretArn: e.SLACK_WEBHOOK_SECRET_ARN,
    securityHubEnabled: e.SECURITY_HUB_ENABLED,
    auditArchiveBucket: e.AUDIT_ARCHIVE_BUCKET,
    auditArchiveKmsKeyArn: e.AUDIT_ARCHIVE_KMS_KEY_ARN,
    retry: Object.freeze({
      maxAttempts: e.RETRY_MAX_ATTEMPTS,
      baseDelayMs: e.RETRY_BASE_DELAY_MS,
      maxDelayMs: Math.max(e.RETRY_MAX_DELAY_MS, e.RETRY_BASE_DELAY_MS),
    }),
    reconcileMaxFileSystems: e.RECONCILE_MAX_FILE_SYSTEMS,
    dedupeTtlDays: e.DEDUPE_TTL_DAYS,
    memberRoleName: e.MEMBER_ROLE_NAME,
    memberAccountIds: Object.freeze([
      ...new Set(
        (e.MEMBER_ACCOUNT_IDS ?? "")
          .split(",")
          .map((id) => id.trim())
          .filter((id) => id && id !== homeAccount),
      ),
    ]),
    homeAccount,
    partition,
  });
}

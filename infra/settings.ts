/**
 * The deployment settings: CDK context (`cdk.json`, or `-c key=value` on the command line),
 * validated once at synth time. A bad value stops the synth with a message that names the key,
 * never a half-deployed guardrail. Values given with `-c` arrive as strings: JSON values
 * (`-c sensitivePorts=[2049,22]`, `-c securityHub=true`) are parsed before validation.
 *
 * The engine part (ports, rule modes, exemptions, trusted accounts, admin principals) is checked
 * by the engine's own `parseConfig`, so the stack can never deploy a configuration the functions
 * would reject at start.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { type ConfigInput, formatZodIssues, parseConfig } from "../shared/core/config.ts";
import { errorMessage } from "../shared/core/errors.ts";
import { RULE_IDS } from "../shared/core/rules/index.ts";

/** Every context key the app reads; anything else under these names is a typo worth stopping on. */
export const SETTING_KEYS = [
  "name",
  "mode",
  "configFile",
  "sensitivePorts",
  "rules",
  "exemptions",
  "trustedAccounts",
  "adminPrincipals",
  "denyBaselinePolicy",
  "exemptTagKey",
  "notificationEmail",
  "slackSecretArn",
  "securityHub",
  "archiveRetentionDays",
  "archiveLockMode",
  "logRetentionDays",
  "reconcileEveryMinutes",
  "remediateConcurrency",
  "reserveConcurrency",
  "organizationId",
  "centralAccount",
  "centralRegions",
  "memberRoleName",
  "reconcileMemberAccounts",
] as const;

export type SettingKey = (typeof SETTING_KEYS)[number];

/** Log retention values CloudWatch Logs accepts. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** The reconcile function's timeout (see `RECONCILE_TIMEOUT` in the stack). */
export const RECONCILE_TIMEOUT_MINUTES = 15;

const ACCOUNT_ID = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

const settingsSchema = z.strictObject({
  /** Prefix of every named resource (roles, rules, buses, tables). */
  name: z
    .string()
    .regex(/^[a-z][a-z0-9-]{2,30}$/, "must be 3-31 characters: lower-case letters, digits and hyphens")
    .refine((n) => !n.startsWith("do-not-delete"), "must not look like a service-managed rule name")
    .default("s3files-remediator"),
  /** The global switch (`REMEDIATION_MODE`). */
  mode: z.enum(["enforce", "notify", "dry-run", "off"]).default("notify"),
  /** A JSON configuration document (the same file `remediator evaluate --config` reads). */
  configFile: z.string().min(1).optional(),
  sensitivePorts: z.array(z.number().int().min(0).max(65535)).optional(),
  rules: z.record(z.string(), z.enum(["enforce", "notify", "off"])).optional(),
  exemptions: z.array(z.unknown()).optional(),
  trustedAccounts: z.array(z.string()).optional(),
  adminPrincipals: z.array(z.string()).optional(),
  denyBaselinePolicy: z.string().min(2).optional(),
  /** Tag whose presence exempts a resource (the runtime's default: `remediator:exempt`). */
  exemptTagKey: z.string().trim().min(1).max(128).optional(),
  notificationEmail: z.email("must be an e-mail address").optional(),
  slackSecretArn: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/,
      "must be a Secrets Manager secret ARN",
    )
    .optional(),
  securityHub: z.boolean().default(false),
  /** Object Lock default retention of the audit archive. At least one year: it is evidence. */
  archiveRetentionDays: z
    .number()
    .int()
    .min(365, "must be at least 365 days: audit evidence is kept for at least a year")
    .max(36500)
    .default(365),
  /** GOVERNANCE can be lifted by a principal with s3:BypassGovernanceRetention; COMPLIANCE by nobody. */
  archiveLockMode: z.enum(["GOVERNANCE", "COMPLIANCE"]).default("GOVERNANCE"),
  logRetentionDays: z
    .number()
    .int()
    .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
      message: `must be one of ${LOG_RETENTION_DAYS.join(", ")}`,
    })
    .default(365),
  reconcileEveryMinutes: z.number().int().min(5).max(1440).default(60),
  /**
   * How many `remediate` invocations may run at once: the queue trigger's `MaximumConcurrency`
   * (Lambda accepts 2 to 1000). It bounds the burst of AWS calls a flood of events causes.
   */
  remediateConcurrency: z.number().int().min(2).max(1000).default(2),
  /**
   * Opt-in: also reserve that concurrency for `remediate` (and 1 for `reconcile`). Off by default:
   * Lambda keeps 100 executions unreserved, so a reservation fails the deploy in any account whose
   * concurrency quota is below 100 plus the reservation (new accounts start at 10 or 50).
   */
  reserveConcurrency: z.boolean().default(false),
  /** Organization mode: the organization whose accounts may send events and be remediated. */
  organizationId: z
    .string()
    .regex(/^o-[a-z0-9]{10,32}$/, "must be an organization id such as o-a1b2c3d4e5")
    .optional(),
  /** Organization mode, member template: the account that runs the central stack. */
  centralAccount: z.string().regex(ACCOUNT_ID, "must be a 12-digit account id").optional(),
  /** Organization mode, member template: the regions with a central stack (one role per region). */
  centralRegions: z
    .array(z.string().regex(REGION, "must be a region name such as eu-west-1"))
    .min(1)
    .optional(),
  memberRoleName: z
    .string()
    .regex(/^[\w+=,.@-]{1,64}$/, "must be a valid IAM role name")
    .optional(),
  /**
   * Organization mode: member accounts the central `reconcile` sweep also covers (through their
   * member role). Events are handled for every member account whatever this says.
   */
  reconcileMemberAccounts: z
    .array(z.string().regex(ACCOUNT_ID, "must be a 12-digit account id"))
    .max(100)
    .optional(),
});

export type SettingsInput = z.input<typeof settingsSchema>;

/** The validated settings, with the engine configuration document the functions will read. */
export interface Settings {
  readonly name: string;
  readonly mode: "enforce" | "notify" | "dry-run" | "off";
  readonly notificationEmail: string | undefined;
  readonly exemptTagKey: string | undefined;
  readonly slackSecretArn: string | undefined;
  readonly securityHub: boolean;
  readonly archiveRetentionDays: number;
  readonly archiveLockMode: "GOVERNANCE" | "COMPLIANCE";
  readonly logRetentionDays: number;
  readonly reconcileEveryMinutes: number;
  readonly remediateConcurrency: number;
  readonly reserveConcurrency: boolean;
  /** `REMEDIATOR_CONFIG`: the engine document, already validated by the engine's `parseConfig`. */
  readonly configDocument: string;
  readonly organization:
    | {
        readonly organizationId: string;
        readonly memberRoleName: string;
        /** Known when the member template is synthesized. */
        readonly centralAccount: string | undefined;
        readonly centralRegions: readonly string[];
        /** Member accounts the reconcile sweep covers (`MEMBER_ACCOUNT_IDS`); may be empty. */
        readonly reconcileMemberAccounts: readonly string[];
      }
    | undefined;
}

/** A setting that cannot be deployed. The message names every offending key. */
export class SettingsError extends Error {
  override readonly name = "SettingsError";
}

/** Lambda refuses environments over 4 KB; keep room for the other variables. */
const MAX_CONFIG_DOCUMENT_BYTES = 3000;

/** Settings whose values are JSON (arrays, objects, numbers, booleans), not plain strings. */
const JSON_VALUED: ReadonlySet<SettingKey> = new Set<SettingKey>([
  "sensitivePorts",
  "rules",
  "exemptions",
  "trustedAccounts",
  "adminPrincipals",
  "securityHub",
  "archiveRetentionDays",
  "logRetentionDays",
  "reconcileEveryMinutes",
  "remediateConcurrency",
  "reserveConcurrency",
  "centralRegions",
  "reconcileMemberAccounts",
]);

/** `-c key=value` gives strings: read the JSON-valued ones as JSON. */
function fromContext(key: SettingKey, value: unknown): unknown {
  if (key === "denyBaselinePolicy" && typeof value === "object" && value !== null)
    return JSON.stringify(value);
  if (typeof value !== "string" || !JSON_VALUED.has(key)) return value;
  try {
    return JSON.parse(value);
  } catch (error) {
    throw new SettingsError(`${key}: ${JSON.stringify(value)} is not valid JSON (${errorMessage(error)})`);
  }
}

function readConfigFile(path: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new SettingsError(`configFile ${path}: ${errorMessage(error)}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new SettingsError(`configFile ${path}: expected a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

/**
 * Validates the settings read through `get` (the app's `tryGetContext`). Throws `SettingsError`
 * with every problem at once.
 */
export function parseSettings(get: (key: SettingKey) => unknown): Settings {
  const raw: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    const value = fromContext(key, get(key));
    if (value !== undefined && value !== null && value !== "") raw[key] = value;
  }
  const result = settingsSchema.safeParse(raw);
  if (!result.success) {
    throw new SettingsError(`invalid deployment settings (CDK context): ${formatZodIssues(result.error)}`);
  }
  const s = result.data;

  const document: Record<string, unknown> = s.configFile ? readConfigFile(s.configFile) : {};
  const overrides: Partial<ConfigInput> = {
    sensitivePorts: s.sensitivePorts,
    rules: s.rules,
    exemptions: s.exemptions as ConfigInput["exemptions"],
    trustedAccounts: s.trustedAccounts,
    adminPrincipals: s.adminPrincipals,
    denyBaselinePolicy: s.denyBaselinePolicy,
  };
  for (const [key, value] of Object.entries(overrides)) if (value !== undefined) document[key] = value;
  try {
    parseConfig(document, RULE_IDS);
  } catch (error) {
    throw new SettingsError(`invalid engine settings (CDK context or configFile): ${errorMessage(error)}`);
  }
  const configDocument = JSON.stringify(document);
  if (Buffer.byteLength(configDocument) > MAX_CONFIG_DOCUMENT_BYTES) {
    throw new SettingsError(
      `the engine configuration is ${Buffer.byteLength(configDocument)} bytes; Lambda environments are limited ` +
        `to 4 KB, keep it under ${MAX_CONFIG_DOCUMENT_BYTES} bytes (fewer exemptions, or exempt by account)`,
    );
  }

  // The sweep's member list shares the reconcile function's 4 KB environment with the document.
  const memberListBytes = (s.reconcileMemberAccounts ?? []).length * 13;
  if (Buffer.byteLength(configDocument) + memberListBytes > MAX_CONFIG_DOCUMENT_BYTES) {
    throw new SettingsError(
      `reconcileMemberAccounts: ${s.reconcileMemberAccounts?.length} accounts and the engine configuration do not ` +
        `fit the reconcile function's 4 KB environment (keep both under ${MAX_CONFIG_DOCUMENT_BYTES} bytes)`,
    );
  }

  // Without a reservation of 1, nothing stops a sweep from starting while the last one still runs;
  // a sweep stops before the function's 15-minute timeout, so a schedule of 15 minutes never overlaps.
  if (!s.reserveConcurrency && s.reconcileEveryMinutes < RECONCILE_TIMEOUT_MINUTES) {
    throw new SettingsError(
      `reconcileEveryMinutes: ${s.reconcileEveryMinutes} is shorter than a sweep may run (${RECONCILE_TIMEOUT_MINUTES} ` +
        "minutes); sweeps would overlap. Use at least 15, or -c reserveConcurrency=true (one sweep at a time)",
    );
  }

  const orgOnly = (
    ["centralAccount", "centralRegions", "memberRoleName", "reconcileMemberAccounts"] as const
  ).filter((key) => s[key] !== undefined);
  if (!s.organizationId && orgOnly.length > 0) {
    throw new SettingsError(`${orgOnly.join(", ")}: only meaningful with organizationId (organization mode)`);
  }

  return Object.freeze({
    name: s.name,
    mode: s.mode,
    notificationEmail: s.notificationEmail,
    exemptTagKey: s.exemptTagKey,
    slackSecretArn: s.slackSecretArn,
    securityHub: s.securityHub,
    archiveRetentionDays: s.archiveRetentionDays,
    archiveLockMode: s.archiveLockMode,
    logRetentionDays: s.logRetentionDays,
    reconcileEveryMinutes: s.reconcileEveryMinutes,
    remediateConcurrency: s.remediateConcurrency,
    reserveConcurrency: s.reserveConcurrency,
    configDocument,
    organization: s.organizationId
      ? {
          organizationId: s.organizationId,
          memberRoleName: s.memberRoleName ?? `${s.name}-member`,
          centralAccount: s.centralAccount,
          centralRegions: s.centralRegions ?? [],
          reconcileMemberAccounts: [...new Set(s.reconcileMemberAccounts ?? [])],
        }
      : undefined,
  });
}

/** Throws unless the organization settings the member template needs are all there. */
export function memberTemplateSettings(settings: Settings): {
  organizationId: string;
  memberRoleName: string;
  centralAccount: string;
  centralRegions: readonly string[];
} {
  const org = settings.organization;
  if (!org?.centralAccount || org.centralRegions.length === 0) {
    throw new SettingsError(
      "the member template needs organizationId, centralAccount and centralRegions " +
        "(for example -c organizationId=o-a1b2c3d4e5 -c centralAccount=111122223333 -c centralRegions='[\"eu-west-1\"]')",
    );
  }
  return {
    organizationId: org.organizationId,
    memberRoleName: org.memberRoleName,
    centralAccount: org.centralAccount,
    centralRegions: org.centralRegions,
  };
}

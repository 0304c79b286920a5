/**
 * Builds the engine configuration from a JSON file and the environment. The one place that reads
 * `process.env` for engine settings; the result is validated and frozen.
 */
import { readFileSync } from "node:fs";
import { type Config, parseConfig } from "../core/config.ts";
import { ConfigError, errorMessage } from "../core/errors.ts";
import { RULE_IDS } from "../core/rules/index.ts";

export interface ConfigSources {
  /** Path of a JSON configuration document. */
  readonly file?: string | undefined;
  /** Extra own-role ARNs (CLI `--self-role`), added to the document's. */
  readonly selfRoleArns?: readonly string[];
  /**
   * `REMEDIATOR_CONFIG` (a JSON document, used when no file is given) and `SELF_ROLE_ARNS`
   * (comma-separated, added to the document's).
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${where} is not valid JSON: ${errorMessage(error)}`);
  }
}

export function loadConfig(sources: ConfigSources = {}): Config {
  const env = sources.env ?? {};
  let document: unknown = {};
  if (sources.file) {
    let text: string;
    try {
      text = readFileSync(sources.file, "utf8");
    } catch (error) {
      throw new ConfigError(`cannot read configuration file ${sources.file}: ${errorMessage(error)}`);
    }
    document = parseJson(text, `configuration file ${sources.file}`);
  } else if (env.REMEDIATOR_CONFIG?.trim()) {
    document = parseJson(env.REMEDIATOR_CONFIG, "REMEDIATOR_CONFIG");
  }
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    throw new ConfigError("invalid configuration: expected a JSON object");
  }
  const fromEnv = (env.SELF_ROLE_ARNS ?? "")
    .split(",")
    .map((arn) => arn.trim())
    .filter((arn) => arn.length > 0);
  const extra = [...fromEnv, ...(sources.selfRoleArns ?? [])];
  const withRoles =
    extra.length > 0
      ? {
          ...document,
          selfRoleArns: [
            ...(((document as Record<string, unknown>).selfRoleArns as string[] | undefined) ?? []),
            ...extra,
          ],
        }
      : document;
  return parseConfig(withRoles, RULE_IDS);
}

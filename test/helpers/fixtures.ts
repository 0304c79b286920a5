/** Loads CloudTrail fixtures from test/fixtures/cloudtrail (sources in SOURCES.md there). */
import { readFileSync } from "node:fs";
import { type Config, type ConfigInput, parseConfig } from "../../shared/core/config.ts";
import { RULE_IDS } from "../../shared/core/rules/index.ts";

const FIXTURES = new URL("../fixtures/cloudtrail/", import.meta.url);

export function loadFixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), "utf8")) as Record<string, unknown>;
}

export function fixturePath(name: string): string {
  return new URL(name, FIXTURES).pathname;
}

/** A validated configuration with the given overrides. */
export function testConfig(overrides: ConfigInput = {}): Config {
  return parseConfig(overrides, RULE_IDS);
}

/** A deep copy of a fixture with `edit` applied: for variations of a real record. */
export function variantOf(
  name: string,
  edit: (record: Record<string, any>) => void,
): Record<string, unknown> {
  const record = structuredClone(loadFixture(name));
  edit(record);
  return record;
}

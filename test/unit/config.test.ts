import { describe, expect, it } from "vitest";
import { ConfigError } from "../../shared/core/errors.ts";
import { loadConfig } from "../../shared/io/load-config.ts";
import { testConfig } from "../helpers/fixtures.ts";

describe("configuration", () => {
  it("has safe defaults", () => {
    const config = testConfig();
    expect(config.sensitivePorts).toEqual([2049, 111, 22, 3389, 445]);
    expect(config.selfRoleArns).toEqual([]);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each([
    [{ exemptoins: [] }, /Unrecognized key.*exemptoins/i],
    [{ rules: { "no-such-rule": "enforce" } }, /unknown rule id \(rules.no-such-rule\)/],
    [
      { rules: { "sg-ingress-internet-sensitive-port": "sometimes" } },
      /rules.sg-ingress-internet-sensitive-port/,
    ],
    [{ sensitivePorts: [70000] }, /sensitivePorts.0/],
    [{ selfRoleArns: ["my-role"] }, /selfRoleArns.0: must be a role ARN/],
    [
      { exemptions: [{ resource: "sg-1", reason: "x", owner: "y", expires: "soon" }] },
      /exemptions.0.expires/,
    ],
    [{ exemptions: [{ resource: "sg-1", reason: "", owner: "y", expires: "2027-01-01" }] }, /needs a reason/],
    [
      {
        exemptions: [
          { resource: "sg-1", account: "111122223333", reason: "r", owner: "o", expires: "2027-01-01" },
        ],
      },
      /exactly one of/,
    ],
    [
      { exemptions: [{ resource: "sg-1", reason: "r", owner: "o", expires: "2027-01-01", extra: 1 }] },
      /extra/,
    ],
  ])("rejects %j", (input, message) => {
    expect(() => testConfig(input as never)).toThrow(ConfigError);
    expect(() => testConfig(input as never)).toThrow(message);
  });

  it("reads REMEDIATOR_CONFIG and adds SELF_ROLE_ARNS and CLI roles", () => {
    const config = loadConfig({
      env: {
        REMEDIATOR_CONFIG: JSON.stringify({ selfRoleArns: ["arn:aws:iam::111122223333:role/a"] }),
        SELF_ROLE_ARNS: " arn:aws:iam::111122223333:role/b , ",
      },
      selfRoleArns: ["arn:aws:iam::*:role/c"],
    });
    expect(config.selfRoleArns).toEqual([
      "arn:aws:iam::111122223333:role/a",
      "arn:aws:iam::111122223333:role/b",
      "arn:aws:iam::*:role/c",
    ]);
  });

  it("names a file that cannot be read or parsed", () => {
    expect(() => loadConfig({ file: "/nonexistent/config.json" })).toThrow(/cannot read configuration file/);
    expect(() => loadConfig({ env: { REMEDIATOR_CONFIG: "{not json" } })).toThrow(
      /REMEDIATOR_CONFIG is not valid JSON/,
    );
  });
});

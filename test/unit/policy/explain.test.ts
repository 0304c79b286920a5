/**
 * `explainPolicy`: each grant names the statements that allow it, the conditions that limit each
 * of them, and an example request the evaluator allows. Synthetic policies.
 */
import { describe, expect, it } from "vitest";
import { analyzePolicy } from "../../../shared/core/policy/analysis.ts";
import { evaluatePolicy, explainPolicy, witnessRequest } from "../../../shared/core/policy/index.ts";
import { allow, deny, policy, scope } from "../../helpers/policies.ts";

const MOUNT = "s3files:ClientMount";

describe("explainPolicy", () => {
  it("a grant limited by aws:SourceIp or aws:PrincipalOrgID says so, never 'always'", () => {
    const doc = policy(
      { ...allow("*", MOUNT, { IpAddress: { "aws:SourceIp": "10.0.0.0/8" } }), Sid: "Vpc" },
      { ...allow("*", MOUNT, { StringEquals: { "aws:PrincipalOrgID": "o-a1b2c3d4e5" } }), Sid: "Org" },
    );
    const mount = explainPolicy(doc, scope()).actions[0];
    const restricted = mount?.grants.find((g) => g.accessClass === "restricted");
    const organization = mount?.grants.find((g) => g.accessClass === "organization");
    expect(restricted?.when).toEqual(['statement "Vpc": IpAddress aws:SourceIp 10.0.0.0/8']);
    // Org members may also come through the address-limited statement: both are listed, each with its limit.
    expect(organization?.when).toEqual([
      'statement "Vpc": IpAddress aws:SourceIp 10.0.0.0/8',
      'statement "Org": StringEquals aws:PrincipalOrgID o-a1b2c3d4e5',
    ]);
    expect(mount?.grants.some((g) => g.accessClass === "public")).toBe(false);
    expect(restricted?.example).toMatch(/aws:sourceip=10\./);
  });

  it("names the Deny that takes access back, and from whom", () => {
    const doc = policy(allow("*", MOUNT), {
      ...deny("*", MOUNT, { Bool: { "aws:SecureTransport": "false" } }),
      Sid: "Tls",
    });
    const mount = explainPolicy(doc, scope()).actions[0];
    expect(mount?.takenBack.map((t) => t.statement)).toEqual(['statement "Tls"']);
    expect(mount?.takenBack[0]?.from).toContain("public");
  });

  it("every grant's witness is a request the evaluator allows", () => {
    const doc = policy(
      allow("*", [MOUNT, "s3files:ClientWrite"], { StringLike: { "aws:SourceVpc": "vpc-*" } }),
      allow({ AWS: "arn:aws:iam::444455556666:role/reader" }, MOUNT),
      deny("*", "s3files:ClientWrite", { StringEquals: { "aws:SourceVpc": "vpc-1" } }),
    );
    const analysis = analyzePolicy(doc, scope(), {
      classes: ["public", "cross-account", "owner", "aws-service"],
    });
    expect(analysis.grants.length).toBeGreaterThan(3);
    for (const grant of analysis.grants)
      expect(evaluatePolicy(doc, witnessRequest(grant.witness)).decision).toBe("allowed");
  });
});

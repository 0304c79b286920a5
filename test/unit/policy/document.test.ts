import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../shared/core/errors.ts";
import { parseOperator } from "../../../shared/core/policy/document.ts";
import { MAX_POLICY_CHARS, parsePolicy } from "../../../shared/core/policy/index.ts";
import { allow, policyText, S3FS_ARN } from "../../helpers/policies.ts";

function parseError(text: string): string {
  try {
    parsePolicy(text);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return (error as Error).message;
  }
  throw new Error("expected an InvalidInputError");
}

describe("parsePolicy", () => {
  it("normalises string-or-array fields and principal forms", () => {
    // Prepare
    const text = JSON.stringify({
      Version: "2012-10-17",
      Statement: {
        Sid: "One",
        Effect: "Allow",
        Principal: { AWS: "111122223333", Service: ["elasticfilesystem.amazonaws.com"] },
        Action: "s3files:ClientMount",
        Resource: S3FS_ARN,
        Condition: { "ForAnyValue:StringLikeIfExists": { "aws:PrincipalOrgPaths": "o-1/*", n: 5, b: true } },
      },
    });
    // Act
    const doc = parsePolicy(text);
    // Assess
    const [statement] = doc.statements;
    expect(statement?.principals).toEqual([
      { type: "AWS", value: "111122223333" },
      { type: "Service", value: "elasticfilesystem.amazonaws.com" },
    ]);
    expect(statement?.actions).toEqual(["s3files:ClientMount"]);
    expect(statement?.resources).toEqual([S3FS_ARN]);
    expect(statement?.conditions.map((c) => [c.base, c.set, c.ifExists, c.keyLower, c.values])).toEqual([
      ["StringLike", "any", true, "aws:principalorgpaths", ["o-1/*"]],
      ["StringLike", "any", true, "n", ["5"]],
      ["StringLike", "any", true, "b", ["true"]],
    ]);
  });

  it('reads "*" as {"AWS": "*"}', () => {
    expect(parsePolicy(policyText(allow("*", "s3files:*"))).statements[0]?.principals).toEqual([
      { type: "AWS", value: "*" },
    ]);
  });

  it("splits operators into base, IfExists and set qualifier", () => {
    expect(parseOperator("ForAllValues:StringNotEqualsIgnoreCaseIfExists")).toEqual({
      base: "StringNotEqualsIgnoreCase",
      ifExists: true,
      set: "all",
    });
    expect(parseOperator("NullIfExists")).toBeUndefined();
    expect(parseOperator("StringSortOf")).toBeUndefined();
  });

  it.each([
    [
      "truncated JSON",
      policyText(allow("*", "s3files:ClientMount")).slice(0, 60),
      /not valid JSON \(malformed or truncated\)/,
    ],
    ["not an object", "[1,2]", /must be a JSON object/],
    ["no statement", '{"Version":"2012-10-17"}', /Statement: missing/],
    ["empty statement list", '{"Statement":[]}', /at least one statement/],
    ["bad effect", policyText({ ...allow("*", "s3files:ClientMount"), Effect: "allow" }), /Effect/],
    [
      "no principal",
      policyText({ Effect: "Allow", Action: "s3files:ClientMount" }),
      /needs Principal or NotPrincipal/,
    ],
    [
      "both Action and NotAction",
      policyText({ ...allow("*", "s3files:ClientMount"), NotAction: "x:y" }),
      /both Action and NotAction/,
    ],
    [
      "unknown operator",
      policyText(allow("*", "s3files:ClientMount", { StringSortOf: { k: "v" } })),
      /unknown condition operator/,
    ],
    [
      "unknown principal type",
      policyText(allow({ Users: "x" }, "s3files:ClientMount")),
      /unknown principal type/,
    ],
    ["bad version", '{"Version":"2020-01-01","Statement":[]}', /Version/],
  ])("rejects %s with a plain message", (_name, text, message) => {
    expect(parseError(text)).toMatch(message);
  });

  it("rejects a policy longer than 20,000 characters, as PutFileSystemPolicy does", () => {
    const big = policyText({ ...allow("*", "s3files:ClientMount"), Sid: "x".repeat(MAX_POLICY_CHARS) });
    expect(parseError(big)).toMatch(/more than the 20000/);
  });
});

// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables are written ${key}
import { describe, expect, it } from "vitest";
import {
  evaluatePolicy,
  principalContext,
  type RequestPrincipal,
} from "../../../shared/core/policy/index.ts";
import { allow, deny, OWNER, PARTNER, policy, S3FS_ARN } from "../../helpers/policies.ts";

const ROLE: RequestPrincipal = { kind: "aws", arn: `arn:aws:iam::${PARTNER}:role/app`, account: PARTNER };
const SESSION: RequestPrincipal = {
  kind: "aws",
  arn: `arn:aws:sts::${PARTNER}:assumed-role/app/s1`,
  account: PARTNER,
  roleArn: `arn:aws:iam::${PARTNER}:role/app`,
};
const ANONYMOUS: RequestPrincipal = { kind: "anonymous" };

function decide(
  doc: ReturnType<typeof policy>,
  principal: RequestPrincipal,
  context: Record<string, string | string[]> = {},
  action = "s3files:ClientMount",
) {
  return evaluatePolicy(doc, {
    principal,
    action,
    resource: S3FS_ARN,
    context: principalContext(principal, Object.entries(context)),
  }).decision;
}

describe("evaluatePolicy", () => {
  it("an explicit Deny wins over any Allow", () => {
    const doc = policy(allow("*", "s3files:*"), deny({ AWS: PARTNER }, "s3files:ClientMount"));
    expect(decide(doc, ROLE)).toBe("explicit-deny");
    expect(decide(doc, ROLE, {}, "s3files:ClientWrite")).toBe("allowed");
  });

  it("a request no statement allows is implicitly denied", () => {
    expect(decide(policy(allow({ AWS: OWNER }, "s3files:ClientMount")), ROLE)).toBe("implicit-deny");
  });

  it("matches principals: account id, account root, role (and its sessions), wildcard (anonymous too)", () => {
    expect(decide(policy(allow({ AWS: PARTNER }, "s3files:ClientMount")), SESSION)).toBe("allowed");
    expect(decide(policy(allow({ AWS: `arn:aws:iam::${PARTNER}:root` }, "s3files:ClientMount")), ROLE)).toBe(
      "allowed",
    );
    expect(
      decide(policy(allow({ AWS: `arn:aws:iam::${PARTNER}:role/app` }, "s3files:ClientMount")), SESSION),
    ).toBe("allowed");
    expect(
      decide(policy(allow({ AWS: `arn:aws:iam::${PARTNER}:role/app` }, "s3files:ClientMount")), ANONYMOUS),
    ).toBe("implicit-deny");
    expect(decide(policy(allow("*", "s3files:ClientMount")), ANONYMOUS)).toBe("allowed");
    expect(decide(policy(allow({ AWS: "*" }, "s3files:ClientMount")), ANONYMOUS)).toBe("allowed");
  });

  it("NotPrincipal applies to everyone it does not name", () => {
    const doc = policy({
      Effect: "Allow",
      NotPrincipal: { AWS: `arn:aws:iam::${PARTNER}:role/app` },
      Action: "s3files:*",
      Resource: S3FS_ARN,
    });
    expect(decide(doc, ROLE)).toBe("implicit-deny");
    expect(decide(doc, ANONYMOUS)).toBe("allowed");
  });

  it("matches actions case-insensitively with wildcards, and NotAction", () => {
    expect(decide(policy(allow("*", "S3FILES:client*")), ROLE)).toBe("allowed");
    expect(decide(policy(allow("*", "s3files:Client?ount")), ROLE)).toBe("allowed");
    expect(decide(policy(allow("*", "elasticfilesystem:*")), ROLE)).toBe("implicit-deny");
    const notAction = policy({
      Effect: "Allow",
      Principal: "*",
      NotAction: "s3files:ClientRootAccess",
      Resource: S3FS_ARN,
    });
    expect(decide(notAction, ROLE, {}, "s3files:ClientRootAccess")).toBe("implicit-deny");
    expect(decide(notAction, ROLE, {}, "s3files:ClientWrite")).toBe("allowed");
  });

  it("matches resources part by part: a wildcard in the region never spans a colon", () => {
    const other = {
      ...allow("*", "s3files:ClientMount"),
      Resource: "arn:aws:s3files:*:111122223333:file-system/fs-9",
    };
    expect(decide(policy(other), ROLE)).toBe("implicit-deny");
    const any = { ...allow("*", "s3files:ClientMount"), Resource: "arn:aws:s3files:*:*:file-system/*" };
    expect(decide(policy(any), ROLE)).toBe("allowed");
  });

  describe("conditions", () => {
    const vpc = (operator: string, value: unknown) =>
      policy(allow("*", "s3files:ClientMount", { [operator]: { "aws:SourceVpc": value } }));

    it("values of one key are ORed, keys and operators are ANDed", () => {
      const doc = policy(
        allow("*", "s3files:ClientMount", {
          StringEquals: { "aws:SourceVpc": ["vpc-1", "vpc-2"], "aws:SourceVpce": "vpce-1" },
        }),
      );
      expect(decide(doc, ROLE, { "aws:SourceVpc": "vpc-2", "aws:SourceVpce": "vpce-1" })).toBe("allowed");
      expect(decide(doc, ROLE, { "aws:SourceVpc": "vpc-2" })).toBe("implicit-deny");
    });

    it("a missing key makes a positive operator false and a negated one true; IfExists makes it true", () => {
      expect(decide(vpc("StringEquals", "vpc-1"), ROLE)).toBe("implicit-deny");
      expect(decide(vpc("StringNotEquals", "vpc-1"), ROLE)).toBe("allowed");
      expect(decide(vpc("StringEqualsIfExists", "vpc-1"), ROLE)).toBe("allowed");
      expect(decide(vpc("StringEqualsIfExists", "vpc-1"), ROLE, { "aws:SourceVpc": "vpc-2" })).toBe(
        "implicit-deny",
      );
    });

    it("a negated operator matches when the value equals none of the values", () => {
      expect(decide(vpc("StringNotEquals", ["vpc-1", "vpc-2"]), ROLE, { "aws:SourceVpc": "vpc-2" })).toBe(
        "implicit-deny",
      );
      expect(decide(vpc("StringNotLike", "vpc-*"), ROLE, { "aws:SourceVpc": "vpc-9" })).toBe("implicit-deny");
    });

    it("ForAnyValue and ForAllValues over multivalued keys, including the missing-key cases", () => {
      const any = policy(
        allow("*", "s3files:ClientMount", {
          "ForAnyValue:StringLike": { "aws:PrincipalOrgPaths": "o-1/r-1/ou-a/*" },
        }),
      );
      const all = policy(
        allow("*", "s3files:ClientMount", {
          "ForAllValues:StringLike": { "aws:PrincipalOrgPaths": "o-1/r-1/ou-a/*" },
        }),
      );
      const paths = ["o-1/r-1/ou-a/ou-b/", "o-1/r-1/ou-z/"];
      expect(decide(any, ROLE, { "aws:PrincipalOrgPaths": paths })).toBe("allowed");
      expect(decide(all, ROLE, { "aws:PrincipalOrgPaths": paths })).toBe("implicit-deny");
      expect(decide(any, ROLE)).toBe("implicit-deny");
      expect(decide(all, ROLE)).toBe("allowed");
    });

    it("Null tests presence", () => {
      const doc = policy(allow("*", "s3files:ClientMount", { Null: { "aws:SourceVpc": "true" } }));
      expect(decide(doc, ROLE)).toBe("allowed");
      expect(decide(doc, ROLE, { "aws:SourceVpc": "vpc-1" })).toBe("implicit-deny");
    });

    it("IpAddress and NotIpAddress compare addresses with CIDRs (IPv4 and IPv6)", () => {
      const doc = policy(
        allow("*", "s3files:ClientMount", {
          IpAddress: { "aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"] },
        }),
      );
      expect(decide(doc, ROLE, { "aws:SourceIp": "203.0.113.7" })).toBe("allowed");
      expect(decide(doc, ROLE, { "aws:SourceIp": "2001:db8::1" })).toBe("allowed");
      expect(decide(doc, ROLE, { "aws:SourceIp": "198.51.100.7" })).toBe("implicit-deny");
    });

    it("Bool, Numeric and Date operators", () => {
      expect(
        decide(policy(allow("*", "s3files:ClientMount", { Bool: { "aws:SecureTransport": "true" } })), ROLE, {
          "aws:SecureTransport": "TRUE",
        }),
      ).toBe("allowed");
      expect(
        decide(policy(allow("*", "s3files:ClientMount", { NumericLessThan: { "s3files:n": 5 } })), ROLE, {
          "s3files:n": "4",
        }),
      ).toBe("allowed");
      expect(
        decide(
          policy(
            allow("*", "s3files:ClientMount", {
              DateGreaterThan: { "aws:CurrentTime": "2026-01-01T00:00:00Z" },
            }),
          ),
          ROLE,
          { "aws:CurrentTime": "2026-11-22T12:00:00Z" },
        ),
      ).toBe("allowed");
    });

    it("ArnLike matches each ARN part on its own", () => {
      const doc = policy(
        allow("*", "s3files:ClientMount", { ArnLike: { "aws:PrincipalArn": "arn:aws:iam::*:role/app" } }),
      );
      expect(decide(doc, SESSION)).toBe("allowed");
      expect(decide(doc, { kind: "aws", arn: `arn:aws:iam::${PARTNER}:role/other`, account: PARTNER })).toBe(
        "implicit-deny",
      );
    });

    it("substitutes policy variables in version 2012-10-17 only", () => {
      const statement = allow("*", "s3files:ClientMount", {
        StringEquals: { "aws:SourceAccount": "${aws:PrincipalAccount}" },
      });
      expect(decide(policy(statement), ROLE, { "aws:SourceAccount": PARTNER })).toBe("allowed");
      const old = { ...JSON.parse(JSON.stringify({ Version: "2008-10-17", Statement: [statement] })) };
      const literal = evaluatePolicy(
        { ...policy(statement), version: old.Version },
        {
          principal: ROLE,
          action: "s3files:ClientMount",
          resource: S3FS_ARN,
          context: principalContext(ROLE, [["aws:SourceAccount", PARTNER]]),
        },
      );
      expect(literal.decision).toBe("implicit-deny");
    });

    it("a variable whose key is absent matches nothing, unless it has a default", () => {
      const noDefault = policy(
        allow("*", "s3files:ClientMount", { StringEquals: { "aws:SourceVpc": "${aws:username}" } }),
      );
      expect(decide(noDefault, ROLE, { "aws:SourceVpc": "" })).toBe("implicit-deny");
      const withDefault = policy(
        allow("*", "s3files:ClientMount", { StringEquals: { "aws:SourceVpc": "${aws:username, 'vpc-1'}" } }),
      );
      expect(decide(withDefault, ROLE, { "aws:SourceVpc": "vpc-1" })).toBe("allowed");
    });
  });
});

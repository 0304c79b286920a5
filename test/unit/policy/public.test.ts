// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables are written ${key}
/**
 * AWS's published definition of a public resource policy (S3 "The meaning of public", EFS
 * "Blocking public access"), one test per point, including those Prowler gets wrong (it accepts
 * wildcard condition values and ignores Deny statements).
 */
import { describe, expect, it } from "vitest";
import {
  analyzePolicy,
  enforcesTls,
  evaluatePolicy,
  isPolicySafe,
  problemsOf,
  withJudgementBudget,
  witnessRequest,
} from "../../../shared/core/policy/index.ts";
import {
  allow,
  deny,
  EFS_ARN,
  efsScope,
  OWNER,
  PARTNER,
  policy,
  S3FS_ARN,
  scope,
} from "../../helpers/policies.ts";

const MOUNT = "s3files:ClientMount";

function isPublic(doc: ReturnType<typeof policy>, s = scope()): boolean {
  return problemsOf(analyzePolicy(doc, s)).publicGrants.length > 0;
}

function isCrossAccount(doc: ReturnType<typeof policy>, s = scope()): boolean {
  return problemsOf(analyzePolicy(doc, s)).crossAccountGrants.length > 0;
}

describe("what public means", () => {
  it('Principal "*" with no condition is public', () => {
    expect(isPublic(policy(allow("*", MOUNT)))).toBe(true);
  });

  it('Principal {"AWS": "*"} with no condition is public', () => {
    expect(isPublic(policy(allow({ AWS: "*" }, MOUNT)))).toBe(true);
  });

  it("NotPrincipal with Allow is public", () => {
    const doc = policy({
      Effect: "Allow",
      NotPrincipal: { AWS: `arn:aws:iam::${OWNER}:role/app` },
      Action: MOUNT,
      Resource: S3FS_ARN,
    });
    expect(isPublic(doc)).toBe(true);
  });

  it.each([
    ["aws:PrincipalOrgID", "StringEquals", "o-a1b2c3d4e5"],
    ["aws:PrincipalAccount", "StringEquals", OWNER],
    ["aws:PrincipalArn", "ArnEquals", `arn:aws:iam::${OWNER}:role/app`],
    ["aws:SourceArn", "ArnEquals", "arn:aws:lambda:us-west-2:111122223333:function:f"],
    ["aws:SourceVpc", "StringEquals", "vpc-0a1b2c3d"],
    ["aws:SourceVpce", "StringEquals", "vpce-0a1b2c3d"],
    ["aws:SourceOwner", "StringEquals", OWNER],
    ["aws:SourceAccount", "StringEquals", OWNER],
    ["aws:userid", "StringEquals", "AROAEXAMPLEROLEID:alice"],
    ["aws:userid", "StringLike", "AROAEXAMPLEROLEID:*"],
    ["aws:SourceIp", "IpAddress", "203.0.113.9/32"],
    ["aws:SourceIp", "IpAddress", "16.0.0.0/8"],
    ["aws:SourceIp", "IpAddress", "2001:db8::/32"],
    ["aws:SourceIp", "IpAddress", "172.16.0.0/12"],
  ])("a wildcard principal limited by a fixed %s (%s %s) is not public", (key, operator, value) => {
    expect(isPublic(policy(allow("*", MOUNT, { [operator]: { [key]: value } })))).toBe(false);
  });

  it('StringLike aws:SourceVpc "vpc-*" is public: a wildcard value limits nothing', () => {
    expect(isPublic(policy(allow("*", MOUNT, { StringLike: { "aws:SourceVpc": "vpc-*" } })))).toBe(true);
  });

  it("a fixed public /32 aws:SourceIp is not public", () => {
    expect(isPublic(policy(allow("*", MOUNT, { IpAddress: { "aws:SourceIp": "198.51.100.7/32" } })))).toBe(
      false,
    );
  });

  it.each(["0.0.0.0/0", "16.0.0.0/7", "2001:db8::/31", "::/0"])(
    "aws:SourceIp %s is broader than /8 or /32: public",
    (cidr) => {
      expect(isPublic(policy(allow("*", MOUNT, { IpAddress: { "aws:SourceIp": cidr } })))).toBe(true);
    },
  );

  it("a NotIpAddress condition is public: any other address satisfies it", () => {
    expect(isPublic(policy(allow("*", MOUNT, { NotIpAddress: { "aws:SourceIp": "203.0.113.0/24" } })))).toBe(
      true,
    );
  });

  it("a policy variable limits nothing: the caller controls the other side", () => {
    expect(
      isPublic(
        policy(allow("*", MOUNT, { StringEquals: { "aws:PrincipalAccount": "${aws:SourceAccount}" } })),
      ),
    ).toBe(true);
    expect(
      isPublic(policy(allow("*", MOUNT, { StringEquals: { "aws:SourceVpc": "${aws:SourceVpce}" } }))),
    ).toBe(true);
  });

  it("a wildcard account in aws:PrincipalArn is public", () => {
    expect(
      isPublic(policy(allow("*", MOUNT, { ArnLike: { "aws:PrincipalArn": "arn:aws:iam::*:role/admin" } }))),
    ).toBe(true);
  });

  it("StringNotEquals on a limiting key is public (any other value passes)", () => {
    expect(
      isPublic(policy(allow("*", MOUNT, { StringNotEquals: { "aws:SourceVpc": "vpc-0a1b2c3d" } }))),
    ).toBe(true);
  });

  it("a condition on a key outside AWS's list (aws:SecureTransport, s3files:AccessPointArn) does not make it private", () => {
    expect(isPublic(policy(allow("*", MOUNT, { Bool: { "aws:SecureTransport": "true" } })))).toBe(true);
    expect(
      isPublic(
        policy(
          allow("*", MOUNT, { ArnEquals: { "s3files:AccessPointArn": `${S3FS_ARN}/access-point/fsap-1` } }),
        ),
      ),
    ).toBe(true);
  });

  it("an explicit Deny with a condition that takes the access back counts", () => {
    const doc = policy(
      allow("*", [MOUNT, "s3files:ClientWrite"]),
      deny("*", "s3files:*", { StringNotEquals: { "aws:PrincipalOrgID": "o-a1b2c3d4e5" } }),
    );
    expect(isPublic(doc)).toBe(false);
    expect(isCrossAccount(doc)).toBe(false);
  });

  it("a Deny that takes back only part of the access leaves the rest public", () => {
    const doc = policy(allow("*", [MOUNT, "s3files:ClientWrite"]), deny("*", "s3files:ClientWrite"));
    const grants = problemsOf(analyzePolicy(doc, scope())).publicGrants;
    expect(new Set(grants.map((g) => g.action))).toEqual(new Set([MOUNT]));
  });

  it("a Deny whose condition uses a wildcard value takes nothing back", () => {
    const doc = policy(allow("*", MOUNT), deny("*", MOUNT, { StringNotLike: { "aws:SourceVpc": "vpc-*" } }));
    expect(isPublic(doc)).toBe(true);
  });

  it("EFS: elasticfilesystem:AccessedViaMountTarget = true limits a wildcard grant", () => {
    const doc = policy({
      Effect: "Allow",
      Principal: { AWS: "*" },
      Action: "elasticfilesystem:ClientMount",
      Resource: EFS_ARN,
      Condition: { Bool: { "elasticfilesystem:AccessedViaMountTarget": "true" } },
    });
    expect(isPublic(doc, efsScope())).toBe(false);
  });

  it("a grant on another file system does not count", () => {
    const other = { ...allow("*", MOUNT), Resource: `arn:aws:s3files:us-west-2:${OWNER}:file-system/fs-9` };
    expect(isPublic(policy(other))).toBe(false);
  });
});

describe("accounts outside the trusted ones", () => {
  it("a named principal of another account is cross-account, not public", () => {
    const doc = policy(allow({ AWS: `arn:aws:iam::${PARTNER}:role/reader` }, MOUNT));
    expect(isPublic(doc)).toBe(false);
    expect(isCrossAccount(doc)).toBe(true);
  });

  it("a wildcard principal limited to another account is cross-account", () => {
    expect(
      isCrossAccount(policy(allow("*", MOUNT, { StringEquals: { "aws:PrincipalAccount": PARTNER } }))),
    ).toBe(true);
  });

  it("a trusted account is fine", () => {
    const doc = policy(allow({ AWS: PARTNER }, MOUNT));
    expect(isCrossAccount(doc, scope({ trustedAccounts: [PARTNER] }))).toBe(false);
  });

  it("a fixed aws:PrincipalOrgID is the owner's own organization: neither public nor cross-account", () => {
    const doc = policy(allow("*", MOUNT, { StringEquals: { "aws:PrincipalOrgID": "o-a1b2c3d4e5" } }));
    expect(isPublic(doc)).toBe(false);
    expect(isCrossAccount(doc)).toBe(false);
  });

  it("a named account held to the organization is not cross-account; with IfExists it still is", () => {
    const held = (operator: string) =>
      policy(allow({ AWS: PARTNER }, MOUNT, { [operator]: { "aws:PrincipalOrgID": "o-a1b2c3d4e5" } }));
    expect(isCrossAccount(held("StringEquals"))).toBe(false);
    expect(isCrossAccount(held("StringEqualsIfExists"))).toBe(true);
  });
});

describe("requests tried before a search are only tried", () => {
  it("a Deny of the plain requests (anonymous, an unnamed account's root, the pattern's shortest instance) leaves the grant public", () => {
    const doc = policy(
      allow("*", MOUNT, { StringLike: { "aws:SourceVpc": "vpc-*" } }),
      deny("*", MOUNT, { StringEquals: { "aws:SourceVpc": "vpc-" } }),
      { ...deny("*", MOUNT), Principal: { AWS: "222222222222" } },
    );
    const grants = problemsOf(analyzePolicy(doc, scope())).publicGrants;
    expect(grants.length).toBeGreaterThan(0);
    for (const grant of grants) {
      expect(grant.context.get("aws:sourcevpc")).not.toBe("vpc-");
      expect(evaluatePolicy(doc, witnessRequest(grant.witness)).decision).toBe("allowed");
    }
  });
});

describe("requests tried before a search escape only the Denies of the action asked", () => {
  it("a Deny of root access outside a range leaves a mount from no address: public, found without a search", () => {
    const doc = policy(
      allow("*", MOUNT, { StringLike: { "aws:SourceVpc": "vpc-*" } }),
      deny("*", "s3files:ClientRootAccess", { NotIpAddress: { "aws:SourceIp": "10.0.1.0/24" } }),
    );
    const { result, steps } = withJudgementBudget(() => analyzePolicy(doc, scope()));
    const grants = problemsOf(result).publicGrants;
    expect(grants.map((g) => g.principal.kind)).toEqual(["anonymous"]);
    expect(grants[0]?.context.has("aws:sourceip")).toBe(false);
    expect(steps).toBe(0);
  });

  it("a Deny of the same action outside a range is still escaped from it", () => {
    const doc = policy(
      allow("*", MOUNT, { StringLike: { "aws:SourceVpc": "vpc-*" } }),
      deny("*", MOUNT, { NotIpAddress: { "aws:SourceIp": "10.0.1.0/24" } }),
    );
    const analysis = analyzePolicy(doc, scope());
    expect(problemsOf(analysis).publicGrants).toEqual([]);
    const restricted = analyzePolicy(doc, scope(), { classes: ["restricted"] }).grants;
    expect(restricted[0]?.context.get("aws:sourceip")).toMatch(/^10\.0\.1\./);
  });
});

describe("proofs read off a statement's own condition or elements", () => {
  const EFS_MOUNT = "elasticfilesystem:ClientMount";
  const efsAllow = (condition: Record<string, unknown>) => ({
    ...allow("*", EFS_MOUNT, condition),
    Resource: EFS_ARN,
  });
  const steps = (work: () => unknown) => withJudgementBudget(work).steps;

  it("through a mount target (the EFS console's statement): not public, without a search; with IfExists public", () => {
    const held = policy(efsAllow({ Bool: { "elasticfilesystem:AccessedViaMountTarget": "true" } }));
    expect(steps(() => expect(isPublic(held, efsScope())).toBe(false))).toBe(0);
    const ifExists = policy(
      efsAllow({ BoolIfExists: { "elasticfilesystem:AccessedViaMountTarget": "true" } }),
    );
    expect(isPublic(ifExists, efsScope())).toBe(true);
  });

  it("a private or narrow source range: not public, without a search; a range broader than /8 still searched and public", () => {
    for (const range of ["10.1.0.0/16", "203.0.113.0/24"]) {
      const held = policy(allow("*", MOUNT, { IpAddress: { "aws:SourceIp": range } }));
      expect(steps(() => expect(isPublic(held)).toBe(false))).toBe(0);
    }
    const wide = policy(allow("*", MOUNT, { IpAddress: { "aws:SourceIp": ["10.1.0.0/16", "52.0.0.0/6"] } }));
    expect(steps(() => expect(isPublic(wide)).toBe(true))).toBeGreaterThan(0);
  });

  it("callers held to the owner's account by aws:PrincipalArn or aws:PrincipalAccount: no outsider, without a search", () => {
    const held = [
      { ArnLike: { "aws:PrincipalArn": `arn:aws:iam::${OWNER}:role/app-*` } },
      {
        StringLike: {
          "aws:PrincipalArn": [`arn:aws:iam::${OWNER}:role/*`, `arn:aws:iam::${OWNER}:user/ops`],
        },
      },
      { StringEquals: { "aws:PrincipalAccount": OWNER } },
    ];
    for (const condition of held) {
      const doc = policy(allow("*", MOUNT, condition));
      expect(steps(() => expect(isPublic(doc) || isCrossAccount(doc)).toBe(false))).toBe(0);
    }
    // The account is not fixed (a wildcard before it), or is a partner's: outsiders remain.
    const open = policy(
      allow("*", MOUNT, { StringLike: { "aws:PrincipalArn": `arn:aws:iam::*${OWNER.slice(4)}:role/*` } }),
    );
    expect(isPublic(open)).toBe(true);
    const partner = policy(
      allow("*", MOUNT, { ArnLike: { "aws:PrincipalArn": `arn:aws:iam::${PARTNER}:role/*` } }),
    );
    expect(isCrossAccount(partner)).toBe(true);
  });

  it("the EFS console's Deny of requests without TLS enforces TLS without a search; narrower Denies are searched", () => {
    const tls = (over: Record<string, unknown> = {}) => ({
      ...deny({ AWS: "*" }, "*", { Bool: { "aws:SecureTransport": "false" } }),
      Resource: EFS_ARN,
      ...over,
    });
    const mount = { ...allow({ AWS: OWNER }, EFS_MOUNT), Resource: EFS_ARN };
    expect(steps(() => expect(enforcesTls(policy(mount, tls()), efsScope()).enforced).toBe(true))).toBe(0);
    const narrower = [
      tls({ Principal: { AWS: OWNER } }),
      tls({ Action: "elasticfilesystem:ClientWrite" }),
      tls({ Resource: `${EFS_ARN}-other` }),
      tls({
        Condition: { Bool: { "aws:SecureTransport": "false" }, StringLike: { "aws:SourceVpc": "vpc-*" } },
      }),
    ];
    for (const statement of narrower) {
      const { result, steps: spent } = withJudgementBudget(() =>
        enforcesTls(policy(mount, statement), efsScope()),
      );
      expect(result.enforced).toBe(false);
      expect(spent).toBeGreaterThan(0);
    }
  });
});

describe("requests tried before a search include the callers a statement's aws:PrincipalArn names", () => {
  it("root access held to the owner's roles by a pattern: a session of such a role, found without a search", () => {
    const doc = policy(
      allow("*", "s3files:ClientRootAccess", {
        ArnLike: { "aws:PrincipalArn": `arn:aws:iam::${OWNER}:role/app-*` },
      }),
    );
    const { result, steps } = withJudgementBudget(() => analyzePolicy(doc, scope()));
    const root = problemsOf(result).rootOutsideAdmins;
    expect(root.map((g) => g.principal)).toEqual([
      expect.objectContaining({ account: OWNER, roleArn: `arn:aws:iam::${OWNER}:role/app-` }),
    ]);
    expect(steps).toBe(0);
  });
});

describe("requests tried before a search are requests AWS makes", () => {
  it("an S3 Files request carries no key of EFS, so a grant held to one grants nothing", () => {
    const held = { Bool: { "elasticfilesystem:AccessedViaMountTarget": "true" } };
    expect(isPublic(policy(allow("*", MOUNT, held)))).toBe(false);
    expect(isCrossAccount(policy(allow({ AWS: PARTNER }, MOUNT, held)))).toBe(false);
  });

  it("every request carries the current time, so a Deny of requests that carry it applies to all", () => {
    const doc = policy(allow("*", MOUNT), deny("*", MOUNT, { Null: { "aws:CurrentTime": "false" } }));
    expect(isPublic(doc)).toBe(false);
  });
});

describe("a fixed value limits only when every request the statement allows carries it", () => {
  it.each([
    ["StringEqualsIfExists", "vpc-0a1b2c3d", "an absent key passes"],
    ["ForAllValues:StringEquals", "vpc-0a1b2c3d", "holds on an absent key"],
    ["StringEqualsIgnoreCase", "VPC-0A1B2C3D", "a case variant is not the fixed value"],
  ])("aws:SourceVpc %s %s is public (%s)", (operator, value) => {
    expect(isPublic(policy(allow("*", MOUNT, { [operator]: { "aws:SourceVpc": value } })))).toBe(true);
  });

  it("a fixed value next to a wildcard one on the same key limits (both must hold)", () => {
    const doc = policy(
      allow("*", MOUNT, {
        StringEquals: { "aws:SourceVpce": "vpce-0a1b2c3d" },
        StringLike: { "aws:SourceVpce": "vpce-*" },
      }),
    );
    expect(isPublic(doc)).toBe(false);
  });
});

describe("isPolicySafe", () => {
  it("names the statement and the kind of problem", () => {
    const verdict = isPolicySafe(
      JSON.stringify({ Version: "2012-10-17", Statement: [{ ...allow("*", "s3files:*"), Sid: "Open" }] }),
      scope(),
    );
    expect(verdict.safe).toBe(false);
    expect(verdict.problems).toEqual([
      'public client access (statement "Open"; for example an anonymous client (mounted without IAM))',
      'root access outside the admin principals (statement "Open"; for example an anonymous client (mounted without IAM))',
    ]);
  });

  it("root access for an admin principal only is safe", () => {
    const admin = `arn:aws:iam::${OWNER}:role/storage-admin`;
    const doc = policy(allow({ AWS: admin }, "s3files:ClientRootAccess"));
    expect(isPolicySafe(doc, scope({ adminPrincipals: [admin] })).safe).toBe(true);
    expect(isPolicySafe(doc, scope()).safe).toBe(false);
  });

  it("EFS with requireTls: only a Deny on aws:SecureTransport = false for every client is enough", () => {
    const tls = {
      Effect: "Deny",
      Principal: "*",
      Action: "*",
      Resource: EFS_ARN,
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    };
    const mount = {
      Effect: "Allow",
      Principal: { AWS: OWNER },
      Action: "elasticfilesystem:ClientMount",
      Resource: EFS_ARN,
    };
    expect(isPolicySafe(policy(mount, tls), efsScope(), { requireTls: true }).safe).toBe(true);
    expect(isPolicySafe(policy(mount), efsScope(), { requireTls: true }).problems).toEqual([
      "clients without TLS are not denied",
    ]);
  });
});

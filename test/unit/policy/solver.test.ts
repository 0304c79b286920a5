// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables are written ${key}
/**
 * The decision procedure on the adversarial cases a sampling engine misses: every "public" verdict
 * comes with a witness request the evaluator allows, every "not public" is a proof, and no constant
 * of the engine can be named by a policy to dodge it. Synthetic policies, built for each point.
 */
import { describe, expect, it } from "vitest";
import { allowedF, and, not, PRINCIPAL_KINDS } from "../../../shared/core/policy/formula.ts";
import { compileGlob, globMatches } from "../../../shared/core/policy/glob.ts";
import { evaluatePolicy } from "../../../shared/core/policy/index.ts";
import { matchesPattern } from "../../../shared/core/policy/match.ts";
import { witnessRequest } from "../../../shared/core/policy/questions.ts";
import { findRequest, withJudgementBudget } from "../../../shared/core/policy/solver.ts";
import { allow, deny, EFS_ARN, OWNER, PARTNER, policy, S3FS_ARN } from "../../helpers/policies.ts";
import { MOUNT, publicMount, witnessOf } from "../../helpers/policy-questions.ts";

describe("principal-derived keys follow the caller's kind and account", () => {
  it("aws:PrincipalType = User: an IAM user of some other account", () => {
    const w = witnessOf(
      publicMount(policy(allow("*", MOUNT, { StringEquals: { "aws:PrincipalType": "User" } }))),
    );
    expect(w.kind).toBe("user");
    expect(w.context.get("aws:principaltype")).toBe("User");
  });

  it('StringLike aws:PrincipalAccount "2*": an account starting with 2', () => {
    const w = witnessOf(
      publicMount(policy(allow("*", MOUNT, { StringLike: { "aws:PrincipalAccount": "2*" } }))),
    );
    expect(w.principal.kind === "aws" && w.principal.account).toMatch(/^2\d{11}$/);
  });

  it('ArnLike aws:PrincipalArn "arn:aws:iam::*:root": the root user of another account', () => {
    const w = witnessOf(
      publicMount(policy(allow("*", MOUNT, { ArnLike: { "aws:PrincipalArn": "arn:aws:iam::*:root" } }))),
    );
    expect(w.kind).toBe("root");
    expect(w.principal.kind === "aws" && w.principal.account).not.toBe(OWNER);
  });

  it("StringNotEquals aws:PrincipalAccount <any constant>: some other account", () => {
    for (const named of ["999999999999", PARTNER, "222222222222", "555555555555"]) {
      const w = witnessOf(
        publicMount(policy(allow("*", MOUNT, { StringNotEquals: { "aws:PrincipalAccount": named } }))),
      );
      expect(w.principal.kind === "aws" ? w.principal.account : "anonymous").not.toBe(named);
    }
  });

  it("an anonymous caller may carry aws:PrincipalType = Anonymous and aws:userid = anonymous, or neither", () => {
    // Amazon S3 documents both values for anonymous callers; AWS is silent on NFS clients: either reading.
    const typed = witnessOf(
      publicMount(policy(allow("*", MOUNT, { StringEquals: { "aws:PrincipalType": "Anonymous" } }))),
    );
    expect(typed.kind).toBe("anonymous");
    expect(typed.context.get("aws:principaltype")).toBe("Anonymous");
    expect(typed.context.get("aws:userid")).toBe("anonymous");
    // A Deny on the documented value takes nothing from a caller that carries neither.
    const bare = witnessOf(
      publicMount(
        policy(
          allow("*", MOUNT),
          deny("*", MOUNT, { StringEquals: { "aws:userid": "anonymous" } }),
          deny("*", MOUNT, { "ForAnyValue:StringLike": { "aws:PrincipalAccount": "*" } }),
        ),
      ),
    );
    expect(bare.kind).toBe("anonymous");
    expect(bare.context.has("aws:userid")).toBe(false);
    // And a Deny on the key's absence takes nothing from one that carries them.
    const carrying = witnessOf(
      publicMount(
        policy(
          allow("*", MOUNT),
          deny("*", MOUNT, { Null: { "aws:PrincipalType": "true" } }),
          deny("*", MOUNT, { "ForAnyValue:StringLike": { "aws:PrincipalAccount": "*" } }),
        ),
      ),
    );
    expect(carrying.kind).toBe("anonymous");
    expect(carrying.context.get("aws:principaltype")).toBe("Anonymous");
  });

  it("a fixed aws:PrincipalAccount of the owner is proved not public", () => {
    expect(
      publicMount(policy(allow("*", MOUNT, { StringEquals: { "aws:PrincipalAccount": OWNER } }))),
    ).toEqual({
      status: "proved",
    });
  });

  it('ArnLike aws:PrincipalArn "*" matches any caller with an ARN', () => {
    const doc = policy(allow("*", MOUNT, { ArnLike: { "aws:PrincipalArn": "*" } }));
    expect(witnessOf(publicMount(doc)).kind).not.toBe("anonymous");
  });
});

describe("per-key values are decided, not guessed", () => {
  it("two patterns on one key (a* allowed, a Deny on everything not ending in b)", () => {
    const doc = policy(
      allow("*", MOUNT, { StringLike: { "aws:SourceVpc": "a*" } }),
      deny("*", MOUNT, { StringNotLike: { "aws:SourceVpc": "*b" } }),
    );
    expect(witnessOf(publicMount(doc)).context.get("aws:sourcevpc")).toMatch(/^a.*b$/);
  });

  it("a Deny of any particular instance of a wildcard leaves another", () => {
    for (const taken of ["x0", "x", "a", "remediator-unmentioned-value"]) {
      const doc = policy(
        allow("*", MOUNT, { StringLike: { "aws:SourceVpc": "*" } }),
        deny("*", MOUNT, { StringEquals: { "aws:SourceVpc": taken } }),
      );
      expect(witnessOf(publicMount(doc)).context.get("aws:sourcevpc")).not.toBe(taken);
    }
  });

  it("the solver's first guess (a pattern's shortest instance, a part's plainest value) is only a guess", () => {
    for (const [pattern, taken] of [
      ["vpc-*", "vpc-"],
      ["vpc-?", "vpc-x"],
      ["*", ""],
    ] as const) {
      const doc = policy(
        allow("*", MOUNT, { StringLike: { "aws:SourceVpc": pattern } }),
        deny("*", MOUNT, { StringEquals: { "aws:SourceVpc": taken } }),
      );
      const value = witnessOf(publicMount(doc)).context.get("aws:sourcevpc") as string;
      expect(value).not.toBe(taken);
      expect(globMatches(compileGlob(pattern, "like"), value)).toBe(true);
    }
    const accountTaken = policy(
      allow("*", MOUNT, { StringEquals: { "aws:PrincipalType": "User" } }),
      deny({ AWS: "222222222222" }, MOUNT),
    );
    const w = witnessOf(publicMount(accountTaken));
    expect(w.principal.kind === "aws" && w.principal.account).toMatch(/^\d{12}$/);
    expect(w.principal.kind === "aws" && w.principal.account).not.toBe("222222222222");
  });

  it("a role pattern longer than any root ARN: refused for the root user, found for a role session", () => {
    const pattern = `arn:aws:iam::*:role/${"?".repeat(40)}`;
    const w = witnessOf(
      publicMount(policy(allow({ AWS: "*" }, MOUNT, { StringLike: { "aws:PrincipalArn": pattern } }))),
    );
    expect(w.kind).toBe("session");
    expect(globMatches(compileGlob(pattern, "like"), w.context.get("aws:principalarn") as string)).toBe(true);
  });

  it("colons fall where the ARN puts them: a role pattern is no IAM user's ARN, a user pattern is", () => {
    const witnessFor = (pattern: string) =>
      witnessOf(
        publicMount(
          policy(
            allow({ AWS: "*" }, MOUNT, { StringLike: { "aws:PrincipalArn": pattern } }),
            deny({ AWS: "*" }, MOUNT, { StringEquals: { "aws:PrincipalType": "AssumedRole" } }),
          ),
        ),
      );
    // Roles are denied: a role pattern leaves no one (`:role/` never falls on an IAM user's `:user/`).
    expect(
      publicMount(
        policy(
          allow({ AWS: "*" }, MOUNT, { StringLike: { "aws:PrincipalArn": "arn:aws:iam::*:role/*" } }),
          deny({ AWS: "*" }, MOUNT, { StringEquals: { "aws:PrincipalType": "AssumedRole" } }),
        ),
      ).status,
    ).toBe("proved");
    // A user pattern, or one whose wildcard spans the colons, still finds its IAM user.
    for (const pattern of ["arn:aws:iam::*:user/*", "arn:aws:iam::*user/*", "*:user/a?c"]) {
      const w = witnessFor(pattern);
      expect(w.kind).toBe("user");
      expect(globMatches(compileGlob(pattern, "like"), w.context.get("aws:principalarn") as string)).toBe(
        true,
      );
    }
  });

  it("one of many values on both sides: a value both lists name, whatever their order", () => {
    // A key outside AWS's list of limiting keys: fixed values of it still leave the grant public.
    const values = Array.from(
      { length: 40 },
      (_, i) => `${S3FS_ARN}/access-point/ap-${String(i).padStart(4, "0")}`,
    );
    const doc = policy(
      allow("*", MOUNT, { StringEquals: { "s3files:AccessPointArn": values } }),
      deny("*", MOUNT, { StringNotEquals: { "s3files:AccessPointArn": [...values.slice(25)].reverse() } }),
    );
    const value = witnessOf(publicMount(doc)).context.get("s3files:accesspointarn") as string;
    expect(values.slice(25)).toContain(value);
  });

  it("StringEqualsIgnoreCase: a case variant escapes a case-sensitive Deny", () => {
    const doc = policy(
      allow("*", MOUNT, { StringEqualsIgnoreCase: { "aws:SourceVpc": "vpc-a" } }),
      deny("*", MOUNT, { StringEquals: { "aws:SourceVpc": "vpc-a" } }),
    );
    const value = witnessOf(publicMount(doc)).context.get("aws:sourcevpc");
    expect(String(value).toLowerCase()).toBe("vpc-a");
    expect(value).not.toBe("vpc-a");
  });

  it("the open interval between two numbers", () => {
    const doc = policy(
      allow("*", MOUNT, {
        NumericGreaterThan: { "s3files:Depth": "1" },
        NumericLessThan: { "s3files:Depth": "2" },
      }),
    );
    const value = Number(witnessOf(publicMount(doc)).context.get("s3files:depth"));
    expect(value > 1 && value < 2).toBe(true);
  });

  it("an address outside every denied range, IPv4 or IPv6", () => {
    const doc = policy(
      allow("*", MOUNT),
      deny("*", MOUNT, { IpAddress: { "aws:SourceIp": ["0.0.0.0/1", "128.0.0.0/1"] } }),
    );
    expect(String(witnessOf(publicMount(doc)).context.get("aws:sourceip") ?? "absent")).not.toMatch(
      /^\d+\.\d+\.\d+\.\d+$/,
    );
  });

  it("eight AND-ed fixed-value keys are proved not public, within the budget", () => {
    const keys = ["aws:SourceVpc", "aws:SourceVpce", "aws:SourceAccount", "aws:SourceOwner", "aws:SourceArn"];
    const condition: Record<string, Record<string, string[]>> = { StringEquals: {} };
    for (const key of keys) (condition.StringEquals as Record<string, string[]>)[key] = ["v-1", "v-2", "v-3"];
    condition.StringLike = { "s3files:Tag": ["a*", "b*"] } as never;
    condition.Bool = { "aws:SecureTransport": ["true"] } as never;
    condition.IpAddress = { "aws:SourceIp": ["203.0.113.0/24"] } as never;
    expect(publicMount(policy(allow("*", MOUNT, condition)))).toEqual({ status: "proved" });
  });
});

describe("Resource and ARN matching", () => {
  it('a Resource "*" that ends an ARN segment spans colons; inside a segment it does not', () => {
    expect(matchesPattern("arn:aws:s3files:*", S3FS_ARN, "resource")).toBe(true);
    expect(matchesPattern("arn:aws:s3files:us-*:111122223333:file-system/fs-1", S3FS_ARN, "resource")).toBe(
      true,
    );
    expect(
      matchesPattern(
        "arn:aws:s3files:u*2:111122223333:file-system/fs-1",
        "arn:aws:s3files:u:x:2:111122223333:file-system/fs-1",
        "resource",
      ),
    ).toBe(false);
    expect(
      witnessOf(publicMount(policy({ ...allow("*", MOUNT), Resource: "arn:aws:s3files:*" }))).kind,
    ).toBeDefined();
  });

  it("a NotResource Deny that excludes the file system takes nothing back", () => {
    const doc = policy(allow("*", MOUNT), {
      ...deny("*", MOUNT),
      Resource: undefined,
      NotResource: "arn:aws:s3files:*",
    });
    expect(publicMount(doc).status).toBe("witness");
  });

  it("ArnLike matches part by part and needs an ARN", () => {
    expect(matchesPattern("arn:aws:iam::*:root", "arn:aws:iam::111122223333:root", "arn")).toBe(true);
    expect(matchesPattern("arn:aws:iam::*:root", "arn:aws:iam::1:2:root", "arn")).toBe(false);
    expect(matchesPattern("*", "arn:aws:iam::111122223333:role/x", "arn")).toBe(true);
    expect(matchesPattern("*", "not-an-arn", "arn")).toBe(false);
  });
});

describe("linear-time matching", () => {
  it("a pattern built to make a backtracking matcher explode is answered at once", () => {
    const pattern = `${"*a".repeat(300)}*b`;
    const value = "a".repeat(2000);
    expect(globMatches(compileGlob(pattern, "like"), value)).toBe(false);
    expect(globMatches(compileGlob(pattern, "like"), `${value}b`)).toBe(true);
  });
});

describe("sets, absence and budgets", () => {
  it("ForAllValues holds on an absent key; ForAnyValue needs an element of its own", () => {
    const doc = policy(
      allow("*", MOUNT, {
        "ForAllValues:StringEquals": { "aws:TagKeys": ["a", "b"] },
        "ForAnyValue:StringEquals": { "aws:PrincipalTag/team": ["x"] },
      }),
    );
    const w = witnessOf(publicMount(doc));
    expect(w.context.get("aws:principaltag/team")).toEqual(["x"]);
  });

  it("a policy variable never lets a Deny take access back unless it provably applies", () => {
    const doc = policy(
      allow("*", MOUNT),
      deny("*", MOUNT, { StringNotEquals: { "aws:SourceAccount": "${aws:PrincipalAccount}" } }),
    );
    const w = witnessOf(publicMount(doc));
    expect(evaluatePolicy(doc, witnessRequest(w)).decision).toBe("allowed");
  });

  it("a key of the other file-system service is absent (S3 Files has no AccessedViaMountTarget)", () => {
    const viaMountTarget = { Bool: { "elasticfilesystem:AccessedViaMountTarget": "true" } };
    const ask = (service: "s3files" | "elasticfilesystem", resource: string) => {
      const doc = policy({
        ...allow({ AWS: PARTNER }, `${service}:ClientMount`, viaMountTarget),
        Resource: resource,
      });
      return findRequest(
        { partition: "aws", kinds: PRINCIPAL_KINDS, actions: [`${service}:ClientMount`], resource },
        (frame) => allowedF(doc, frame),
      );
    };
    expect(ask("s3files", S3FS_ARN).status).toBe("proved");
    const efs = ask("elasticfilesystem", EFS_ARN);
    expect(efs.status).toBe("witness");
    expect(witnessOf(efs).context.get("elasticfilesystem:accessedviamounttarget")).toBe("true");
  });

  it("an exhausted budget is 'undecided', never 'safe'", () => {
    const doc = policy(allow("*", MOUNT, { StringLike: { "aws:SourceVpc": "a*b*c" } }));
    const outcome = findRequest(
      { partition: "aws", kinds: PRINCIPAL_KINDS, actions: [MOUNT], resource: S3FS_ARN },
      (frame) =>
        and([
          allowedF(doc, frame),
          not(allowedF(policy(allow("*", MOUNT, { StringLike: { "aws:SourceVpc": "a*" } })), frame)),
        ]),
      { budget: 5 },
    );
    expect(outcome.status).toBe("undecided");
  });

  it("questions share a judgement's total budget: once it is spent, every question is undecided", () => {
    const ask = () => {
      const doc = policy(allow("*", MOUNT, { StringLike: { "aws:SourceVpc": "a*b*c" } }));
      return findRequest(
        { partition: "aws", kinds: PRINCIPAL_KINDS, actions: [MOUNT], resource: S3FS_ARN },
        (frame) => allowedF(doc, frame),
      );
    };
    const free = withJudgementBudget(() => [ask(), ask()]);
    expect(free.result.map((o) => o.status)).toEqual(["witness", "witness"]);
    expect(free.steps).toBeGreaterThan(2);
    // The first question spends the one step there is; the second gets none.
    const spent = withJudgementBudget(() => [ask(), ask()], 1);
    expect(spent.result[1]?.status).toBe("undecided");
    expect(spent.result[1]).toMatchObject({
      reason: expect.stringContaining("the judgement's 1 search steps"),
    });
    // Outside a judgement, the same question is decided again.
    expect(ask().status).toBe("witness");
  });

  it("a question costs the same steps whether its checks are worked out or remembered", () => {
    // A value no other test uses, so the first judgement below works every check out.
    const pattern = `q${Date.now().toString(36)}*z*x`;
    const ask = () => {
      const doc = policy(allow("*", MOUNT, { StringLike: { "aws:SourceVpc": pattern } }));
      return findRequest(
        { partition: "aws", kinds: PRINCIPAL_KINDS, actions: [MOUNT], resource: S3FS_ARN },
        (frame) => allowedF(doc, frame),
      );
    };
    const cold = withJudgementBudget(() => ask());
    const warm = withJudgementBudget(() => ask());
    expect(cold.result.status).toBe("witness");
    expect(warm.result.status).toBe("witness");
    expect(warm.steps).toBe(cold.steps);
    // So a budget too small for the cold question is too small for the warm one.
    const tight = withJudgementBudget(() => ask(), cold.steps - 1);
    expect(tight.result.status).toBe("undecided");
  });
});

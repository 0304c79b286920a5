/**
 * Witnesses are requests AWS could send: the values of keys AWS fills from the caller's
 * organization have AWS's shapes, and a pattern no real value can match allows nothing. Synthetic
 * policies, built for each point.
 */
import { describe, expect, it } from "vitest";
import { allow, policy } from "../../helpers/policies.ts";
import { MOUNT, publicMount, witnessOf } from "../../helpers/policy-questions.ts";

/** AWS Organizations API reference: Organization.Id, Root.Id, OrganizationalUnit.Id. */
const ORG_ID = /^o-[a-z0-9]{10,32}$/;
const ORG_PATH = /^o-[a-z0-9]{10,32}\/r-[0-9a-z]{4,32}\/(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}\/)*$/;

describe("organization keys in witnesses", () => {
  it('StringLike aws:PrincipalOrgID "o-*": the witness has a whole organization id', () => {
    // Act
    const w = witnessOf(
      publicMount(policy(allow("*", MOUNT, { StringLike: { "aws:PrincipalOrgID": "o-*" } }))),
    );
    // Assess
    expect(w.context.get("aws:principalorgid")).toMatch(ORG_ID);
  });

  it("an organization id pattern too short for any real id allows nothing", () => {
    // Act
    const outcome = publicMount(policy(allow("*", MOUNT, { StringLike: { "aws:PrincipalOrgID": "o-???" } })));
    // Assess
    expect(outcome.status).toBe("proved");
  });

  it("aws:PrincipalOrgPaths comes with the aws:PrincipalOrgID its paths start with", () => {
    // Act
    const w = witnessOf(
      publicMount(
        policy(
          allow("*", MOUNT, { "ForAnyValue:StringLike": { "aws:PrincipalOrgPaths": "o-a1b2c3d4e5/*" } }),
        ),
      ),
    );
    // Assess
    const paths = w.context.get("aws:principalorgpaths") as readonly string[];
    expect(paths.length).toBeGreaterThan(0);
    for (const path of paths) expect(path).toMatch(ORG_PATH);
    expect(w.context.get("aws:principalorgid")).toBe("o-a1b2c3d4e5");
  });

  it("aws:PrincipalOrgID comes with aws:PrincipalOrgPaths, even where an absent key would do", () => {
    // Act: ForAllValues holds on an absent key, but a caller with an organization id has paths too.
    const w = witnessOf(
      publicMount(
        policy(
          allow("*", MOUNT, {
            "ForAllValues:StringEquals": { "aws:PrincipalOrgPaths": ["o-a1b2c3d4e5/r-ab12/"] },
            Null: { "aws:PrincipalOrgID": "false" },
          }),
        ),
      ),
    );
    // Assess
    expect(w.context.get("aws:principalorgid")).toMatch(ORG_ID);
    expect(w.context.get("aws:principalorgpaths")).toEqual(["o-a1b2c3d4e5/r-ab12/"]);
  });

  it("a path whose root id is too short for any real root allows nothing", () => {
    // Act
    const outcome = publicMount(
      policy(
        allow("*", MOUNT, {
          "ForAnyValue:StringEquals": { "aws:PrincipalOrgPaths": ["o-a1b2c3d4e5/r-1/"] },
        }),
      ),
    );
    // Assess
    expect(outcome.status).toBe("proved");
  });
});

import { describe, expect, it } from "vitest";
import { exemptionFromTags } from "../../../shared/runtime/exemption-tag.ts";

const KEY = "remediator:exempt";

describe("exemption tag", () => {
  it("reads reason, expiry and owner", () => {
    const result = exemptionFromTags(
      [
        {
          resource: "sg-1",
          tags: { [KEY]: "reason=vendor migration; expires=2026-12-31; owner=storage-team" },
        },
      ],
      KEY,
    );
    expect(result).toEqual({
      status: "valid",
      exemption: {
        resource: "sg-1",
        reason: "vendor migration",
        expires: "2026-12-31",
        owner: "storage-team",
      },
    });
  });

  it("names the tag as owner when none is given, and takes the first resource that carries it", () => {
    const result = exemptionFromTags(
      [
        { resource: "fsap-1", tags: {} },
        { resource: "fs-1", tags: { [KEY]: "reason=x;expires=2026-12-01T00:00:00Z" } },
      ],
      KEY,
    );
    expect(result).toMatchObject({
      status: "valid",
      exemption: { resource: "fs-1", owner: `tag ${KEY} on fs-1` },
    });
  });

  it("does not exempt on a tag without a reason or a valid expiry", () => {
    expect(exemptionFromTags([{ resource: "sg-1", tags: { [KEY]: "true" } }], KEY)).toMatchObject({
      status: "malformed",
      problem: expect.stringContaining("reason"),
    });
    expect(
      exemptionFromTags([{ resource: "sg-1", tags: { [KEY]: "reason=x;expires=soon" } }], KEY),
    ).toMatchObject({
      status: "malformed",
      problem: expect.stringContaining("expires"),
    });
  });

  it("finds nothing when the key is absent", () => {
    expect(exemptionFromTags([{ resource: "sg-1", tags: { team: "a" } }], KEY)).toEqual({ status: "none" });
  });
});

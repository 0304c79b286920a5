/** Console links per resource type and partition, and which rules a compliant decision speaks for. */
import { describe, expect, it } from "vitest";
import type { Change, ChangeDetail } from "../../../shared/core/types.ts";
import { consoleUrl, resourceRef } from "../../../shared/runtime/console-links.ts";
import { rulesFor, rulesJudgingWhole } from "../../../shared/runtime/passed-rules.ts";
import { testConfig } from "../../helpers/fixtures.ts";

const link = (resource: string, region = "eu-west-1", fileSystemId?: string) =>
  consoleUrl(resourceRef(resource, region, fileSystemId));

describe("console links", () => {
  it.each([
    [
      "arn:aws:ec2:eu-west-1:111122223333:security-group/sg-0abc",
      "https://console.aws.amazon.com/ec2/home?region=eu-west-1#SecurityGroup:groupId=sg-0abc",
    ],
    ["sg-0abc", "https://console.aws.amazon.com/ec2/home?region=eu-west-1#SecurityGroup:groupId=sg-0abc"],
    [
      "arn:aws:elasticfilesystem:eu-west-1:111122223333:file-system/fs-0abc",
      "https://console.aws.amazon.com/efs/home?region=eu-west-1#/file-systems/fs-0abc",
    ],
    [
      "arn:aws:elasticfilesystem:eu-west-1:111122223333:access-point/fsap-0abc",
      "https://console.aws.amazon.com/efs/home?region=eu-west-1#/access-points/fsap-0abc",
    ],
    [
      "arn:aws:s3files:eu-west-1:111122223333:file-system/fs-0abc/access-point/fsap-0abc",
      "https://console.aws.amazon.com/s3/home?region=eu-west-1",
    ],
    ["arn:aws:s3:::my-bucket", "https://console.aws.amazon.com/s3/buckets/my-bucket?region=eu-west-1"],
    [
      "arn:aws:iam::111122223333:role/ops/admin",
      "https://console.aws.amazon.com/iam/home#/roles/details/admin",
    ],
  ])("links %s to its console page", (resource, url) => {
    expect(link(resource)).toBe(url);
  });

  it("links an EFS mount target to its file system's page, in GovCloud's console", () => {
    expect(link("fsmt-0abc", "us-gov-west-1", "fs-0abc")).toBe(
      "https://console.amazonaws-us-gov.com/efs/home?region=us-gov-west-1#/file-systems/fs-0abc",
    );
  });

  it("gives no link for a type it does not know, or a regional resource with no region", () => {
    expect(link("arn:aws:lambda:eu-west-1:111122223333:function:f")).toBeUndefined();
    expect(consoleUrl(resourceRef("sg-0abc", undefined))).toBeUndefined();
    expect(link("something")).toBeUndefined();
  });
});

function change(detail: ChangeDetail): Change {
  return { meta: {} as Change["meta"], resource: "r", resourceIds: ["r"], detail };
}

describe("rules a compliant decision speaks for", () => {
  const config = testConfig();
  const policy = change({
    kind: "fs-policy-put",
    service: "efs",
    fileSystemId: "fs-1",
    policyText: "{}",
    bypassPolicyLockoutSafetyCheck: false,
  });
  const sgRules = change({ kind: "sg-rules-added", groupId: "sg-1", rules: [] });

  it("names every rule that judged a whole policy, none of those that judge other kinds", () => {
    const rules = rulesJudgingWhole([policy], config);

    expect(rules).toContain("fs-policy-public-access");
    expect(rules).toContain("fs-policy-tls-not-enforced");
    expect(rules).not.toContain("sg-ingress-internet-sensitive-port");
  });

  it("names none for the rules of one security-group call: the rest of the group was not judged", () => {
    expect(rulesJudgingWhole([sgRules], config)).toEqual([]);
    // A group that no longer exists is gone whole: every rule of its kind applies.
    expect(rulesFor([sgRules], config)).toContain("sg-ingress-internet-sensitive-port");
  });

  it("leaves out a rule that is off", () => {
    const off = testConfig({ rules: { "fs-policy-public-access": "off" } });

    expect(rulesJudgingWhole([policy], off)).not.toContain("fs-policy-public-access");
  });
});

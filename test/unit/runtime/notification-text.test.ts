import { execFileSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  asciiSubject,
  DEFAULT_NOTIFY_VERDICTS,
  describeDecision,
  MAX_SUBJECT_LENGTH,
  renderPlainText,
  shortActor,
  shortResource,
  stateDiff,
} from "../../../shared/runtime/notification-text.ts";
import { shellQuote } from "../../../shared/runtime/undo.ts";
import { auditRecord } from "../../helpers/audit-records.ts";

const policy = (statements: unknown[]) => ({
  fileSystemId: "fs-0123",
  policy: JSON.stringify({ Version: "2012-10-17", Statement: statements }),
});
const publicMount = {
  Sid: "Mount",
  Effect: "Allow",
  Principal: { AWS: "*" },
  Action: "elasticfilesystem:ClientMount",
};
const ownerMount = { ...publicMount, Principal: { AWS: "arn:aws:iam::111122223333:root" } };
const denyInsecure = {
  Sid: "DenyInsecure",
  Effect: "Deny",
  Principal: { AWS: "*" },
  Action: "*",
  Condition: { Bool: { "aws:SecureTransport": "false" } },
};

describe("stateDiff", () => {
  it("shows one revoked security-group rule as one removal, keyed by its rule id", () => {
    const record = auditRecord();

    const diff = stateDiff(record.before, record.after);

    expect(diff).toEqual([
      '- rules[ruleId=sgr-0aaa1111]: {"ruleId":"sgr-0aaa1111","direction":"ingress","protocol":"tcp","fromPort":2049,"toPort":2049,"peer":"0.0.0.0/0"}',
    ]);
  });

  it("compares a policy held as JSON text statement by statement, by Sid", () => {
    const diff = stateDiff(policy([publicMount, denyInsecure]), policy([ownerMount, denyInsecure]));

    expect(diff).toEqual([
      '~ policy.Statement[Sid=Mount].Principal.AWS: "*" -> "arn:aws:iam::111122223333:root"',
    ]);
  });

  it("shows a dropped Deny and a deleted policy", () => {
    expect(stateDiff(policy([ownerMount, denyInsecure]), policy([ownerMount]))).toEqual([
      `- policy.Statement[Sid=DenyInsecure]: ${JSON.stringify(denyInsecure)}`,
    ]);
    expect(stateDiff({ fileSystemId: "fs-0123", policy: null }, policy([ownerMount]))[0]).toMatch(
      /^~ policy: null -> \{"Version"/,
    );
  });

  it("matches statements without a Sid by content, so reordering is no change", () => {
    const a = { Effect: "Allow", Principal: "*", Action: "a" };
    const b = { Effect: "Deny", Principal: "*", Action: "b" };

    expect(stateDiff(policy([a, b]), policy([b, a]))).toEqual([]);
    expect(stateDiff(policy([a]), policy([a, b]))).toEqual([`+ policy.Statement[]: ${JSON.stringify(b)}`]);
  });

  it("lists a swapped security-group set on a mount target", () => {
    const diff = stateDiff({ securityGroups: ["sg-private"] }, { securityGroups: ["sg-open"] });

    expect(diff).toEqual(['- securityGroups[]: "sg-private"', '+ securityGroups[]: "sg-open"']);
  });

  it("is empty for equal states, whatever the key order", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const copy = JSON.parse(JSON.stringify(value)) as unknown;
        expect(stateDiff(value, copy)).toEqual([]);
      }),
    );
  });

  it("caps a long diff and says how much more the audit record holds", () => {
    const before = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i]));

    const diff = stateDiff(before, {});

    expect(diff).toHaveLength(61);
    expect(diff.at(-1)).toBe("… 40 more difference(s) in the audit record");
  });
});

const SG = "sg-0a1b2c3d4e5f60718";
const TAG_VALUE = "reason=<why>;expires=<YYYY-MM-DD>;owner=<who>";

/** Synthetic states in the shapes `live-state.ts` records (checked against moto in alert-undo.test.ts). */
const synthetic = {
  efsPolicyBefore: policy([publicMount, denyInsecure]),
  mountTargetBefore: {
    mountTargetId: "fsmt-0123",
    fileSystemId: "fs-0123",
    vpcId: "vpc-1",
    securityGroups: ["sg-open"],
    inboundRules: { "sg-open": [] },
  },
  accessPointBefore: {
    accessPointId: "fsap-0123",
    accessPointArn: "arn:aws:s3files:eu-west-1:111122223333:file-system/fs-0123/access-point/fsap-0123",
    fileSystemId: "fs-0123",
    posixUser: { uid: 0, gid: 0, secondaryGids: [] },
    rootDirectory: { path: "/", creationPermissions: { ownerUid: 0, ownerGid: 0, permissions: "777" } },
  },
};

describe("describeDecision", () => {
  it("says who changed what, where to look, why the rule exists, what was done and how to undo it", () => {
    const content = describeDecision(auditRecord());

    expect(content.subject).toBe(
      `[CRITICAL] Reverted: AuthorizeSecurityGroupIngress on ${SG} by DevOps/alice`,
    );
    expect(content.headline).toBe(
      `DevOps/alice's AuthorizeSecurityGroupIngress on ${SG} broke sg-ingress-internet-sensitive-port; the remediator reverted it and verified the result.`,
    );
    expect(content.trigger).toBe("event");
    expect(content.consoleUrl).toBe(
      `https://console.aws.amazon.com/ec2/home?region=eu-west-1#SecurityGroup:groupId=${SG}`,
    );
    expect(Object.fromEntries(content.facts)).toMatchObject({
      Who: "arn:aws:sts::111122223333:assumed-role/DevOps/alice",
      "Source IP": "203.0.113.7",
      Console: content.consoleUrl,
      Rules: "sg-ingress-internet-sensitive-port",
      "Verdict / outcome": "violation / remediated (mode enforce)",
    });
    expect(content.rules).toEqual([
      expect.objectContaining({
        id: "sg-ingress-internet-sensitive-port",
        title: "Security group admits the internet to a sensitive port",
        docsUrl: "https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html",
      }),
    ]);
    expect(content.rules[0]?.rationale).toContain("Inbound rules from 0.0.0.0/0");
    expect(content.actions[0]).toMatch(/^ran: ec2:RevokeSecurityGroupIngress \{"GroupId"/);
    expect(content.diff).toEqual([
      '- rules[ruleId=sgr-0aaa1111]: {"ruleId":"sgr-0aaa1111","direction":"ingress","protocol":"tcp","fromPort":2049,"toPort":2049,"peer":"0.0.0.0/0"}',
    ]);
    expect(content.undo).toEqual([
      `re-create the revoked ingress rule(s) of ${SG}: aws ec2 authorize-security-group-ingress --region eu-west-1 --group-id ${SG} --ip-permissions '[{"IpProtocol":"tcp","FromPort":2049,"ToPort":2049,"IpRanges":[{"CidrIp":"0.0.0.0/0"}]}]'`,
    ]);
    expect(content.undoSteps[0]?.call).toEqual({
      api: "ec2:AuthorizeSecurityGroupIngress",
      params: {
        GroupId: SG,
        IpPermissions: [
          { IpProtocol: "tcp", FromPort: 2049, ToPort: 2049, IpRanges: [{ CidrIp: "0.0.0.0/0" }] },
        ],
      },
    });
  });

  it("points the exemption advice at the exemption tag (the configured key), not at a redeploy", () => {
    const content = describeDecision(auditRecord(), { exemptTagKey: "acme:guardrail-exempt" });

    expect(content.nextSteps).toHaveLength(1);
    expect(content.nextSteps[0]).toContain(
      `aws ec2 create-tags --region eu-west-1 --resources ${SG} --tags '[{"Key":"acme:guardrail-exempt","Value":"${TAG_VALUE}"}]'`,
    );
    expect(describeDecision(auditRecord()).nextSteps[0]).toContain("the tag remediator:exempt");
  });

  it("re-authorizes exactly the permission a revoke named by IpPermissions", () => {
    const permissions = [
      { IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] },
    ];
    const record = auditRecord({
      plan: [
        {
          api: "ec2:RevokeSecurityGroupIngress",
          params: { GroupId: "sg-1", IpPermissions: permissions },
          reason: "r",
        },
      ],
    });

    expect(describeDecision(record).undo[0]).toBe(
      `re-create the revoked ingress rule(s) of sg-1: aws ec2 authorize-security-group-ingress --region eu-west-1 --group-id sg-1 --ip-permissions '${JSON.stringify(permissions)}'`,
    );
  });

  it("says plainly when the recorded state does not describe a revoked rule", () => {
    const record = auditRecord({
      plan: [
        {
          api: "ec2:RevokeSecurityGroupIngress",
          params: { GroupId: SG, SecurityGroupRuleIds: ["sgr-gone"] },
          reason: "r",
        },
      ],
    });

    const [step] = describeDecision(record).undoSteps;

    expect(step?.command).toBeUndefined();
    expect(step?.text).toContain("the recorded state does not describe all of them");
  });

  it("puts a narrowed policy back as it was, and deletes a policy restored where there was none", () => {
    const narrowed = auditRecord({
      resource: "arn:aws:elasticfilesystem:eu-west-1:111122223333:file-system/fs-0123",
      before: synthetic.efsPolicyBefore,
      plan: [
        {
          api: "elasticfilesystem:PutFileSystemPolicy",
          params: { FileSystemId: "fs-0123", Policy: "{}" },
          reason: "narrow",
        },
      ],
    });
    const restored = auditRecord({ ...narrowed, before: { fileSystemId: "fs-0123", policy: null } });

    const [put] = describeDecision(narrowed).undoSteps;
    const [remove] = describeDecision(restored).undoSteps;

    expect(put?.call).toEqual({
      api: "elasticfilesystem:PutFileSystemPolicy",
      params: { FileSystemId: "fs-0123", Policy: synthetic.efsPolicyBefore.policy },
    });
    expect(put?.command).toBe(
      `aws efs put-file-system-policy --region eu-west-1 --file-system-id fs-0123 --policy '${synthetic.efsPolicyBefore.policy}'`,
    );
    expect(remove?.command).toBe(
      "aws efs delete-file-system-policy --region eu-west-1 --file-system-id fs-0123",
    );
    expect(remove?.call).toEqual({
      api: "elasticfilesystem:DeleteFileSystemPolicy",
      params: { FileSystemId: "fs-0123" },
    });
  });

  it("puts a mount target's previous groups back, and tags its file system to exempt it", () => {
    const record = auditRecord({
      resource: "fsmt-0123",
      before: synthetic.mountTargetBefore,
      plan: [
        {
          api: "elasticfilesystem:ModifyMountTargetSecurityGroups",
          params: { MountTargetId: "fsmt-0123", SecurityGroups: ["sg-private"] },
          reason: "restore",
        },
      ],
    });

    const content = describeDecision(record);

    expect(content.undo[0]).toContain(
      "aws efs modify-mount-target-security-groups --region eu-west-1 --mount-target-id fsmt-0123 --security-groups sg-open",
    );
    expect(content.consoleUrl).toBe(
      "https://console.aws.amazon.com/efs/home?region=eu-west-1#/file-systems/fs-0123",
    );
    expect(content.nextSteps[0]).toContain("exempt its file system");
    expect(content.nextSteps[0]).toContain("aws efs tag-resource --region eu-west-1 --resource-id fs-0123");
  });

  it("re-creates a deleted S3 Files access point with its settings, in the service's camelCase", () => {
    const record = auditRecord({
      resource: synthetic.accessPointBefore.accessPointArn,
      before: synthetic.accessPointBefore,
      plan: [{ api: "s3files:DeleteAccessPoint", params: { accessPointId: "fsap-0123" }, reason: "delete" }],
    });

    const [step] = describeDecision(record).undoSteps;

    expect(step?.call).toEqual({
      api: "s3files:CreateAccessPoint",
      params: {
        fileSystemId: "fs-0123",
        posixUser: { uid: 0, gid: 0 },
        rootDirectory: { path: "/", creationPermissions: { ownerUid: 0, ownerGid: 0, permissions: "777" } },
      },
    });
    expect(step?.command).toContain(
      "aws s3files create-access-point --region eu-west-1 --file-system-id fs-0123",
    );
    expect(step?.text).toContain("new id");
  });

  it.each([
    [{ outcome: "notified", mode: "notify", after: null }, "Unsafe, not reverted", "unchanged (notify mode)"],
    [{ outcome: "dry-run", after: null }, "Would revert", "unchanged (dry-run)"],
    [{ verdict: "exempted", outcome: "notified", after: null }, "Exempted", "unchanged (exempted)"],
  ] as const)("never shows %j as a deletion of the state", (overrides, verb, unchanged) => {
    const content = describeDecision(auditRecord({ ...overrides, requestIds: [] }));

    expect(content.subject).toContain(verb);
    expect(content.diff).toEqual([unchanged]);
    expect(renderPlainText(content)).not.toMatch(/-> null|\(state\)/);
    expect(content.undo).toEqual(["Nothing was changed: nothing to undo."]);
  });

  it("says a failed revert may have left the resource unsafe, and what to do", () => {
    const record = auditRecord({
      verdict: "failed",
      outcome: "failed",
      after: null,
      requestIds: [],
      error: "UnauthorizedOperation: not allowed to revoke",
    });

    const content = describeDecision(record);

    expect(content.subject).toContain("FAILED to revert");
    expect(content.headline).toContain("the resource may still be unsafe");
    expect(content.nextSteps[0]).toBe(
      "The resource may still be unsafe: UnauthorizedOperation: not allowed to revoke",
    );
    expect(content.nextSteps[1]).toContain(content.consoleUrl ?? "no console link");
    expect(content.diff).toEqual(["unchanged (nothing was run)"]);
  });

  it("words a sweep finding as the scheduled check's, never as a change by an unknown caller", () => {
    const record = auditRecord({
      eventId: "reconcile:run-1:efs:fs-0123:policy",
      eventName: "Reconcile",
      eventSource: "elasticfilesystem.amazonaws.com",
      actor: undefined,
      sourceIp: undefined,
      userAgent: undefined,
      resource: "arn:aws:elasticfilesystem:eu-west-1:111122223333:file-system/fs-0123",
      rules: ["fs-policy-public-access"],
      findings: [{ rule: "fs-policy-public-access", severity: "critical", message: "public" }],
      outcome: "notified",
      mode: "notify",
      after: null,
      requestIds: [],
      plan: [],
    });

    const content = describeDecision(record);
    const text = renderPlainText(content);

    expect(content.trigger).toBe("sweep");
    expect(content.subject).toBe(
      "[CRITICAL] Unsafe, not reverted (scheduled check): fs-0123 breaks fs-policy-public-access",
    );
    expect(content.headline).toMatch(/^Found by the scheduled check: fs-0123 breaks fs-policy-public-access/);
    expect(text).not.toMatch(/unknown caller|Reconcile .* by/);
    expect(Object.fromEntries(content.facts)["Found by"]).toContain("scheduled check");
  });

  it.each([
    [
      "us-gov-west-1",
      "https://console.amazonaws-us-gov.com/ec2/home?region=us-gov-west-1#SecurityGroup:groupId=sg-1",
    ],
    ["cn-north-1", "https://console.amazonaws.cn/ec2/home?region=cn-north-1#SecurityGroup:groupId=sg-1"],
  ])("links to the console of the partition of %s", (region, url) => {
    const partition = region.startsWith("cn-") ? "aws-cn" : "aws-us-gov";
    const record = auditRecord({
      region,
      resource: `arn:${partition}:ec2:${region}:111122223333:security-group/sg-1`,
    });

    expect(describeDecision(record).consoleUrl).toBe(url);
  });

  it("keeps every subject ASCII, on one line and at most 99 characters", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", maxLength: 300 }),
        fc.string({ maxLength: 300 }),
        (name, actor) => {
          const subject = describeDecision(auditRecord({ eventName: name, actor, resource: name })).subject;
          expect(subject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
          expect(subject).toMatch(/^[\x20-\x7e]*$/);
        },
      ),
    );
  });

  it("renders plain text with every section", () => {
    const text = renderPlainText(describeDecision(auditRecord()));

    for (const heading of [
      "Findings",
      "Why these rules exist",
      "What was done",
      "Change (before -> after)",
      "What to do now",
      "How to undo",
    ]) {
      expect(text).toContain(`\n${heading}\n`);
    }
  });
});

describe("shellQuote", () => {
  it("hands any text to the shell unchanged", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40 }).filter((t) => !t.includes("\u0000")),
        (text) => {
          expect(execFileSync("sh", ["-c", `printf %s ${shellQuote(text)}`], { encoding: "utf8" })).toBe(
            text,
          );
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe("names and defaults", () => {
  it("shortens ARNs for subjects", () => {
    expect(shortResource("arn:aws:elasticfilesystem:eu-west-1:1:access-point/fsap-1")).toBe("fsap-1");
    expect(shortResource("sg-1")).toBe("sg-1");
    expect(shortActor("arn:aws:iam::111122223333:user/ops/alice")).toBe("alice");
    expect(shortActor("arn:aws:sts::111122223333:assumed-role/DevOps/alice")).toBe("DevOps/alice");
    expect(shortActor(undefined)).toBe("unknown caller");
    expect(asciiSubject("a→b…\nc")).toBe("a->b... c");
  });

  it("notifies violations, exemptions and failures by default", () => {
    expect(DEFAULT_NOTIFY_VERDICTS).toEqual(["violation", "exempted", "failed"]);
  });
});

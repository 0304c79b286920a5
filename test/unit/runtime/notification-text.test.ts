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
      '- rules[SecurityGroupRuleId=sgr-0aaa1111]: {"SecurityGroupRuleId":"sgr-0aaa1111","IpProtocol":"tcp","FromPort":2049,"ToPort":2049,"CidrIpv4":"0.0.0.0/0"}',
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

describe("describeDecision", () => {
  it("says who changed what, from where, which rule, what was done and how to undo it", () => {
    const content = describeDecision(auditRecord());

    expect(content.subject).toBe(
      "[CRITICAL] Reverted: AuthorizeSecurityGroupIngress on sg-0a1b2c3d4e5f60718 by DevOps/alice",
    );
    expect(content.headline).toBe(
      "DevOps/alice's AuthorizeSecurityGroupIngress on sg-0a1b2c3d4e5f60718 broke sg-ingress-internet-sensitive-port; the remediator reverted it and verified the result.",
    );
    expect(Object.fromEntries(content.facts)).toMatchObject({
      Who: "arn:aws:sts::111122223333:assumed-role/DevOps/alice",
      "Source IP": "203.0.113.7",
      "User agent": "aws-cli/2.22.1 md/Botocore#1.35.1 ua/2.0 os/linux",
      Rules: "sg-ingress-internet-sensitive-port",
      "Verdict / outcome": "violation / remediated (mode enforce)",
    });
    expect(content.actions[0]).toMatch(/^ran: ec2:RevokeSecurityGroupIngress \{"GroupId"/);
    expect(content.undo).toEqual([
      `aws ec2 authorize-security-group-ingress --group-id sg-0a1b2c3d4e5f60718 --ip-permissions '[{"IpProtocol":"tcp","FromPort":2049,"ToPort":2049,"IpRanges":[{"CidrIp":"0.0.0.0/0"}]}]'`,
      "Add an exemption for sg-0a1b2c3d4e5f60718 (rule sg-ingress-internet-sensitive-port) to the remediator configuration first, or the guardrail will revert the change again.",
    ]);
  });

  it("gives the exact re-authorize command when the revoke named IpPermissions", () => {
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
      `aws ec2 authorize-security-group-ingress --group-id sg-1 --ip-permissions '${JSON.stringify(permissions)}'`,
    );
  });

  it("explains how to put a narrowed policy back", () => {
    const record = auditRecord({
      plan: [{ api: "efs:PutFileSystemPolicy", params: { FileSystemId: "fs-0123" }, reason: "narrow" }],
    });

    expect(describeDecision(record).undo[0]).toContain(
      "aws efs put-file-system-policy --file-system-id fs-0123 --policy file://previous-policy.json",
    );
  });

  it.each([
    [
      { outcome: "notified", mode: "notify" },
      "Unsafe change",
      "not reverted (mode notify)",
      "Nothing was changed.",
    ],
    [{ outcome: "dry-run" }, "Would revert", "dry-run", "Nothing was changed. The planned step(s)"],
    [
      { verdict: "exempted", outcome: "notified" },
      "Exempted",
      "the resource is exempted",
      "Nothing was changed.",
    ],
    [{ outcome: "failed", requestIds: [] }, "FAILED to revert", "FAILED", "Nothing was changed."],
  ] as const)("describes %j", (overrides, verb, headline, undo) => {
    const content = describeDecision(auditRecord(overrides));

    expect(content.subject).toContain(verb);
    expect(content.headline).toContain(headline);
    expect(content.undo[0]).toContain(undo);
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

    for (const heading of ["Findings", "What was done", "Change (before -> after)", "How to undo"]) {
      expect(text).toContain(`\n${heading}\n`);
    }
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

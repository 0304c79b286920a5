/**
 * Synthetic audit records for unit tests: a violation that each test varies. The states are in
 * the shape the pipeline records (`live-state.ts` snapshots); an integration test runs the real
 * pipeline against moto_server and checks its record has this very shape.
 */
import type { AuditRecord } from "../../shared/runtime/ports.ts";

export const SG_ARN = "arn:aws:ec2:eu-west-1:111122223333:security-group/sg-0a1b2c3d4e5f60718";
export const ALICE = "arn:aws:sts::111122223333:assumed-role/DevOps/alice";

/** A security-group rule opened NFS to the world and the remediator revoked it. */
export function auditRecord(overrides: Partial<AuditRecord> = {}): AuditRecord {
  return {
    eventId: "4b8e1c3a-2f6d-4e7a-9b1c-0d2e3f4a5b6c",
    eventTime: "2026-11-20T09:59:58Z",
    decidedAt: "2026-11-20T10:00:01.250Z",
    account: "111122223333",
    region: "eu-west-1",
    actor: ALICE,
    sourceIp: "203.0.113.7",
    userAgent: "aws-cli/2.22.1 md/Botocore#1.35.1 ua/2.0 os/linux",
    eventName: "AuthorizeSecurityGroupIngress",
    eventSource: "ec2.amazonaws.com",
    resource: SG_ARN,
    rules: ["sg-ingress-internet-sensitive-port"],
    verdict: "violation",
    mode: "enforce",
    findings: [
      {
        rule: "sg-ingress-internet-sensitive-port",
        severity: "critical",
        message:
          "sg-0a1b2c3d4e5f60718 [sgr-0aaa1111] ingress tcp/2049 from 0.0.0.0/0 exposes 2049 (NFS) to the internet",
      },
    ],
    // The shape `live-state.ts` snapshots a group's rules in (checked against a real run in
    // test/integration/runtime/alert-undo.test.ts).
    before: {
      groupId: "sg-0a1b2c3d4e5f60718",
      rules: [
        {
          ruleId: "sgr-0aaa1111",
          direction: "ingress",
          protocol: "tcp",
          fromPort: 2049,
          toPort: 2049,
          peer: "0.0.0.0/0",
        },
        {
          ruleId: "sgr-0bbb2222",
          direction: "ingress",
          protocol: "tcp",
          fromPort: 2049,
          toPort: 2049,
          peer: "10.0.0.0/16",
        },
      ],
    },
    plan: [
      {
        api: "ec2:RevokeSecurityGroupIngress",
        params: { GroupId: "sg-0a1b2c3d4e5f60718", SecurityGroupRuleIds: ["sgr-0aaa1111"] },
        reason: "revoke only the rule that admits the internet to a sensitive port",
      },
    ],
    after: {
      groupId: "sg-0a1b2c3d4e5f60718",
      rules: [
        {
          ruleId: "sgr-0bbb2222",
          direction: "ingress",
          protocol: "tcp",
          fromPort: 2049,
          toPort: 2049,
          peer: "10.0.0.0/16",
        },
      ],
    },
    outcome: "remediated",
    requestIds: ["a1b2c3d4-5678-90ab-cdef-111111111111"],
    error: undefined,
    reason: "1 finding(s); the offending rule was revoked and the group read back compliant.",
    ...overrides,
  };
}

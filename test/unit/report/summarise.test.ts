/** The report's figures, computed from audit records: counts, breakdowns, time to remediate, exemptions. */
import { describe, expect, it } from "vitest";
import { escapeHtml, renderHtml } from "../../../cli/report/render-html.ts";
import { cell, renderMarkdown } from "../../../cli/report/render-markdown.ts";
import { percentile, ReportBuilder } from "../../../cli/report/summarise.ts";
import type { StoredAuditRecord } from "../../../shared/adapters/audit-dynamodb.ts";
import { evaluateRecord } from "../../../shared/core/judge.ts";
import { auditRecord } from "../../helpers/audit-records.ts";
import { loadFixture, testConfig } from "../../helpers/fixtures.ts";

const stored = (overrides: Parameters<typeof auditRecord>[0] = {}): StoredAuditRecord => ({
  ...auditRecord(overrides),
  recordedAt: "2026-11-20T10:00:02.000Z",
  truncated: [],
});

const PERIOD = {
  since: new Date("2026-11-20T00:00:00.000Z"),
  until: new Date("2026-11-21T00:00:00.000Z"),
  generatedAt: new Date("2026-11-21T08:00:00.000Z"),
  table: "audit",
};

describe("percentile (nearest rank)", () => {
  it("takes the smallest value with at least p % at or below it", () => {
    const values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(values, 50)).toBe(5);
    expect(percentile(values, 90)).toBe(9);
    expect(percentile(values, 100)).toBe(10);
    expect(percentile([7], 90)).toBe(7);
    expect(percentile([], 50)).toBeNull();
  });
});

describe("ReportBuilder", () => {
  it("counts verdicts and outcomes, and times each remediation from the CloudTrail event to the verified revert", () => {
    const builder = new ReportBuilder(PERIOD);
    builder.add(
      stored({ eventId: "a", eventTime: "2026-11-20T10:00:00Z", decidedAt: "2026-11-20T10:00:01.000Z" }),
    );
    builder.add(
      stored({ eventId: "b", eventTime: "2026-11-20T11:00:00Z", decidedAt: "2026-11-20T11:00:03.000Z" }),
    );
    builder.add(
      stored({ eventId: "c", eventTime: "2026-11-20T12:00:00Z", decidedAt: "2026-11-20T12:01:00.000Z" }),
    );
    builder.add(
      stored({
        eventId: "d",
        verdict: "compliant",
        outcome: "already-compliant",
        rules: [],
        findings: [],
        plan: [],
      }),
    );

    const report = builder.build();

    expect(report.totals.records).toBe(4);
    expect(report.totals.byVerdict).toMatchObject({ violation: 3, compliant: 1, failed: 0 });
    expect(report.totals.byOutcome).toMatchObject({ remediated: 3, "already-compliant": 1 });
    expect(report.timeToRemediate).toEqual({ count: 3, p50Ms: 3000, p90Ms: 60_000, maxMs: 60_000 });
    expect(report.remediations.map((r) => r.eventId)).toEqual(["c", "b", "a"]);
    expect(report.remediations[0]?.diff).toEqual([
      '- rules[SecurityGroupRuleId=sgr-0aaa1111]: {"SecurityGroupRuleId":"sgr-0aaa1111","IpProtocol":"tcp","FromPort":2049,"ToPort":2049,"CidrIpv4":"0.0.0.0/0"}',
    ]);
    expect(report.overTime.bucket).toBe("hour");
    expect(report.overTime.buckets).toHaveLength(24);
    expect(report.overTime.buckets[10]?.counts.violation).toBe(1);
  });

  it("breaks down by rule, account and actor, most findings first", () => {
    const builder = new ReportBuilder(PERIOD);
    builder.add(stored({ eventId: "a" }));
    builder.add(
      stored({ eventId: "b", account: "444455556666", actor: "arn:aws:iam::444455556666:user/bob" }),
    );
    builder.add(
      stored({
        eventId: "c",
        rules: ["fs-policy-public-access", "fs-policy-tls-not-enforced"],
        verdict: "failed",
        outcome: "failed",
      }),
    );

    const report = builder.build();

    expect(report.byRule.map((r) => [r.key, r.records, r.remediated, r.failed])).toEqual([
      ["sg-ingress-internet-sensitive-port", 2, 2, 0],
      ["fs-policy-public-access", 1, 0, 1],
      ["fs-policy-tls-not-enforced", 1, 0, 1],
    ]);
    expect(report.byAccount.map((r) => [r.key, r.records])).toEqual([
      ["111122223333", 2],
      ["444455556666", 1],
    ]);
    expect(report.byActor[0]).toMatchObject({
      key: "arn:aws:sts::111122223333:assumed-role/DevOps/alice",
      records: 2,
    });
    // A failed revert is listed as a remediation, with no time to remediate.
    expect(report.remediations.find((r) => r.eventId === "c")?.timeToRemediateMs).toBeNull();
    expect(report.timeToRemediate.count).toBe(2);
  });

  it("keeps only the accounts and rules asked for", () => {
    const builder = new ReportBuilder({
      ...PERIOD,
      accounts: ["444455556666"],
      rules: ["sg-ingress-internet-sensitive-port"],
    });
    builder.add(stored({ eventId: "a" }));
    builder.add(stored({ eventId: "b", account: "444455556666" }));
    builder.add(stored({ eventId: "c", account: "444455556666", rules: ["fs-policy-public-access"] }));

    expect(builder.build().remediations.map((r) => r.eventId)).toEqual(["b"]);
  });

  it("lists the exemptions in force: the exempted decisions of the ledger and the configured ones", () => {
    // The reason as the engine words it for an exempted violation, from a real CloudTrail record.
    const config = testConfig({
      exemptions: [
        {
          resource: "sg-0a1b2c3d4e5f60718",
          reason: "migration window",
          owner: "data-team@example.com",
          expires: "2026-12-31",
        },
        { account: "444455556666", reason: "sandbox", owner: "platform", expires: "2026-11-01" },
        { account: "777788889999", reason: "lab", owner: "research", expires: "2027-01-31" },
      ],
    });
    const raw = loadFixture("ec2-AuthorizeSecurityGroupIngress-panther-go-sdk-ssh-world.json") as {
      requestParameters: { groupId: string };
    };
    raw.requestParameters.groupId = "sg-0a1b2c3d4e5f60718";
    const evaluation = evaluateRecord(raw, { config, now: new Date("2026-11-20T00:00:00Z") });
    expect(evaluation.exemption).toBeDefined();
    const builder = new ReportBuilder({ ...PERIOD, configuredExemptions: config.exemptions });
    builder.add(
      stored({ eventId: "x", verdict: "exempted", outcome: "notified", plan: [], reason: evaluation.reason }),
    );
    builder.add(
      stored({
        eventId: "y",
        decidedAt: "2026-11-20T15:00:00.000Z",
        verdict: "exempted",
        outcome: "notified",
        plan: [],
        reason: evaluation.reason,
      }),
    );

    const { exemptions } = builder.build();

    expect(exemptions).toEqual([
      expect.objectContaining({
        source: "configuration",
        scope: "sg-0a1b2c3d4e5f60718",
        owner: "data-team@example.com",
      }),
      expect.objectContaining({ source: "configuration", scope: "account 777788889999", rules: "all" }),
      {
        source: "ledger",
        scope: auditRecord().resource,
        rules: ["sg-ingress-internet-sensitive-port"],
        owner: "data-team@example.com",
        expires: "2026-12-31",
        reason: "migration window",
        exercised: 2,
        lastExercised: "2026-11-20T15:00:00.000Z",
      },
    ]);
  });
});

describe("rendering", () => {
  const hostile = stored({
    eventId: "<script>alert(1)</script>",
    actor: 'arn:aws:iam::111122223333:user/"><img src=x onerror=alert(1)>',
    resource: "sg-1|2",
  });

  it("HTML escapes every value from the ledger and fetches nothing", () => {
    const builder = new ReportBuilder(PERIOD);
    builder.add(hostile);
    const html = renderHtml(builder.build());

    expect(html).not.toContain("<script");
    expect(html).not.toContain("<img");
    expect(html).toContain(escapeHtml("<script>alert(1)</script>"));
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
    // No URL a browser would fetch: only the SVG namespace, which is never requested.
    // Attribute values are escaped text: what is left of each tag names no source to load.
    const tags = html.replace(/="[^"]*"/g, '=""');
    expect(
      tags.match(/<[^>]*\s(?:src|href)=|url\(|@import|https?:\/\/(?!www\.w3\.org\/2000\/svg)/g),
    ).toBeNull();
  });

  it("Markdown keeps caller text inside its table cell", () => {
    expect(cell("a|b\nc")).toBe("a\\|b c");
    const builder = new ReportBuilder(PERIOD);
    builder.add(hostile);
    const markdown = renderMarkdown(builder.build());
    expect(markdown).toContain(
      '| arn:aws:iam::111122223333:user/"&gt;&lt;img src=x onerror=alert(1)&gt; | 1 |',
    );
    expect(markdown).toContain("- CloudTrail event `<script>alert(1)</script>`");
  });
});

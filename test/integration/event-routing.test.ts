/**
 * End-to-end routing on moto_server's EventBridge with the synthesized rules: the central stack's
 * rules (default bus and organization intake bus) are created in the emulator with their exact event
 * patterns, each targeting an SQS queue. Every judged CloudTrail event still reaches the queue; an
 * event with a custom `source` (anyone allowed to `PutEvents` on the bus can send one) reaches none;
 * and an event whose envelope account or region disagrees with its record is recorded `invalid`.
 *
 * The records are a real CloudTrail record (a world-open SSH rule, from the fixtures) under each
 * judged event source and name (routing reads only those two fields and the envelope).
 */
import { randomUUID } from "node:crypto";
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
  PutRuleCommand,
  PutTargetsCommand,
} from "@aws-sdk/client-eventbridge";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CENTRAL_STACK_ID } from "../../infra/app.ts";
import { intakeRecord, JUDGED_EVENTS } from "../../shared/core/intake/intake.ts";
import { loadFixture } from "../helpers/fixtures.ts";
import type { Moto } from "../helpers/moto.ts";
import { startMoto } from "../helpers/moto.ts";
import { ORG_CONTEXT, synthesize, type TemplateJson } from "../infra/synth.ts";

const REAL_RECORD = loadFixture("ec2-AuthorizeSecurityGroupIngress-panther-go-sdk-ssh-world.json");
const ACCOUNT = REAL_RECORD.recipientAccountId as string;
const REGION = REAL_RECORD.awsRegion as string;
const INTAKE_BUS = "s3files-remediator-intake";

let moto: Moto;
let events: EventBridgeClient;
let sqs: SQSClient;
let queueUrl: string;
let ruleCount = 0;

interface SyntheticEvent {
  readonly source: string;
  readonly detail: Record<string, unknown>;
  readonly bus?: string;
}

/** The real record, as if it were the given call (a fresh eventID each time). */
function recordOf(eventSource: string, eventName: string): Record<string, unknown> {
  return { ...REAL_RECORD, eventSource, eventName, eventID: randomUUID() };
}

const awsSourceOf = (eventSource: string) => `aws.${eventSource.split(".")[0]}`;

async function put(entries: readonly SyntheticEvent[]): Promise<void> {
  for (let i = 0; i < entries.length; i += 10) {
    const batch: PutEventsRequestEntry[] = entries.slice(i, i + 10).map((e) => ({
      Source: e.source,
      DetailType: "AWS API Call via CloudTrail",
      Detail: JSON.stringify(e.detail),
      EventBusName: e.bus,
    }));
    const answer = await events.send(new PutEventsCommand({ Entries: batch }));
    expect(answer.FailedEntryCount ?? 0).toBe(0);
  }
}

/** Every message now in the queue (moto delivers synchronously), each read once. */
async function drain(): Promise<Record<string, unknown>[]> {
  const bodies: Record<string, unknown>[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) return bodies;
    for (const m of Messages) bodies.push(JSON.parse(m.Body ?? "{}") as Record<string, unknown>);
  }
}

beforeAll(async () => {
  const template = synthesize(ORG_CONTEXT).templates[CENTRAL_STACK_ID] as TemplateJson;
  moto = await startMoto({ region: REGION });
  events = new EventBridgeClient(moto.clientConfig);
  sqs = new SQSClient(moto.clientConfig);
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "intake" }))).QueueUrl as string;
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }),
  );
  await events.send(new CreateEventBusCommand({ Name: INTAKE_BUS }));

  // The rules that feed the intake queue, with their patterns exactly as synthesized.
  const intakeQueueId = Object.entries(template.Resources).find(
    ([, r]) => r.Type === "AWS::SQS::Queue" && r.Properties?.QueueName === "s3files-remediator-intake",
  )?.[0];
  for (const [id, rule] of Object.entries(template.Resources)) {
    if (rule.Type !== "AWS::Events::Rule") continue;
    const targets = (rule.Properties?.Targets ?? []) as { Arn: unknown }[];
    if (!targets.some((t) => JSON.stringify(t.Arn).includes(`"${intakeQueueId}"`))) continue;
    const bus = rule.Properties?.EventBusName ? INTAKE_BUS : undefined;
    await events.send(
      new PutRuleCommand({
        Name: String(rule.Properties?.Name ?? id),
        EventBusName: bus,
        EventPattern: JSON.stringify(rule.Properties?.EventPattern),
      }),
    );
    await events.send(
      new PutTargetsCommand({
        Rule: String(rule.Properties?.Name ?? id),
        EventBusName: bus,
        Targets: [{ Id: "intake", Arn: Attributes?.QueueArn }],
      }),
    );
    ruleCount += 1;
  }
}, 180_000);

afterAll(async () => {
  await moto?.stop();
});

/** moto delivers each event to SQS in-line: slow on a loaded machine, never a timed assertion. */
const MOTO_TIMEOUT_MS = 180_000;

const judged = Object.entries(JUDGED_EVENTS).flatMap(([source, names]) =>
  names.map((name) => [source, name] as const),
);

describe("routing with the synthesized rules on moto's EventBridge", () => {
  it("creates every routing rule of both buses", () => {
    // One rule per judged event source, on the default bus and on the organization intake bus.
    expect(ruleCount).toBe(2 * Object.keys(JUDGED_EVENTS).length);
  });

  it(
    "delivers every judged CloudTrail event, from either bus, to the intake queue",
    async () => {
      await drain();
      const genuine = judged.flatMap(([eventSource, eventName]) =>
        [undefined, INTAKE_BUS].map((bus) => ({
          source: awsSourceOf(eventSource),
          detail: recordOf(eventSource, eventName),
          bus,
        })),
      );
      await put(genuine);
      const delivered = await drain();
      expect(delivered).toHaveLength(genuine.length);
      const ids = delivered.map((b) => (b.detail as { eventID: string }).eventID).sort();
      expect(ids).toEqual(genuine.map((e) => e.detail.eventID as string).sort());
    },
    MOTO_TIMEOUT_MS,
  );

  it(
    "delivers no event with a custom source, whatever record it carries",
    async () => {
      await drain();
      const forged = judged.flatMap(([eventSource, eventName]) =>
        [undefined, INTAKE_BUS].flatMap((bus) =>
          ["com.example.forged", "awsx.ec2", "ec2.amazonaws.com"].map((source) => ({
            source,
            detail: recordOf(eventSource, eventName),
            bus,
          })),
        ),
      );
      await put(forged);
      expect(await drain()).toEqual([]);
    },
    MOTO_TIMEOUT_MS,
  );

  it(
    "records as invalid an event whose envelope account or region disagrees with its record",
    async () => {
      await drain();
      const eventSource = REAL_RECORD.eventSource as string;
      const eventName = REAL_RECORD.eventName as string;
      // A principal of another account puts a record that names this one, and one naming another region.
      const otherAccount = { ...recordOf(eventSource, eventName), recipientAccountId: "999988887777" };
      const otherRegion = { ...recordOf(eventSource, eventName), awsRegion: "eu-west-1" };
      await put([
        { source: awsSourceOf(eventSource), detail: otherAccount, bus: INTAKE_BUS },
        { source: awsSourceOf(eventSource), detail: otherRegion },
      ]);
      // Routing cannot compare the envelope with the record: both arrive. EventBridge stamps `account`
      // (the sender's) and `region` on every event; moto stamps only `region`, so the test stamps the
      // account as EventBridge would.
      const delivered: Record<string, unknown>[] = (await drain()).map((body) => ({
        ...body,
        account: ACCOUNT,
      }));
      expect(delivered).toHaveLength(2);
      const results = delivered.map((body) => intakeRecord(body, { selfRoleArns: [] }));
      expect(results.map((r) => r.status)).toEqual(["invalid", "invalid"]);
      const errors = results.map((r) => (r.status === "invalid" ? r.error : "")).sort();
      expect(errors[0]).toMatch(
        new RegExp(`account ${ACCOUNT} disagrees with the record's recipientAccountId 999988887777`),
      );
      expect(errors[1]).toMatch(
        new RegExp(`region ${REGION} disagrees with the record's awsRegion eu-west-1`),
      );
      // And the same records with agreeing envelopes are judged, not refused.
      const agreeing = delivered.map((body) => ({
        ...body,
        account: (body.detail as { recipientAccountId: string }).recipientAccountId,
        region: (body.detail as { awsRegion: string }).awsRegion,
      }));
      for (const body of agreeing) expect(intakeRecord(body, { selfRoleArns: [] }).status).toBe("change");
    },
    MOTO_TIMEOUT_MS,
  );
});

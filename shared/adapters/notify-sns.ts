/**
 * The notification for people: one SNS message per decision, with a subject an inbox can sort and a
 * plain-text body that says who changed what, from where, which rule fired, what was done, the
 * before/after difference and how to undo it.
 */
import { createHash } from "node:crypto";
import { type MessageAttributeValue, PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import { describeDecision, maxSeverity, renderPlainText } from "../runtime/notification-text.ts";
import { type AuditRecord, decisionIdOf, type Notifier } from "../runtime/ports.ts";

export interface SnsNotifierOptions {
  /** The topic people (e-mail, chat bridges, ticketing) subscribe to. A `.fifo` topic is supported. */
  readonly topicArn: string;
}

/** SNS messages are at most 256 KB; leave room for the attributes. */
const MAX_BODY_BYTES = 240_000;

function clipBody(body: string): string {
  const bytes = Buffer.from(body, "utf8");
  if (bytes.length <= MAX_BODY_BYTES) return body;
  // Cutting a Buffer may split a character; the decoder replaces the stray bytes, which is harmless.
  return `${bytes.subarray(0, MAX_BODY_BYTES).toString("utf8")}\n… (cut to fit SNS; the audit record has everything)\n`;
}

export class SnsNotifier implements Notifier {
  readonly name = "sns";
  readonly #client: SNSClient;
  readonly #topicArn: string;

  constructor(client: SNSClient, options: SnsNotifierOptions) {
    this.#client = client;
    this.#topicArn = options.topicArn;
  }

  async notify(record: AuditRecord): Promise<void> {
    const content = describeDecision(record);
    const decisionId = decisionIdOf(record);
    const attributes: Record<string, MessageAttributeValue> = {
      // The same for every copy of this decision (notifications are at least once): dedupe on it.
      decisionId: { DataType: "String", StringValue: decisionId },
      verdict: { DataType: "String", StringValue: record.verdict },
      outcome: { DataType: "String", StringValue: record.outcome },
    };
    // Attributes let subscribers filter (e.g. only critical, only failed) with a filter policy.
    const severity = maxSeverity(record);
    if (severity) attributes.severity = { DataType: "String", StringValue: severity };
    if (record.account) attributes.account = { DataType: "String", StringValue: record.account };
    if (record.rules.length > 0) {
      attributes.rules = { DataType: "String.Array", StringValue: JSON.stringify(record.rules) };
    }
    const fifo = this.#topicArn.endsWith(".fifo");
    await this.#client.send(
      new PublishCommand({
        TopicArn: this.#topicArn,
        Subject: content.subject,
        Message: clipBody(`${renderPlainText(content)}\nDecision id: ${decisionId}\n`),
        MessageAttributes: attributes,
        // On a FIFO topic SNS itself drops a second publish of the same decision within 5 minutes.
        ...(fifo
          ? {
              MessageGroupId: (record.resource ?? record.eventId).slice(0, 128),
              MessageDeduplicationId: createHash("sha256").update(decisionId).digest("hex"),
            }
          : {}),
      }),
    );
  }
}

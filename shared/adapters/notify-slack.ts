/**
 * A Slack message per decision through an incoming webhook. The webhook URL is a credential (anyone
 * holding it can post to the channel), so it lives in Secrets Manager, never in the environment:
 * read on first use and cached for the life of the execution environment.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { RemediatorError } from "../core/errors.ts";
import { describeDecision, type NotificationContent } from "../runtime/notification-text.ts";
import { type AuditRecord, decisionIdOf, type Notifier } from "../runtime/ports.ts";

export interface SlackNotifierOptions {
  /** Name or ARN of the secret: the webhook URL itself, or JSON `{"webhookUrl": "https://hooks.slack.com/…"}`. */
  readonly secretId: string;
  /** Injected for tests; the global `fetch` otherwise. */
  readonly fetch?: typeof fetch;
  /** How long one POST may take before it counts as failed. */
  readonly timeoutMs?: number;
}

/** Slack limits: section text 3,000 characters, header 150. */
const MAX_SECTION = 2900;
const MAX_HEADER = 150;

/** Slack mrkdwn treats these three as control characters; everything else from the record is literal. */
function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * The region of a secret named by its ARN (full or partial), where its client must be built;
 * undefined for a bare name, which lives in the function's own region.
 */
export function secretRegion(secretId: string): string | undefined {
  return /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):\d{12}:secret:./.exec(secretId)?.[1];
}

/** Reads the webhook URL out of the secret's text. */
export function webhookUrlFromSecret(secret: string): string {
  let candidate = secret.trim();
  if (candidate.startsWith("{")) {
    const parsed = JSON.parse(candidate) as Record<string, unknown>;
    const value = parsed.webhookUrl ?? parsed.url ?? parsed.webhook_url;
    if (typeof value !== "string") throw new Error('the Slack secret is JSON without a "webhookUrl" string');
    candidate = value.trim();
  }
  const url = new URL(candidate);
  // Plain http only to a loopback address (local tests); a real webhook is always https.
  const loopback = url.hostname === "127.0.0.1" || url.hostname === "localhost" || url.hostname === "[::1]";
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
    throw new Error(`the Slack webhook URL must be https, got ${url.protocol}`);
  }
  return url.toString();
}

/**
 * The Block Kit message for one decision, from the same content as the SNS body. With a decision
 * id, the fallback text ends with it: the same for every copy of the decision, to deduplicate on.
 */
export function slackMessage(content: NotificationContent, decisionId?: string): Record<string, unknown> {
  const section = (text: string) => ({
    type: "section",
    text: { type: "mrkdwn", text: clip(text, MAX_SECTION) },
  });
  const code = (lines: readonly string[], empty: string) =>
    lines.length > 0 ? `\`\`\`${clip(escapeMrkdwn(lines.join("\n")), MAX_SECTION - 10)}\`\`\`` : `_${empty}_`;
  const facts = content.facts.map(([label, value]) => `*${escapeMrkdwn(label)}:* ${escapeMrkdwn(value)}`);
  return {
    // `text` is the fallback shown in notifications and by clients that cannot render blocks.
    text: decisionId ? `${content.subject} [decision ${decisionId}]` : content.subject,
    blocks: [
      { type: "header", text: { type: "plain_text", text: clip(content.subject, MAX_HEADER) } },
      section(escapeMrkdwn(content.headline)),
      section(facts.join("\n")),
      section(
        `*Findings*\n${content.findings.length > 0 ? content.findings.map((f) => `• ${escapeMrkdwn(f)}`).join("\n") : "_none_"}`,
      ),
      section(`*What was done*\n${code(content.actions, "no API call")}`),
      section(`*Change (before → after)*\n${code(content.diff, "no difference")}`),
      section(`*How to undo*\n${code(content.undo, "nothing to undo")}`),
    ],
  };
}

export class SlackNotifier implements Notifier {
  readonly name = "slack";
  readonly #secrets: SecretsManagerClient;
  readonly #secretId: string;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;
  #url: Promise<string> | undefined;

  constructor(client: SecretsManagerClient, options: SlackNotifierOptions) {
    this.#secrets = client;
    this.#secretId = options.secretId;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#timeoutMs = options.timeoutMs ?? 5000;
  }

  /** The webhook URL, fetched once; a failed read is not cached, so the next decision tries again. */
  #webhookUrl(): Promise<string> {
    this.#url ??= this.#secrets
      .send(new GetSecretValueCommand({ SecretId: this.#secretId }))
      .then((answer) => {
        if (answer.SecretString === undefined) throw new Error(`secret ${this.#secretId} holds no text`);
        return webhookUrlFromSecret(answer.SecretString);
      })
      .catch((error: unknown) => {
        this.#url = undefined;
        throw error;
      });
    return this.#url;
  }

  async notify(record: AuditRecord): Promise<void> {
    const url = await this.#webhookUrl();
    let response: Response;
    try {
      response = await this.#fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(slackMessage(describeDecision(record), decisionIdOf(record))),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      // No answer (timeout, refused or dropped connection): worth another try.
      throw new RemediatorError(`Slack webhook unreachable: ${(error as Error).message}`, {
        retryable: true,
        cause: error,
      });
    }
    if (!response.ok) {
      const body = clip(await response.text().catch(() => ""), 200);
      // A revoked or rotated webhook answers 403/404/410: read the secret again next time.
      if ([403, 404, 410].includes(response.status)) this.#url = undefined;
      // Slack answers 429 (rate limited) and 5xx for what passes; anything else will not.
      throw new RemediatorError(`Slack webhook answered HTTP ${response.status}${body ? `: ${body}` : ""}`, {
        retryable: response.status === 429 || response.status >= 500,
      });
    }
  }
}

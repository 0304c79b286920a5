/** The alert shown in docs/alerts-and-audit.md is what the code renders for the same record. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { describeDecision, renderPlainText } from "../../../shared/runtime/notification-text.ts";
import { auditRecord } from "../../helpers/audit-records.ts";

const DOC = new URL("../../../docs/alerts-and-audit.md", import.meta.url);

/** The fenced block that follows `<!-- example: NAME -->`. */
function example(markdown: string, name: string): string | undefined {
  const marker = markdown.indexOf(`<!-- example: ${name} -->`);
  if (marker < 0) return undefined;
  const open = markdown.indexOf("```text\n", marker);
  const close = markdown.indexOf("```", open + 8);
  return open < 0 || close < 0 ? undefined : markdown.slice(open + 8, close);
}

describe("docs/alerts-and-audit.md", () => {
  it("shows the SNS alert of the synthetic reverted security-group rule exactly as it is sent", () => {
    const content = describeDecision(auditRecord());

    const shown = example(readFileSync(DOC, "utf8"), "sns-alert");

    expect(shown).toBe(`Subject: ${content.subject}\n\n${renderPlainText(content)}`);
  });
});

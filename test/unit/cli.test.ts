/** The command line's own surface: version, help, refused formats, and the exit status of the unforeseen. */
import { readFileSync } from "node:fs";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { clipMiddle } from "../../cli/format-table.ts";
import { type CliIo, EXIT } from "../../cli/io.ts";
import { runCli } from "../../cli/run-cli.ts";

function io(overrides: Partial<CliIo> = {}) {
  const out = { stdout: "", stderr: "" };
  const sink = (key: "stdout" | "stderr") =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        out[key] += chunk.toString("utf8");
        done();
      },
    });
  const value: CliIo = {
    stdout: sink("stdout"),
    stderr: sink("stderr"),
    stdin: process.stdin,
    env: {},
    now: () => new Date("2026-11-22T12:00:00Z"),
    ...overrides,
  };
  return { io: value, out };
}

describe("remediator", () => {
  it("--version prints the package version", async () => {
    const { io: cli, out } = io();
    const version = (
      JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
    ).version;

    expect(await runCli(["--version"], cli)).toBe(EXIT.ok);
    expect(out.stdout).toBe(`remediator ${version}\n`);
  });

  it("rules --help prints its usage; rules --format yaml is refused with the formats it has", async () => {
    const help = io();
    const yaml = io();

    expect(await runCli(["rules", "--help"], help.io)).toBe(EXIT.ok);
    expect(await runCli(["rules", "--format", "yaml"], yaml.io)).toBe(EXIT.usage);
    expect(help.out.stdout).toMatch(/^Usage: remediator rules \[--format text\|json\]/);
    expect(yaml.out.stderr).toBe(
      'remediator rules: --format must be text or json, got "yaml" (for YAML, convert the json output)\n',
    );
    expect(yaml.out.stdout).toBe("");
  });

  it("an unexpected error is one line with its own exit status, never a stack trace", async () => {
    const { io: cli, out } = io({
      stdout: {
        write: () => {
          throw new Error("EPIPE: broken pipe\n    at Socket.write (node:net:1)");
        },
      } as unknown as NodeJS.WritableStream,
    });

    const status = await runCli(["rules"], cli);

    expect(status).toBe(EXIT.unexpected);
    expect(status).not.toBe(EXIT.failOn);
    expect(out.stderr).toBe(
      "remediator rules: unexpected error: EPIPE: broken pipe at Socket.write (node:net:1)\n",
    );
  });
});

describe("clipMiddle", () => {
  it("keeps the end of a long ARN, where resources differ", () => {
    const arn = "elasticfilesystem:eu-west-1:111122223333:file-system/fs-0123456789abcdef0";
    const clipped = clipMiddle(arn, 34);

    expect(clipped).toHaveLength(34);
    expect(clipped.endsWith("fs-0123456789abcdef0")).toBe(true);
    expect(clipped).toContain("…");
    expect(clipMiddle("short", 8)).toBe("short   ");
  });
});

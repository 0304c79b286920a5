/** What a command may touch: injected so the whole CLI runs in-process in tests. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The clock, for exemption expiry. */
  readonly now: () => Date;
}

/** Exit statuses, documented in docs/cli.md. */
export const EXIT = {
  ok: 0,
  failOn: 1,
  usage: 2,
  unreadableInput: 3,
  /** Anything the command did not foresee (out of memory, a bug): one line on stderr, never a stack trace. */
  unexpected: 4,
} as const;

export class UsageError extends Error {
  override readonly name = "UsageError";
}

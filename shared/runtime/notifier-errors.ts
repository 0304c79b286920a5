/**
 * A channel that answered the call but refused some of what it was given (Security Hub's
 * `FailedFindings`, EventBridge's failed entries): the call "succeeded", nothing was delivered. Kept
 * apart from the adapters so the observer can count it without loading their SDK clients.
 */
import { RemediatorError } from "../core/errors.ts";

export interface RejectedItem {
  readonly id: string;
  readonly code: string;
  readonly message: string;
}

export class RejectedByChannelError extends RemediatorError {
  readonly channel: string;
  readonly rejected: readonly RejectedItem[];

  constructor(channel: string, rejected: readonly RejectedItem[], retryable: boolean, message: string) {
    super(message, { retryable });
    this.channel = channel;
    this.rejected = rejected;
  }
}

RejectedByChannelError.prototype.name = "RejectedByChannelError";

/**
 * The two kinds of AWS call the file-system adapters make, each under the runtime's retry policy:
 * a read where "not found" is an answer (nothing there), and an action whose result the executor
 * records, where "not found" may mean the work is already done.
 */
import type { CallResult } from "../runtime/live-ports.ts";
import { type RetryPolicy, withRetry } from "../runtime/retry.ts";

export function requestIdOf(error: unknown): string | undefined {
  return (error as { $metadata?: { requestId?: string } }).$metadata?.requestId;
}

/** A read: `undefined` when the service says the resource does not exist. */
export async function readOrMissing<T>(
  name: string,
  retry: RetryPolicy,
  isNotFound: (error: unknown) => boolean,
  call: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await withRetry(name, retry, call);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * An action. With `goneIsSuccess`, "not found" means there is nothing left to do (deleting an
 * access point that is already gone) and counts as success.
 */
export async function act(
  name: string,
  retry: RetryPolicy,
  call: () => Promise<{ $metadata: { requestId?: string } }>,
  goneIsSuccess?: (error: unknown) => boolean,
): Promise<CallResult> {
  try {
    const answer = await withRetry(name, retry, call);
    return { requestId: answer.$metadata.requestId, alreadyGone: false };
  } catch (error) {
    if (goneIsSuccess?.(error)) return { requestId: requestIdOf(error), alreadyGone: true };
    throw error;
  }
}

/** Every item of a paginated listing: `page(token)` answers one page's items and the next token. */
export async function allPages<T>(
  page: (token: string | undefined) => Promise<{ items: readonly T[]; next: string | undefined }>,
): Promise<T[]> {
  const all: T[] = [];
  let token: string | undefined;
  do {
    const { items, next } = await page(token);
    all.push(...items);
    token = next || undefined;
  } while (token);
  return all;
}

/** Drops what a mapping could not make sense of (an item without its id, say). */
export function present<T>(items: readonly (T | undefined)[]): T[] {
  return items.filter((item): item is T => item !== undefined);
}

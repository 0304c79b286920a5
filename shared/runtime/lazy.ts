/**
 * Loading optional parts on first use. The composition root wires optional notifiers and the audit
 * archive through a dynamic `import()`, which the bundler turns into a separate chunk: when the
 * feature is off its SDK client is never read or parsed, which keeps the cold start short.
 */
import type { AuditRecord, Notifier } from "./ports.ts";

/**
 * `load`, run once and remembered. A failed load is forgotten, so the next call tries again (a
 * transient failure must not disable a channel for the life of the container).
 */
export function once<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= load().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

/**
 * A notifier whose implementation is loaded on its first notification. The name is known up front
 * because the verdict routing (`notify-all.ts`) chooses channels by name before any is called.
 */
export function lazyNotifier(name: string, load: () => Promise<Notifier>): Notifier {
  const loaded = once(load);
  return {
    name,
    async notify(record: AuditRecord): Promise<void> {
      await (await loaded()).notify(record);
    },
  };
}

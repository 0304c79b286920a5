/**
 * Starts `moto_server` (the AWS emulator) on a free 127.0.0.1 port for one test file, and stops it.
 * Never skips: when moto is missing or does not come up, the suite fails with the reason, because a
 * silently skipped integration test proves nothing.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";

export interface Moto {
  /** `http://127.0.0.1:<port>`: pass it as the SDK client's `endpoint`. */
  readonly endpoint: string;
  /** Static test credentials and region that moto accepts. */
  readonly clientConfig: {
    readonly endpoint: string;
    readonly region: string;
    readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  };
  /** Forgets every resource (moto's `/moto-api/reset`). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 30_000;

/** A port the kernel just handed out; moto binds it a moment later (retried if someone beat us to it). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolve(address.port);
        else reject(new Error("could not read the port of a probe socket"));
      });
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

async function startOnce(region: string): Promise<Moto> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-4000);
  });
  let spawnError: Error | undefined;
  child.once("error", (error) => {
    spawnError = error;
  });

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (spawnError) {
      throw new Error(
        `moto_server could not be started (is moto[server] installed and on PATH?): ${spawnError.message}`,
      );
    }
    if (child.exitCode !== null) {
      throw new Error(`moto_server exited with status ${child.exitCode} before answering:\n${stderr}`);
    }
    try {
      const response = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
      if (response.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`moto_server did not answer on ${endpoint} within ${START_TIMEOUT_MS} ms:\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    endpoint,
    clientConfig: {
      endpoint,
      region,
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    },
    async reset() {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: "POST" });
      if (!response.ok) throw new Error(`moto reset failed: HTTP ${response.status}`);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const done = exited(child);
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await done;
      clearTimeout(timer);
    },
  };
}

/**
 * Starts a fresh emulator. Call it in `beforeAll` and `stop()` in `afterAll`. The port probe and the
 * bind are not atomic, so a lost race is retried on a new port.
 */
export async function startMoto(options: { region?: string } = {}): Promise<Moto> {
  const region = options.region ?? "eu-west-1";
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(region);
    } catch (error) {
      lastError = error;
      if (error instanceof Error && error.message.includes("could not be started")) break;
    }
  }
  throw lastError;
}

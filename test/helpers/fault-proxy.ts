/**
 * A fault-injecting HTTP proxy in front of `moto_server`, for the reliability tests. Each request
 * the runtime makes may, at a set rate, be:
 * - `throttle`: answered with the throttling error of the service's own protocol (DynamoDB JSON
 *   `ThrottlingException` / `ProvisionedThroughputExceededException`, EC2 query XML
 *   `RequestLimitExceeded`, SNS/STS query XML `Throttling`, EventBridge JSON `ThrottlingException`,
 *   restJson `x-amzn-errortype: ThrottlingException` with 429), never reaching the emulator;
 * - `server-error`: a 5xx in the same shapes (`InternalServerError`, `InternalError`, …);
 * - `drop`: the connection closed before the request reaches the emulator;
 * - `lost-answer`: forwarded (the write happens), then the connection closed: the answer is lost.
 *
 * DynamoDB requests are forwarded one at a time. moto runs a TransactWriteItems by deep-copying the
 * tables it touches and, when a condition fails, putting the copies back: a write another request
 * thread made in between is then silently undone, which real DynamoDB (isolated transactions) never
 * does. Serialising them keeps that emulator artefact out of the results.
 *
 * A container kill is simulated per lane: each simulated Lambda container talks to the proxy
 * through its own lane (its own port). After a write has reached the emulator, a lane may be
 * killed at the `killRate`: that answer and every later request of the lane are dropped, so the
 * abandoned invocation has no further effect, exactly as if its process had been frozen for good.
 */
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo, Socket } from "node:net";

export type FaultKind = "throttle" | "server-error" | "drop" | "lost-answer";

export interface FaultOptions {
  /** Share of requests that fail (0..1). */
  readonly rate: number;
  /** Share of writes after which the lane's container is killed (0..1). */
  readonly killRate: number;
  /** Deterministic randomness (a seeded generator). */
  readonly random: () => number;
}

/** What the proxy did, for the report. */
export interface FaultCounts {
  requests: number;
  writes: number;
  throttle: number;
  "server-error": number;
  drop: number;
  "lost-answer": number;
  kills: number;
}

type Protocol =
  | { readonly kind: "json"; readonly service: "dynamodb" | "events" | "other"; readonly operation: string }
  | { readonly kind: "query"; readonly service: string; readonly operation: string }
  | { readonly kind: "rest"; readonly service: string; readonly operation: string };

/** The service name of the SigV4 credential scope: `Credential=AKID/20260101/eu-west-1/ec2/aws4_request`. */
function signingService(headers: IncomingMessage["headers"]): string {
  const auth = String(headers.authorization ?? "");
  return /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(auth)?.[1] ?? "unknown";
}

function protocolOf(request: IncomingMessage, body: string): Protocol {
  const target = request.headers["x-amz-target"];
  if (typeof target === "string") {
    const [prefix = "", operation = ""] = target.split(".");
    const service = prefix.startsWith("DynamoDB") ? "dynamodb" : prefix === "AWSEvents" ? "events" : "other";
    return { kind: "json", service, operation };
  }
  const service = signingService(request.headers);
  const contentType = String(request.headers["content-type"] ?? "");
  if (contentType.startsWith("application/x-www-form-urlencoded")) {
    const operation = new URLSearchParams(body).get("Action") ?? "";
    return { kind: "query", service, operation };
  }
  return { kind: "rest", service, operation: `${request.method} ${request.url}` };
}

const WRITE_OPERATIONS =
  /^(PutItem|UpdateItem|DeleteItem|TransactWriteItems|BatchWriteItem|PutEvents|Publish|Revoke|Authorize|Modify)/;

function isWrite(protocol: Protocol): boolean {
  if (protocol.kind === "rest") return !protocol.operation.startsWith("GET ");
  return WRITE_OPERATIONS.test(protocol.operation);
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** The error each protocol answers with, as the SDK's deserialisers expect it. */
export function errorAnswer(
  protocol: Protocol,
  kind: "throttle" | "server-error",
  random: () => number,
): Answer {
  const throttle = kind === "throttle";
  const requestId = `fault-${Math.floor(random() * 1e9)}`;
  if (protocol.kind === "json") {
    const type =
      protocol.service === "dynamodb"
        ? throttle
          ? random() < 0.5
            ? "com.amazonaws.dynamodb.v20120810#ThrottlingException"
            : "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"
          : "com.amazonaws.dynamodb.v20120810#InternalServerError"
        : throttle
          ? "ThrottlingException"
          : "InternalException";
    return {
      status: throttle ? 400 : 500,
      headers: { "content-type": "application/x-amz-json-1.0", "x-amzn-requestid": requestId },
      body: JSON.stringify({ __type: type, message: throttle ? "Rate exceeded" : "Internal error" }),
    };
  }
  if (protocol.kind === "query") {
    if (protocol.service === "ec2") {
      const code = throttle ? "RequestLimitExceeded" : "InternalError";
      return {
        status: throttle ? 503 : 500,
        headers: { "content-type": "text/xml" },
        body: `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${code}</Code><Message>${throttle ? "Request limit exceeded." : "An internal error has occurred"}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`,
      };
    }
    const code = throttle ? "Throttling" : "InternalFailure";
    return {
      status: throttle ? 400 : 500,
      headers: { "content-type": "text/xml", "x-amzn-requestid": requestId },
      body: `<ErrorResponse><Error><Type>${throttle ? "Sender" : "Receiver"}</Type><Code>${code}</Code><Message>${throttle ? "Rate exceeded" : "Internal failure"}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
    };
  }
  const type = throttle ? "ThrottlingException" : "InternalServerError";
  return {
    status: throttle ? 429 : 500,
    headers: { "content-type": "application/json", "x-amzn-errortype": type, "x-amzn-requestid": requestId },
    body: JSON.stringify({ ErrorCode: type, message: throttle ? "Rate exceeded" : "Internal error" }),
  };
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

function forward(
  target: URL,
  request: IncomingMessage,
  body: Buffer,
): Promise<{ status: number; headers: IncomingMessage["headers"]; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: request.method,
        path: request.url,
        headers: { ...request.headers, host: target.host },
      },
      (response) => {
        readBody(response).then(
          (answer) =>
            resolve({ status: response.statusCode ?? 500, headers: response.headers, body: answer }),
          reject,
        );
      },
    );
    upstream.on("error", reject);
    upstream.end(body);
  });
}

/** One simulated container's connection to the proxy. */
export class Lane {
  #dead = false;
  readonly #sockets = new Set<Socket>();

  constructor(
    readonly id: number,
    readonly server: Server,
  ) {
    server.on("connection", (socket) => {
      if (this.#dead) {
        socket.destroy();
        return;
      }
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
    });
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get dead(): boolean {
    return this.#dead;
  }

  kill(): void {
    this.#dead = true;
    for (const socket of this.#sockets) socket.destroy();
  }

  close(): Promise<void> {
    this.kill();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

export class FaultProxy {
  readonly counts: FaultCounts = {
    requests: 0,
    writes: 0,
    throttle: 0,
    "server-error": 0,
    drop: 0,
    "lost-answer": 0,
    kills: 0,
  };
  readonly #lanes: Lane[] = [];
  #options: FaultOptions;
  /** The tail of the DynamoDB request chain (see the module comment). */
  #dynamodb: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly target: string,
    options: FaultOptions,
  ) {
    this.#options = options;
  }

  /** Changes the fault rates (between phases of a test). */
  configure(options: FaultOptions): void {
    this.#options = options;
  }

  /** A new lane (a fresh container's endpoint). */
  async lane(): Promise<Lane> {
    const server = createServer();
    const lane = new Lane(this.#lanes.length, server);
    server.on("request", (request: IncomingMessage, response: ServerResponse) => {
      this.#handle(lane, request, response).catch(() => request.socket.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    this.#lanes.push(lane);
    return lane;
  }

  async #handle(lane: Lane, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    if (lane.dead) {
      request.socket.destroy();
      return;
    }
    const { rate, killRate, random } = this.#options;
    const protocol = protocolOf(request, body.toString("utf8"));
    const write = isWrite(protocol);
    this.counts.requests++;
    if (write) this.counts.writes++;
    const kinds: readonly FaultKind[] = ["throttle", "server-error", "drop", "lost-answer"];
    const fault = random() < rate ? kinds[Math.floor(random() * kinds.length)] : undefined;
    if (fault) this.counts[fault]++;
    if (fault === "throttle" || fault === "server-error") {
      const answer = errorAnswer(protocol, fault, random);
      response.writeHead(answer.status, answer.headers);
      response.end(answer.body);
      return;
    }
    if (fault === "drop") {
      request.socket.destroy();
      return;
    }
    const send = () => forward(new URL(this.target), request, body);
    let answer: Awaited<ReturnType<typeof forward>>;
    if (protocol.kind === "json" && protocol.service === "dynamodb") {
      const turn = this.#dynamodb.then(send, send);
      this.#dynamodb = turn.catch(() => undefined);
      answer = await turn;
    } else {
      answer = await send();
    }
    if (write && random() < killRate) {
      this.counts.kills++;
      lane.kill();
      return;
    }
    if (fault === "lost-answer" || lane.dead) {
      request.socket.destroy();
      return;
    }
    const headers = { ...answer.headers };
    delete headers["transfer-encoding"];
    headers["content-length"] = String(answer.body.length);
    response.writeHead(answer.status, headers);
    response.end(answer.body);
  }

  async close(): Promise<void> {
    await Promise.all(this.#lanes.map((lane) => lane.close()));
  }
}

/** A small seeded generator (mulberry32), so a failing run can be replayed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

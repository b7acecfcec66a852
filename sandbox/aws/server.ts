// The local AWS endpoint: one HTTP server on 127.0.0.1 that speaks the JSON protocols the SDK
// uses (POST, `X-Amz-Target: <Service>.<Operation>`, a JSON body) and routes each request to
// the service module that owns the target prefix. Point AWS_ENDPOINT_URL at it and the product
// code runs unchanged. Errors always come back in AWS's shape, never as a crash or HTML.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface AwsRequest {
  /** e.g. "AmazonEC2ContainerServiceV20141113" */
  prefix: string;
  /** e.g. "UpdateService" */
  operation: string;
  body: Record<string, unknown>;
  headers: IncomingMessage["headers"];
}

export interface AwsResponse {
  status: number;
  body: unknown;
}

export type ServiceHandler = (request: AwsRequest) => Promise<AwsResponse>;

/** A fault or delay applied before a request reaches its service (see sandbox/faults.ts). */
export type Interceptor = (request: AwsRequest) => Promise<AwsResponse | undefined>;

/** Something watching every call: the sandbox's call log, the benchmark's counters. */
export type CallObserver = (request: AwsRequest, response: AwsResponse, ms: number) => void;

export class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export function awsError(code: string, message: string, status = 400, extra: Record<string, unknown> = {}): AwsResponse {
  return { status, body: { __type: code, message, ...extra } };
}

export class LocalAwsServer {
  private readonly services = new Map<string, ServiceHandler>();
  private readonly interceptors: Interceptor[] = [];
  private readonly observers: CallObserver[] = [];
  private server?: Server;

  register(prefix: string, handler: ServiceHandler): this {
    this.services.set(prefix, handler);
    return this;
  }

  intercept(interceptor: Interceptor): this {
    this.interceptors.push(interceptor);
    return this;
  }

  observe(observer: CallObserver): this {
    this.observers.push(observer);
    return this;
  }

  async listen(port = 0): Promise<string> {
    this.server = createServer((req, res) => void this.serve(req, res));
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server?.listen(port, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = String(req.headers["x-amz-target"] ?? "");
    const [prefix = "", operation = ""] = target.split(".");
    let response: AwsResponse;
    let request: AwsRequest = { prefix, operation, body: {}, headers: req.headers };
    try {
      if (req.method !== "POST" || !target.includes(".")) {
        response = awsError("UnknownOperationException", `the sandbox speaks AWS JSON protocols only (POST with X-Amz-Target); got ${req.method} ${req.url}`);
      } else {
        const text = Buffer.concat(chunks).toString("utf8");
        let body: Record<string, unknown>;
        try {
          body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
        } catch {
          body = {};
          response = awsError("SerializationException", "the request body is not JSON");
        }
        request = { prefix, operation, body, headers: req.headers };
        response ??= await this.dispatch(request);
      }
    } catch (error) {
      response =
        error instanceof AwsError
          ? awsError(error.code, error.message, error.status, error.extra)
          : awsError("InternalFailure", `sandbox error: ${(error as Error).message}`, 500);
    }
    for (const observe of this.observers) observe(request, response, performance.now() - started);
    // AWS's JSON protocols carry timestamps as epoch seconds. The replacer must look at the
    // holder's value: JSON.stringify has already turned a Date into an ISO string by then.
    const payload = JSON.stringify(response.body ?? {}, function (this: Record<string, unknown>, key, value) {
      const original = this[key];
      return original instanceof Date ? original.getTime() / 1000 : value;
    });
    res.writeHead(response.status, {
      "content-type": "application/x-amz-json-1.1",
      "x-amzn-requestid": cryptoId(),
      ...(response.status >= 400 && isError(response.body) ? { "x-amzn-errortype": String(response.body.__type) } : {}),
    });
    res.end(payload);
  }

  private async dispatch(request: AwsRequest): Promise<AwsResponse> {
    for (const interceptor of this.interceptors) {
      const early = await interceptor(request);
      if (early) return early;
    }
    const handler = this.services.get(request.prefix);
    if (!handler) return awsError("UnknownOperationException", `the sandbox does not implement ${request.prefix}`);
    return handler(request);
  }
}

function isError(body: unknown): body is { __type: string } {
  return typeof body === "object" && body !== null && "__type" in body;
}

let counter = 0;
function cryptoId(): string {
  return `sandbox-${Date.now().toString(36)}-${(counter++).toString(36)}`;
}

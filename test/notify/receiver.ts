// A real HTTP receiver on 127.0.0.1 (random port) that records what it is sent and answers
// with scripted responses, for delivery and end-to-end notifier tests.
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type Respond = (res: ServerResponse, request: Received) => void;

export interface Receiver {
  url: (path: string) => string;
  received: Received[];
  /** Answers for the next requests, in order; after them every request gets 200 "ok". */
  script: Respond[];
  /** Answers for the next requests to one path, before the shared script. */
  on: (path: string, ...responses: Respond[]) => void;
  close: () => Promise<void>;
}

export const reply =
  (status: number, body = "", headers: Record<string, string> = {}): Respond =>
  (res) => {
    res.writeHead(status, headers).end(body);
  };

export const hang =
  (ms: number): Respond =>
  (res) => {
    setTimeout(() => {
      if (!res.destroyed) res.writeHead(200).end("late");
    }, ms).unref();
  };

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const script: Respond[] = [];
  const byPath = new Map<string, Respond[]>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const request = { path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      received.push(request);
      (byPath.get(request.path)?.shift() ?? script.shift() ?? reply(200, "ok"))(res, request);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    received,
    script,
    on: (path, ...responses) => byPath.set(path, [...(byPath.get(path) ?? []), ...responses]),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A URL on which nothing listens: a port we bound and released. */
export async function closedPortUrl(path: string): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}${path}`;
}

/** Captures what the Powertools logger prints (it writes to stdout/stderr directly). */
export function captureLogs(): { lines: () => string[]; restore: () => void } {
  const captured: string[] = [];
  const spies = [process.stdout, process.stderr].map((stream) =>
    jest.spyOn(stream, "write").mockImplementation((chunk: string | Uint8Array) => {
      captured.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
      return true;
    }),
  );
  return {
    lines: () =>
      captured
        .join("")
        .split("\n")
        .filter((l) => l.trim() !== ""),
    restore: () => spies.forEach((s) => s.mockRestore()),
  };
}

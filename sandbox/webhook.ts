// The sandbox's notification endpoint: a real HTTP server on 127.0.0.1 that stands in for Slack
// incoming webhooks (/slack/<name>) and for the receivers of Stevedore's signed JSON webhooks
// (/webhook/<name>). It answers the way they do (Slack's "ok" or its error codes; 401 for a bad
// signature), keeps every accepted message in arrival order, and renders each as a person
// would read it. Fault knobs make it go down or slow, so retries, timeouts and duplicate
// deliveries can be watched; a receiver is expected to dedupe on X-Stevedore-Delivery.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Clock } from "./clock";
import { noneInjected, type Injected } from "./faults";
import { exchangeOf } from "./virtual-time";
import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, verifySignature } from "../shared/notify/webhook";

const MAX_BODY = 1024 * 1024;

export type MessageKind = "slack" | "webhook";

export interface ReceivedMessage {
  /** When it arrived: the sandbox clock's ISO time when a clock is given, else the wall clock's. */
  at: string;
  /** The <name> of /slack/<name> or /webhook/<name>. */
  destination: string;
  kind: MessageKind;
  /** X-Stevedore-Event (signed webhooks). */
  event?: string;
  /** X-Stevedore-Delivery (signed webhooks): stable across retries and duplicates. */
  deliveryId?: string;
  /** Slack: the header block's text; webhook: the body's title. */
  title: string;
  /** Slack: the payload's text; webhook: the body's summary. */
  text: string;
  /** The parsed JSON body, as received. */
  body: Record<string, unknown>;
}

export interface RejectedRequest {
  at: string;
  path: string;
  status: number;
  reason: string;
}

export interface WebhookReceiverOptions {
  /** Signing secret per webhook destination name. A /webhook/<name> without one is refused. */
  secrets?: Record<string, string>;
  /** A real Slack incoming-webhook URL: Slack payloads are forwarded there as received. */
  forwardTo?: string;
  /** Signature tolerance (default 300 s, what shared/notify/webhook.ts defaults to). */
  toleranceSeconds?: number;
  /** The receiver's clock for signature freshness. Default: the wall clock, as senders sign with it. */
  now?: () => Date;
  /** Stamps `at` with sandbox time, and times the faults (down, slow) on it. */
  clock?: Clock;
  /** Where forwarding failures are reported. Default console.warn. */
  log?: (line: string) => void;
  /** Counts requests answered 503 while down (webhookRefused) and answered late while slow (webhookSlowed). */
  injected?: Injected;
}

type Listener = (message: ReceivedMessage) => void;

export class WebhookReceiver {
  readonly messages: ReceivedMessage[] = [];
  readonly rejected: RejectedRequest[] = [];
  private readonly listeners = new Set<Listener>();
  private readonly sockets = new Set<Socket>();
  private server?: Server;
  private port = 0;
  private downMode?: "refuse" | "503";
  private cancelUp: () => void = () => undefined;
  private delayMs = 0;
  private readonly pending = new Set<NodeJS.Timeout>();
  private readonly forwards = new Set<Promise<void>>();
  private readonly injected: Injected;

  constructor(private readonly options: WebhookReceiverOptions = {}) {
    this.injected = options.injected ?? noneInjected();
  }

  async start(): Promise<void> {
    await this.listen(0);
  }

  /** e.g. url("/slack/deploys") */
  url(path: string): string {
    if (!this.port) throw new Error("the webhook receiver is not started");
    return `http://127.0.0.1:${this.port}${path.startsWith("/") ? path : `/${path}`}`;
  }

  async close(): Promise<void> {
    this.cancelUp();
    for (const timer of this.pending) clearTimeout(timer);
    this.pending.clear();
    await Promise.allSettled([...this.forwards]);
    await this.stopListening();
  }

  /** Calls `listener` with every accepted message; returns the unsubscribe. */
  onMessage(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The next accepted message that satisfies `predicate` (one already received counts). */
  waitFor(predicate: (m: ReceivedMessage) => boolean = () => true, timeoutMs = 10_000): Promise<ReceivedMessage> {
    const seen = this.messages.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        stop();
        reject(new Error(`no matching message within ${timeoutMs} ms (received ${this.messages.length})`));
      }, timeoutMs);
      const stop = this.onMessage((m) => {
        if (!predicate(m)) return;
        clearTimeout(timer);
        stop();
        resolve(m);
      });
    });
  }

  /**
   * Goes down: "503" answers every request 503 (the default); "refuse" stops listening, so
   * connections are refused. `forMs` is how long (sandbox ms with a clock, else real ms);
   * without it the receiver stays down until up().
   */
  down(forMs?: number, mode: "refuse" | "503" = "503"): void {
    this.cancelUp();
    this.downMode = mode;
    if (mode === "refuse") void this.stopListening();
    if (forMs === undefined) return;
    const up = () => void this.up();
    if (this.options.clock) this.cancelUp = this.options.clock.after(Math.max(0, forMs), up);
    else {
      const timer = setTimeout(up, Math.max(0, forMs));
      this.cancelUp = () => clearTimeout(timer);
    }
  }

  /** Back up (on the same port). */
  async up(): Promise<void> {
    this.cancelUp();
    const wasRefusing = this.downMode === "refuse";
    this.downMode = undefined;
    if (wasRefusing && !this.server) await this.listen(this.port);
  }

  /** Delays every answer by `ms` (sandbox ms with a clock, else real ms; 0 to stop). Messages still count on arrival. */
  slow(ms: number): void {
    this.delayMs = Math.max(0, ms);
  }

  /** Webhook messages grouped by delivery id, in arrival order: more than one is a duplicate. */
  messagesByDelivery(): Map<string, ReceivedMessage[]> {
    const groups = new Map<string, ReceivedMessage[]>();
    for (const m of this.messages) {
      if (m.kind !== "webhook" || !m.deliveryId) continue;
      groups.set(m.deliveryId, [...(groups.get(m.deliveryId) ?? []), m]);
    }
    return groups;
  }

  /** A message as a person reads it (see render below). */
  render(message: ReceivedMessage): string {
    return render(message);
  }

  /** Every accepted message rendered, one block each, in arrival order. */
  transcript(): string {
    return this.messages.map(render).join("\n\n");
  }

  // ── HTTP ────────────────────────────────────────────────────────────────────────────────

  private async listen(port: number): Promise<void> {
    const server = createServer((req, res) => void this.serve(req, res));
    server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  private async stopListening(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size <= MAX_BODY) chunks.push(chunk as Buffer);
    }
    const raw = Buffer.concat(chunks);
    const path = (req.url ?? "/").split("?")[0] as string;
    let status: number;
    let answer: string;
    if (this.downMode) {
      this.injected.webhookRefused++;
      [status, answer] = [503, "service_unavailable"];
    } else if (size > MAX_BODY) {
      [status, answer] = [413, "request_too_large"];
    } else {
      [status, answer] = this.accept(req, path, raw);
    }
    if (status >= 400 && status !== 503) this.rejected.push({ at: this.now(), path, status, reason: answer });
    if (this.delayMs > 0) {
      this.injected.webhookSlowed++;
      await this.delay(req);
    }
    if (res.destroyed) return; // the sender gave up waiting
    res.writeHead(status, { "content-type": "text/plain; charset=utf-8" }).end(answer);
  }

  /** The slow fault's wait: on the sandbox clock (the request parked, so time can pass), else real. */
  private delay(req: IncomingMessage): Promise<void> {
    if (this.options.clock) return this.options.clock.parkedFor(exchangeOf(req.headers), this.delayMs);
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(timer);
        resolve();
      }, this.delayMs);
      this.pending.add(timer);
    });
  }

  /** Routes, validates and records one request: the status and body to answer with. */
  private accept(req: IncomingMessage, path: string, raw: Buffer): [number, string] {
    const route = /^\/(slack|webhook)\/([A-Za-z0-9._-]{1,128})$/.exec(path);
    if (!route) return [404, "no_service"];
    if (req.method !== "POST") return [405, "method_not_allowed"];
    const [, kind, destination] = route as unknown as [string, MessageKind, string];
    return kind === "slack" ? this.acceptSlack(destination, raw) : this.acceptWebhook(destination, req, raw);
  }

  private acceptSlack(destination: string, raw: Buffer): [number, string] {
    const body = parseObject(raw);
    if (!body) return [400, "invalid_payload"];
    const problem = slackProblem(body);
    if (problem) return [400, problem];
    const header = ((body.blocks as SlackBlock[] | undefined) ?? []).find((b) => b.type === "header")?.text?.text;
    const text = typeof body.text === "string" ? body.text : "";
    this.record({ at: this.now(), destination, kind: "slack", title: unescape(header ?? text.split("\n")[0] ?? ""), text: unescape(text), body });
    if (this.options.forwardTo) this.forward(raw);
    return [200, "ok"];
  }

  private acceptWebhook(destination: string, req: IncomingMessage, raw: Buffer): [number, string] {
    const secret = this.options.secrets?.[destination];
    if (secret === undefined) return [401, "no signing secret configured for this destination"];
    const signature = header(req, SIGNATURE_HEADER);
    const verified = verifySignature(secret, raw, signature, {
      ...(this.options.toleranceSeconds !== undefined ? { toleranceSeconds: this.options.toleranceSeconds } : {}),
      ...(this.options.now ? { now: this.options.now() } : {}),
    });
    if (!verified) return [401, signature ? "invalid signature" : "missing signature"];
    const body = parseObject(raw);
    if (!body) return [400, "invalid json"];
    const event = header(req, EVENT_HEADER) ?? str(body.event);
    const deliveryId = header(req, DELIVERY_HEADER) ?? str(body.deliveryId);
    this.record({
      at: this.now(),
      destination,
      kind: "webhook",
      ...(event ? { event } : {}),
      ...(deliveryId ? { deliveryId } : {}),
      title: str(body.title) ?? "",
      text: str(body.summary) ?? "",
      body,
    });
    return [200, "ok"];
  }

  private record(message: ReceivedMessage): void {
    this.messages.push(message);
    for (const listener of [...this.listeners]) {
      try {
        listener(message);
      } catch (error) {
        this.log(`webhook receiver: a message listener threw: ${(error as Error).message}`);
      }
    }
  }

  /** Slack payloads go on to the real Slack as received; a failure there is only logged. */
  private forward(raw: Buffer): void {
    const url = this.options.forwardTo as string;
    const sent = fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: raw, signal: AbortSignal.timeout(5000) })
      .then(async (response) => {
        const text = await response.text().catch(() => "");
        if (!response.ok) this.log(`webhook receiver: forwarding to Slack failed: HTTP ${response.status} ${text.slice(0, 64)}`);
      })
      .catch((error: unknown) => this.log(`webhook receiver: forwarding to Slack failed: ${(error as Error).message}`))
      .finally(() => this.forwards.delete(sent));
    this.forwards.add(sent);
  }

  private log(line: string): void {
    (this.options.log ?? console.warn)(line);
  }

  private now(): string {
    return this.options.clock?.iso() ?? new Date().toISOString();
  }
}

// ── Slack's payload, loosely ─────────────────────────────────────────────────────────────

interface SlackText {
  type?: string;
  text?: string;
}
interface SlackBlock {
  type?: string;
  text?: SlackText;
  fields?: SlackText[];
  elements?: (SlackText & { url?: string })[];
}

const BLOCK_TYPES = new Set(["header", "section", "context", "actions", "divider", "image", "rich_text", "input", "file", "video"]);

/** Slack's error code for a payload it would refuse, loosely checked; undefined when fine. */
function slackProblem(body: Record<string, unknown>): string | undefined {
  const { text, blocks, attachments } = body;
  if (text !== undefined && typeof text !== "string") return "invalid_payload";
  if (blocks !== undefined && !validBlocks(blocks)) return "invalid_blocks";
  if (attachments !== undefined) {
    if (!Array.isArray(attachments) || attachments.some((a) => !isObject(a) || (a.blocks !== undefined && !validBlocks(a.blocks)))) {
      return "invalid_attachments";
    }
  }
  const hasBlocks = Array.isArray(blocks) && blocks.length > 0;
  const hasAttachments = Array.isArray(attachments) && attachments.length > 0;
  if (!(typeof text === "string" && text.trim()) && !hasBlocks && !hasAttachments) return "no_text";
  return undefined;
}

function validBlocks(blocks: unknown): boolean {
  if (!Array.isArray(blocks) || blocks.length > 50) return false;
  return blocks.every((b) => {
    if (!isObject(b) || typeof b.type !== "string" || !BLOCK_TYPES.has(b.type)) return false;
    const block = b as SlackBlock;
    if (b.type === "header") return block.text?.type === "plain_text" && typeof block.text.text === "string" && block.text.text.length <= 150;
    if (b.type === "section") {
      const fields = block.fields ?? [];
      return (
        (block.text !== undefined || fields.length > 0) && fields.length <= 10 && (block.text === undefined || validText(block.text)) && fields.every(validText)
      );
    }
    if (b.type === "context") return Array.isArray(block.elements) && block.elements.length > 0 && block.elements.length <= 10;
    if (b.type === "actions") return Array.isArray(block.elements) && block.elements.length > 0 && block.elements.length <= 25;
    return true;
  });
}

function validText(t: unknown): boolean {
  return isObject(t) && (t.type === "mrkdwn" || t.type === "plain_text") && typeof t.text === "string" && t.text.length > 0 && t.text.length <= 3000;
}

// ── rendering ────────────────────────────────────────────────────────────────────────────

const SEVERITY_EMOJI: Record<string, string> = { failure: "❌", warning: "⚠️", success: "✅", info: "ℹ️" };

/**
 * A message as a person reads it: the title (with its emoji), then the facts on short indented
 * lines — service, image, commit, revision, trigger, duration, reason — and, for a signed
 * webhook, the event name and the delivery id.
 */
export function render(message: ReceivedMessage): string {
  const facts = message.kind === "slack" ? slackFacts(message) : webhookFacts(message);
  const title = message.kind === "slack" ? message.title : `${SEVERITY_EMOJI[str(message.body.severity) ?? ""] ?? "ℹ️"} ${message.title}`;
  const shown = facts.filter(([, value]) => value);
  const width = Math.max(0, ...shown.map(([name]) => name.length));
  const lines = shown.map(([name, value]) => `    ${name.padEnd(width)}  ${value.replace(/\s*\n\s*/g, " ")}`);
  return [`[${message.kind} ${message.destination}] ${title}`, ...lines].join("\n");
}

type Fact = [string, string];

function slackFacts(message: ReceivedMessage): Fact[] {
  const blocks = [
    ...((message.body.blocks as SlackBlock[] | undefined) ?? []),
    ...((message.body.attachments as { blocks?: SlackBlock[] }[] | undefined) ?? []).flatMap((a) => a.blocks ?? []),
  ];
  const fields = new Map<string, string>();
  for (const field of blocks.flatMap((b) => b.fields ?? [])) {
    const m = /^\*([^*]+)\*\n([\s\S]*)$/.exec(field.text ?? "");
    if (m) fields.set((m[1] as string).toLowerCase(), unescape(m[2] as string));
  }
  const summary = blocks.find((b) => b.type === "section" && b.text?.text)?.text?.text ?? message.text;
  const reason = /Reason: ([\s\S]*)$/.exec(unescape(summary))?.[1];
  const context = blocks
    .filter((b) => b.type === "context")
    .flatMap((b) => b.elements ?? [])
    .map((e) => unescape(e.text ?? ""));
  return [
    ["app", fields.get("app") ?? ""],
    ["env", fields.get("environment") ?? fields.get("promotion") ?? ""],
    ["service", fields.get("service") ?? ""],
    ["project", fields.get("project") ?? ""],
    ["build", fields.get("build") ?? ""],
    ["phase", fields.get("phase") ?? ""],
    ["image", fields.get("image") ?? ""],
    ["repository", fields.get("repository") ?? ""],
    ["commit", fields.get("commit") ?? ""],
    ["revision", fields.get("revision") ?? ""],
    ["trigger", fields.get("trigger") ?? ""],
    ["duration", fields.get("duration") ?? ""],
    ["decided by", fields.get("decided by") ?? ""],
    ["reason", reason ?? ""],
    ...context.map((c): Fact => ["note", c]),
  ];
}

function webhookFacts(message: ReceivedMessage): Fact[] {
  const body = message.body;
  const d = isObject(body.deployment) ? body.deployment : undefined;
  const b = isObject(body.build) ? body.build : undefined;
  const p = isObject(body.promotion) ? body.promotion : undefined;
  const facts: Fact[] = [];
  if (d) {
    facts.push(
      ["app", `${str(d.app) ?? ""}`],
      ["env", str(d.env) ?? ""],
      ["service", d.cluster ? `${str(d.cluster)}/${str(d.service)} (${str(d.region)})` : ""],
      ["image", imageText(d)],
      ["commit", shortCommit(str(d.commit))],
      ["revision", d.revision === undefined ? "" : String(d.revision)],
      ["trigger", str(d.triggeredBy) ?? str(d.trigger) ?? ""],
      ["duration", str(d.duration) ?? ""],
      ["reason", str(d.reason) ?? ""],
    );
  } else if (b) {
    facts.push(
      ["app", str(b.app) ?? ""],
      ["project", str(b.project) ?? ""],
      ["build", b.buildNumber === undefined ? (str(b.buildId) ?? "") : `#${String(b.buildNumber)}`],
      ["phase", str(b.phase) ?? ""],
      ["commit", shortCommit(str(b.commit))],
      ["reason", str(b.reason) ?? ""],
    );
  } else if (p) {
    facts.push(
      ["app", str(p.app) ?? ""],
      ["env", `${str(p.from) ?? "?"} → ${str(p.to) ?? "?"}`],
      ["image", imageText(p)],
      ["commit", shortCommit(str(p.commit))],
      ["decided by", str(p.decidedBy) ?? ""],
      ["reason", str(p.reason) ?? ""],
    );
  }
  facts.push(["event", message.event ?? ""], ["delivery", message.deliveryId ?? ""]);
  return facts;
}

function imageText(facts: Record<string, unknown>): string {
  const repository = str(facts.repository);
  if (!repository) return "";
  const tag = str(facts.tag);
  return `${repository}${tag ? `:${tag}` : ""} · ${str(facts.shortDigest) ?? str(facts.digest) ?? ""}`;
}

function shortCommit(commit: string | undefined): string {
  return commit && /^[0-9a-f]{8,}$/i.test(commit) ? commit.slice(0, 7) : (commit ?? "");
}

// ── small pieces ─────────────────────────────────────────────────────────────────────────

function parseObject(raw: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(raw.toString("utf8"));
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** Slack's mrkdwn escapes, undone for reading. */
function unescape(text: string): string {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

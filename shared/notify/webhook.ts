// Notification → generic signed JSON webhook. Pure apart from node:crypto.
//
// Signature (the scheme Stripe made familiar, so receivers know it):
//   X-Stevedore-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
// The timestamp is signed with the body, so a captured request cannot be replayed later than
// the receiver's tolerance. Several v1= entries are accepted (a receiver rotating secrets).
// The header is read strictly: comma-separated key=value pairs, exactly one `t` (1–12 digits),
// at least one `v1` (64 hex digits), no value containing "=", other keys ignored. Anything else,
// or a clock or tolerance that is not a number, verifies nothing (fail closed).
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Notification } from "./message";

export const SIGNATURE_HEADER = "X-Stevedore-Signature";
export const EVENT_HEADER = "X-Stevedore-Event";
export const DELIVERY_HEADER = "X-Stevedore-Delivery";

export interface WebhookRequest {
  body: string;
  headers: Record<string, string>;
}

export function webhookBody(n: Notification): Record<string, unknown> {
  const { event, deliveryId, severity, title, summary, at, links } = n;
  const facts = n.kind === "deployment" ? { deployment: n.deployment } : n.kind === "promotion" ? { promotion: n.promotion } : { build: n.build };
  return { event, deliveryId, severity, title, summary, at, ...facts, links };
}

/** The body and headers to POST; signed at `now` (retries within the tolerance reuse it). */
export function toWebhook(n: Notification, secret: string, now: Date = new Date()): WebhookRequest {
  const body = JSON.stringify(webhookBody(n));
  return {
    body,
    headers: {
      "content-type": "application/json",
      "user-agent": "Stevedore-Webhook/1",
      [EVENT_HEADER]: n.event,
      [DELIVERY_HEADER]: n.deliveryId,
      [SIGNATURE_HEADER]: signatureHeader(secret, body, Math.floor(now.getTime() / 1000)),
    },
  };
}

export function signatureHeader(secret: string, body: string, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${sign(secret, body, unixSeconds)}`;
}

export interface VerifyOptions {
  /** How old (or how far in the future) a signature may be. Default 300 s. */
  toleranceSeconds?: number;
  /** The receiver's clock. Default: now. */
  now?: Date;
}

/** True when `header` signs exactly `rawBody` with `secret` and its timestamp is fresh. */
export function verifySignature(secret: string, rawBody: string | Buffer, header: string | undefined, options: VerifyOptions = {}): boolean {
  const parsed = parseHeader(header);
  if (!parsed) return false;
  const tolerance = options.toleranceSeconds ?? 300;
  const nowSeconds = Math.floor((options.now ?? new Date()).getTime() / 1000);
  // NaN compares false with everything: a bad clock or tolerance must not let any age pass.
  if (!Number.isFinite(tolerance) || tolerance < 0 || !Number.isFinite(nowSeconds)) return false;
  if (!(Math.abs(nowSeconds - parsed.t) <= tolerance)) return false;
  const expected = Buffer.from(sign(secret, rawBody, parsed.t), "hex");
  // Every candidate is compared (no early exit), each in constant time.
  let ok = false;
  for (const candidate of parsed.v1) {
    const given = Buffer.from(candidate, "hex");
    if (given.length === expected.length && timingSafeEqual(given, expected)) ok = true;
  }
  return ok;
}

function sign(secret: string, body: string | Buffer, unixSeconds: number): string {
  return createHmac("sha256", secret).update(`${unixSeconds}.`).update(body).digest("hex");
}

function parseHeader(header: string | undefined): { t: number; v1: string[] } | undefined {
  if (!header || header.length > 2000) return undefined;
  let t: number | undefined;
  const v1: string[] = [];
  for (const part of header.split(",")) {
    const pair = /^\s*([^=\s]+)=([^=]*?)\s*$/.exec(part);
    if (!pair) return undefined;
    const [, key, value] = pair as unknown as [string, string, string];
    if (key === "t") {
      if (t !== undefined || !/^\d{1,12}$/.test(value)) return undefined;
      t = Number(value);
    } else if (key === "v1") {
      if (!/^[0-9a-f]{64}$/i.test(value)) return undefined;
      v1.push(value);
    }
  }
  return t === undefined || v1.length === 0 ? undefined : { t, v1 };
}

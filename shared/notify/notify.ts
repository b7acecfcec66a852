// The notify use case: one stream record's old and new images → the messages people must hear
// → every destination configured for the record's app and environment.
//
// Secrets are all resolved before anything is sent: if one cannot be read yet (throttled), the
// record is retried and nobody has received it twice. Nothing is sent past the invocation's
// deadline either: an invocation that ran out of time has ended for Lambda, which retries the
// record, while its own code resumes whenever the container runs again — alongside that retry.
import { getConfig } from "../config/compiled";
import type { Destination, PipelineConfig } from "../config/model";
import { RetryableAwsError, StevedoreError } from "../errors";
import { logger } from "../log";
import { isFinal, type StoredRecord } from "../records/model";
import { recordFromImage } from "../records/store";
import { deliver, type Delivery, type DeliveryOptions, type DeliveryResult } from "./deliver";
import { changesToNotify, type Notification } from "./message";
import { resolveSecret } from "./secrets";
import { toSlack } from "./slack";
import { toWebhook } from "./webhook";

/** A stream image as DynamoDB sends it (attribute-value JSON). */
export type StreamImage = Record<string, unknown>;

export interface NotifyOptions {
  config?: PipelineConfig;
  delivery?: DeliveryOptions;
  now?: () => Date;
  /** Epoch ms until which a final message may be retried (the invocation's deadline, less a margin). */
  deadline?: number;
}

export interface NotifyResult {
  notifications: Notification[];
  /** Destinations that were not tried (unknown, or their secret cannot be read). */
  skipped: string[];
  deliveries: DeliveryResult[];
}

const NOTHING: NotifyResult = { notifications: [], skipped: [], deliveries: [] };

export async function notifyChange(oldImage: StreamImage | undefined, newImage: StreamImage | undefined, options: NotifyOptions = {}): Promise<NotifyResult> {
  const record = recordFromImage(newImage);
  const notifications = changesToNotify(recordFromImage(oldImage), record);
  if (!record || notifications.length === 0) return NOTHING;

  const config = options.config ?? getConfig();
  const names = destinationNames(config, record);
  if (!names) {
    logger.info("notify: the record's app or environment is no longer in the config; nothing sent", subjectOf(record));
    return { ...NOTHING, notifications };
  }
  const skipped: string[] = [];
  const destinations = names.flatMap((name) => {
    const destination = config.destinations[name];
    if (!destination) skipped.push(name);
    return destination ? [destination] : [];
  });

  const undelivered: string[] = [];
  const ready = await Promise.all(destinations.map((d) => withSecrets(d, skipped)));
  if (options.deadline !== undefined && Date.now() >= options.deadline) {
    // Measured in the sandbox: throttled SSM reads under adaptive retry took 34 s of a 30-s
    // invocation, and the timed-out invocation then sent the final message beside its retry.
    throw new RetryableAwsError("notify", "OutOfTime", "reading the destinations' secrets took until the invocation's deadline; nothing was sent");
  }
  const now = options.now?.() ?? new Date();
  // Destinations in parallel; each one receives this record's messages in order.
  const deliveries = await Promise.all(ready.map(async (dest) => {
    if (!dest) return [];
    const results: DeliveryResult[] = [];
    for (const n of notifications) {
      const key = `${n.deliveryId}→${dest.destination.name}`;
      if (delivered.has(key)) continue; // this container already sent it, before a retry of the record
      const final = isFinalWord(n);
      // An earlier invocation of this container may still be sending it (it ran out of time):
      // wait for it rather than send a second message, and send only if it did not get through.
      if ((await inFlight.get(key))?.delivered) continue;
      const result = await tracked(key, deliver(render(n, dest, now), final && options.deadline ? { ...options.delivery, until: options.deadline } : options.delivery));
      results.push(result);
      if (final && !result.delivered) undelivered.push(`${n.event} to ${dest.destination.name}`);
    }
    return results;
  }));
  // A deployment's final word is never given up: the record goes back to the stream (retried,
  // then parked in the dead-letter queue for replay). Other messages are best effort.
  if (undelivered.length > 0) {
    throw new RetryableAwsError("notify", "WebhookUnavailable", `the final message could not be delivered yet: ${undelivered.join(", ")}`);
  }
  return { notifications, skipped, deliveries: deliveries.flat() };
}

/** The last message a deployment (or a failed build) gets: the one that must not be lost. */
function isFinalWord(n: Notification): boolean {
  if (n.kind === "build") return true;
  return n.kind === "deployment" && n.event !== "deployment.warning" && isFinal(n.deployment.status);
}

/** What this container delivered lately, so a retried record skips destinations already served. */
const delivered = new Set<string>();
/** What this container is sending now, by the same key. */
const inFlight = new Map<string, Promise<DeliveryResult>>();

/** A delivery in flight under `key` until it ends; remembered if it got through. */
async function tracked(key: string, sending: Promise<DeliveryResult>): Promise<DeliveryResult> {
  inFlight.set(key, sending);
  try {
    const result = await sending;
    if (result.delivered) remember(key);
    return result;
  } finally {
    inFlight.delete(key);
  }
}

/** For tests: a new container. */
export function forgetDeliveries(): void {
  delivered.clear();
  inFlight.clear();
}

function remember(key: string): void {
  delivered.add(key);
  if (delivered.size > 1000) delivered.delete(delivered.values().next().value as string);
}

/** Destination names for a record, or undefined when its app or environment is gone. */
export function destinationNames(config: PipelineConfig, record: StoredRecord): string[] | undefined {
  const app = config.apps.find((a) => a.name === record.app);
  if (!app) return undefined;
  if (record.kind === "build") return [...new Set(app.environments.flatMap((e) => e.notify))];
  const env = record.kind === "promotion" ? record.to : record.env;
  return app.environments.find((e) => e.name === env)?.notify;
}

type ReadyDestination = { destination: Destination; url: string; signingSecret?: string };

async function withSecrets(destination: Destination, skipped: string[]): Promise<ReadyDestination | undefined> {
  try {
    const [url, signingSecret] = await Promise.all([
      resolveSecret(destination.url),
      destination.type === "webhook" ? resolveSecret(destination.secret) : undefined,
    ]);
    return { destination, url, signingSecret };
  } catch (error) {
    // A parameter that is missing or unreadable stays so on retry: skip this destination only.
    if (error instanceof StevedoreError && !error.retryable) {
      logger.error(`notify: cannot read the URL or secret of ${destination.name}; not sent there`, { destination: destination.name, error: error.message });
      skipped.push(destination.name);
      return undefined;
    }
    throw error;
  }
}

function render(n: Notification, dest: ReadyDestination, now: Date): Delivery {
  const request = dest.destination.type === "slack"
    ? { body: JSON.stringify(toSlack(n)), headers: { "content-type": "application/json" } }
    : toWebhook(n, dest.signingSecret ?? "", now);
  return { destination: dest.destination.name, url: dest.url, deliveryId: n.deliveryId, ...request };
}

function subjectOf(record: StoredRecord): Record<string, string> {
  if (record.kind === "build") return { app: record.app, buildId: record.buildId };
  if (record.kind === "promotion") return { app: record.app, env: record.to, promotionId: record.id };
  return { app: record.app, env: record.env, deploymentId: record.id };
}

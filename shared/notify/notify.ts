// The notify use case: one stream record's old and new images → the messages people must hear
// → every destination configured for the record's app and environment.
//
// Secrets are all resolved before anything is sent: if one cannot be read yet (throttled), the
// record is retried and nobody has received it twice. A final word that no retry can deliver
// (refused, unreadable secret, or still failing after 50 minutes) is kept for `stevedore
// redeliver` instead of holding up the stream. Nothing is sent past the invocation's
// deadline either: an invocation that ran out of time has ended for Lambda, which retries the
// record, while its own code resumes whenever the container runs again — alongside that retry.
import { getConfig } from "../config/compiled";
import type { StreamImage } from "../events/stream";
import type { Destination, PipelineConfig } from "../config/model";
import { RetryableAwsError, StevedoreError } from "../errors";
import { logger } from "../log";
import { isFinal, type StoredRecord, type Undelivered } from "../records/model";
import { deliveredTo, forgetUndelivered, getStored, noteDelivered, queryUndelivered, recordFromImage, recordUndelivered } from "../records/store";
import { deliver, type Delivery, type DeliveryOptions, type DeliveryResult } from "./deliver";
import { changesToNotify, type Notification } from "./message";
import { resolveSecret } from "./secrets";
import { toSlack } from "./slack";
import { toWebhook } from "./webhook";

export interface NotifyOptions {
  config?: PipelineConfig;
  delivery?: DeliveryOptions;
  now?: () => Date;
  /** Epoch ms until which a final message may be retried (the invocation's deadline, less a margin). */
  deadline?: number;
  /** When the change was written (epoch ms): how long its final word has been retried. */
  writtenAt?: number;
}

/**
 * How long a final word that cannot be delivered yet goes back to the stream before it is kept
 * as undelivered for `stevedore redeliver`. Within serverless.yml's 120 stream retries of up to
 * 30 s each (an hour), so it is kept before the stream parks the batch with its position only.
 */
const FINAL_WORD_RETRY_MS = 50 * 60_000;

/**
 * A change handled this long after it was written is probably a retry: the first delivery of a
 * stream record comes within a second or two. Past it, the destinations its final word already
 * reached are read (one Query); before it, no read is spent on the common case.
 */
const LIKELY_RETRY_MS = 20_000;

export interface NotifyResult {
  notifications: Notification[];
  /** Destinations that were not tried (unknown, or their secret cannot be read). */
  skipped: string[];
  deliveries: DeliveryResult[];
}

const NOTHING: NotifyResult = { notifications: [], skipped: [], deliveries: [] };

export async function notifyChange(oldImage: StreamImage, newImage: StreamImage, options: NotifyOptions = {}): Promise<NotifyResult> {
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

  const finals = notifications.filter(isFinalWord);
  // A final word a retry can never deliver (its destination refused it, or its URL or secret
  // cannot be read) is kept once, logged once, and never holds back or repeats the others.
  const unreachable: Omit<Undelivered, "app" | "recordId" | "at" | "item">[] = [];
  const undelivered: string[] = [];
  const ready = await Promise.all(
    destinations.map(async (d) => {
      const got = await withSecrets(d);
      if ("unreadable" in got) {
        skipped.push(d.name);
        for (const n of finals)
          unreachable.push({ event: n.event, destination: d.name, reason: `its URL or signing secret cannot be read: ${got.unreadable}` });
        return undefined;
      }
      return got;
    }),
  );
  if (options.deadline !== undefined && Date.now() >= options.deadline) {
    // Measured in the sandbox: throttled SSM reads under adaptive retry took 34 s of a 30-s
    // invocation, and the timed-out invocation then sent the final message beside its retry.
    throw new RetryableAwsError("notify", "OutOfTime", "reading the destinations' secrets took until the invocation's deadline; nothing was sent");
  }
  const now = options.now?.() ?? new Date();
  const retriedFor = options.writtenAt === undefined ? 0 : now.getTime() - options.writtenAt;
  // A change handled long after it was written may be a retry from another container: the
  // destinations it already reached were noted (below) and are not sent it again.
  const reached = new Map<string, string[]>();
  if (retriedFor >= LIKELY_RETRY_MS) {
    for (const n of finals) reached.set(n.deliveryId, await deliveredTo(record.app, n.deliveryId));
  }
  // Destinations in parallel; each one receives this record's messages in order.
  const deliveries = await Promise.all(
    ready.map(async (dest) => {
      if (!dest) return [];
      const results: DeliveryResult[] = [];
      for (const n of notifications) {
        const key = `${n.deliveryId}→${dest.destination.name}`;
        if (delivered.has(key)) continue; // this container already sent it, before a retry of the record
        if (reached.get(n.deliveryId)?.includes(dest.destination.name)) continue; // another container did
        const final = isFinalWord(n);
        // An earlier invocation of this container may still be sending it (it ran out of time):
        // wait for it rather than send a second message, and send only if it did not get through.
        if ((await inFlight.get(key))?.delivered) continue;
        const timing = {
          ...options.delivery,
          ...(options.deadline !== undefined ? { deadline: options.deadline, ...(final ? { until: options.deadline } : {}) } : {}),
        };
        const result = await tracked(key, deliver(render(n, dest, now), timing));
        results.push(result);
        if (final && !result.delivered) {
          if (result.permanent) unreachable.push({ event: n.event, destination: dest.destination.name, reason: `refused: ${result.error}` });
          else if (retriedFor >= FINAL_WORD_RETRY_MS)
            unreachable.push({
              event: n.event,
              destination: dest.destination.name,
              reason: `still not delivered ${Math.round(retriedFor / 60_000)} minutes after it was written: ${result.error}`,
            });
          else undelivered.push(`${n.event} to ${dest.destination.name}`);
        }
      }
      return results;
    }),
  );
  await keepUnreachable(record, itemKeys(newImage), unreachable, now);
  // Otherwise a deployment's final word is never given up: the record goes back to the stream,
  // which retries it until it is kept (FINAL_WORD_RETRY_MS). Other messages are best effort.
  if (undelivered.length > 0) {
    // Before the record goes back: where its final word did arrive, so a retry elsewhere skips it.
    for (const n of finals) {
      const got = ready.filter((d): d is ReadyDestination => !!d && delivered.has(`${n.deliveryId}→${d.destination.name}`)).map((d) => d.destination.name);
      if (got.length > 0) await noteDelivered(record.app, n.deliveryId, got);
    }
    throw new RetryableAwsError("notify", "WebhookUnavailable", `the final message could not be delivered yet: ${undelivered.join(", ")}`);
  }
  return { notifications, skipped, deliveries: deliveries.flat() };
}

/** Keeps each final word no retry can deliver, once, where `stevedore history` shows it, with one error log line. */
async function keepUnreachable(
  record: StoredRecord,
  item: Undelivered["item"],
  unreachable: Omit<Undelivered, "app" | "recordId" | "at" | "item">[],
  now: Date,
): Promise<void> {
  const recordId = record.kind === "build" ? record.buildId : record.id;
  for (const u of unreachable) {
    if (await recordUndelivered({ app: record.app, recordId, at: now.toISOString(), item, ...u })) {
      logger.error(`notify: ${u.event} could not be delivered to ${u.destination} and will not be retried: ${u.reason}`, {
        ...subjectOf(record),
        destination: u.destination,
        event: u.event,
      });
    }
  }
}

/** The table keys of the stream image's item. */
function itemKeys(image: StreamImage): Undelivered["item"] {
  const key = (name: string) => String(((image ?? {})[name] as { S?: string } | undefined)?.S ?? "");
  return { pk: key("pk"), sk: key("sk") };
}

export interface Redelivery {
  recordId: string;
  destination: string;
  event: string;
  delivered: boolean;
  /** Why it still could not be delivered. */
  error?: string;
}

/**
 * `stevedore redeliver`: sends each final word kept as undelivered for `app` (or for one record)
 * again, as it is now worded from the record, with the same delivery id (receivers deduplicate
 * on it), and forgets it once delivered.
 */
export async function redeliver(app: string, recordId: string | undefined, options: NotifyOptions = {}): Promise<Redelivery[]> {
  const config = options.config ?? getConfig();
  const kept = (await queryUndelivered(app)).filter((u) => recordId === undefined || u.recordId === recordId);
  const results: Redelivery[] = [];
  for (const u of kept) {
    const said = (delivered: boolean, error?: string) =>
      results.push({ recordId: u.recordId, destination: u.destination, event: u.event, delivered, ...(error ? { error } : {}) });
    const record = await getStored(u.item);
    const word = record ? finalWordOf(record).find((n) => n.event === u.event) : undefined;
    const destination = config.destinations[u.destination];
    if (!word || !destination) {
      said(false, !word ? "its record no longer says this (deleted, or moved on)" : `${u.destination} is no longer in the config`);
      continue;
    }
    const ready = await withSecrets(destination);
    if ("unreadable" in ready) {
      said(false, `its URL or signing secret cannot be read: ${ready.unreadable}`);
      continue;
    }
    const result = await deliver(render(word, ready, options.now?.() ?? new Date()), options.delivery);
    if (result.delivered) await forgetUndelivered(u);
    said(result.delivered, result.error);
  }
  return results;
}

/** A record's final word, as the change into its current status announced it. */
function finalWordOf(record: StoredRecord): Notification[] {
  const before = record.kind === "build" ? undefined : ({ ...record, status: "pending" } as StoredRecord);
  return changesToNotify(before, record).filter(isFinalWord);
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

/** The destination with its URL and signing secret, or why they cannot be read (a retry would not help). */
async function withSecrets(destination: Destination): Promise<ReadyDestination | { unreadable: string }> {
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
      return { unreadable: error.message };
    }
    throw error;
  }
}

function render(n: Notification, dest: ReadyDestination, now: Date): Delivery {
  const request =
    dest.destination.type === "slack"
      ? { body: JSON.stringify(toSlack(n)), headers: { "content-type": "application/json" } }
      : toWebhook(n, dest.signingSecret ?? "", now);
  return { destination: dest.destination.name, url: dest.url, deliveryId: n.deliveryId, ...request };
}

function subjectOf(record: StoredRecord): Record<string, string> {
  if (record.kind === "build") return { app: record.app, buildId: record.buildId };
  if (record.kind === "promotion") return { app: record.app, env: record.to, promotionId: record.id };
  return { app: record.app, env: record.env, deploymentId: record.id };
}

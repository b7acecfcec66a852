// POSTs one rendered message to one destination: a bounded time per attempt, a few retries with
// backoff, and then it gives up with a log line. It never throws: a webhook that is down must
// not hold back the other destinations. A deployment's final word gets `until`: it is retried
// up to that moment (its invocation's deadline), and the caller decides what a give-up means.
//
// The URL is never logged or returned: a Slack incoming-webhook URL is itself the secret.
import { logger } from "../log";

export interface Delivery {
  /** The destination's name from the config: the only way logs name it. */
  destination: string;
  url: string;
  body: string;
  headers: Record<string, string>;
  /** Carried into logs, so a receiver's complaint can be matched. */
  deliveryId?: string;
}

export interface DeliveryOptions {
  /** Per attempt. Default 3000 ms. */
  timeoutMs?: number;
  /** Including the first. Default 3. */
  attempts?: number;
  /** Keep retrying a retryable failure until this epoch ms, however many attempts that takes. */
  until?: number;
  /**
   * Never wait past this epoch ms (the invocation's deadline). A Retry-After is honoured in full
   * when it ends before then; one that ends later gives up at once, so the record can be retried
   * when the destination asked, not slept through until Lambda kills the invocation.
   */
  deadline?: number;
  /** The first retry waits about this long, doubling each time. Default 250 ms. */
  backoffMs?: number;
  /** No single wait is longer. Default 4000 ms (also caps Retry-After). */
  maxBackoffMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface DeliveryResult {
  destination: string;
  delivered: boolean;
  attempts: number;
  /** The last HTTP status, when there was a response. */
  status?: number;
  /** Why the last attempt failed, without the URL. */
  error?: string;
  /** The destination refused the message itself (a 4xx other than 408 or 429): trying again cannot help. */
  permanent?: boolean;
}

interface Attempt {
  ok: boolean;
  retry: boolean;
  permanent?: boolean;
  status?: number;
  error?: string;
  retryAfterMs?: number;
}

export async function deliver(delivery: Delivery, options: DeliveryOptions = {}): Promise<DeliveryResult> {
  const attempts = Math.max(1, options.attempts ?? 3);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let last: Attempt = { ok: false, retry: false };
  let n = 0;
  for (;;) {
    n += 1;
    last = await attempt(delivery, options.timeoutMs ?? 3000);
    if (last.ok) {
      logger.info(`notify: delivered to ${delivery.destination}`, {
        destination: delivery.destination,
        deliveryId: delivery.deliveryId,
        attempts: n,
        status: last.status,
      });
      return { destination: delivery.destination, delivered: true, attempts: n, status: last.status };
    }
    if (!last.retry) break;
    const wait = backoff(n, last.retryAfterMs, options);
    const deadline = options.deadline ?? options.until;
    if (deadline !== undefined && Date.now() + wait + (options.timeoutMs ?? 3000) >= deadline) {
      if (last.retryAfterMs !== undefined)
        last.error = `${last.error}, asked to retry after ${Math.ceil(last.retryAfterMs / 1000)} s, past this invocation's deadline`;
      break;
    }
    const timeLeft = options.until !== undefined;
    if (n >= attempts && !timeLeft) break;
    await sleep(wait);
  }
  const result: DeliveryResult = {
    destination: delivery.destination,
    delivered: false,
    attempts: n,
    status: last.status,
    error: last.error,
    ...(last.permanent ? { permanent: true } : {}),
  };
  logger.warn(`notify: gave up delivering to ${delivery.destination} after ${n} attempt${n === 1 ? "" : "s"}: ${last.error}`, {
    destination: delivery.destination,
    deliveryId: delivery.deliveryId,
    attempts: n,
    status: last.status,
    error: last.error,
  });
  return result;
}

async function attempt(delivery: Delivery, timeoutMs: number): Promise<Attempt> {
  try {
    const response = await fetch(delivery.url, {
      method: "POST",
      headers: delivery.headers,
      body: delivery.body,
      // A redirect would carry a signed body somewhere nobody configured.
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    // Read the body so the connection is released; only a Slack-style error code is kept,
    // because an error page may echo the request path, and the path is the secret.
    const text = await response.text().catch(() => "");
    if (response.ok) return { ok: true, retry: false, status: response.status };
    const code = /^[a-z_]{1,64}$/.test(text.trim()) ? ` (${text.trim()})` : "";
    const retry = response.status === 408 || response.status === 429 || response.status >= 500;
    return {
      ok: false,
      retry,
      // A 4xx is the destination refusing this message (a revoked Slack hook, a wrong path, a
      // receiver rejecting the body); a 3xx is a redirect we do not follow. Neither heals by retrying.
      permanent: !retry,
      status: response.status,
      error: `HTTP ${response.status}${code}`,
      retryAfterMs: retryAfter(response.headers.get("retry-after")),
    };
  } catch (error) {
    return { ok: false, retry: true, error: describe(error, timeoutMs) };
  }
}

// Only names and codes: fetch's messages and causes can contain the host and path.
function describe(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; cause?: { code?: unknown; name?: unknown } } | undefined;
  if (e?.name === "TimeoutError" || e?.name === "AbortError") return `timed out after ${timeoutMs} ms`;
  const code = e?.cause?.code ?? e?.cause?.name;
  return typeof code === "string" ? `network error ${code}` : `network error ${e?.name ?? "unknown"}`;
}

function retryAfter(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * Exponential with jitter (half fixed, half random), so many Lambdas do not retry in step. A
 * Retry-After is honoured: in full where the caller has a deadline (whether it fits is checked
 * against it), else up to the cap.
 */
function backoff(failedAttempts: number, retryAfterMs: number | undefined, options: DeliveryOptions): number {
  const max = options.maxBackoffMs ?? 4000;
  const base = Math.min(max, (options.backoffMs ?? 250) * 2 ** (failedAttempts - 1));
  const jittered = base / 2 + (options.random ?? Math.random)() * (base / 2);
  if (retryAfterMs !== undefined && (options.deadline ?? options.until) !== undefined) return Math.max(jittered, retryAfterMs);
  return Math.min(max, Math.max(jittered, retryAfterMs ?? 0));
}

import type { Context } from "aws-lambda";

/** What this invocation can promise: until when a claim it takes now may be held. */
export interface Lease {
  /** Wall-clock ms until which a claim taken now may be held. */
  until(): number;
}

/**
 * How long this invocation may hold a claim: until its own deadline (after it, it is surely
 * dead), but at most a minute. A claim only has to cover one UpdateService call, and a long
 * fan-out (a 900-second timeout) must not leave an abandoned claim waiting a quarter of an hour.
 */
export function leaseOf(context: Pick<Context, "getRemainingTimeInMillis">): Lease {
  return { until: () => Date.now() + Math.min(context.getRemainingTimeInMillis(), MAX_LEASE_MS) };
}

const MAX_LEASE_MS = 60_000;

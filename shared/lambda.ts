import type { Context } from "aws-lambda";
import type { DeployOptions } from "./deploy/deploy";

/**
 * How long this invocation may hold a claim: until its own deadline (after it, it is surely
 * dead), but at most a minute. A claim only has to cover one UpdateService call, and a long
 * fan-out (a 900-second timeout) must not leave an abandoned claim waiting a quarter of an hour.
 */
export function leaseOf(context: Pick<Context, "getRemainingTimeInMillis">): DeployOptions {
  return { lease: () => Date.now() + Math.min(context.getRemainingTimeInMillis(), MAX_LEASE_MS) };
}

const MAX_LEASE_MS = 60_000;

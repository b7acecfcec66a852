import type { Context } from "aws-lambda";
import type { DeployOptions } from "./deploy/deploy";

/** A claim may be held until this invocation's own deadline: after it, it is surely dead. */
export function leaseOf(context: Pick<Context, "getRemainingTimeInMillis">): DeployOptions {
  return { leaseUntil: Date.now() + context.getRemainingTimeInMillis() };
}

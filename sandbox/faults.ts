// The sandbox's fault knobs, set per run. Each is what AWS (or a webhook, or Lambda) really
// does now and then; a run picks some and a seed, so a failing run can be replayed exactly.
import { awsError, type AwsRequest, type AwsResponse } from "./aws/server";
import { contentDigest, keyed, Occurrences } from "./random";

export interface Faults {
  /** Sandbox milliseconds added to every AWS call. */
  latencyMs?: number;
  /** ThrottlingException in bursts: calls are refused in runs of `burst`, about `share` of them in all. */
  throttling?: { share: number; burst: number };
  /** Share of AWS calls answered with a 500/503. */
  serverErrors?: number;
  /** Every EventBridge event delivered twice (stream records appear once; see bus.ts). */
  duplicateEvents?: boolean;
  /** Events delivered out of order: each held back up to this many virtual ms. */
  reorderMs?: number;
  /** Share of events delivered very late: after `lateMs` virtual ms (after the next deployment started). */
  lateEvents?: { share: number; lateMs: number };
  /** The webhook receiver refuses everything for this many sandbox ms from the start. */
  webhookDownMs?: number;
  /** The webhook receiver answers after this many sandbox ms. */
  webhookSlowMs?: number;
  /**
   * A function's invocations ("*": every function's) crash after their n-th AWS call, or right
   * after their first call of `afterOperation` (the first `times` of them, per function).
   */
  crash?: { function: string; times?: number } & ({ afterCalls: number } | { afterOperation: string });
  /** The first `count` optimistic writes to DynamoDB (version or head checks) fail as if another writer won. */
  conditionalConflicts?: number;
  /**
   * Share of DynamoDB writes that meet another transaction on one of their items, answered as
   * DynamoDB does: TransactionCanceledException with reason TransactionConflict for a
   * transaction, TransactionConflictException for a single-item write. Nothing is written.
   */
  transactionConflicts?: number;
  /** Seed of every random choice above. */
  seed?: number;
}

/** How often each fault actually struck in a world: the matrix shows a fault column really bit. */
export interface Injected {
  slowedCalls: number;
  throttled: number;
  serverErrors: number;
  conflicts: number;
  transactionConflicts: number;
  duplicated: number;
  delayed: number;
  crashes: number;
  webhookRefused: number;
  webhookSlowed: number;
}

export function noneInjected(): Injected {
  return {
    slowedCalls: 0,
    throttled: 0,
    serverErrors: 0,
    conflicts: 0,
    transactionConflicts: 0,
    duplicated: 0,
    delayed: 0,
    crashes: 0,
    webhookRefused: 0,
    webhookSlowed: 0,
  };
}

/** The counters a world under these faults must see move: otherwise the fault never struck. */
export function strikesOf(faults: Faults): (keyof Injected)[] {
  const strikes: [boolean, keyof Injected][] = [
    [!!faults.latencyMs, "slowedCalls"],
    [!!faults.throttling, "throttled"],
    [!!faults.serverErrors, "serverErrors"],
    [!!faults.conditionalConflicts, "conflicts"],
    [!!faults.transactionConflicts, "transactionConflicts"],
    [!!faults.duplicateEvents, "duplicated"],
    [!!faults.reorderMs || !!faults.lateEvents, "delayed"],
    [!!faults.crash, "crashes"],
    [!!faults.webhookDownMs, "webhookRefused"],
    [!!faults.webhookSlowMs, "webhookSlowed"],
  ];
  return strikes.filter(([on]) => on).map(([, counter]) => counter);
}

const CONDITIONAL_WRITES = new Set(["PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"]);

/** Waits `ms` of sandbox time while answering `request`. */
export type RequestWait = (request: AwsRequest, ms: number) => Promise<void>;

/** Who made an AWS call (an invocation's key, or the world) and the random draws for this call. */
export type CallDraws = (request: AwsRequest) => { caller: string; draw: () => number };

/**
 * Each AWS call's draws, named by its caller, operation and content (and which identical call it
 * is), never by when it arrived.
 */
export function callDraws(seed: number, callerOf: (request: AwsRequest) => string): CallDraws {
  const calls = new Occurrences();
  return (request) => {
    const caller = callerOf(request);
    return { caller, draw: keyed(seed, calls.name(`${caller}|${request.operation}|${contentDigest(request.body)}`)) };
  };
}

/**
 * What the local AWS applies before a call reaches its service: latency, throttling, 5xx and
 * DynamoDB conditional-write conflicts. Returns an early answer, or undefined to go on. Each call
 * draws from its own generator and a throttling burst is its caller's, so concurrent invocations
 * reaching the sandbox in another order still meet the same faults.
 */
export function awsFaults(
  faults: Faults,
  drawsFor: CallDraws,
  injected: Injected,
  wait: RequestWait,
): (request: AwsRequest) => Promise<AwsResponse | undefined> {
  const throttledInBurst = new Map<string, number>();
  let conflicts = faults.conditionalConflicts ?? 0;
  return async (request) => {
    const { caller, draw } = drawsFor(request);
    if (faults.latencyMs) {
      injected.slowedCalls++;
      await wait(request, faults.latencyMs);
    }
    if (faults.throttling) {
      const left = throttledInBurst.get(caller) ?? 0;
      if (left > 0 || draw() < faults.throttling.share / faults.throttling.burst) {
        throttledInBurst.set(caller, left > 0 ? left - 1 : faults.throttling.burst - 1);
        injected.throttled++;
        return request.prefix.startsWith("DynamoDB")
          ? awsError("com.amazonaws.dynamodb.v20120810#ThrottlingException", "Rate of requests exceeds the allowed throughput.")
          : awsError("ThrottlingException", "Rate exceeded");
      }
    }
    if (faults.serverErrors && draw() < faults.serverErrors) {
      injected.serverErrors++;
      return draw() < 0.5
        ? awsError("InternalFailure", "We encountered an internal error. Please try again.", 500)
        : awsError("ServiceUnavailable", "Service is temporarily unavailable.", 503);
    }
    if (
      faults.transactionConflicts &&
      request.prefix.startsWith("DynamoDB") &&
      CONDITIONAL_WRITES.has(request.operation) &&
      draw() < faults.transactionConflicts
    ) {
      injected.transactionConflicts++;
      return request.operation === "TransactWriteItems"
        ? awsError(
            "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]",
            400,
            {
              CancellationReasons: ((request.body.TransactItems as unknown[]) ?? []).map((_, i) =>
                i === 0 ? { Code: "TransactionConflict", Message: "Transaction is ongoing for the item" } : { Code: "None" },
              ),
            },
          )
        : awsError("com.amazonaws.dynamodb.v20120810#TransactionConflictException", "Transaction is ongoing for the item");
    }
    if (conflicts > 0 && request.prefix.startsWith("DynamoDB") && CONDITIONAL_WRITES.has(request.operation) && optimistic(request)) {
      conflicts--;
      injected.conflicts++;
      return request.operation === "TransactWriteItems"
        ? awsError(
            "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed]",
            400,
            {
              CancellationReasons: ((request.body.TransactItems as unknown[]) ?? []).map((_, i) => ({ Code: i === 0 ? "ConditionalCheckFailed" : "None" })),
            },
          )
        : awsError("com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException", "The conditional request failed");
    }
    return undefined;
  };
}

/**
 * A write that checks what it read (a record's version, a head's pushKey): another writer can
 * really win in between, so a conflict is an answer DynamoDB gives. Other conditions cannot fail
 * that way (a create-if-absent of an item nobody else makes, a head unlock while holding its
 * lock): failing them would invent a state that does not exist.
 */
function optimistic(request: AwsRequest): boolean {
  const items =
    request.operation === "TransactWriteItems"
      ? ((request.body.TransactItems as Record<string, { ConditionExpression?: string }>[]) ?? []).map((i) => Object.values(i)[0])
      : [request.body as { ConditionExpression?: string }];
  return items.some((i) => /\b(version|pushKey)\b/.test(i?.ConditionExpression ?? ""));
}

/** A short label for reports: "latency 150ms + duplicated events". */
export function describeFaults(faults: Faults): string {
  const parts: string[] = [];
  if (faults.latencyMs) parts.push(`latency ${faults.latencyMs}ms`);
  if (faults.throttling) parts.push(`throttling bursts (${Math.round(faults.throttling.share * 100)}%, ${faults.throttling.burst} in a row)`);
  if (faults.serverErrors) parts.push(`5xx (${Math.round(faults.serverErrors * 100)}%)`);
  if (faults.duplicateEvents) parts.push("duplicated events");
  if (faults.reorderMs) parts.push(`reordered events (≤${faults.reorderMs / 1000}s)`);
  if (faults.lateEvents) parts.push(`late events (${Math.round(faults.lateEvents.share * 100)}% after ${faults.lateEvents.lateMs / 60000}m)`);
  if (faults.webhookDownMs) parts.push(`webhook down ${faults.webhookDownMs / 60_000}m`);
  if (faults.webhookSlowMs) parts.push(`webhook slow ${faults.webhookSlowMs}ms`);
  if (faults.crash)
    parts.push(
      `${faults.crash.function === "*" ? "every function" : faults.crash.function} crashes after ${"afterCalls" in faults.crash ? `call ${faults.crash.afterCalls}` : faults.crash.afterOperation}`,
    );
  if (faults.conditionalConflicts) parts.push(`${faults.conditionalConflicts} conditional-write conflicts`);
  if (faults.transactionConflicts) parts.push(`transaction conflicts (${Math.round(faults.transactionConflicts * 100)}% of DynamoDB writes)`);
  return parts.join(" + ") || "no faults";
}

/** Named faults for `npm run demo -- --fault NAME` and the tests; the fault matrix combines more. */
export const FAULTS: Record<string, Faults> = {
  latency: { latencyMs: 150 },
  throttling: { throttling: { share: 0.1, burst: 3 }, seed: 7 },
  "server-errors": { serverErrors: 0.1, seed: 11 },
  duplicates: { duplicateEvents: true, seed: 3 },
  reordering: { reorderMs: 20_000, seed: 5 },
  "late-events": { lateEvents: { share: 0.2, lateMs: 8 * 60_000 }, seed: 13 },
  "webhook-down": { webhookDownMs: 8 * 60_000 },
  "webhook-slow": { webhookSlowMs: 2500 },
  "crash-on-push": { crash: { function: "on-image-pushed", afterCalls: 4 } },
  // Dies between registering a revision and the UpdateService that uses it (and the record of it).
  "crash-after-register": { crash: { function: "*", afterOperation: "RegisterTaskDefinition" } },
  // Dies right after UpdateService returned, before the record learns the deployment it started.
  "crash-after-update": { crash: { function: "*", afterOperation: "UpdateService" } },
  // Every function's first invocation dies after its second AWS call; Lambda delivers again.
  crash: { crash: { function: "*", afterCalls: 2 } },
  "dynamodb-conflicts": { conditionalConflicts: 3 },
  "transaction-conflict": { transactionConflicts: 0.1, seed: 29 },
  "throttle+5xx+crash": { throttling: { share: 0.1, burst: 3 }, serverErrors: 0.1, crash: { function: "*", afterCalls: 3 }, seed: 19 },
};

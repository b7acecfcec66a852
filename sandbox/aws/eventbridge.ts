// EventBridge's PutEvents for the sandbox: what `stevedore approve|reject` (cli/stevedore.ts)
// and anything else of ours sends to the default bus. Entries are checked one by one as AWS
// checks them (a bad entry fails alone, with its ErrorCode, and the others still go out); each
// accepted entry is handed to the sandbox's bus as the event EventBridge would deliver.
import { madeUpId } from "../random";
import type { Clock } from "../clock";
import type { AwsEvent, Emit } from "../events";
import { AwsError, type AwsRequest, type AwsResponse } from "./server";

export const EVENTBRIDGE_PREFIX = "AWSEvents";

/** PutEvents' limits: entries per call, and bytes per call (all entries together). */
const MAX_ENTRIES = 10;
const MAX_BYTES = 256 * 1024;

export interface EventBridgeOptions {
  clock: Clock;
  emit: Emit;
  account?: string;
  region?: string;
}

interface Entry {
  Source?: unknown;
  DetailType?: unknown;
  Detail?: unknown;
  Resources?: unknown;
  Time?: unknown;
  EventBusName?: unknown;
  TraceHeader?: unknown;
}

type Result = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

export class LocalEventBridge {
  readonly account: string;
  readonly region: string;
  private readonly clock: Clock;
  private readonly emit: Emit;
  /** Every event accepted, in order (what the bus was handed). */
  readonly accepted: AwsEvent[] = [];

  constructor(options: EventBridgeOptions) {
    this.clock = options.clock;
    this.emit = options.emit;
    this.account = options.account ?? "123456789012";
    this.region = options.region ?? "eu-west-1";
  }

  readonly handle = async (request: AwsRequest): Promise<AwsResponse> => {
    if (request.operation !== "PutEvents") {
      throw new AwsError("UnknownOperationException", `the sandbox's EventBridge does not implement ${request.operation}`);
    }
    return { status: 200, body: this.putEvents(request.body) };
  };

  private putEvents(body: Record<string, unknown>): unknown {
    const entries = body.Entries;
    if (!Array.isArray(entries)) {
      throw new AwsError("ValidationException", "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null");
    }
    if (entries.length < 1 || entries.length > MAX_ENTRIES) {
      const bound = entries.length < 1 ? "greater than or equal to 1" : `less than or equal to ${MAX_ENTRIES}`;
      throw new AwsError(
        "ValidationException",
        `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length ${bound}`,
      );
    }
    const size = (entries as Entry[]).reduce((sum, e) => sum + entrySize(e), 0);
    if (size > MAX_BYTES) throw new AwsError("ValidationException", "Total size of the entries in the request is over the limit.");

    const results: Result[] = [];
    const events: AwsEvent[] = [];
    for (const entry of entries as Entry[]) {
      const checked = this.check(entry);
      if ("ErrorCode" in checked) {
        results.push(checked);
        continue;
      }
      results.push({ EventId: checked.id });
      events.push(checked);
    }
    // Handed over once the whole call is judged, in entry order.
    for (const event of events) {
      this.accepted.push(event);
      this.emit(event);
    }
    return { FailedEntryCount: results.filter((r) => "ErrorCode" in r).length, Entries: results };
  }

  private check(entry: Entry): AwsEvent | { ErrorCode: string; ErrorMessage: string } {
    for (const field of ["Source", "DetailType", "Detail"] as const) {
      const value = entry[field];
      if (typeof value !== "string" || value.trim() === "") return invalid(field, `${field} is a required argument.`);
    }
    const source = entry.Source as string;
    const detailType = entry.DetailType as string;
    if (source.length > 256) return invalid("Source", "Source must be at most 256 characters long.");
    if (detailType.length > 128) return invalid("DetailType", "DetailType must be at most 128 characters long.");
    // Only AWS services may send events whose source begins with "aws.".
    if (source.startsWith("aws.")) return { ErrorCode: "NotAuthorizedForSourceException", ErrorMessage: "Not authorized for the source." };
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail as string);
    } catch {
      detail = undefined;
    }
    if (typeof detail !== "object" || detail === null || Array.isArray(detail)) {
      return { ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed." };
    }
    const bus = entry.EventBusName;
    const defaultBus = `arn:aws:events:${this.region}:${this.account}:event-bus/default`;
    if (bus !== undefined && bus !== null && bus !== "" && bus !== "default" && bus !== defaultBus) {
      return { ErrorCode: "InvalidArgument", ErrorMessage: `Parameter EventBusName is not valid. Reason: Event bus ${String(bus)} does not exist.` };
    }
    const resources = entry.Resources ?? [];
    if (!Array.isArray(resources) || resources.some((r) => typeof r !== "string")) {
      return invalid("Resources", "Resources must be a list of ARNs.");
    }
    const time = typeof entry.Time === "number" ? entry.Time * 1000 : this.clock.now();
    const event = {
      "detail-type": detailType,
      source,
      account: this.account,
      time: this.clock.eventTime(time),
      region: this.region,
      resources: resources as string[],
      detail: detail as Record<string, unknown>,
    };
    return { version: "0", id: madeUpId(event), ...event };
  }
}

function invalid(field: string, reason: string): { ErrorCode: string; ErrorMessage: string } {
  return { ErrorCode: "InvalidArgument", ErrorMessage: `Parameter ${field} is not valid. Reason: ${reason}` };
}

/** AWS's size of an entry: its strings in UTF-8, plus 14 bytes when it carries a Time. */
function entrySize(entry: Entry): number {
  const bytes = (v: unknown) => (typeof v === "string" ? Buffer.byteLength(v) : 0);
  const resources = Array.isArray(entry.Resources) ? entry.Resources.reduce((s: number, r: unknown) => s + bytes(r), 0) : 0;
  return bytes(entry.Source) + bytes(entry.DetailType) + bytes(entry.Detail) + resources + (entry.Time !== undefined ? 14 : 0);
}

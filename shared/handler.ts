// What every Lambda handler shares: parse the event at the edge, log with the Lambda context,
// and decide what a failure means to Lambda. A handler file only names its schema and its use
// case; nothing else is allowed to branch on raw input.
import middy from "@middy/core";
import type { Context, DynamoDBBatchResponse } from "aws-lambda";
import * as z from "zod/mini";
import { StevedoreError } from "./errors";
import { recordsStream, type StreamImage } from "./events/stream";
import { logger } from "./log";

export interface Ignored {
  ignored: string;
}

/**
 * A handler for one kind of event.
 * - An event that does not match the schema is logged and ignored: retrying it cannot help.
 * - Use cases handle the failures they expect (they record them, for people to see). Any error
 *   that reaches here is logged and thrown: Lambda retries the event, then parks it in the
 *   dead-letter queue, where it waits to be replayed once the cause (a missing table, a denied
 *   permission, a bug) is fixed. Nothing is silently dropped.
 */
export function eventHandler<S extends z.ZodMiniType, R>(name: string, schema: S, run: (event: z.output<S>, context: Context) => Promise<R>) {
  return middy(async (event: unknown, context: Context): Promise<R | Ignored> => {
    const parsed = z.safeParse(schema, event);
    if (!parsed.success) {
      logger.warn(`${name}: ignored an event that does not match its schema`, {
        eventId: idOf(event),
        problems: parsed.error.issues.slice(0, 5).map((i) => `${i.path.join(".") || "(event)"}: ${i.message}`),
      });
      return { ignored: "malformed event" };
    }
    try {
      return await run(parsed.data, context);
    } catch (error) {
      const retryable = error instanceof StevedoreError ? error.retryable : undefined;
      logger.error(`${name}: ${(error as Error).message}`, { eventId: idOf(event), retryable });
      throw error;
    }
  }).before((request) => logger.setContext(request.context));
}

function idOf(event: unknown): string | undefined {
  const id = (event as { id?: unknown } | null)?.id;
  return typeof id === "string" ? id.slice(0, 100) : undefined;
}

/**
 * A consumer of the records table's stream. Records are handled in stream order; the first one
 * that throws is reported (ReportBatchItemFailures) and everything after it is left for the
 * retry, so nothing is skipped and nothing already handled is handled again by this batch.
 * The same goes for time: a record is only started while there is time for it (the first one
 * always), so the function never dies halfway through a batch and repeats what it did.
 */
export function streamConsumer(
  name: string,
  /** `writtenAt`: when the change was written (epoch ms), if the stream says. */
  onChange: (oldImage: StreamImage, newImage: StreamImage, context: Context, writtenAt: number | undefined) => Promise<unknown>,
) {
  return eventHandler(name, recordsStream, async (event, context): Promise<DynamoDBBatchResponse> => {
    let slowest = 0;
    for (const [index, record] of event.Records.entries()) {
      const sequenceNumber = record.dynamodb.SequenceNumber;
      if (index > 0 && context.getRemainingTimeInMillis() < Math.max(RECORD_RESERVE_MS, 2 * slowest)) {
        logger.warn(`${name}: leaving ${event.Records.length - index} record(s) for the next invocation, out of time`, { sequenceNumber });
        return { batchItemFailures: [{ itemIdentifier: sequenceNumber }] };
      }
      const started = Date.now();
      try {
        const written = record.dynamodb.ApproximateCreationDateTime;
        await onChange(record.dynamodb.OldImage, record.dynamodb.NewImage, context, written === undefined ? undefined : written * 1000);
      } catch (error) {
        logger.error(`${name}: failed on a stream record; it and the rest of the batch will be retried`, {
          eventID: record.eventID,
          sequenceNumber,
          error: String(error),
        });
        return { batchItemFailures: [{ itemIdentifier: sequenceNumber }] };
      }
      slowest = Math.max(slowest, Date.now() - started);
    }
    return { batchItemFailures: [] };
  });
}

/** Time kept in hand before starting another record: one record's slowest webhook delivery. */
const RECORD_RESERVE_MS = 10_000;

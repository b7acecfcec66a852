// notify: consumes the records table's stream (NEW_AND_OLD_IMAGES) and tells people what
// changed. Deploy handlers never call webhooks, so a slow webhook cannot delay a deployment.
//
// The event source mapping uses ReportBatchItemFailures: records are handled in stream order,
// and the first one that throws (e.g. SSM throttled) is reported with everything after it
// left for the retry. A webhook that gives up is not a failure: it has been logged.
import type { DynamoDBBatchResponse } from "aws-lambda";
import * as z from "zod/mini";
import { eventHandler } from "../shared/handler";
import { logger } from "../shared/log";
import { notifyChange } from "../shared/notify/notify";

const image = z.optional(z.record(z.string(), z.unknown()));

const streamEvent = z.looseObject({
  Records: z.array(z.looseObject({
    eventID: z.optional(z.string()),
    eventName: z.optional(z.string()),
    dynamodb: z.looseObject({
      SequenceNumber: z.string(),
      OldImage: image,
      NewImage: image,
    }),
  })),
});

export const handler = eventHandler("notify", streamEvent, async (event): Promise<DynamoDBBatchResponse> => {
  for (const record of event.Records) {
    try {
      await notifyChange(record.dynamodb.OldImage, record.dynamodb.NewImage);
    } catch (error) {
      logger.error("notify: failed on a stream record; it and the rest of the batch will be retried", {
        eventID: record.eventID, sequenceNumber: record.dynamodb.SequenceNumber, error: String(error),
      });
      return { batchItemFailures: [{ itemIdentifier: record.dynamodb.SequenceNumber }] };
    }
  }
  return { batchItemFailures: [] };
});

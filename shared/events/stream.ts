import * as z from "zod/mini";

const image = z.optional(z.record(z.string(), z.unknown()));

/** A DynamoDB stream batch (NEW_AND_OLD_IMAGES) of the records table. */
export const recordsStream = z.looseObject({
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

export type StreamImage = Record<string, unknown> | undefined;

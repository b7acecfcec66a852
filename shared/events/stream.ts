import * as z from "zod/mini";

/**
 * One DynamoDB attribute value as the stream's JSON carries it: exactly one type key with a
 * value of that type ({ S: "…" }, { N: "12" }, { L: [...] }, { M: {...} }, { NULL: true }, …).
 * Checked at the edge because `unmarshall` assumes it and fails with a TypeError otherwise
 * ("list.map is not a function", "Cannot convert undefined or null to object"). DynamoDB nests
 * at most 32 levels, so the walk is bounded however deep the input goes.
 */
function isAttributeValue(value: unknown, depth = 0): boolean {
  if (depth > 32 || value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  if (keys.length !== 1) return false;
  const type = keys[0] as string;
  const inner = (value as Record<string, unknown>)[type];
  switch (type) {
    case "S":
    case "N":
    case "B":
      return typeof inner === "string";
    case "SS":
    case "NS":
    case "BS":
      return Array.isArray(inner) && inner.every((item) => typeof item === "string");
    case "BOOL":
      return typeof inner === "boolean";
    case "NULL":
      return inner === true;
    case "L":
      return Array.isArray(inner) && inner.every((item) => isAttributeValue(item, depth + 1));
    case "M":
      return isAttributeMap(inner, depth + 1);
    default:
      return false;
  }
}

function isAttributeMap(value: unknown, depth: number): boolean {
  return value !== null && typeof value === "object" && !Array.isArray(value) && Object.values(value).every((item) => isAttributeValue(item, depth));
}

const image = z.optional(
  z.record(
    z.string(),
    z.custom<unknown>((v) => isAttributeValue(v), "not a DynamoDB attribute value"),
  ),
);

/** A DynamoDB stream batch (NEW_AND_OLD_IMAGES) of the records table. */
export const recordsStream = z.looseObject({
  Records: z.array(
    z.looseObject({
      eventID: z.optional(z.string()),
      eventName: z.optional(z.string()),
      dynamodb: z.looseObject({
        SequenceNumber: z.string(),
        /** When the change was written, in epoch seconds. */
        ApproximateCreationDateTime: z.optional(z.number()),
        OldImage: image,
        NewImage: image,
      }),
    }),
  ),
});

export type StreamImage = Record<string, unknown> | undefined;

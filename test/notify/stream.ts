// DynamoDB stream events shaped as AWS documents them (NEW_AND_OLD_IMAGES), built from records
// the way the records table stores them: marshall(record) plus the key attributes.
import type { DynamoDBStreamEvent } from "aws-lambda";
import { marshall } from "@aws-sdk/util-dynamodb";
import { isFinal, keys, type BuildRecord, type DeploymentRecord, type StoredRecord } from "../../shared/records/model";

const TABLE_STREAM = "arn:aws:dynamodb:eu-west-1:123456789012:table/stevedore-records/stream/2026-03-01T08:00:00.000";

type Item = StoredRecord | Record<string, unknown>;

function keysOf(item: Item): Record<string, string> {
  if (item.kind === "deployment") {
    const r = item as DeploymentRecord;
    return { pk: keys.target(r.targetKey), sk: keys.deployment(r.pushKey), gsi1pk: keys.app(r.app), gsi1sk: keys.byApp(r.env, r.pushKey, r.targetKey) };
  }
  if (item.kind === "build") {
    const r = item as BuildRecord;
    return { pk: keys.app(r.app), sk: keys.build(r.buildId) };
  }
  const other = item as Record<string, unknown>;
  return { pk: String(other.pk ?? "TARGET#eu-west-1/shop-staging/web"), sk: String(other.sk ?? keys.head) };
}

function image(item: Item) {
  // Unfinished deployments are in the "due" index, as the sweeper needs them.
  const due = item.kind === "deployment" && !isFinal((item as DeploymentRecord).status);
  const extra = due ? { duePk: keys.due((item as DeploymentRecord).app), dueAt: "2026-03-02T09:30:05.000Z" } : {};
  return marshall({ ...item, ...keysOf(item), ...extra }, { removeUndefinedValues: true });
}

let sequence = 4_000_000_000_000_000_000n;

/** `writtenAt`: when the change was written (epoch ms); by default, just now. */
export function streamRecord(oldItem: Item | undefined, newItem: Item | undefined, writtenAt = Date.now()) {
  const keyed = newItem ?? oldItem;
  if (!keyed) throw new Error("a stream record needs an old or a new image");
  const eventName = !oldItem ? "INSERT" : !newItem ? "REMOVE" : "MODIFY";
  sequence += 1n;
  const Keys = marshall({ pk: keysOf(keyed).pk, sk: keysOf(keyed).sk });
  return {
    eventID: `c81e728d9d4c2f636f067f89cc14862c${String(sequence).slice(-4)}`,
    eventName,
    eventVersion: "1.1",
    eventSource: "aws:dynamodb",
    awsRegion: "eu-west-1",
    dynamodb: {
      ApproximateCreationDateTime: Math.floor(writtenAt / 1000),
      Keys,
      ...(newItem ? { NewImage: image(newItem) } : {}),
      ...(oldItem ? { OldImage: image(oldItem) } : {}),
      SequenceNumber: String(sequence),
      SizeBytes: 1800,
      StreamViewType: "NEW_AND_OLD_IMAGES",
    },
    eventSourceARN: TABLE_STREAM,
  };
}

/** The event Lambda hands the function: plain JSON, as it arrives over the wire. */
export function streamEvent(...records: ReturnType<typeof streamRecord>[]): DynamoDBStreamEvent {
  return JSON.parse(JSON.stringify({ Records: records })) as DynamoDBStreamEvent;
}

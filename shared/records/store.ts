// Records in DynamoDB. Every write is conditional: a claim only succeeds over the head it was
// decided against, a record only changes from the version it was read at, and a record is only
// created once. Two Lambdas racing on one service therefore cannot both win; the loser reads
// again and decides again.
import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  type AttributeValue,
  type TransactWriteItem,
} from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import { clientFor } from "../aws/clients";
import { call, toAwsError } from "../aws/errors";
import { ConfigError } from "../errors";
import { logger } from "../log";
import {
  isFinal,
  keys,
  recordKeyOf,
  type BuildRecord,
  type BuildVerdict,
  type DeploymentRecord,
  type Head,
  type PromotionRecord,
  type StoredRecord,
  type TargetState,
  type Undelivered,
} from "./model";

const db = () => clientFor(DynamoDBClient);

function table(): string {
  const name = process.env.RECORDS_TABLE;
  if (!name) throw new ConfigError("environment", ["RECORDS_TABLE is not set: it names the records table (serverless.yml sets it)"]);
  return name;
}

const toAttributes = (value: object) => marshall(value, { removeUndefinedValues: true, convertTopLevelContainer: false }) as Record<string, AttributeValue>;

/** The stored item: the record plus the keys of the table and its two indexes. */
export function toItem(record: StoredRecord): Record<string, AttributeValue> {
  if (record.kind === "build") {
    return toAttributes({ ...record, pk: keys.app(record.app), sk: keys.build(record.buildId) });
  }
  if (record.kind === "promotion") {
    // Waiting promotions are due when they expire.
    const due = record.status === "awaiting_approval" ? { duePk: "DUE", dueAt: record.expiresAt } : {};
    return toAttributes({ ...record, pk: keys.app(record.app), sk: keys.promotion(record.id), ...due });
  }
  return toAttributes({
    ...record,
    pk: keys.target(record.targetKey),
    sk: keys.deployment(recordKeyOf(record)),
    gsi1pk: keys.app(record.app),
    gsi1sk: keys.byApp(record.env, record.pushKey, record.targetKey),
    ...due(record),
  });
}

/**
 * Unfinished records sit in the sparse "due" index under the time the sweeper must look at
 * them: pending ones and unconfirmed rollbacks always (judged by their lease), rolling-out ones
 * at their deadline, completed ones when their watch window ends.
 */
function due(record: DeploymentRecord): { duePk?: string; dueAt?: string } {
  if (isFinal(record.status)) return {};
  // A claim or a rollback decision whose invocation may have died is looked at every sweep: its
  // lease, kept by the wall clock, says when it may be taken over.
  const abandonable = record.status === "pending" || (record.status === "rolling_back" && record.rollback !== undefined && !record.rollback.confirmedAt);
  const dueAt = abandonable ? record.createdAt : record.status === "completed" ? (record.watchUntil ?? record.deadline) : record.deadline;
  return { duePk: "DUE", dueAt };
}

export function fromItem(item: Record<string, AttributeValue>): StoredRecord {
  return withoutKeys(unmarshall(item));
}

function withoutKeys(item: ReturnType<typeof unmarshall>): StoredRecord {
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, duePk: _d1, dueAt: _d2, ...record } = item;
  return record as StoredRecord;
}

/** The fields every reader of a record relies on, per kind (messages, promotion). */
const REQUIRED: Record<StoredRecord["kind"], readonly string[]> = {
  deployment: ["id", "app", "env", "region", "cluster", "service", "repository", "digest", "status", "pushedAt"],
  build: ["app", "project", "buildId", "status", "at"],
  promotion: ["id", "app", "from", "to", "repository", "digest", "status", "expiresAt"],
};

/**
 * A record from a stream image of the table (the stream's consumers read nothing else), or
 * undefined: for items that are not records (heads), and for items that lack a field every
 * reader relies on. Only a hand-edited or foreign item looks like that, and retrying would not
 * mend it, so it is logged and passed over.
 */
export function recordFromImage(image: Record<string, unknown> | undefined): StoredRecord | undefined {
  if (!image) return undefined;
  const item = unmarshall(image as Record<string, AttributeValue>);
  if (typeof item.kind !== "string" || !Object.hasOwn(REQUIRED, item.kind)) return undefined;
  const kind = item.kind as StoredRecord["kind"];
  const missing = REQUIRED[kind].filter((field) => typeof item[field] !== "string" || item[field] === "");
  if (missing.length > 0) {
    logger.error(`a ${kind} item without ${missing.join(", ")} in the records stream is passed over; Stevedore never writes one`, {
      pk: String(item.pk ?? ""),
      sk: String(item.sk ?? ""),
    });
    return undefined;
  }
  return withoutKeys(item);
}

/** The head of a target and the record it points to: one strongly consistent query. */
export async function readTarget(targetKey: string): Promise<TargetState> {
  // Sort keys "DEPLOY#…" < "HEAD": read backwards, the head comes first, then the newest record.
  const out = await call("Query", () =>
    db().send(
      new QueryCommand({
        TableName: table(),
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": { S: keys.target(targetKey) } },
        ScanIndexForward: false,
        Limit: 2,
        ConsistentRead: true,
      }),
    ),
  );
  const [first, second] = out.Items ?? [];
  if (!first || first.sk?.S !== keys.head) return {};
  const head = unmarshall(first) as Head;
  let recordItem = second?.sk?.S === head.recordSk ? second : undefined;
  if (!recordItem) {
    // A newer record that never claimed the service (refused, failed before start) sorts above it.
    const got = await call("GetItem", () =>
      db().send(
        new GetItemCommand({
          TableName: table(),
          Key: { pk: { S: keys.target(targetKey) }, sk: { S: head.recordSk } },
          ConsistentRead: true,
        }),
      ),
    );
    recordItem = got.Item;
  }
  return { head, record: recordItem ? (fromItem(recordItem) as DeploymentRecord) : undefined };
}

/**
 * "conflict": read again and decide again. "rejected": a build that pushed this image failed
 * after pushing it (see BuildVerdict); it must not be deployed. "exists": this very record was
 * written before (the same trigger came again after its deployment ended): nothing to claim.
 */
export type ClaimResult = "claimed" | "conflict" | "rejected" | "exists";

/**
 * Makes `record` the head of its service and locks the head for its UpdateService, atomically
 * with creating the record, if and only if the head is still the one the decision was made on
 * (`seen`), nobody holds its lock and no build rejected the image. The rejection is checked in
 * the same transaction, so it costs no call, and a build failure recorded a moment later finds
 * the claimed record when it looks for deployments to roll back.
 */
export async function claim(record: DeploymentRecord, seen: Head | undefined, lockUntil: number, wallNow: number): Promise<ClaimResult> {
  const head: Head & { pk: string; sk: string } = {
    pk: keys.target(record.targetKey),
    sk: keys.head,
    digest: record.digest,
    pushKey: record.pushKey,
    recordSk: keys.deployment(recordKeyOf(record)),
    recordId: record.id,
    lockUntil,
  };
  const failed = await transactFailures("claim", [
    {
      Put: {
        TableName: table(),
        Item: toAttributes(head),
        ...(seen
          ? {
              ConditionExpression: "pushKey = :seen AND (attribute_not_exists(lockUntil) OR lockUntil < :now)",
              ExpressionAttributeValues: { ":seen": { S: seen.pushKey }, ":now": { N: String(wallNow) } },
            }
          : { ConditionExpression: "attribute_not_exists(pk)" }),
      },
    },
    { Put: { TableName: table(), Item: toItem(record), ConditionExpression: "attribute_not_exists(pk)" } },
    notRejected(record),
  ]);
  return failed.length === 0 ? "claimed" : failed.includes(2) ? "rejected" : failed.includes(1) ? "exists" : "conflict";
}

/** Takes over an abandoned claim: a new lease on the record and the head's lock. */
export async function retake(record: DeploymentRecord, expectedVersion: number, lockUntil: number, wallNow: number): Promise<ClaimResult> {
  const failed = await transactFailures("retake", [putFromVersion(record, expectedVersion), lockOwnHead(record, lockUntil, wallNow), notRejected(record)]);
  return failed.length === 0 ? "claimed" : failed.includes(2) ? "rejected" : "conflict";
}

/** A transaction item that holds only while no build has rejected the record's image. */
function notRejected(record: DeploymentRecord): TransactWriteItem {
  return {
    ConditionCheck: {
      TableName: table(),
      Key: verdictKey(record.repository, record.digest),
      ConditionExpression: "attribute_not_exists(pk) OR #verdict <> :rejected",
      ExpressionAttributeNames: { "#verdict": "verdict" },
      ExpressionAttributeValues: { ":rejected": { S: "rejected" } },
    },
  };
}

const verdictKey = (repository: string, digest: string) => ({ pk: { S: keys.image(repository, digest) }, sk: { S: keys.verdict } });

/**
 * Stores a build's verdict on the image it pushed, unless a later build of the same project
 * already gave one (events come out of order). True when this verdict now stands, including
 * when the same build's verdict was stored before (a repeated event carries on its work).
 */
export async function recordVerdict(verdict: BuildVerdict): Promise<boolean> {
  const item = toAttributes({ ...verdict, pk: keys.image(verdict.repository, verdict.digest), sk: keys.verdict });
  if (verdict.buildNumber === undefined) return conditionalPut(item);
  return conditionalPut(
    item,
    "attribute_not_exists(pk) OR #project <> :project OR attribute_not_exists(#number) OR #number <= :number",
    { ":project": { S: verdict.project }, ":number": { N: String(verdict.buildNumber) } },
    { "#project": "project", "#number": "buildNumber" },
  );
}

/** The verdict the builds gave on an image, if any build that pushed it has finished. */
export async function readVerdict(repository: string, digest: string): Promise<BuildVerdict | undefined> {
  const out = await call("GetItem", () => db().send(new GetItemCommand({ TableName: table(), Key: verdictKey(repository, digest), ConsistentRead: true })));
  if (!out.Item) return undefined;
  const { pk: _pk, sk: _sk, ...verdict } = unmarshall(out.Item);
  return verdict as BuildVerdict;
}

/** Saves the record (from `expectedVersion`) and releases the head's lock, atomically. */
export async function saveAndUnlock(record: DeploymentRecord, expectedVersion: number): Promise<boolean> {
  return transact("saveAndUnlock", [putFromVersion(record, expectedVersion), unlockOwnHead(record)]);
}

/**
 * Saves a rollback decision (from `expectedVersion`) and locks the head for its ECS call, in one
 * transaction. "conflict": somebody changed the record since (read it again and decide again);
 * "head": the record was as decided on, but it no longer owns the service or the head is locked
 * (nothing was written).
 */
export async function saveAndLock(
  record: DeploymentRecord,
  expectedVersion: number,
  lockUntil: number,
  wallNow: number,
): Promise<"locked" | "conflict" | "head"> {
  const failed = await transactFailures("saveAndLock", [putFromVersion(record, expectedVersion), lockOwnHead(record, lockUntil, wallNow)]);
  return failed.length === 0 ? "locked" : failed.includes(0) ? "conflict" : "head";
}

/**
 * Locks the head for this record's own rollback, if the record still owns the service and nobody
 * holds the lock: a newer image's claim then waits, so the rollback's ECS call can never land
 * after the newer image's UpdateService. False when the head moved on or is locked.
 */
export async function lockHead(record: DeploymentRecord, lockUntil: number, wallNow: number): Promise<boolean> {
  return transact("lockHead", [lockOwnHead(record, lockUntil, wallNow)]);
}

/** Releases the head's lock if this record still owns the head (after a failed UpdateService). */
export async function unlock(record: DeploymentRecord): Promise<void> {
  await transact("unlock", [unlockOwnHead(record)]);
}

/** Writes `record` if the stored one is still at `expectedVersion` (the optimistic lock every write of a record checks). */
function putFromVersion(record: DeploymentRecord, expectedVersion: number): TransactWriteItem {
  return {
    Put: {
      TableName: table(),
      Item: toItem(record),
      ConditionExpression: "version = :v",
      ExpressionAttributeValues: { ":v": { N: String(expectedVersion) } },
    },
  };
}

/** Locks the head until `lockUntil`, if `record` owns it and nobody holds an unexpired lock. */
function lockOwnHead(record: DeploymentRecord, lockUntil: number, wallNow: number): TransactWriteItem {
  return {
    Update: {
      TableName: table(),
      Key: { pk: { S: keys.target(record.targetKey) }, sk: { S: keys.head } },
      UpdateExpression: "SET lockUntil = :lock",
      ConditionExpression: "recordId = :id AND (attribute_not_exists(lockUntil) OR lockUntil < :now)",
      ExpressionAttributeValues: { ":lock": { N: String(lockUntil) }, ":id": { S: record.id }, ":now": { N: String(wallNow) } },
    },
  };
}

/** Removes the head's lock, if `record` owns the head. */
function unlockOwnHead(record: DeploymentRecord): TransactWriteItem {
  return {
    Update: {
      TableName: table(),
      Key: { pk: { S: keys.target(record.targetKey) }, sk: { S: keys.head } },
      UpdateExpression: "REMOVE lockUntil",
      ConditionExpression: "recordId = :id",
      ExpressionAttributeValues: { ":id": { S: record.id } },
    },
  };
}

/** True when every condition held and everything was written; false when a condition failed. */
async function transact(what: string, items: TransactWriteItem[]): Promise<boolean> {
  return (await transactFailures(what, items)).length === 0;
}

/** The positions of the items whose condition failed (nothing was written then); [] when all held. */
async function transactFailures(what: string, items: TransactWriteItem[]): Promise<number[]> {
  try {
    await db().send(new TransactWriteItemsCommand({ TransactItems: items }));
    return [];
  } catch (error) {
    if (!isConditionFailure(error)) throw toAwsError(`TransactWriteItems (${what})`, error);
    const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
    const failed = reasons.flatMap((r, i) => (r.Code === "ConditionalCheckFailed" ? [i] : []));
    return failed.length > 0 ? failed : [0];
  }
}

/** Creates a record that does not claim its service (refused, stale, failed before start). */
export async function create(record: StoredRecord): Promise<boolean> {
  return conditionalPut(toItem(record), "attribute_not_exists(pk)");
}

/** Replaces a record if nobody changed it since `expectedVersion`. False when somebody did. */
export async function save(record: DeploymentRecord | PromotionRecord, expectedVersion: number): Promise<boolean> {
  return conditionalPut(toItem(record), "version = :v", { ":v": { N: String(expectedVersion) } });
}

async function conditionalPut(
  item: Record<string, AttributeValue>,
  condition?: string,
  values?: Record<string, AttributeValue>,
  names?: Record<string, string>,
): Promise<boolean> {
  try {
    await db().send(
      new PutItemCommand({
        TableName: table(),
        Item: item,
        ...(condition ? { ConditionExpression: condition } : {}),
        ...(values ? { ExpressionAttributeValues: values } : {}),
        ...(names ? { ExpressionAttributeNames: names } : {}),
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw toAwsError("PutItem", error);
  }
}

/** A target's record by its record key (recordKeyOf). */
export async function getRecord(targetKey: string, recordKey: string): Promise<DeploymentRecord | undefined> {
  return (await getStored({ pk: keys.target(targetKey), sk: keys.deployment(recordKey) })) as DeploymentRecord | undefined;
}

/** Unfinished deployments and waiting promotions the sweeper must look at by `now`. */
export async function queryDue(now: string): Promise<(DeploymentRecord | PromotionRecord)[]> {
  return queryAll({
    IndexName: "due",
    KeyConditionExpression: "duePk = :due AND dueAt <= :now",
    ExpressionAttributeValues: { ":due": { S: "DUE" }, ":now": { S: now } },
  }) as Promise<(DeploymentRecord | PromotionRecord)[]>;
}

export async function getPromotion(app: string, id: string): Promise<PromotionRecord | undefined> {
  return (await getStored({ pk: keys.app(app), sk: keys.promotion(id) })) as PromotionRecord | undefined;
}

/** Keeps a final word that could not be delivered; true when this call kept it (the first time). */
export async function recordUndelivered(u: Undelivered): Promise<boolean> {
  const item = toAttributes({ ...u, pk: keys.undelivered(u.app), sk: `${u.recordId}#${u.event}#${u.destination}` });
  return conditionalPut(item, "attribute_not_exists(pk)");
}

/**
 * Notes that `deliveryId` reached `destinations`, so that a retry of its record in another
 * container does not send it there again.
 */
export async function noteDelivered(app: string, deliveryId: string, destinations: string[]): Promise<void> {
  for (const destination of destinations) {
    await conditionalPut(toAttributes({ pk: keys.delivered(app), sk: `${deliveryId}#${destination}`, deliveryId, destination }), "attribute_not_exists(pk)");
  }
}

/** The destinations noted as having received `deliveryId` (see noteDelivered). */
export async function deliveredTo(app: string, deliveryId: string): Promise<string[]> {
  const out = await call("Query", () =>
    db().send(
      new QueryCommand({
        TableName: table(),
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :id)",
        ExpressionAttributeValues: { ":pk": { S: keys.delivered(app) }, ":id": { S: `${deliveryId}#` } },
        ConsistentRead: true,
      }),
    ),
  );
  return (out.Items ?? []).map((item) => String(item.destination?.S ?? ""));
}

/** A final word delivered after all: it is no longer kept. */
export async function forgetUndelivered(u: Undelivered): Promise<void> {
  await call("DeleteItem", () =>
    db().send(
      new DeleteItemCommand({
        TableName: table(),
        Key: { pk: { S: keys.undelivered(u.app) }, sk: { S: `${u.recordId}#${u.event}#${u.destination}` } },
      }),
    ),
  );
}

/** Any record by its item's keys. */
export async function getStored(item: { pk: string; sk: string }): Promise<StoredRecord | undefined> {
  const out = await call("GetItem", () =>
    db().send(
      new GetItemCommand({
        TableName: table(),
        Key: { pk: { S: item.pk }, sk: { S: item.sk } },
        ConsistentRead: true,
      }),
    ),
  );
  return out.Item ? fromItem(out.Item) : undefined;
}

/** What could not be delivered about an app's records, by record id. */
export async function queryUndelivered(app: string): Promise<Undelivered[]> {
  const out = await call("Query", () =>
    db().send(
      new QueryCommand({
        TableName: table(),
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": { S: keys.undelivered(app) } },
      }),
    ),
  );
  return (out.Items ?? []).map((item) => {
    const { pk: _pk, sk: _sk, ...u } = unmarshall(item);
    return u as Undelivered;
  });
}

/** Every target's record of one image in one environment of an app. */
export async function queryImage(app: string, env: string, pushKey: string): Promise<DeploymentRecord[]> {
  return queryAll({
    IndexName: "byApp",
    KeyConditionExpression: "gsi1pk = :app AND begins_with(gsi1sk, :prefix)",
    ExpressionAttributeValues: { ":app": { S: keys.app(app) }, ":prefix": { S: `${env}#${pushKey}#` } },
  }) as Promise<DeploymentRecord[]>;
}

/** An app's deployments, newest push first within each environment. */
export async function queryApp(app: string, limit = 50): Promise<DeploymentRecord[]> {
  return queryAll(
    {
      IndexName: "byApp",
      KeyConditionExpression: "gsi1pk = :app",
      ExpressionAttributeValues: { ":app": { S: keys.app(app) } },
      ScanIndexForward: false,
    },
    limit,
  ) as Promise<DeploymentRecord[]>;
}

export async function createBuild(record: BuildRecord): Promise<boolean> {
  return create(record);
}

async function queryAll(input: Omit<ConstructorParameters<typeof QueryCommand>[0], "TableName">, limit = Infinity): Promise<StoredRecord[]> {
  const records: StoredRecord[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await call("Query", () => db().send(new QueryCommand({ ...input, TableName: table(), ExclusiveStartKey: start })));
    records.push(...(out.Items ?? []).map(fromItem));
    start = out.LastEvaluatedKey;
  } while (start && records.length < limit);
  return records.slice(0, limit);
}

function isConditionFailure(error: unknown): boolean {
  const e = error as { name?: string; CancellationReasons?: { Code?: string }[] };
  if (e?.name === "ConditionalCheckFailedException") return true;
  return (
    e?.name === "TransactionCanceledException" &&
    (e.CancellationReasons ?? []).some((r) => r.Code === "ConditionalCheckFailed") &&
    (e.CancellationReasons ?? []).every((r) => !r.Code || r.Code === "None" || r.Code === "ConditionalCheckFailed")
  );
}

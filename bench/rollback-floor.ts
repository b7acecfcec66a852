// The least any alarm-triggered rollback can cost with the AWS SDK v3: a Lambda with no Stevedore
// code that makes on-alarm's three calls, in order — read the target (Query, strongly consistent),
// write the decision and lock the service (one conditional TransactWriteItems of two items), ask
// ECS (UpdateService) — with clients configured
// exactly as ours (shared/aws/clients.ts), bundled with build/esbuild.cjs. bench/rollback.ts runs
// it in the same worlds as on-alarm, cold and warm, so what on-alarm costs above it is ours.
//
// It leaves nothing behind that matters: the decision goes to a key no Stevedore record has
// and no stream consumer is subscribed to (no `kind`), and UpdateService names a service that
// does not exist (the call is timed to when the local AWS starts reading it, not to its answer).
import { DynamoDBClient, QueryCommand, TransactWriteItemsCommand } from "@aws-sdk/client-dynamodb";
import { ECSClient, UpdateServiceCommand } from "@aws-sdk/client-ecs";
import { clientFor } from "../shared/aws/clients";

export interface FloorEvent {
  table: string;
  /** The records table's partition key of the target on-alarm would read. */
  targetPk: string;
  region: string;
  cluster: string;
}

export async function handler(event: FloorEvent): Promise<void> {
  const db = clientFor(DynamoDBClient);
  await db.send(
    new QueryCommand({
      TableName: event.table,
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": { S: event.targetPk } },
      ScanIndexForward: false,
      Limit: 2,
      ConsistentRead: true,
    }),
  );
  const id = `${Date.now()}-${Math.random().toString(16).slice(2)}`;
  await db.send(
    new TransactWriteItemsCommand({
      TransactItems: [
        {
          Put: {
            TableName: event.table,
            Item: { pk: { S: `BENCH-FLOOR#${id}` }, sk: { S: "DECISION" }, decidedAt: { S: new Date().toISOString() } },
            ConditionExpression: "attribute_not_exists(pk)",
          },
        },
        {
          Update: {
            TableName: event.table,
            Key: { pk: { S: `BENCH-FLOOR#${id}` }, sk: { S: "HEAD" } },
            UpdateExpression: "SET lockUntil = :lock",
            ConditionExpression: "attribute_not_exists(lockUntil)",
            ExpressionAttributeValues: { ":lock": { N: String(Date.now() + 30_000) } },
          },
        },
      ],
    }),
  );
  await clientFor(ECSClient, event.region)
    .send(new UpdateServiceCommand({ cluster: event.cluster, service: "bench-floor-no-such-service", taskDefinition: "bench-floor:1" }))
    .catch(() => undefined);
}

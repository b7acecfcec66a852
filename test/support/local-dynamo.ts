// A real DynamoDB implementation for tests (dynalite behind the sandbox's layer, which adds
// transactions and streams), with the records table created from serverless.yml. The product
// code reaches it through the standard AWS_ENDPOINT_URL_DYNAMODB variable, nothing else.
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DYNAMODB_PREFIX, LocalDynamo, type StreamRecord } from "../../sandbox/aws/dynamodb";
import { LocalAwsServer } from "../../sandbox/aws/server";
import { recordsTable } from "../../sandbox/stack";

export interface TestDynamo {
  endpoint: string;
  table: string;
  /** Every stream record written so far, in commit order. */
  stream: StreamRecord[];
  /** Every DynamoDB operation called so far (e.g. "TransactWriteItems"). */
  calls: string[];
  /** A fresh, empty records table for the next test. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

let tables = 0;

export async function startDynamo(): Promise<TestDynamo> {
  const dynamo = await LocalDynamo.start();
  const calls: string[] = [];
  const server = new LocalAwsServer().register(DYNAMODB_PREFIX, dynamo.handle).observe((request) => calls.push(request.operation));
  const endpoint = await server.listen();
  const admin = new DynamoDBClient({ endpoint, region: "eu-west-1" });
  const stream: StreamRecord[] = [];
  const db: TestDynamo = {
    endpoint,
    table: "",
    stream,
    calls,
    async reset() {
      db.table = `stevedore-test-records-${++tables}`;
      await admin.send(new CreateTableCommand(recordsTable(db.table)));
      process.env.RECORDS_TABLE = db.table;
      stream.length = 0;
      calls.length = 0;
    },
    async close() {
      await server.close();
      await dynamo.close();
    },
  };
  process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoint;
  dynamo.onStream((table, records) => {
    if (table === db.table) stream.push(...records);
  });
  await db.reset();
  return db;
}

// DynamoDB for the sandbox and the tests: dynalite (a faithful local implementation of the
// DynamoDB API) behind a thin layer that adds what dynalite lacks and Stevedore relies on:
//   - TransactWriteItems: applied item by item under one lock, rolled back when a condition
//     fails, answered with TransactionCanceledException and its CancellationReasons;
//   - streams (NEW_AND_OLD_IMAGES): the item is read before and after every write, under the
//     same lock, and the change is handed to the stream listeners in commit order.
// Every request is serialised, so nothing can observe a transaction half applied.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import dynalite from "dynalite";
import { realGlobals } from "../virtual-time";
import { awsError, type AwsRequest, type AwsResponse } from "./server";

type Item = Record<string, unknown>;
/** One committed change: table, key, item before, item after. */
type Change = [string, Item, Item | undefined, Item | undefined];

export interface StreamRecord {
  eventID: string;
  eventName: "INSERT" | "MODIFY" | "REMOVE";
  eventVersion: "1.1";
  eventSource: "aws:dynamodb";
  awsRegion: string;
  eventSourceARN: string;
  dynamodb: {
    ApproximateCreationDateTime: number;
    Keys: Item;
    NewImage?: Item;
    OldImage?: Item;
    SequenceNumber: string;
    SizeBytes: number;
    StreamViewType: "NEW_AND_OLD_IMAGES";
  };
}

export type StreamListener = (table: string, records: StreamRecord[]) => void;

export const DYNAMODB_PREFIX = "DynamoDB_20120810";

export class LocalDynamo {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly keySchemas = new Map<string, string[]>();
  private readonly listeners: StreamListener[] = [];
  private sequence = 0;

  private constructor(
    private readonly server: Server,
    private readonly url: string,
    readonly region: string,
    readonly account: string,
  ) {}

  static async start(options: { region?: string; account?: string } = {}): Promise<LocalDynamo> {
    const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return new LocalDynamo(server, url, options.region ?? "eu-west-1", options.account ?? "123456789012");
  }

  onStream(listener: StreamListener): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The service handler for LocalAwsServer: every request runs alone, in arrival order. */
  readonly handle = (request: AwsRequest): Promise<AwsResponse> => {
    const turn = this.queue.then(() => this.run(request.operation, request.body));
    this.queue = turn.catch(() => undefined);
    return turn;
  };

  private async run(operation: string, body: Item): Promise<AwsResponse> {
    switch (operation) {
      case "PutItem":
      case "UpdateItem":
      case "DeleteItem":
        return this.write(operation, body);
      case "TransactWriteItems":
        return this.transact(body);
      case "BatchWriteItem":
        return awsError("ValidationException", "the sandbox does not implement BatchWriteItem (Stevedore does not use it)");
      default:
        return this.forward(operation, body);
    }
  }

  private async forward(operation: string, body: Item): Promise<AwsResponse> {
    // Always inside a request the world already counts (sandbox/virtual-time.ts): the plain fetch
    // spares each DynamoDB call a second exchange and a copied response.
    const res = await realGlobals.fetch(this.url, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.0",
        "x-amz-target": `${DYNAMODB_PREFIX}.${operation}`,
        // dynalite checks that a request is signed, not the signature itself.
        authorization: "AWS4-HMAC-SHA256 Credential=sandbox/20260101/eu-west-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
        "x-amz-date": "20260101T000000Z",
      },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : {} };
  }

  private async keyNames(table: string): Promise<string[]> {
    let names = this.keySchemas.get(table);
    if (!names) {
      const described = await this.forward("DescribeTable", { TableName: table });
      if (described.status !== 200) throw described;
      const schema = (described.body as { Table: { KeySchema: { AttributeName: string }[] } }).Table.KeySchema;
      names = schema.map((k) => k.AttributeName);
      this.keySchemas.set(table, names);
    }
    return names;
  }

  private async keyOf(table: string, operation: string, body: Item): Promise<Item> {
    if (operation !== "PutItem" && operation !== "Put") return (body.Key ?? {}) as Item;
    const item = (body.Item ?? {}) as Item;
    return Object.fromEntries((await this.keyNames(table)).map((name) => [name, item[name]]));
  }

  private async get(table: string, key: Item): Promise<Item | undefined> {
    const out = await this.forward("GetItem", { TableName: table, Key: key, ConsistentRead: true });
    return (out.body as { Item?: Item }).Item;
  }

  private async write(operation: string, body: Item): Promise<AwsResponse> {
    const table = String(body.TableName ?? "");
    let key: Item;
    let before: Item | undefined;
    try {
      key = await this.keyOf(table, operation, body);
      before = await this.get(table, key);
    } catch (failure) {
      return failure as AwsResponse;
    }
    const response = await this.forward(operation, body);
    if (response.status === 200) this.emit([[table, key, before, await this.get(table, key)]]);
    return response;
  }

  private async transact(body: Item): Promise<AwsResponse> {
    const items = (body.TransactItems ?? []) as Item[];
    if (items.length === 0 || items.length > 100) {
      return awsError("ValidationException", "TransactItems must hold 1 to 100 items");
    }
    const steps: { table: string; operation: string; request: Item; key: Item; before?: Item }[] = [];
    const seen = new Set<string>();
    for (const entry of items) {
      const [kind, request] = Object.entries(entry)[0] ?? [];
      if (!kind || !request || !["Put", "Update", "Delete", "ConditionCheck"].includes(kind)) {
        return awsError("ValidationException", "each TransactItem must be one of Put, Update, Delete, ConditionCheck");
      }
      const table = String((request as Item).TableName ?? "");
      let key: Item;
      try {
        key = await this.keyOf(table, kind, request as Item);
      } catch (failure) {
        return failure as AwsResponse;
      }
      const id = `${table}|${JSON.stringify(key)}`;
      if (seen.has(id)) return awsError("ValidationException", "Transaction request cannot include multiple operations on one item");
      seen.add(id);
      steps.push({ table, operation: kind, request: request as Item, key, before: await this.get(table, key) });
    }

    const done: typeof steps = [];
    for (const [index, step] of steps.entries()) {
      const response = await this.apply(step.operation, step.request, step.key);
      if (step.operation === "ConditionCheck" && response.status === 200) {
        await this.restore(step.table, step.key, step.before); // the probe must leave no trace
      }
      if (response.status !== 200) {
        for (const undo of done.reverse()) await this.restore(undo.table, undo.key, undo.before);
        const error = response.body as { __type?: string; message?: string; Item?: Item };
        if (!String(error.__type).endsWith("ConditionalCheckFailedException")) return response;
        const reasons = steps.map((_, i) =>
          i === index
            ? { Code: "ConditionalCheckFailed", Message: "The conditional request failed", ...(error.Item ? { Item: error.Item } : {}) }
            : { Code: "None" },
        );
        return awsError(
          "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
          `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(", ")}]`,
          400,
          { CancellationReasons: reasons },
        );
      }
      done.push(step);
    }
    const changes: Change[] = [];
    for (const step of steps) {
      if (step.operation !== "ConditionCheck") changes.push([step.table, step.key, step.before, await this.get(step.table, step.key)]);
    }
    this.emit(changes);
    return { status: 200, body: {} };
  }

  /** One transaction item as the single-item request it corresponds to. */
  private apply(kind: string, request: Item, key: Item): Promise<AwsResponse> {
    switch (kind) {
      case "Put":
        return this.forward("PutItem", request);
      case "Update":
        return this.forward("UpdateItem", request);
      case "Delete":
        return this.forward("DeleteItem", request);
      default: {
        // A condition alone: probe it with a conditional write of a marker attribute.
        const names = { ...(request.ExpressionAttributeNames as Item | undefined), "#sandboxProbe": "sandboxProbe" };
        return this.forward("UpdateItem", {
          TableName: request.TableName,
          Key: key,
          ConditionExpression: request.ConditionExpression,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: request.ExpressionAttributeValues,
          ReturnValuesOnConditionCheckFailure: request.ReturnValuesOnConditionCheckFailure,
          UpdateExpression: "REMOVE #sandboxProbe",
        });
      }
    }
  }

  private async restore(table: string, key: Item, before: Item | undefined): Promise<void> {
    await (before ? this.forward("PutItem", { TableName: table, Item: before }) : this.forward("DeleteItem", { TableName: table, Key: key }));
  }

  private emit(changes: Change[]): void {
    const byTable = new Map<string, StreamRecord[]>();
    for (const [table, key, before, after] of changes) {
      if (JSON.stringify(before) === JSON.stringify(after)) continue;
      this.sequence++;
      const records = byTable.get(table) ?? [];
      byTable.set(table, records);
      records.push({
        eventID: `sandbox-${this.sequence}`,
        eventName: !before ? "INSERT" : !after ? "REMOVE" : "MODIFY",
        eventVersion: "1.1",
        eventSource: "aws:dynamodb",
        awsRegion: this.region,
        eventSourceARN: `arn:aws:dynamodb:${this.region}:${this.account}:table/${table}/stream/2026-01-01T00:00:00.000`,
        dynamodb: {
          ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
          Keys: key,
          ...(after ? { NewImage: after } : {}),
          ...(before ? { OldImage: before } : {}),
          SequenceNumber: String(this.sequence).padStart(21, "0"),
          SizeBytes: JSON.stringify(after ?? before).length,
          StreamViewType: "NEW_AND_OLD_IMAGES",
        },
      });
    }
    for (const [table, records] of byTable) for (const listener of this.listeners) listener(table, records);
  }
}

import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import type { Context, DynamoDBBatchResponse } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { handler } from "../../functions/notify";
import { clearSecretCache } from "../../shared/notify/secrets";
import { forgetDeliveries } from "../../shared/notify/notify";
import type { SlackPayload } from "../../shared/notify/slack";
import { verifySignature } from "../../shared/notify/webhook";
import { main as stevedore } from "../../cli/stevedore";
import type { DeploymentRecord } from "../../shared/records/model";
import { create, queryUndelivered } from "../../shared/records/store";
import { captureLogs, reply, startReceiver, type Received, type Receiver } from "./receiver";
import { build, deployment, moved } from "./records";
import { streamEvent, streamRecord } from "./stream";
import { handlerWorld } from "../support/handler-world";

process.env.AWS_REGION = "eu-west-1";
process.env.AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE";
process.env.AWS_SECRET_ACCESS_KEY = "test-secret-access-key";

const SLACK_PATH = "/services/T0SHOP/B0STEVE/slackSecretToken";
const AUDIT_PATH = "/audit/stevedore";
const SIGNING_SECRET = "audit-signing-secret-9f8e7d";

const ssm = mockClient(SSMClient);
let receiver: Receiver;
let logs: ReturnType<typeof captureLogs>;

const context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: "stevedore-notify",
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:stevedore-notify",
  memoryLimitInMB: "256",
  awsRequestId: "9d2b5c1e-7f3a-4e8b-a1c6-0d4e5f6a7b8c",
  logGroupName: "/aws/lambda/stevedore-notify",
  logStreamName: "2026/03/02/[$LATEST]0123456789abcdef",
  getRemainingTimeInMillis: () => 60_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} as Context;

function mockSecrets(): void {
  ssm.on(GetParameterCommand, { Name: "/stevedore/shop/slack-webhook-url" }).resolves({ Parameter: { Type: "SecureString", Value: receiver.url(SLACK_PATH) } });
  ssm.on(GetParameterCommand, { Name: "/stevedore/shop/audit-webhook-url" }).resolves({ Parameter: { Type: "SecureString", Value: receiver.url(AUDIT_PATH) } });
  ssm
    .on(GetParameterCommand, { Name: "/aws/reference/secretsmanager/stevedore/shop/audit-webhook-secret" })
    .resolves({ Parameter: { Type: "SecureString", Value: SIGNING_SECRET } });
}

const at = (path: string) => receiver.received.filter((r) => r.path === path);
const slackMessages = () => at(SLACK_PATH).map((r) => JSON.parse(r.body) as SlackPayload);
const headerOf = (p: SlackPayload) => (p.blocks[0]?.type === "header" ? p.blocks[0].text.text : "");

/** Slack answers 503 to every post until `up()`, then 200 (50 answers scripted either way). */
function slackDownUntilUp(): { up(): void } {
  let down = true;
  receiver.on(
    SLACK_PATH,
    ...Array.from(
      { length: 50 },
      () =>
        (...args: Parameters<ReturnType<typeof reply>>) =>
          reply(down ? 503 : 200, down ? "" : "ok")(...args),
    ),
  );
  return {
    up: () => {
      down = false;
    },
  };
}

async function run(event: unknown): Promise<DynamoDBBatchResponse> {
  return (await handler(event, context)) as DynamoDBBatchResponse;
}

const rollingOut = moved(deployment(), "started");
const completed = moved(rollingOut, "completed");
const rolledBack = moved(moved(completed, "rolling_back", "alarm shop-staging-web-5xx is in ALARM"), "rolled_back", "alarm shop-staging-web-5xx is in ALARM");

handlerWorld({ aws: false }); // the records the notifier keeps (deliveries, the undelivered)

beforeEach(async () => {
  ssm.reset();
  clearSecretCache();
  forgetDeliveries();
  receiver = await startReceiver();
  mockSecrets();
  logs = captureLogs();
});

afterEach(async () => {
  logs.restore();
  await receiver.close();
});

describe("notify handler", () => {
  it("posts a rollback to Slack and a signed webhook to the audit receiver", async () => {
    const before = moved(completed, "rolling_back", "alarm shop-staging-web-5xx is in ALARM");
    const result = await run(streamEvent(streamRecord(before, rolledBack)));
    expect(result).toEqual({ batchItemFailures: [] });

    const [slack, ...moreSlack] = slackMessages();
    expect(moreSlack).toEqual([]);
    expect(headerOf(slack as SlackPayload)).toBe("❌ shop-web → staging: rolled back, deployment failed");
    expect(slack?.attachments[0]?.color).toBe("#e01e5a");
    const slackText = JSON.stringify(slack);
    for (const fact of ["shop-staging/web (eu-west-1)", "shop/web:3f9c2a1 · 4b1d09c2e8aa", "alarm shop-staging-web-5xx is in ALARM"]) {
      expect(slackText).toContain(fact);
    }

    const [audit, ...moreAudit] = at(AUDIT_PATH);
    expect(moreAudit).toEqual([]);
    const { body, headers } = audit as Received;
    expect(verifySignature(SIGNING_SECRET, body, headers["x-stevedore-signature"] as string)).toBe(true);
    expect(verifySignature("not-the-secret", body, headers["x-stevedore-signature"] as string)).toBe(false);
    expect(headers["x-stevedore-event"]).toBe("deployment.rolled_back");
    expect(headers["x-stevedore-delivery"]).toBe("d-3f9c2a1b4e5d:rolled_back");
    expect(JSON.parse(body)).toMatchObject({
      event: "deployment.rolled_back",
      deliveryId: "d-3f9c2a1b4e5d:rolled_back",
      severity: "failure",
      deployment: { app: "shop-web", env: "staging", cluster: "shop-staging", service: "web", revision: 42, reason: "alarm shop-staging-web-5xx is in ALARM" },
    });
  });

  it("never logs a webhook URL or secret", async () => {
    receiver.on(SLACK_PATH, reply(500), reply(500), reply(500));
    await run(streamEvent(streamRecord(rollingOut, completed)));
    const text = logs.lines().join("\n");
    expect(text).toContain("shop-slack");
    expect(text).not.toContain("slackSecretToken");
    expect(text).not.toContain(SIGNING_SECRET);
  });

  it("sends nothing for a MODIFY that does not change the status", async () => {
    const result = await run(
      streamEvent(streamRecord(rollingOut, { ...rollingOut, leaseUntil: 1772442660000, updatedAt: "2026-03-02T09:11:00.000Z", version: 7 })),
    );
    expect(result).toEqual({ batchItemFailures: [] });
    expect(receiver.received).toEqual([]);
    expect(ssm.commandCalls(GetParameterCommand)).toEqual([]);
  });

  it("sends nothing for a REMOVE or a head item", async () => {
    const head = { pk: "TARGET#eu-west-1/shop-staging/web", sk: "HEAD", digest: rolledBack.digest, pushKey: rolledBack.pushKey };
    const result = await run(streamEvent(streamRecord(rolledBack, undefined), streamRecord(undefined, head)));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(receiver.received).toEqual([]);
  });

  it("sends a failed build once to each destination of the app's environments", async () => {
    await run(streamEvent(streamRecord(undefined, build())));
    expect(slackMessages().map(headerOf)).toEqual(["❌ shop-web: build shop-web #118 failed"]);
    expect(at(AUDIT_PATH).map((r) => r.headers["x-stevedore-event"])).toEqual(["build.failed"]);
  });

  it("sends only to the destinations of the record's app and environment", async () => {
    const worker = deployment({
      app: "shop-worker",
      service: "worker-priority",
      repository: "shop/worker",
      targetKey: "eu-west-1/shop-staging/worker-priority",
    });
    await run(streamEvent(streamRecord(worker, moved(worker, "started"))));
    expect(slackMessages().map(headerOf)).toEqual(["🚀 shop-worker → staging: deploying"]);
    expect(at(AUDIT_PATH)).toEqual([]);
  });

  it("skips an app that is no longer in the config without failing", async () => {
    const gone = deployment({ app: "shop-legacy" });
    const result = await run(streamEvent(streamRecord(gone, moved(gone, "started"))));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(receiver.received).toEqual([]);
  });

  it("sends each record's messages in stream order", async () => {
    await run(
      streamEvent(
        streamRecord(deployment(), moved(deployment(), "started")),
        streamRecord(rollingOut, completed),
        streamRecord(completed, moved(completed, "verified")),
      ),
    );
    expect(slackMessages().map(headerOf)).toEqual([
      "🚀 shop-web → staging: deploying",
      "⏳ shop-web → staging: rolled out, watching alarms",
      "✅ shop-web → staging: deployed and verified",
    ]);
  });

  it("does not fail the batch when a destination gives up, and still delivers to the others", async () => {
    receiver.on(AUDIT_PATH, reply(500), reply(500), reply(500));
    const result = await run(streamEvent(streamRecord(rollingOut, completed)));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(at(AUDIT_PATH)).toHaveLength(3);
    expect(slackMessages()).toHaveLength(1);
    const giveUp = logs
      .lines()
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => String(l.message).includes("gave up"));
    expect(giveUp).toMatchObject({ level: "WARN", destination: "shop-audit", status: 500, attempts: 3 });
  });

  it("reports the record whose secret cannot be read yet, sends nothing for it, and stops there", async () => {
    const worker = deployment({ app: "shop-worker", service: "worker", repository: "shop/worker", targetKey: "eu-west-1/shop-staging/worker" });
    const first = streamRecord(worker, moved(worker, "started")); // shop-slack only
    const second = streamRecord(rollingOut, completed); // shop-slack and shop-audit
    const third = streamRecord(undefined, build());
    ssm
      .on(GetParameterCommand, { Name: "/aws/reference/secretsmanager/stevedore/shop/audit-webhook-secret" })
      .rejects(Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException", $metadata: { httpStatusCode: 400 } }));
    const result = await run(streamEvent(first, second, third));
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: second.dynamodb.SequenceNumber }] });
    // The second record's Slack message waits for the retry too: nobody receives it twice.
    expect(slackMessages().map(headerOf)).toEqual(["🚀 shop-worker → staging: deploying"]);
    expect(at(AUDIT_PATH)).toEqual([]);
  });

  it("delivers a retried record once its secret can be read", async () => {
    const record = streamRecord(rollingOut, completed);
    ssm
      .on(GetParameterCommand, { Name: "/aws/reference/secretsmanager/stevedore/shop/audit-webhook-secret" })
      .rejectsOnce(Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException", $metadata: { httpStatusCode: 400 } }))
      .resolves({ Parameter: { Type: "SecureString", Value: SIGNING_SECRET } });
    expect(await run(streamEvent(record))).toEqual({ batchItemFailures: [{ itemIdentifier: record.dynamodb.SequenceNumber }] });
    expect(await run(streamEvent(record))).toEqual({ batchItemFailures: [] });
    expect(slackMessages()).toHaveLength(1);
    expect(at(AUDIT_PATH).map((r) => r.headers["x-stevedore-delivery"])).toEqual(["d-3f9c2a1b4e5d:completed"]);
  });

  it("skips only the destination whose parameter is missing", async () => {
    ssm
      .on(GetParameterCommand, { Name: "/stevedore/shop/audit-webhook-url" })
      .rejects(Object.assign(new Error("Parameter not found."), { name: "ParameterNotFound", $metadata: { httpStatusCode: 400 } }));
    expect(await run(streamEvent(streamRecord(rollingOut, completed)))).toEqual({ batchItemFailures: [] });
    expect(slackMessages()).toHaveLength(1);
    expect(at(AUDIT_PATH)).toEqual([]);
    expect(logs.lines().some((l) => l.includes("shop-audit") && l.includes("ParameterNotFound"))).toBe(true);
  });

  it("ignores an event that is not a stream event", async () => {
    await expect(handler({ Records: "nope" }, context)).resolves.toEqual({ ignored: "malformed event" });
    expect(receiver.received).toEqual([]);
  });
});

describe("notify handler: a deployment's final word", () => {
  const withDeadline = (ms: number): Context => ({ ...context, getRemainingTimeInMillis: () => ms });

  it("keeps retrying a final message while the receiver is down, until it is back", async () => {
    receiver.on(SLACK_PATH, reply(503), reply(503), reply(503), reply(503), reply(503));
    const result = (await handler(streamEvent(streamRecord(moved(completed, "rolling_back", "x"), rolledBack)), withDeadline(20_000))) as DynamoDBBatchResponse;

    expect(result).toEqual({ batchItemFailures: [] });
    expect(at(SLACK_PATH).length).toBe(6); // five refusals, then delivered
    expect(slackMessages().map(headerOf).at(-1)).toBe("❌ shop-web → staging: rolled back, deployment failed");
  });

  it("gives a record whose final message is still undelivered back to the stream, and does not resend where it arrived", async () => {
    const slack = slackDownUntilUp();
    const event = streamEvent(streamRecord(moved(completed, "rolling_back", "x"), rolledBack));
    const first = (await handler(event, withDeadline(2_500))) as DynamoDBBatchResponse;

    expect(first.batchItemFailures).toHaveLength(1);
    expect(at(AUDIT_PATH)).toHaveLength(1); // the audit webhook got it the first time

    slack.up();
    const retried = (await handler(event, withDeadline(20_000))) as DynamoDBBatchResponse;
    expect(retried).toEqual({ batchItemFailures: [] });
    expect(at(AUDIT_PATH)).toHaveLength(1); // not sent twice from this container
    expect(
      slackMessages()
        .map(headerOf)
        .filter((h) => h.includes("rolled back")),
    ).not.toHaveLength(0);
  });

  it("does not resend the final word where it arrived when another container retries the record", async () => {
    const slack = slackDownUntilUp();
    const written = Date.now();
    const first = (await handler(
      streamEvent(streamRecord(moved(completed, "rolling_back", "x"), rolledBack, written)),
      withDeadline(2_500),
    )) as DynamoDBBatchResponse;
    expect(first.batchItemFailures).toHaveLength(1);
    expect(at(AUDIT_PATH)).toHaveLength(1);

    slack.up();
    const refusedBefore = at(SLACK_PATH).length;
    forgetDeliveries(); // Lambda retries the record in a fresh container, half a minute on
    const retried = (await handler(
      streamEvent(streamRecord(moved(completed, "rolling_back", "x"), rolledBack, written - 30_000)),
      withDeadline(20_000),
    )) as DynamoDBBatchResponse;
    expect(retried).toEqual({ batchItemFailures: [] });
    expect(at(AUDIT_PATH)).toHaveLength(1);
    expect(at(SLACK_PATH).length - refusedBefore).toBe(1); // Slack, which was down, gets it once
  });

  it("sends nothing once reading the destinations' secrets took until the deadline, and gives the record back", async () => {
    ssm.on(GetParameterCommand, { Name: "/stevedore/shop/slack-webhook-url" }).callsFake(async () => {
      await new Promise((resolve) => setTimeout(resolve, 600)); // throttled reads under adaptive retry
      return { Parameter: { Type: "SecureString", Value: receiver.url(SLACK_PATH) } };
    });
    const event = streamEvent(streamRecord(moved(completed, "rolling_back", "x"), rolledBack));
    const result = (await handler(event, withDeadline(1_500))) as DynamoDBBatchResponse; // 500 ms to send in

    expect(result.batchItemFailures).toHaveLength(1);
    expect(receiver.received).toEqual([]);
  });

  it("lets a retry wait for the message an invocation that ran out of time is still sending, instead of sending it twice", async () => {
    let answer: () => void = () => undefined;
    receiver.on(SLACK_PATH, (res) => {
      answer = () => res.writeHead(200).end("ok");
    });
    const event = streamEvent(streamRecord(moved(completed, "rolling_back", "x"), rolledBack));
    const timedOut = handler(event, withDeadline(20_000)) as Promise<DynamoDBBatchResponse>;
    while (at(SLACK_PATH).length === 0) await new Promise((resolve) => setTimeout(resolve, 5));

    const retry = handler(event, withDeadline(20_000)) as Promise<DynamoDBBatchResponse>;
    await new Promise((resolve) => setTimeout(resolve, 100)); // the retry has reached the Slack delivery
    answer();

    await expect(retry).resolves.toEqual({ batchItemFailures: [] });
    await expect(timedOut).resolves.toEqual({ batchItemFailures: [] });
    expect(at(SLACK_PATH)).toHaveLength(1);
    expect(at(AUDIT_PATH)).toHaveLength(1);
  });

  it("keeps a final word a destination refuses (a 4xx) once, logs it once, and neither fails the record nor repeats the others", async () => {
    receiver.on(AUDIT_PATH, reply(404), reply(404));
    const event = streamEvent(streamRecord(moved(completed, "rolling_back", "x"), rolledBack));
    const first = (await handler(event, withDeadline(20_000))) as DynamoDBBatchResponse;
    forgetDeliveries(); // the same record again in a fresh container (a duplicate stream delivery)
    const again = (await handler(event, withDeadline(20_000))) as DynamoDBBatchResponse;

    expect(first).toEqual({ batchItemFailures: [] });
    expect(again).toEqual({ batchItemFailures: [] });
    expect(at(AUDIT_PATH)).toHaveLength(2); // one attempt each: a 404 is not retried
    expect(await queryUndelivered("shop-web")).toEqual([
      expect.objectContaining({
        recordId: "d-3f9c2a1b4e5d",
        event: "deployment.rolled_back",
        destination: "shop-audit",
        reason: "refused: HTTP 404",
      }),
    ]);
    const errors = logs
      .lines()
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.level === "ERROR" && String(l.message).includes("will not be retried"));
    expect(errors).toEqual([expect.objectContaining({ destination: "shop-audit", event: "deployment.rolled_back", deploymentId: "d-3f9c2a1b4e5d" })]);
  });

  it("sends a kept final word again with `stevedore redeliver` once the destination takes it, with the same delivery id, and forgets it", async () => {
    await create(rolledBack as DeploymentRecord); // the record's item, as the table holds it
    receiver.on(AUDIT_PATH, reply(404));
    await handler(streamEvent(streamRecord(moved(completed, "rolling_back", "x"), rolledBack)), withDeadline(20_000));
    const history: string[] = [];
    await stevedore(["history", "shop-web"], (l) => history.push(l));
    expect(history.join("\n")).toContain("⚠ deployment.rolled_back not delivered to shop-audit: refused: HTTP 404");

    const lines: string[] = [];
    await expect(stevedore(["redeliver", "shop-web"], (l) => lines.push(l))).resolves.toBe(0);

    expect(lines).toEqual(["✓ delivered: d-3f9c2a1b4e5d deployment.rolled_back to shop-audit"]);
    expect(at(AUDIT_PATH).map((r) => r.headers["x-stevedore-delivery"])).toEqual(["d-3f9c2a1b4e5d:rolled_back", "d-3f9c2a1b4e5d:rolled_back"]);
    expect(at(AUDIT_PATH).map((r) => JSON.parse(r.body).deployment.status)).toEqual(["rolled_back", "rolled_back"]);
    expect(await queryUndelivered("shop-web")).toEqual([]);
    expect(slackMessages()).toHaveLength(1); // the destination that had it is not sent it again
  });

  it("keeps what `stevedore redeliver` still cannot deliver, and says why", async () => {
    await create(rolledBack as DeploymentRecord);
    receiver.on(AUDIT_PATH, reply(404), reply(410));
    await handler(streamEvent(streamRecord(moved(completed, "rolling_back", "x"), rolledBack)), withDeadline(20_000));
    const lines: string[] = [];
    await expect(stevedore(["redeliver", "shop-web", "d-3f9c2a1b4e5d"], (l) => lines.push(l))).resolves.toBe(1);

    expect(lines).toEqual(["✗ still not delivered: d-3f9c2a1b4e5d deployment.rolled_back to shop-audit (HTTP 410)"]);
    expect(await queryUndelivered("shop-web")).toHaveLength(1);
  });

  it("keeps a final word whose destination's secret is missing as undelivered, as loud as a refused one", async () => {
    ssm
      .on(GetParameterCommand, { Name: "/stevedore/shop/audit-webhook-url" })
      .rejects(Object.assign(new Error("Parameter not found."), { name: "ParameterNotFound", $metadata: { httpStatusCode: 400 } }));
    const result = (await handler(streamEvent(streamRecord(moved(completed, "rolling_back", "x"), rolledBack)), withDeadline(20_000))) as DynamoDBBatchResponse;

    expect(result).toEqual({ batchItemFailures: [] });
    expect(slackMessages().map(headerOf)).toEqual(["❌ shop-web → staging: rolled back, deployment failed"]);
    expect(await queryUndelivered("shop-web")).toEqual([
      expect.objectContaining({
        destination: "shop-audit",
        event: "deployment.rolled_back",
        reason: expect.stringMatching(/^its URL or signing secret cannot be read: .*ParameterNotFound/),
      }),
    ]);
  });

  it("waits as long as Retry-After asks when the invocation has the time, and gives the record back at once when it has not", async () => {
    receiver.on(SLACK_PATH, reply(429, "", { "retry-after": "5" }));
    const event = streamEvent(streamRecord(moved(completed, "rolling_back", "x"), rolledBack));
    const started = Date.now();
    const short = (await handler(event, withDeadline(3_000))) as DynamoDBBatchResponse;
    expect(short.batchItemFailures).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(1_500); // no sleeping past the deadline
    expect(await queryUndelivered("shop-web")).toEqual([]); // a 429 is not a refusal: the stream retries it

    receiver.on(SLACK_PATH, reply(429, "", { "retry-after": "5" }));
    const retryStarted = Date.now();
    const long = (await handler(event, withDeadline(20_000))) as DynamoDBBatchResponse;
    expect(long).toEqual({ batchItemFailures: [] });
    expect(Date.now() - retryStarted).toBeGreaterThanOrEqual(5_000); // past the 4-s cap of other waits
  }, 20_000);

  it("keeps a final word still undeliverable 50 minutes after it was written, for stevedore redeliver, instead of giving it back to the stream", async () => {
    receiver.on(SLACK_PATH, ...Array.from({ length: 10 }, () => reply(503)));
    const young = streamRecord(moved(completed, "rolling_back", "x"), rolledBack, Date.now() - 49 * 60_000);
    expect(((await handler(streamEvent(young), withDeadline(2_500))) as DynamoDBBatchResponse).batchItemFailures).toHaveLength(1);
    expect(await queryUndelivered("shop-web")).toEqual([]);

    receiver.on(SLACK_PATH, ...Array.from({ length: 10 }, () => reply(503)));
    const old = streamRecord(moved(completed, "rolling_back", "x"), rolledBack, Date.now() - 51 * 60_000);
    expect(await handler(streamEvent(old), withDeadline(2_500))).toEqual({ batchItemFailures: [] });
    expect(await queryUndelivered("shop-web")).toEqual([
      expect.objectContaining({
        destination: "shop-slack",
        event: "deployment.rolled_back",
        reason: expect.stringMatching(/^still not delivered 51 minutes after it was written: HTTP 503/),
      }),
    ]);
  });

  it("gives up a message that is not final after a few tries, without failing the record", async () => {
    receiver.on(SLACK_PATH, ...Array.from({ length: 10 }, () => reply(503)));
    const result = (await handler(streamEvent(streamRecord(rollingOut, completed)), withDeadline(20_000))) as DynamoDBBatchResponse;

    expect(result).toEqual({ batchItemFailures: [] });
    expect(at(SLACK_PATH)).toHaveLength(3);
  });
});

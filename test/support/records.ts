// What the "watch, roll back, remember" tests share: real-shaped events built from the fixtures
// in test/events (ECS deployment changes, service actions, alarms, schedules, approvals), the
// handlers as Lambda calls them, the records stream read as Lambda would hand it to a consumer,
// and plain records for the store's own tests.
import { readFileSync } from "node:fs";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { StopServiceDeploymentCommand } from "@aws-sdk/client-ecs";
import { BatchGetBuildsCommand, CodeBuildClient } from "@aws-sdk/client-codebuild";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import { DynamoDBClient, QueryCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import type { StreamRecord } from "../../sandbox/aws/dynamodb";
import { handler as onAlarm } from "../../functions/on-alarm";
import { handler as onApproval } from "../../functions/on-approval";
import { handler as onBuildFinished } from "../../functions/on-build-finished";
import { handler as onDeploymentChanged } from "../../functions/on-deployment-changed";
import { handler as onImagePushed } from "../../functions/on-image-pushed";
import { handler as promote } from "../../functions/promote";
import { handler as sweep } from "../../functions/sweep";
import { getConfig } from "../../shared/config/compiled";
import { buildIdOf } from "../../shared/deploy/codebuild";
import { deployImage, type ImageArrival } from "../../shared/deploy/deploy";
import type { DeploymentRecord, DeploymentStatus, PromotionRecord, StoredRecord } from "../../shared/records/model";
import { clientFor } from "../../shared/aws/clients";
import { keys, pushKeyOf } from "../../shared/records/model";
import { fromItem, readTarget } from "../../shared/records/store";
import type { SweepResult } from "../../shared/verify/sweep";
import { ACCOUNT, REGION, taskDefinitionArn, type fakeAws, type FakeService } from "./ecs";
import { fakeEcr } from "./ecr";
import { lambdaContext } from "./lambda";
import type { TestDynamo } from "./local-dynamo";

// Events are plain JSON as EventBridge delivers them: tests reshape them freely.
type Json = Record<string, any>;

const fixture = (name: string): Json => JSON.parse(readFileSync(`test/events/${name}.json`, "utf8"));
const FIXTURES = {
  push: fixture("ecr-image-push"),
  inProgress: fixture("ecs-deployment-in-progress"),
  completed: fixture("ecs-deployment-completed"),
  failed: fixture("ecs-deployment-failed-circuit-breaker"),
  rollbackInProgress: fixture("ecs-deployment-rollback-in-progress"),
  taskStartImpaired: fixture("ecs-service-task-start-impaired"),
  alarm: fixture("cloudwatch-alarm-state-change-alarm"),
  buildSucceeded: fixture("codebuild-build-succeeded"),
  ok: fixture("cloudwatch-alarm-state-change-ok"),
};

// ---------------------------------------------------------------------------------------------
// Targets and services of the fixture config (sandbox/fixtures/stevedore.yml)

export const WEB_STAGING = "eu-west-1/shop-staging/web";
export const WEB_PRODUCTION = "eu-west-1/shop-prod/web";
export const WORKER_STAGING = ["eu-west-1/shop-staging/worker", "eu-west-1/shop-staging/worker-priority", "eu-west-1/shop-batch/worker-reports"];
export const WORKER_PRODUCTION = "eu-west-1/shop-prod/worker";

export const PUSH_DIGEST = FIXTURES.push.detail["image-digest"] as string;
export const PUSHED_AT = "2026-11-20T09:14:05.000Z";
export const WEB_URI = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/shop/web`;
export const WORKER_URI = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/shop/worker`;

/** Every ECS service the fixture config names, each running an earlier revision. */
export const SERVICES: FakeService[] = [
  { cluster: "shop-staging", service: "web", taskDefinition: taskDefinitionArn("shop-web-staging", 41) },
  { cluster: "shop-prod", service: "web", taskDefinition: taskDefinitionArn("shop-web-production", 41) },
  { cluster: "shop-staging", service: "worker", taskDefinition: taskDefinitionArn("shop-worker-staging", 7) },
  { cluster: "shop-staging", service: "worker-priority", taskDefinition: taskDefinitionArn("shop-worker-staging", 7) },
  { cluster: "shop-batch", service: "worker-reports", taskDefinition: taskDefinitionArn("shop-worker-reports-staging", 3) },
  { cluster: "shop-prod", service: "worker", taskDefinition: taskDefinitionArn("shop-worker-production", 12) },
];

/** Every alarm of the example config, quiet. */
export const QUIET_ALARMS: Record<string, string> = {
  "shop-staging-web-5xx": "OK",
  "shop-prod-web-5xx": "OK",
  "shop-prod-web-latency": "OK",
  "shop-staging-worker-errors": "OK",
  "shop-prod-worker-errors": "OK",
};

/** StopServiceDeployment as ECS answers it (the shared fake does not know the command). */
export function acceptStops(aws: ReturnType<typeof fakeAws>): void {
  aws.ecs.on(StopServiceDeploymentCommand).callsFake((input: { serviceDeploymentArn: string }) => ({ serviceDeploymentArn: input.serviceDeploymentArn }));
}

/** An SDK error as the ECS client throws it. */
export function awsError(name: string, message: string, status = 400): Error {
  return Object.assign(new Error(message), { name, $fault: status >= 500 ? "server" : "client", $metadata: { httpStatusCode: status } });
}

// ---------------------------------------------------------------------------------------------
// Events

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
let ids = 0;
const nextId = (prefix: string) => `${prefix}-${String(++ids).padStart(8, "0")}-0000-4000-8000-000000000000`;

export function serviceArn(targetKey: string): string {
  const [region, cluster, service] = targetKey.split("/");
  return `arn:aws:ecs:${region}:${ACCOUNT}:service/${cluster}/${service}`;
}

/** An ECR push of `repository:tag` (default: the fixture's shop/web push). */
export function pushEvent(detail: Json = {}, envelope: Json = {}): Json {
  const event = { ...clone(FIXTURES.push), ...envelope, detail: { ...FIXTURES.push.detail, ...detail } };
  for (const [key, value] of Object.entries(detail)) if (value === undefined) delete event.detail[key];
  return event;
}

export const workerPush = (envelope: Json = {}) =>
  pushEvent({ "repository-name": "shop/worker", "image-tag": "v1.4.0" }, { id: "7d0e4c1a-2b3f-4a5e-9c6d-8e7f6a5b4c3d", ...envelope });

export type DeploymentEventName = "IN_PROGRESS" | "COMPLETED" | "FAILED";

/** An ECS Deployment State Change for `deploymentId` on `target`, at `updatedAt`. */
export function deploymentEvent(
  name: DeploymentEventName,
  options: { target?: string; deploymentId: string; updatedAt: string; reason?: string; id?: string },
): Json {
  const base = { IN_PROGRESS: FIXTURES.inProgress, COMPLETED: FIXTURES.completed, FAILED: FIXTURES.failed }[name];
  const { deploymentId, updatedAt } = options;
  const reason =
    options.reason ??
    {
      IN_PROGRESS: `ECS deployment ${deploymentId} in progress.`,
      COMPLETED: `ECS deployment ${deploymentId} completed.`,
      FAILED: FIXTURES.failed.detail.reason as string,
    }[name];
  return {
    ...clone(base),
    id: options.id ?? nextId(name.toLowerCase()),
    time: new Date(Date.parse(updatedAt) + 1000).toISOString().replace(/\.\d{3}Z$/, "Z"),
    resources: [serviceArn(options.target ?? WEB_STAGING)],
    detail: { ...base.detail, deploymentId, updatedAt, reason },
  };
}

/** ECS's own rollback starting: IN_PROGRESS for a new deployment id whose reason says so. */
export function rollbackEvent(options: { target?: string; deploymentId: string; updatedAt: string; to?: string; id?: string }): Json {
  const reason = `ECS deployment circuit breaker: rolling back to deploymentId ${options.to ?? "ecs-svc/1000000000000000001"}.`;
  const event = deploymentEvent("IN_PROGRESS", { ...options, reason });
  return { ...event, detail: { ...FIXTURES.rollbackInProgress.detail, ...event.detail } };
}

/** An ECS Service Action (default: the fixture's SERVICE_TASK_START_IMPAIRED) on `target`. */
export function serviceAction(
  options: { target?: string; eventType?: string; eventName?: string; createdAt?: string; reason?: string; id?: string } = {},
): Json {
  const base = clone(FIXTURES.taskStartImpaired);
  const [, cluster] = (options.target ?? WEB_STAGING).split("/");
  return {
    ...base,
    id: options.id ?? base.id,
    resources: [serviceArn(options.target ?? WEB_STAGING)],
    detail: {
      ...base.detail,
      clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${cluster}`,
      ...(options.eventType ? { eventType: options.eventType } : {}),
      ...(options.eventName ? { eventName: options.eventName } : {}),
      ...(options.createdAt ? { createdAt: options.createdAt } : {}),
      ...(options.reason ? { reason: options.reason } : {}),
    },
  };
}

/** A CloudWatch Alarm State Change of `alarmName` into `value` at `timestamp`. */
export function alarmEvent(
  options: { alarmName?: string; value?: "ALARM" | "OK" | "INSUFFICIENT_DATA"; timestamp?: string; region?: string; composite?: boolean; id?: string } = {},
): Json {
  const base = clone(options.value === "OK" ? FIXTURES.ok : FIXTURES.alarm);
  const alarmName = options.alarmName ?? base.detail.alarmName;
  const region = options.region ?? base.region;
  const timestamp = options.timestamp ?? base.detail.state.timestamp;
  const configuration = options.composite
    ? {
        alarmRule: 'ALARM("shop-prod-web-5xx") OR ALARM("shop-prod-web-latency-p99")',
        actionsSuppressor: "",
        actionsSuppressorWaitPeriod: 0,
        actionsSuppressorExtensionPeriod: 0,
        description: "Web health",
      }
    : base.detail.configuration;
  const value = options.value ?? base.detail.state.value;
  const reason = options.composite
    ? "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:shop-prod-web-5xx transitioned to ALARM at Friday 20 November, 2026 09:24:40 UTC"
    : value === "INSUFFICIENT_DATA"
      ? "Insufficient Data: 1 datapoint was unknown."
      : base.detail.state.reason;
  return {
    ...base,
    id: options.id ?? base.id,
    region,
    resources: [`arn:aws:cloudwatch:${region}:${ACCOUNT}:alarm:${alarmName}`],
    detail: {
      ...base.detail,
      alarmName,
      configuration,
      state: { ...base.detail.state, value, reason, timestamp },
    },
  };
}

/** EventBridge's scheduled event: its time is the sweeper's clock. */
export function scheduledEvent(time: string): Json {
  return {
    version: "0",
    id: nextId("schedule"),
    "detail-type": "Scheduled Event",
    source: "aws.events",
    account: ACCOUNT,
    time,
    region: REGION,
    resources: [`arn:aws:events:${REGION}:${ACCOUNT}:rule/stevedore-sweep`],
    detail: {},
  };
}

/** The CLI's PutEvents for a person's decision on a promotion (detail keys in the CLI's order). */
export function decisionEvent(
  detail: { app?: string; promotionId: string; decision?: string; by?: string; reason?: string },
  time = "2026-11-20T10:00:00Z",
): Json {
  const { promotionId, ...rest } = detail;
  return {
    version: "0",
    id: nextId("decision"),
    "detail-type": "Stevedore Promotion Decision",
    source: "stevedore",
    account: ACCOUNT,
    time,
    region: REGION,
    resources: [],
    detail: { app: "shop-worker", promotionId, decision: "approve", by: "alice@example.com", ...rest },
  };
}

// ---------------------------------------------------------------------------------------------
// The handlers, as Lambda invokes them

/** ECR as the pushes so far left it (made at the first push: a file that fakes ECR itself never pushes here). */
let ecr: ReturnType<typeof fakeEcr> | undefined;
/** An ECR push event means ECR holds the image: pushed at the event's time, unless it was before. */
function ecrHolds(repository: string, digest: string, time: string, tag?: string): void {
  ecr ??= fakeEcr();
  if (!ecr.has(repository, digest)) ecr.push(repository, digest, time, tag);
}

export const lambda = {
  push: (event: unknown, remainingMs = 60_000) => {
    const e = event as { time?: string; detail?: Record<string, string> };
    if (e.detail?.["repository-name"] && e.detail["image-digest"] && e.time)
      ecrHolds(e.detail["repository-name"], e.detail["image-digest"], e.time, e.detail["image-tag"]);
    return onImagePushed(event, lambdaContext("stevedore-on-image-pushed", remainingMs));
  },
  ecs: (event: unknown) => onDeploymentChanged(event, lambdaContext("stevedore-on-deployment-changed")),
  alarm: (event: unknown) => onAlarm(event, lambdaContext("stevedore-on-alarm")),
  /** A sweep at `time`; one that gives up (a terminal error, logged and ignored) fails the test. */
  sweep: async (time: string): Promise<SweepResult> => {
    const result = await sweep(scheduledEvent(time), lambdaContext("stevedore-sweep", 55_000));
    if ("ignored" in result) throw new Error(`the sweep at ${time} gave up: ${result.ignored}`);
    return result;
  },
  promote: (batch: unknown) => promote(batch, lambdaContext("stevedore-promote", 120_000)),
  approval: (event: unknown) => onApproval(event, lambdaContext("stevedore-on-approval", 120_000)),
};

// ---------------------------------------------------------------------------------------------
// Driving records through the real handlers

/** The record the head of `target` points to (it must exist). */
export async function headRecord(target: string): Promise<DeploymentRecord> {
  const { record } = await readTarget(target);
  if (!record) throw new Error(`no deployment record on ${target}`);
  return record;
}

/** Every deployment record of a target, newest push first, read straight from the table. */
export async function targetRecords(target: string, limit = 50): Promise<DeploymentRecord[]> {
  const out = await clientFor(DynamoDBClient).send(
    new QueryCommand({
      TableName: process.env.RECORDS_TABLE,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :deploy)",
      ExpressionAttributeValues: { ":pk": { S: keys.target(target) }, ":deploy": { S: keys.deployment("") } },
      ScanIndexForward: false,
      Limit: limit,
    }),
  );
  return (out.Items ?? []).map((item) => fromItem(item) as DeploymentRecord);
}

/** Pushes the fixture's shop/web image: shop-web staging is started; returns its record. */
export async function pushWebToStaging(event: Json = pushEvent()): Promise<DeploymentRecord> {
  await lambda.push(event);
  return headRecord(WEB_STAGING);
}

/**
 * CodeBuild's word that the shop-web build which pushed `digest` (the fixture push's) succeeded,
 * at 09:14:41, through the real handler: images of an app that CodeBuild builds are verified
 * only once their build succeeded.
 */
export async function webBuildSucceeded(digest: string = PUSH_DIGEST, tag = "3f9c2ab", mocked?: AwsClientStub<CodeBuildClient>): Promise<void> {
  const event = clone(FIXTURES.buildSucceeded);
  const codebuild = mocked ?? mockClient(CodeBuildClient);
  try {
    codebuild.on(BatchGetBuildsCommand, { ids: [buildIdOf(event.detail["build-id"])] }).resolves({
      builds: [
        {
          id: event.detail["build-id"],
          exportedEnvironmentVariables: [
            { name: "IMAGE_URI", value: `${WEB_URI}:${tag}` },
            { name: "IMAGE_DIGEST", value: digest },
            { name: "GIT_REF", value: "branch/main" },
          ],
        },
      ],
    });
    ecrHolds("shop/web", digest, PUSHED_AT, tag);
    await onBuildFinished(event, lambdaContext("stevedore-on-build-finished"));
  } finally {
    if (!mocked) codebuild.restore();
  }
}

/** shop-web staging rolled out, its build succeeded, completed at 09:17:51.903 and verified by the 09:23 sweep. */
export async function verifyWebStaging(): Promise<DeploymentRecord> {
  const record = await pushWebToStaging();
  await webBuildSucceeded();
  const id = record.ecsDeploymentId as string;
  await lambda.ecs(deploymentEvent("IN_PROGRESS", { deploymentId: id, updatedAt: "2026-11-20T09:14:08.512Z" }));
  await lambda.ecs(deploymentEvent("COMPLETED", { deploymentId: id, updatedAt: "2026-11-20T09:17:51.903Z" }));
  await lambda.sweep("2026-11-20T09:23:00Z");
  return headRecord(WEB_STAGING);
}

/**
 * The fixture's image deployed to shop-web production as a promotion would deploy it, created
 * at `at` (default: the push time, so that the fixtures' times fall into its rollout).
 */
export async function deployWebToProduction(at = PUSHED_AT, sourceId = "d-000000000000"): Promise<DeploymentRecord> {
  const env = getConfig()
    .apps.find((a) => a.name === "shop-web")
    ?.environments.find((e) => e.name === "production");
  if (!env) throw new Error("the fixture config has no shop-web production");
  const arrival: ImageArrival = {
    image: { repository: "shop/web", repositoryUri: WEB_URI, digest: PUSH_DIGEST, tag: "3f9c2ab", commit: "3f9c2ab" },
    pushedAt: PUSHED_AT,
    at,
    trigger: "promotion",
    triggerRef: sourceId,
    promotedFrom: { env: "staging", deploymentId: sourceId },
  };
  await deployImage(arrival, [env], { until: () => Date.now() + 60_000 });
  return headRecord(WEB_PRODUCTION);
}

/** Each shop-worker staging service's record completes at its own time (ISO), or not at all. */
export async function completeWorkerStaging(completedAt: (string | undefined)[]): Promise<DeploymentRecord[]> {
  const records: DeploymentRecord[] = [];
  for (const [i, target] of WORKER_STAGING.entries()) {
    const record = await headRecord(target);
    const at = completedAt[i];
    if (at) await lambda.ecs(deploymentEvent("COMPLETED", { target, deploymentId: record.ecsDeploymentId as string, updatedAt: at }));
    records.push(await headRecord(target));
  }
  return records;
}

// ---------------------------------------------------------------------------------------------
// The records stream

/** Hands out the stream records written since the last call, as the Lambda event of a batch. */
export function streamReader(db: TestDynamo) {
  let from = 0;
  return {
    /** Everything not yet read, as one batch. */
    next(): { Records: StreamRecord[] } {
      const batch = db.stream.slice(from);
      from = db.stream.length;
      return clone({ Records: batch });
    },
  };
}

/** The item a stream record carries after (or before) the write, as our record type. */
export function storedIn(record: StreamRecord, which: "NewImage" | "OldImage" = "NewImage"): StoredRecord | undefined {
  const image = record.dynamodb[which];
  return image ? (unmarshall(image as Record<string, AttributeValue>) as StoredRecord) : undefined;
}

/** Every change of a deployment's status the stream carried, in order. */
export function statusChanges(stream: StreamRecord[], recordId?: string): { id: string; from?: DeploymentStatus; to: DeploymentStatus }[] {
  return stream.flatMap((r) => {
    const after = storedIn(r);
    const before = storedIn(r, "OldImage");
    if (after?.kind !== "deployment" || (recordId && after.id !== recordId)) return [];
    const from = before?.kind === "deployment" ? before.status : undefined;
    return from === after.status ? [] : [{ id: after.id, from, to: after.status }];
  });
}

/** Promotion records the stream carried, newest image of each. */
export function promotionsIn(stream: StreamRecord[]): PromotionRecord[] {
  const byId = new Map<string, PromotionRecord>();
  for (const r of stream) {
    const after = storedIn(r);
    if (after?.kind === "promotion") byId.set(after.id, after);
  }
  return [...byId.values()];
}

const WRITES = new Set(["PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"]);

/** The DynamoDB writes among `calls` (db.calls or a slice of it). */
export function writesIn(calls: string[]): string[] {
  return calls.filter((c) => WRITES.has(c));
}

// ---------------------------------------------------------------------------------------------
// Plain records for the store's own tests

const DIGEST = "sha256:4b1d09c2e8aa7f3c6d5e4b3a2f1e0d9c8b7a69584736251403f2e1d0c9b8a796";

export function digestOf(n: number): string {
  return `sha256:${n.toString(16).padStart(64, "0")}`;
}

/** A deployment record of shop-web staging as the deploy path writes it; override anything. */
export function deploymentRecord(overrides: Partial<DeploymentRecord> = {}): DeploymentRecord {
  const pushedAt = overrides.pushedAt ?? "2026-11-20T09:14:05.000Z";
  const digest = overrides.digest ?? DIGEST;
  const status = overrides.status ?? "pending";
  return {
    kind: "deployment",
    id: `d-${digest.slice(-12)}`,
    app: "shop-web",
    env: "staging",
    region: "eu-west-1",
    cluster: "shop-staging",
    service: "web",
    targetKey: WEB_STAGING,
    repository: "shop/web",
    repositoryUri: WEB_URI,
    digest,
    tag: "3f9c2ab",
    pushedAt,
    pushKey: pushKeyOf(pushedAt, digest),
    trigger: "push",
    triggerRef: "4f1c7b2e-9a3d-4e51-b0a8-2d6c51e7a901",
    status,
    history: [{ status, at: pushedAt }],
    warnings: [],
    createdAt: pushedAt,
    updatedAt: pushedAt,
    deadline: "2026-11-20T09:34:05.000Z",
    watchSeconds: 300,
    onTimeout: "report",
    alarms: ["shop-staging-web-5xx"],
    replacesTaskDefinition: taskDefinitionArn("shop-web-staging", 41),
    version: 1,
    ...overrides,
  };
}

/** A promotion of shop-worker from staging to production; override anything. */
export function promotionRecord(overrides: Partial<PromotionRecord> = {}): PromotionRecord {
  const pushedAt = "2026-11-20T09:14:05.000Z";
  const status = overrides.status ?? "awaiting_approval";
  return {
    kind: "promotion",
    id: "p-0123456789ab",
    app: "shop-worker",
    from: "staging",
    to: "production",
    repository: "shop/worker",
    repositoryUri: WORKER_URI,
    digest: DIGEST,
    tag: "v1.4.0",
    pushedAt,
    pushKey: pushKeyOf(pushedAt, DIGEST),
    sourceDeploymentIds: ["d-000000000001", "d-000000000002", "d-000000000003"],
    status,
    requestedAt: "2026-11-20T09:25:30.000Z",
    expiresAt: "2026-11-22T09:25:30.000Z",
    history: [{ status, at: "2026-11-20T09:25:30.000Z" }],
    version: 1,
    ...overrides,
  };
}

// ECS's RegisterTaskDefinition budget (shared/deploy/ecs.ts: a burst of 20, then one a second)
// is module state that lives as long as a test file. Past the burst, every registration would
// wait a second of real time; moving the wall clock a few seconds on between tests refills the
// bucket instead (no test registers more than a handful). Leases and locks read the same clock,
// so within a test nothing changes. The clock must stay within 5 minutes of the real one: past
// that, the SDK takes the local DynamoDB's Date header for clock skew and retries every
// conditional-check failure after a delay.
const STEP_MS = 5_000;
const MAX_OFFSET_MS = 4 * 60_000;
let clockOffset = 0;
let clockSpied = false;
const realNow = Date.now.bind(Date);
export function refillRegistrationBudget(): void {
  if (clockOffset + STEP_MS > MAX_OFFSET_MS) return; // a long file pays real seconds, stays correct
  clockOffset += STEP_MS;
  if (!clockSpied) {
    jest.spyOn(Date, "now").mockImplementation(() => realNow() + clockOffset);
    clockSpied = true;
  }
}

export async function waitFor(check: () => Promise<boolean>, what = "condition"): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${what} never became true`);
}

// Promotion: the records stream → functions/promote.ts (shared/promote/on-verified.ts), and a
// person's decision → functions/on-approval.ts (shared/promote/promote.ts). Staging is driven
// through the real handlers (push, ECS events, sweep); the promote handler is fed the very
// stream records the local DynamoDB produced, as Lambda's stream poller would hand them over.
import { DynamoDBClient, PutItemCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import { RegisterTaskDefinitionCommand, UpdateServiceCommand } from "@aws-sdk/client-ecs";
import type { StreamRecord } from "../../sandbox/aws/dynamodb";
import type { DeploymentRecord, PromotionRecord } from "../../shared/records/model";
import { createBuild, getPromotion } from "../../shared/records/store";
import { taskDefinitionArn } from "../support/ecs";
import {
  awsError,
  completeWorkerStaging,
  decisionEvent,
  deploymentEvent,
  headRecord,
  storedIn,
  lambda,
  promotionsIn,
  PUSH_DIGEST,
  PUSHED_AT,
  pushWebToStaging,
  serviceAction,
  statusChanges,
  streamReader,
  targetRecords,
  verifyWebStaging,
  WEB_PRODUCTION,
  WEB_STAGING,
  WEB_URI,
  WORKER_PRODUCTION,
  WORKER_STAGING,
  WORKER_URI,
  workerPush,
  writesIn,
} from "../support/records";
import { handlerWorld } from "../support/handler-world";

const world = handlerWorld();
let reader: ReturnType<typeof streamReader>;
beforeEach(() => {
  reader = streamReader(world.db);
});

const NO_FAILURES = { batchItemFailures: [] };
const VERIFIED_AT = "2026-11-20T09:23:00.000Z"; // the sweep that verifies shop-web staging

/** The stream record of `recordId` becoming verified, out of a batch. */
function verifiedTransition(batch: { Records: StreamRecord[] }, recordId: string): StreamRecord {
  const found = batch.Records.find((r) => {
    const after = storedIn(r);
    return (
      after?.kind === "deployment" &&
      after.id === recordId &&
      after.status === "verified" &&
      storedIn(r, "OldImage")?.kind === "deployment" &&
      (storedIn(r, "OldImage") as DeploymentRecord).status !== "verified"
    );
  });
  if (!found) throw new Error(`no verified transition of ${recordId} in the batch`);
  return found;
}

const productionUpdates = (service: string) => world.aws.inputs(UpdateServiceCommand).filter((u) => u.cluster === "shop-prod" && u.service === service);

describe("promote (records stream)", () => {
  describe("shop-web: staging → production, approval auto", () => {
    it("deploys the digest staging verified to production by the same digest, blue-green, as a promotion", async () => {
      const staging = await verifyWebStaging();
      expect(staging).toMatchObject({ status: "verified", finishedAt: VERIFIED_AT });

      await expect(lambda.promote(reader.next())).resolves.toEqual(NO_FAILURES);

      const registered = world.aws.inputs(RegisterTaskDefinitionCommand);
      expect(registered.map((r) => r.family)).toEqual(["shop-web-staging", "shop-web-production"]);
      expect(registered[1]?.containerDefinitions?.[0]?.image).toBe(`${WEB_URI}@${PUSH_DIGEST}`);
      expect(registered[1]?.tags).toEqual(
        expect.arrayContaining([
          { key: "stevedore:digest", value: PUSH_DIGEST },
          { key: "stevedore:trigger", value: "promotion" },
          { key: "stevedore:replaces", value: "shop-web-production:41" },
        ]),
      );
      expect(world.aws.inputs(UpdateServiceCommand)[1]).toEqual({
        cluster: "shop-prod",
        service: "web",
        taskDefinition: taskDefinitionArn("shop-web-production", 42),
        deploymentConfiguration: {
          maximumPercent: 200,
          minimumHealthyPercent: 100,
          deploymentCircuitBreaker: { enable: true, rollback: true },
          alarms: { alarmNames: ["shop-prod-web-5xx", "shop-prod-web-latency"], enable: true, rollback: true },
          strategy: "BLUE_GREEN",
          bakeTimeInMinutes: 5,
        },
      });
      expect(await headRecord(WEB_PRODUCTION)).toMatchObject({
        app: "shop-web",
        env: "production",
        status: "started",
        digest: PUSH_DIGEST,
        tag: "3f9c2ab",
        pushedAt: PUSHED_AT,
        trigger: "promotion",
        triggerRef: staging.id,
        promotedFrom: { env: "staging", deploymentId: staging.id },
        createdAt: VERIFIED_AT,
        // 30 minutes from ECS's acceptance (the fake ECS stamps every deployment 09:14:07).
        deadline: "2026-11-20T09:44:07.000Z",
        deadlineSeconds: 1800,
        watchSeconds: 600,
        onTimeout: "rollback",
        alarms: ["shop-prod-web-5xx", "shop-prod-web-latency"],
        replacesTaskDefinition: taskDefinitionArn("shop-web-production", 41),
      });
    });

    it("deploys once when the same stream record is delivered twice, or in a retried batch", async () => {
      const staging = await verifyWebStaging();
      const batch = reader.next();

      await lambda.promote(batch);
      await lambda.promote(batch);
      await lambda.promote({ Records: [verifiedTransition(batch, staging.id)] });

      expect(productionUpdates("web")).toHaveLength(1);
      expect(world.aws.inputs(RegisterTaskDefinitionCommand)).toHaveLength(2);
      expect(await targetRecords(WEB_PRODUCTION)).toHaveLength(1);
    });

    it("counts the verification the stream carries even when the app index has not caught up with it", async () => {
      // GSIs are eventually consistent: the query may still return the record as it was before
      // this very write. Simulated by putting the old image back before the stream is consumed.
      const staging = await verifyWebStaging();
      const transition = verifiedTransition(reader.next(), staging.id);
      await new DynamoDBClient({ endpoint: world.db.endpoint, region: "eu-west-1" }).send(
        new PutItemCommand({
          TableName: world.db.table,
          Item: transition.dynamodb.OldImage as Record<string, AttributeValue>,
        }),
      );

      await lambda.promote({ Records: [transition] });

      expect(productionUpdates("web")).toHaveLength(1);
      expect(await headRecord(WEB_PRODUCTION)).toMatchObject({ trigger: "promotion", promotedFrom: { env: "staging", deploymentId: staging.id } });
    });

    it("reports the stream record whose promotion was throttled and leaves the rest of the batch for the retry, which promotes each once", async () => {
      // shop-web and shop-worker staging verified by the same sweep: four verified transitions.
      await lambda.push(workerPush());
      const web = await pushWebToStaging();
      await lambda.ecs(deploymentEvent("COMPLETED", { deploymentId: web.ecsDeploymentId as string, updatedAt: "2026-11-20T09:17:51.903Z" }));
      const workers = await completeWorkerStaging(["2026-11-20T09:17:00.000Z", "2026-11-20T09:17:00.000Z", "2026-11-20T09:17:00.000Z"]);
      await lambda.sweep("2026-11-20T09:23:00Z");
      const stream = reader.next();
      const batch = { Records: [web, ...workers].map((r) => verifiedTransition(stream, r.id)) };
      let throttled = false;
      world.aws.ecs.on(RegisterTaskDefinitionCommand).callsFake((input: { family: string }) => {
        if (!throttled) {
          throttled = true;
          throw awsError("ThrottlingException", "Rate exceeded");
        }
        return { taskDefinition: { ...input, taskDefinitionArn: taskDefinitionArn(input.family, 42), revision: 42 } };
      });

      const failed = await lambda.promote(batch);

      expect(failed).toEqual({ batchItemFailures: [{ itemIdentifier: batch.Records[0]?.dynamodb.SequenceNumber }] });
      expect(productionUpdates("web")).toEqual([]);
      // The claim came before the registration: it is given back for the retry to resume.
      expect((await targetRecords(WEB_PRODUCTION)).map((r) => [r.status, r.leaseUntil])).toEqual([["pending", 0]]);
      expect(promotionsIn(world.db.stream)).toEqual([]); // the worker records after it were not handled

      // Lambda hands the batch over again from the failed record on.
      const retried = await lambda.promote(batch);

      expect(retried).toEqual(NO_FAILURES);
      expect(productionUpdates("web")).toHaveLength(1);
      expect(await targetRecords(WEB_PRODUCTION)).toHaveLength(1);
      expect(promotionsIn(world.db.stream)).toEqual([expect.objectContaining({ app: "shop-worker", status: "awaiting_approval" })]);
      expect(productionUpdates("worker")).toEqual([]);
    });

    it("ignores every stream record that is not a deployment becoming verified", async () => {
      // A whole staging rollout up to completed: INSERT pending, the HEAD, MODIFY started,
      // completed; then a failed build; then oddities around a verified record.
      const record = await pushWebToStaging();
      const deploymentId = record.ecsDeploymentId as string;
      await lambda.ecs(deploymentEvent("IN_PROGRESS", { deploymentId, updatedAt: "2026-11-20T09:14:08.512Z" }));
      await lambda.ecs(deploymentEvent("COMPLETED", { deploymentId, updatedAt: "2026-11-20T09:17:51.903Z" }));
      await lambda.ecs(serviceAction({ target: WEB_STAGING })); // MODIFY completed → completed: a warning
      await createBuild({
        kind: "build",
        app: "shop-web",
        project: "shop-web",
        buildId: "shop-web:0d6e1f3a",
        status: "FAILED",
        at: "2026-11-20T09:30:00.000Z",
        eventId: "c81d2e3f-4a5b-4c6d-8e7f-90a1b2c3d4e5",
      });
      const rollout = reader.next();
      await lambda.sweep("2026-11-20T09:23:00Z");
      const verified = verifiedTransition(reader.next(), record.id);
      const oddities: StreamRecord[] = [
        { ...verified, eventName: "MODIFY", dynamodb: { ...verified.dynamodb, OldImage: verified.dynamodb.NewImage } }, // verified → verified
        { ...verified, eventName: "REMOVE", dynamodb: { ...verified.dynamodb, OldImage: verified.dynamodb.NewImage, NewImage: undefined } },
        {
          ...verified,
          eventName: "INSERT",
          dynamodb: { ...verified.dynamodb, OldImage: undefined, NewImage: { ...verified.dynamodb.NewImage, kind: { S: "build" } } },
        },
        // Becoming verified, but without the digest it would deploy: not an item Stevedore writes.
        {
          ...verified,
          dynamodb: { ...verified.dynamodb, NewImage: Object.fromEntries(Object.entries(verified.dynamodb.NewImage ?? {}).filter(([k]) => k !== "digest")) },
        },
      ];
      expect(rollout.Records.map((r) => r.eventName)).toEqual(expect.arrayContaining(["INSERT", "MODIFY"]));
      expect(
        rollout.Records.some(
          (r) =>
            (storedIn(r) as DeploymentRecord | undefined)?.status === "completed" &&
            (storedIn(r, "OldImage") as DeploymentRecord | undefined)?.status === "completed",
        ),
      ).toBe(true);
      expect(rollout.Records.some((r) => storedIn(r)?.kind === "build")).toBe(true);
      const calls = world.aws.ecs.calls().length;

      await expect(lambda.promote(rollout)).resolves.toEqual(NO_FAILURES);
      await expect(lambda.promote(JSON.parse(JSON.stringify({ Records: oddities })))).resolves.toEqual(NO_FAILURES);

      expect(world.aws.ecs.calls()).toHaveLength(calls);
      expect(await targetRecords(WEB_PRODUCTION)).toEqual([]);
    });

    it("promotes nothing from production, which feeds no environment", async () => {
      await verifyWebStaging();
      await lambda.promote(reader.next());
      const production = await headRecord(WEB_PRODUCTION);
      await lambda.ecs(
        deploymentEvent("COMPLETED", { target: WEB_PRODUCTION, deploymentId: production.ecsDeploymentId as string, updatedAt: "2026-11-20T09:30:00.000Z" }),
      );
      await lambda.sweep("2026-11-20T09:40:00Z");
      const batch = reader.next();
      expect(statusChanges(batch.Records, production.id).map((c) => c.to)).toContain("verified");
      const calls = world.aws.ecs.calls().length;

      await expect(lambda.promote(batch)).resolves.toEqual(NO_FAILURES);

      expect(world.aws.ecs.calls()).toHaveLength(calls);
    });
  });

  describe("shop-worker: staging (3 services) → production, approval manual", () => {
    /** Staging's three services complete at these times; the sweep at `sweepAt` verifies what is due. */
    async function workerStaging(completedAt: string[], sweepAt: string): Promise<DeploymentRecord[]> {
      await lambda.push(workerPush());
      await completeWorkerStaging(completedAt);
      await lambda.sweep(sweepAt);
      return Promise.all(WORKER_STAGING.map((t) => headRecord(t)));
    }

    /** All three verified and promoted: the promotion awaiting approval. */
    async function awaitingApproval(): Promise<PromotionRecord> {
      await workerStaging(["2026-11-20T09:17:00.000Z", "2026-11-20T09:17:00.000Z", "2026-11-20T09:20:00.000Z"], "2026-11-20T09:25:30Z");
      await lambda.promote(reader.next());
      const [promotion] = promotionsIn(world.db.stream);
      if (!promotion) throw new Error("no promotion was requested");
      return promotion;
    }

    it("waits until every service of staging verified the image, then requests one approval that expires in 48h", async () => {
      const first = await workerStaging(["2026-11-20T09:17:00.000Z", "2026-11-20T09:17:00.000Z", "2026-11-20T09:20:00.000Z"], "2026-11-20T09:22:30Z");
      expect(first.map((r) => r.status)).toEqual(["verified", "verified", "completed"]);

      await expect(lambda.promote(reader.next())).resolves.toEqual(NO_FAILURES);
      expect(promotionsIn(world.db.stream)).toEqual([]);

      await lambda.sweep("2026-11-20T09:25:30Z");
      await expect(lambda.promote(reader.next())).resolves.toEqual(NO_FAILURES);

      const promotions = promotionsIn(world.db.stream);
      expect(promotions).toHaveLength(1);
      expect(promotions[0]).toMatchObject({
        kind: "promotion",
        id: expect.stringMatching(/^p-[0-9a-f]{12}$/),
        app: "shop-worker",
        from: "staging",
        to: "production",
        repository: "shop/worker",
        repositoryUri: WORKER_URI,
        digest: PUSH_DIGEST,
        tag: "v1.4.0",
        pushedAt: PUSHED_AT,
        sourceDeploymentIds: first.map((r) => r.id).sort(),
        status: "awaiting_approval",
        requestedAt: "2026-11-20T09:25:30.000Z",
        expiresAt: "2026-11-22T09:25:30.000Z",
      });
      expect(productionUpdates("worker")).toEqual([]);
    });

    it("requests one approval however many verifications of the image are delivered", async () => {
      await workerStaging(["2026-11-20T09:17:00.000Z", "2026-11-20T09:17:00.000Z", "2026-11-20T09:17:00.000Z"], "2026-11-20T09:22:30Z");
      const batch = reader.next();

      await lambda.promote(batch);
      await lambda.promote(batch);

      expect(promotionsIn(world.db.stream)).toHaveLength(1);
      expect(world.db.stream.filter((r) => storedIn(r)?.kind === "promotion")).toHaveLength(1);
    });

    it("deploys the approved image to production by digest, as a promotion, and records who approved it", async () => {
      const promotion = await awaitingApproval();

      const result = await lambda.approval(decisionEvent({ promotionId: promotion.id, by: "alice@example.com", reason: "QA signed off" }));

      expect(result).toEqual({
        promoted: [
          {
            to: "production",
            approval: "manual",
            promotionId: promotion.id,
            deployed: [expect.objectContaining({ target: WORKER_PRODUCTION, outcome: "started" })],
          },
        ],
      });
      const registered = world.aws.inputs(RegisterTaskDefinitionCommand).find((r) => r.family === "shop-worker-production");
      expect(registered?.containerDefinitions?.[0]?.image).toBe(`${WORKER_URI}@${PUSH_DIGEST}`);
      expect(productionUpdates("worker")).toEqual([expect.objectContaining({ taskDefinition: taskDefinitionArn("shop-worker-production", 42) })]);
      expect(await headRecord(WORKER_PRODUCTION)).toMatchObject({
        status: "started",
        digest: PUSH_DIGEST,
        trigger: "promotion",
        triggerRef: promotion.id,
        promotedFrom: { env: "staging", deploymentId: promotion.sourceDeploymentIds[0] },
        createdAt: "2026-11-20T10:00:00.000Z",
      });
      expect(await getPromotion("shop-worker", promotion.id)).toMatchObject({
        status: "approved",
        decidedBy: "alice@example.com",
        decidedAt: "2026-11-20T10:00:00.000Z",
        reason: "QA signed off",
      });
    });

    it("deploys once when the approval is repeated, or sent twice at once", async () => {
      const promotion = await awaitingApproval();

      await Promise.all([
        lambda.approval(decisionEvent({ promotionId: promotion.id })),
        lambda.approval(decisionEvent({ promotionId: promotion.id, by: "bob@example.com" })),
      ]);
      const again = await lambda.approval(decisionEvent({ promotionId: promotion.id }, "2026-11-20T11:00:00Z"));

      expect(again).toEqual({ promoted: [expect.objectContaining({ deployed: [expect.objectContaining({ outcome: "duplicate" })] })] });
      expect(productionUpdates("worker")).toHaveLength(1);
      expect(await targetRecords(WORKER_PRODUCTION)).toHaveLength(1);
      expect((await getPromotion("shop-worker", promotion.id))?.history.map((h) => h.status)).toEqual(["awaiting_approval", "approved"]);
    });

    it("deploys nothing on a rejection, nor on an approval after it", async () => {
      const promotion = await awaitingApproval();

      const rejected = await lambda.approval(
        decisionEvent({ promotionId: promotion.id, decision: "reject", by: "carol@example.com", reason: "breaks the reports" }),
      );
      const late = await lambda.approval(decisionEvent({ promotionId: promotion.id }, "2026-11-20T10:05:00Z"));

      expect(rejected).toEqual({ ignored: `promotion ${promotion.id} is rejected` });
      expect(late).toEqual({ ignored: `promotion ${promotion.id} is rejected` });
      expect(await getPromotion("shop-worker", promotion.id)).toMatchObject({
        status: "rejected",
        decidedBy: "carol@example.com",
        reason: "breaks the reports",
      });
      expect(productionUpdates("worker")).toEqual([]);
      expect(await targetRecords(WORKER_PRODUCTION)).toEqual([]);
    });

    it("deploys nothing on a decision after the promotion expired, and records it expired", async () => {
      const promotion = await awaitingApproval();

      const result = await lambda.approval(decisionEvent({ promotionId: promotion.id }, "2026-11-22T09:25:30Z"));

      expect(result).toEqual({ ignored: `promotion ${promotion.id} is expired` });
      expect(await getPromotion("shop-worker", promotion.id)).toMatchObject({ status: "expired" });
      expect(productionUpdates("worker")).toEqual([]);
    });

    it("ignores a decision on a promotion that does not exist, without any ECS call", async () => {
      await awaitingApproval();
      const calls = world.aws.ecs.calls().length;

      const result = await lambda.approval(decisionEvent({ promotionId: "p-000000000000" }));

      expect(result).toEqual({ ignored: "no promotion p-000000000000 for shop-worker" });
      expect(world.aws.ecs.calls()).toHaveLength(calls);
    });

    it.each([
      ["an id that is not a promotion id", { promotionId: "d-0123456789ab" }],
      ["an id with upper-case hex", { promotionId: "p-0123456789AB" }],
      ["a decision that is neither approve nor reject", { promotionId: "p-0123456789ab", decision: "maybe" }],
      ["no one deciding", { promotionId: "p-0123456789ab", by: "" }],
      ["an app name that is not one", { promotionId: "p-0123456789ab", app: "Shop Worker" }],
    ])("ignores a malformed decision with %s: no DynamoDB and no AWS call", async (_name, detail) => {
      const calls = world.db.calls.length;

      await expect(lambda.approval(decisionEvent(detail))).resolves.toEqual({ ignored: "malformed event" });

      expect(world.db.calls.slice(calls)).toEqual([]);
      expect(world.aws.ecs.calls()).toEqual([]);
      expect(world.aws.cloudwatch.calls()).toEqual([]);
    });

    it("ignores a decision from another source than Stevedore's CLI", async () => {
      const calls = world.db.calls.length;
      const forged = { ...decisionEvent({ promotionId: "p-0123456789ab" }), source: "aws.events" };

      await expect(lambda.approval(forged)).resolves.toEqual({ ignored: "malformed event" });
      expect(writesIn(world.db.calls.slice(calls))).toEqual([]);
    });
  });
});

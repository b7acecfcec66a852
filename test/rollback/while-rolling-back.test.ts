// What happens around a rollback Stevedore makes: a newer image pushed while it runs (the usual
// fix-forward), and ECS's answers to the rollback's own UpdateService. The handlers are fed
// real-shaped events (test/events); ECS and CloudWatch are aws-sdk-client-mock fakes, the
// records a local DynamoDB. shop-web staging (the fixture config) watches 5 minutes.
import { UpdateServiceCommand } from "@aws-sdk/client-ecs";
import type { DeploymentRecord } from "../../shared/records/model";
import { taskDefinitionArn } from "../support/ecs";
import {
  alarmEvent,
  deploymentEvent,
  digestOf,
  headRecord,
  lambda,
  pushEvent,
  pushWebToStaging,
  statusChanges,
  targetRecords,
  WEB_STAGING,
} from "../support/records";
import { handlerWorld } from "../support/handler-world";

const world = handlerWorld({ aws: { acceptStops: true } });

const PREVIOUS = taskDefinitionArn("shop-web-staging", 41);
const FINAL = ["verified", "failed", "rolled_back", "timed_out", "superseded", "refused"];
const ALARM = "alarm shop-staging-web-5xx fired";
const NEWER = pushEvent({ "image-digest": digestOf(2), "image-tag": "b2c3d4e" }, { id: "b2c3d4e0-0000-4000-8000-000000000002", time: "2026-11-20T09:21:00Z" });

/** shop-web staging: the fixture's image rolled out, completed at 09:17:51.903 (watched until 09:22:51.903). */
async function completedStaging(): Promise<DeploymentRecord> {
  const record = await pushWebToStaging();
  await lambda.ecs(deploymentEvent("COMPLETED", { deploymentId: record.ecsDeploymentId as string, updatedAt: "2026-11-20T09:17:51.903Z" }));
  expect((await headRecord(WEB_STAGING)).status).toBe("completed");
  return record;
}

const alarm = () => lambda.alarm(alarmEvent({ alarmName: "shop-staging-web-5xx", timestamp: "2026-11-20T09:20:00.000Z" }));
const recordOf = async (id: string) => (await targetRecords(WEB_STAGING)).find((r) => r.id === id) as DeploymentRecord;
const finals = (id: string) =>
  statusChanges(world.db.stream, id)
    .filter((c) => FINAL.includes(c.to))
    .map((c) => c.to);

describe("a newer image pushed while Stevedore rolls back", () => {
  it("never makes the rollback superseded: it keeps its alarm and ends failed, saying the newer image cut it short", async () => {
    const rejected = await completedStaging();
    await alarm();
    const rollback = (await headRecord(WEB_STAGING)).rollbackDeploymentId as string;
    expect(rollback).toBe("ecs-svc/2000000000000000002");

    await lambda.push(NEWER);

    const newer = await headRecord(WEB_STAGING);
    expect(newer).toMatchObject({ digest: digestOf(2), status: "started" });
    expect(await recordOf(rejected.id)).toMatchObject({ status: "rolling_back", reason: expect.stringContaining(ALARM) });
    expect(statusChanges(world.db.stream, rejected.id).map((c) => c.to)).not.toContain("superseded");

    // ECS: the rollback's IN_PROGRESS, then the newer image's deployment replaces it.
    await lambda.ecs(deploymentEvent("IN_PROGRESS", { deploymentId: rollback, updatedAt: "2026-11-20T09:20:02.000Z" }));
    await lambda.ecs(deploymentEvent("IN_PROGRESS", { deploymentId: newer.ecsDeploymentId as string, updatedAt: "2026-11-20T09:21:03.000Z" }));
    await lambda.ecs(deploymentEvent("COMPLETED", { deploymentId: newer.ecsDeploymentId as string, updatedAt: "2026-11-20T09:23:00.000Z" }));
    await lambda.sweep("2026-11-20T10:30:00Z");

    expect(await recordOf(rejected.id)).toMatchObject({
      status: "failed",
      reason: expect.stringMatching(new RegExp(`${ALARM}.*the rollback did not complete: the newer image b2c3d4e .* took the service`)),
    });
    expect(finals(rejected.id)).toEqual(["failed"]);
    // The rollback's own events are the older record's: they never supersede the newer one.
    expect(await headRecord(WEB_STAGING)).toMatchObject({ id: newer.id, status: "verified" });
    expect(finals(newer.id)).toEqual(["verified"]);
  });

  it("ends the rollback rolled_back when it completed before the newer image took the service", async () => {
    const rejected = await completedStaging();
    await alarm();
    const rollback = (await headRecord(WEB_STAGING)).rollbackDeploymentId as string;

    await lambda.push(NEWER);
    const newer = await headRecord(WEB_STAGING);
    await lambda.ecs(deploymentEvent("COMPLETED", { deploymentId: rollback, updatedAt: "2026-11-20T09:20:59.000Z" }));
    await lambda.ecs(deploymentEvent("IN_PROGRESS", { deploymentId: newer.ecsDeploymentId as string, updatedAt: "2026-11-20T09:21:03.000Z" }));

    expect(await recordOf(rejected.id)).toMatchObject({ status: "rolled_back", reason: expect.stringContaining(ALARM) });
    expect(finals(rejected.id)).toEqual(["rolled_back"]);
    expect((await headRecord(WEB_STAGING)).status).toBe("started");
  });

  it("keeps the two UpdateService calls in order: the newer image's lands after the rollback's, never before", async () => {
    const rejected = await completedStaging();
    const landed: string[] = [];
    let deployments = 1;
    let newerPush: Promise<unknown> = Promise.resolve();
    world.aws.ecs.on(UpdateServiceCommand).callsFake(async (input: { cluster: string; service: string; taskDefinition: string }) => {
      const id = `ecs-svc/${3000000000000000000n + BigInt(++deployments)}`;
      if (input.taskDefinition === PREVIOUS) {
        // The newer image is pushed while the rollback's UpdateService is in flight (a slow,
        // retried call): it must wait for it.
        newerPush = lambda.push(NEWER);
        await new Promise((resolve) => setTimeout(resolve, 600));
      }
      landed.push(input.taskDefinition);
      return {
        service: {
          serviceName: input.service,
          deployments: [
            { id, status: "PRIMARY", rolloutState: "IN_PROGRESS", taskDefinition: input.taskDefinition, createdAt: new Date("2026-11-20T09:20:01.000Z") },
          ],
          currentServiceDeployment: `arn:aws:ecs:eu-west-1:123456789012:service-deployment/${input.cluster}/${input.service}/${id.slice(8)}`,
        },
      };
    });

    await alarm();
    await newerPush;

    expect(landed).toEqual([PREVIOUS, taskDefinitionArn("shop-web-staging", 43)]);
    expect(await headRecord(WEB_STAGING)).toMatchObject({ digest: digestOf(2), status: "started" });
    expect(await recordOf(rejected.id)).toMatchObject({ status: "rolling_back", rollbackDeploymentId: "ecs-svc/3000000000000000002" });
  });
});

describe("Stevedore's own rollback", () => {
  it("turns ECS's alarm and circuit-breaker rollbacks off for itself, so a second or flapping alarm cannot return the rejected image", async () => {
    await completedStaging();

    await alarm();

    expect(world.aws.inputs(UpdateServiceCommand).slice(1)).toEqual([
      {
        cluster: "shop-staging",
        service: "web",
        taskDefinition: PREVIOUS,
        deploymentConfiguration: {
          alarms: { alarmNames: ["shop-staging-web-5xx"], enable: false, rollback: false },
          deploymentCircuitBreaker: { enable: true, rollback: false },
        },
      },
    ]);
  });

  it("is never reported rolled_back when ECS rolls it back to the rejected image: failed, saying the rejected image runs again", async () => {
    const rejected = await completedStaging();
    await alarm();
    const rollback = (await headRecord(WEB_STAGING)).rollbackDeploymentId as string;
    await lambda.ecs(deploymentEvent("IN_PROGRESS", { deploymentId: rollback, updatedAt: "2026-11-20T09:20:02.000Z" }));

    // ECS (a service whose alarms still guard the rollback) fails it and rolls it back to the
    // last completed deployment, the rejected one; the rollback's FAILED comes late.
    const again = "ecs-svc/8000000000000000001";
    await lambda.ecs(
      deploymentEvent("IN_PROGRESS", {
        deploymentId: again,
        updatedAt: "2026-11-20T09:20:40.001Z",
        reason: `ECS deployment alarms: rolling back to deploymentId ${rejected.ecsDeploymentId}.`,
      }),
    );
    await lambda.ecs(deploymentEvent("COMPLETED", { deploymentId: again, updatedAt: "2026-11-20T09:21:40.000Z" }));
    await lambda.ecs(
      deploymentEvent("FAILED", {
        deploymentId: rollback,
        updatedAt: "2026-11-20T09:20:40.000Z",
        reason: "ECS deployment alarms: alarm shop-staging-web-5xx is in ALARM state.",
      }),
    );
    await lambda.sweep("2026-11-20T10:30:00Z");

    expect(await headRecord(WEB_STAGING)).toMatchObject({
      status: "failed",
      reason: expect.stringMatching(new RegExp(`${ALARM}.*ECS rolled the rollback \\(${rollback}\\) back with ${again}: the rejected image runs there again`)),
    });
    expect(finals(rejected.id)).toEqual(["failed"]);
  });
});

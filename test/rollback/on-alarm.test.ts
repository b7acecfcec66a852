// The alarm handler (functions/on-alarm.ts → shared/rollback), fed the CloudWatch Alarm State
// Change fixtures (test/events/cloudwatch-alarm-state-change-*.json: shop-prod-web-5xx, which
// guards shop-web production in the fixture config). Production is deployed through the
// real deploy path; ECS and CloudWatch are aws-sdk-client-mock fakes, the records a local
// DynamoDB. Assertions are on the exact ECS commands and on what the table holds.
import { DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import { DynamoDBClient, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { StopServiceDeploymentCommand, UpdateServiceCommand } from "@aws-sdk/client-ecs";
import { clientFor } from "../../shared/aws/clients";
import { keys, type DeploymentRecord } from "../../shared/records/model";
import { readTarget } from "../../shared/records/store";
import { taskDefinitionArn } from "../support/ecs";
import {
  acceptStops,
  alarmEvent,
  awsError,
  deployWebToProduction,
  deploymentEvent,
  headRecord,
  lambda,
  pushWebToStaging,
  rollbackEvent,
  statusChanges,
  WEB_PRODUCTION,
  WEB_STAGING,
  WORKER_STAGING,
  workerPush,
  writesIn,
} from "../support/records";
import { handlerWorld } from "../support/handler-world";

const world = handlerWorld({ aws: { acceptStops: true } });

const PREVIOUS = taskDefinitionArn("shop-web-production", 41);

/** Sets the head's lock of `target` as another image's UpdateService would hold it (0: none). */
async function lockHeadFor(target: string, until: number): Promise<void> {
  await clientFor(DynamoDBClient).send(
    new UpdateItemCommand({
      TableName: process.env.RECORDS_TABLE,
      Key: { pk: { S: keys.target(target) }, sk: { S: keys.head } },
      UpdateExpression: "SET lockUntil = :until",
      ExpressionAttributeValues: { ":until": { N: String(until) } },
    }),
  );
}
/**
 * Stevedore's own rollback: the replaced revision, with ECS's alarm and circuit-breaker rollbacks
 * off for it (they would roll it back to the image it rejects).
 */
const ROLLBACK_TO_PREVIOUS = {
  cluster: "shop-prod",
  service: "web",
  taskDefinition: PREVIOUS,
  deploymentConfiguration: {
    alarms: { alarmNames: ["shop-prod-web-5xx", "shop-prod-web-latency"], enable: false, rollback: false },
    deploymentCircuitBreaker: { enable: true, rollback: false },
  },
};
const ALARM_AT = "2026-11-20T09:24:40.303Z"; // the fixture's state.timestamp
const ALARM_REASON = "alarm shop-prod-web-5xx fired: Threshold Crossed: 2 out of the last 2 datapoints";
const COMPLETED_AT = "2026-11-20T09:17:51.903Z"; // production watches 10 minutes: until 09:27:51.903
const FINAL = ["verified", "failed", "rolled_back", "timed_out", "superseded", "refused"];

/** Production rolled out up to `status` by ECS's events. */
async function production(status: "started" | "in progress" | "completed"): Promise<DeploymentRecord> {
  const record = await deployWebToProduction();
  const deploymentId = record.ecsDeploymentId as string;
  if (status !== "started") await lambda.ecs(deploymentEvent("IN_PROGRESS", { target: WEB_PRODUCTION, deploymentId, updatedAt: "2026-11-20T09:14:08.512Z" }));
  if (status === "completed") await lambda.ecs(deploymentEvent("COMPLETED", { target: WEB_PRODUCTION, deploymentId, updatedAt: COMPLETED_AT }));
  const after = await headRecord(WEB_PRODUCTION);
  // ECS's IN_PROGRESS confirms what UpdateService answered: the record stays started.
  expect(after.status).toBe(status === "in progress" ? "started" : status);
  return after;
}

function watch() {
  const calls = world.db.calls.length;
  const stream = world.db.stream.length;
  const ecs = world.aws.ecs.calls().length;
  const cloudwatch = world.aws.cloudwatch.calls().length;
  return {
    writes: () => writesIn(world.db.calls.slice(calls)),
    calls: () => world.db.calls.slice(calls),
    stream: () => world.db.stream.slice(stream),
    awsCalls: () => world.aws.ecs.calls().length - ecs + world.aws.cloudwatch.calls().length - cloudwatch,
  };
}

describe("on-alarm", () => {
  describe("during the rollout", () => {
    it.each(["started", "in progress"] as const)("stops ECS's deployment (%s) with a ROLLBACK and records rolling_back with the alarm", async (status) => {
      const record = await production(status);

      const result = await lambda.alarm(alarmEvent());

      expect(result).toEqual({ checked: [{ target: WEB_PRODUCTION, recordId: record.id, status: "rolling_back", rolledBack: true }] });
      expect(world.aws.inputs(StopServiceDeploymentCommand)).toEqual([{ serviceDeploymentArn: record.serviceDeploymentArn, stopType: "ROLLBACK" }]);
      expect(record.serviceDeploymentArn).toMatch(/^arn:aws:ecs:eu-west-1:123456789012:service-deployment\/shop-prod\/web\//);
      expect(world.aws.inputs(UpdateServiceCommand)).toHaveLength(1); // the deployment itself, nothing more
      expect(await headRecord(WEB_PRODUCTION)).toMatchObject({
        status: "rolling_back",
        reason: expect.stringContaining(ALARM_REASON),
        updatedAt: ALARM_AT,
      });
    });

    it("ends rolled_back, still naming the alarm, once ECS's rollback completes", async () => {
      const record = await production("in progress");
      await lambda.alarm(alarmEvent());

      await lambda.ecs(rollbackEvent({ target: WEB_PRODUCTION, deploymentId: "ecs-svc/7000000000000000001", updatedAt: "2026-11-20T09:24:42.000Z" }));
      await lambda.ecs(
        deploymentEvent("COMPLETED", { target: WEB_PRODUCTION, deploymentId: "ecs-svc/7000000000000000001", updatedAt: "2026-11-20T09:27:10.000Z" }),
      );

      expect(await headRecord(WEB_PRODUCTION)).toMatchObject({
        status: "rolled_back",
        reason: expect.stringContaining(ALARM_REASON),
        finishedAt: "2026-11-20T09:27:10.000Z",
      });
      expect(
        statusChanges(world.db.stream, record.id)
          .filter((c) => FINAL.includes(c.to))
          .map((c) => c.to),
      ).toEqual(["rolled_back"]);
    });

    it("falls back to UpdateService to the replaced revision when ECS refuses to stop the deployment", async () => {
      const record = await production("in progress");
      world.aws.ecs
        .on(StopServiceDeploymentCommand)
        .rejects(awsError("InvalidParameterException", "The service deployment is not in a state that can be stopped."));

      await lambda.alarm(alarmEvent());

      expect(world.aws.inputs(StopServiceDeploymentCommand)).toHaveLength(1);
      expect(world.aws.inputs(UpdateServiceCommand).slice(1)).toEqual([ROLLBACK_TO_PREVIOUS]);
      expect(await headRecord(WEB_PRODUCTION)).toMatchObject({
        status: "rolling_back",
        reason: expect.stringContaining(ALARM_REASON),
        rollbackDeploymentId: "ecs-svc/2000000000000000002",
      });
      expect(record.replacesTaskDefinition).toBe(PREVIOUS);
    });

    it("follows ECS's own rollback when ECS answers that it is already rolling the deployment back (ConflictException)", async () => {
      await production("in progress");
      world.aws.ecs
        .on(StopServiceDeploymentCommand)
        .rejects(awsError("ConflictException", "The request could not be processed because of conflict in the current state of the resource."));

      await lambda.alarm(alarmEvent());

      expect(world.aws.inputs(StopServiceDeploymentCommand)).toHaveLength(1);
      expect(world.aws.inputs(UpdateServiceCommand)).toHaveLength(1); // the deployment's own: no rollback on top of ECS's
      expect(await headRecord(WEB_PRODUCTION)).toMatchObject({ status: "rolling_back", reason: expect.stringContaining(ALARM_REASON) });
    });

    it("throws when ECS throttles StopServiceDeployment, so that Lambda retries; the retry rolls back once", async () => {
      const record = await production("in progress");
      world.aws.ecs.on(StopServiceDeploymentCommand).rejectsOnce(awsError("ThrottlingException", "Rate exceeded"));

      await expect(lambda.alarm(alarmEvent())).rejects.toThrow(/ThrottlingException/);
      // The decision stays recorded; its lease is given back so the retry acts at once.
      expect(await headRecord(WEB_PRODUCTION)).toMatchObject({ status: "rolling_back", rollback: { leaseUntil: 0 } });

      acceptStops(world.aws);
      await lambda.alarm(alarmEvent());
      await lambda.alarm(alarmEvent());

      expect(world.aws.inputs(StopServiceDeploymentCommand)).toEqual([
        { serviceDeploymentArn: record.serviceDeploymentArn, stopType: "ROLLBACK" },
        { serviceDeploymentArn: record.serviceDeploymentArn, stopType: "ROLLBACK" },
      ]);
      expect((await headRecord(WEB_PRODUCTION)).status).toBe("rolling_back");
    });
  });

  describe("inside the watch window", () => {
    it("redeploys the revision the deployment replaced (exactly that UpdateService) and records rolling_back", async () => {
      const record = await production("completed");
      expect(record.watchUntil).toBe("2026-11-20T09:27:51.903Z");

      const result = await lambda.alarm(alarmEvent());

      expect(result).toEqual({ checked: [{ target: WEB_PRODUCTION, recordId: record.id, status: "rolling_back", rolledBack: true }] });
      expect(world.aws.inputs(UpdateServiceCommand).slice(1)).toEqual([ROLLBACK_TO_PREVIOUS]);
      expect(world.aws.inputs(StopServiceDeploymentCommand)).toEqual([]);
      expect(await headRecord(WEB_PRODUCTION)).toMatchObject({
        status: "rolling_back",
        reason: expect.stringContaining(ALARM_REASON),
        rollbackDeploymentId: "ecs-svc/2000000000000000002",
        replacesTaskDefinition: PREVIOUS,
      });
    });

    it("writes the decision and the head's lock in one transaction, and only then asks ECS", async () => {
      const record = await production("completed");
      const after = watch();
      let atEcs: { writes: string[]; status?: string; lockUntil?: number } | undefined;
      world.aws.ecs.on(UpdateServiceCommand).callsFake(async (input: { cluster: string; service: string }) => {
        const { head, record: now } = await readTarget(WEB_PRODUCTION);
        atEcs = { writes: after.writes(), status: now?.status, lockUntil: head?.lockUntil };
        return {
          service: { serviceName: input.service, deployments: [{ id: "ecs-svc/2000000000000000002", status: "PRIMARY", createdAt: new Date(ALARM_AT) }] },
        };
      });

      await lambda.alarm(alarmEvent());

      expect(atEcs).toEqual({ writes: ["TransactWriteItems"], status: "rolling_back", lockUntil: expect.any(Number) });
      expect(atEcs?.lockUntil).toBeGreaterThan(Date.now());
      expect(world.aws.inputs(UpdateServiceCommand).slice(1)).toEqual([ROLLBACK_TO_PREVIOUS]);
      expect(await headRecord(WEB_PRODUCTION)).toMatchObject({ id: record.id, status: "rolling_back", rollbackDeploymentId: "ecs-svc/2000000000000000002" });
      expect((await readTarget(WEB_PRODUCTION)).head?.lockUntil).toBeUndefined(); // released after ECS answered
    });

    it("writes the decision alone and asks ECS nothing while another UpdateService holds the head; the retried event then rolls back", async () => {
      const record = await production("completed");
      await lockHeadFor(WEB_PRODUCTION, Date.now() + 60_000);

      await expect(lambda.alarm(alarmEvent())).rejects.toThrow(/locked by another UpdateService/);

      expect(await headRecord(WEB_PRODUCTION)).toMatchObject({ id: record.id, status: "rolling_back", reason: expect.stringContaining(ALARM_REASON) });
      expect(world.aws.inputs(UpdateServiceCommand)).toHaveLength(1); // the deployment only

      // The lock is gone and the decision's lease has passed (the rollback request gave it back):
      // the retried event acts on the decision it finds.
      await lockHeadFor(WEB_PRODUCTION, 0);
      await lambda.alarm(alarmEvent());
      expect(world.aws.inputs(UpdateServiceCommand).slice(1)).toEqual([ROLLBACK_TO_PREVIOUS]);
    });

    it("ends rolled_back when that rollback completes, and never becomes success", async () => {
      const record = await production("completed");
      await lambda.alarm(alarmEvent());
      const rollback = (await headRecord(WEB_PRODUCTION)).rollbackDeploymentId as string;

      await lambda.ecs(deploymentEvent("IN_PROGRESS", { target: WEB_PRODUCTION, deploymentId: rollback, updatedAt: "2026-11-20T09:24:42.000Z" }));
      expect((await headRecord(WEB_PRODUCTION)).status).toBe("rolling_back");
      await lambda.ecs(deploymentEvent("COMPLETED", { target: WEB_PRODUCTION, deploymentId: rollback, updatedAt: "2026-11-20T09:29:00.000Z" }));
      await lambda.sweep("2026-11-20T10:30:00Z");

      expect(await headRecord(WEB_PRODUCTION)).toMatchObject({
        status: "rolled_back",
        reason: expect.stringContaining(ALARM_REASON),
        finishedAt: "2026-11-20T09:29:00.000Z",
      });
      const changes = statusChanges(world.db.stream, record.id).map((c) => c.to);
      expect(changes.filter((s) => FINAL.includes(s))).toEqual(["rolled_back"]);
      expect(changes).not.toContain("verified");
    });

    it("rolls back on an alarm delivered late whose own timestamp is inside the window", async () => {
      await production("completed");
      const late = { ...alarmEvent({ timestamp: "2026-11-20T09:27:00.000Z" }), time: "2026-11-20T09:29:30Z" };

      await lambda.alarm(late);

      expect(world.aws.inputs(UpdateServiceCommand).slice(1)).toEqual([ROLLBACK_TO_PREVIOUS]);
      expect((await headRecord(WEB_PRODUCTION)).status).toBe("rolling_back");
    });

    it("records a rollback that ECS refuses as failed, loudly, never as success", async () => {
      await production("completed");
      world.aws.ecs.on(UpdateServiceCommand).rejects(awsError("InvalidParameterException", "TaskDefinition is inactive"));

      await lambda.alarm(alarmEvent());
      await lambda.sweep("2026-11-20T10:30:00Z");

      expect(await headRecord(WEB_PRODUCTION)).toMatchObject({
        status: "failed",
        reason: expect.stringMatching(
          new RegExp(`${ALARM_REASON}.*the rollback to ${PREVIOUS.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} failed: .*TaskDefinition is inactive`),
        ),
      });
    });

    it("rolls back every service of an environment the alarm guards, each to its own replaced revision", async () => {
      await lambda.push(workerPush());
      for (const target of WORKER_STAGING) {
        const record = await headRecord(target);
        await lambda.ecs(deploymentEvent("COMPLETED", { target, deploymentId: record.ecsDeploymentId as string, updatedAt: COMPLETED_AT }));
      }
      const before = world.aws.inputs(UpdateServiceCommand).length;

      const result = await lambda.alarm(alarmEvent({ alarmName: "shop-staging-worker-errors", timestamp: "2026-11-20T09:20:00.000Z" }));

      expect(result).toEqual({
        checked: expect.arrayContaining(WORKER_STAGING.map((target) => expect.objectContaining({ target, status: "rolling_back", rolledBack: true }))),
      });
      expect(
        world.aws
          .inputs(UpdateServiceCommand)
          .slice(before)
          .map((u) => [u.service, u.taskDefinition])
          .sort(),
      ).toEqual([
        ["worker", taskDefinitionArn("shop-worker-staging", 7)],
        ["worker-priority", taskDefinitionArn("shop-worker-staging", 7)],
        ["worker-reports", taskDefinitionArn("shop-worker-reports-staging", 3)],
      ]);
    });
  });

  it("does nothing for an alarm after the watch window: no AWS write, no record write", async () => {
    await production("completed");
    const after = watch();

    const result = await lambda.alarm(alarmEvent({ timestamp: "2026-11-20T09:28:00.000Z" }));

    expect(result).toEqual({ checked: [expect.objectContaining({ target: WEB_PRODUCTION, status: "completed", rolledBack: false })] });
    expect(world.aws.ecsWrites()).toEqual(["RegisterTaskDefinitionCommand", "UpdateServiceCommand"]);
    expect(after.writes()).toEqual([]);
    expect(after.stream()).toEqual([]);
  });

  it("does nothing for an alarm on a deployment that is already verified", async () => {
    await production("completed");
    await lambda.sweep("2026-11-20T09:28:00Z");
    expect((await headRecord(WEB_PRODUCTION)).status).toBe("verified");
    const after = watch();

    await lambda.alarm(alarmEvent({ timestamp: "2026-11-20T09:40:00.000Z" }));

    expect(world.aws.ecsWrites()).toEqual(["RegisterTaskDefinitionCommand", "UpdateServiceCommand"]);
    expect(after.writes()).toEqual([]);
  });

  it("does not roll back a deployment that started after the alarm went off (a late delivery of an earlier alarm)", async () => {
    // The alarm went to ALARM at 09:10, over the previous image; its event is delivered (after
    // Lambda's retries) only once this deployment, started at 09:14:07, is rolling out.
    const record = await production("in progress");
    expect(record.startedAt).toBe("2026-11-20T09:14:07.000Z");
    const after = watch();

    const result = await lambda.alarm({ ...alarmEvent({ timestamp: "2026-11-20T09:10:00.000Z" }), time: "2026-11-20T09:10:01Z" });

    expect(result).toEqual({ checked: [expect.objectContaining({ target: WEB_PRODUCTION, status: "started", rolledBack: false })] });
    expect(world.aws.inputs(StopServiceDeploymentCommand)).toEqual([]);
    expect(world.aws.inputs(UpdateServiceCommand)).toHaveLength(1);
    expect(after.writes()).toEqual([]);
  });

  it.each(["OK", "INSUFFICIENT_DATA"] as const)("ignores a change to %s without any AWS call", async (value) => {
    await production("in progress");
    const after = watch();

    const result = await lambda.alarm(alarmEvent({ value }));

    expect(result).toEqual({ ignored: `shop-prod-web-5xx went to ${value}: only ALARM rolls back` });
    expect(after.awsCalls()).toBe(0);
    expect(after.calls()).toEqual([]);
    expect((await headRecord(WEB_PRODUCTION)).status).toBe("started");
  });

  it.each([
    ["an alarm no environment uses", alarmEvent({ alarmName: "billing-api-5xx" }), "billing-api-5xx guards no configured environment in eu-west-1"],
    ["a guarding alarm's name in another region", alarmEvent({ region: "us-east-1" }), "shop-prod-web-5xx guards no configured environment in us-east-1"],
  ])("ignores %s without any AWS call", async (_name, event, reason) => {
    await production("in progress");
    const after = watch();

    await expect(lambda.alarm(event)).resolves.toEqual({ ignored: reason });
    expect(after.awsCalls()).toBe(0);
    expect(after.calls()).toEqual([]);
  });

  it("does nothing where the guarded environment has no deployment of Stevedore's", async () => {
    await pushWebToStaging(); // staging only: production has no record
    const after = watch();

    const result = await lambda.alarm(alarmEvent());

    expect(result).toEqual({ checked: [{ target: WEB_PRODUCTION, rolledBack: false }] });
    expect(after.awsCalls()).toBe(0);
    expect(after.writes()).toEqual([]);
    expect((await headRecord(WEB_STAGING)).status).toBe("started");
  });

  it("treats a composite alarm (configuration.alarmRule) like a metric alarm", async () => {
    const record = await production("completed");

    const result = await lambda.alarm(alarmEvent({ alarmName: "shop-prod-web-latency", composite: true }));

    expect(result).toEqual({ checked: [{ target: WEB_PRODUCTION, recordId: record.id, status: "rolling_back", rolledBack: true }] });
    expect(world.aws.inputs(UpdateServiceCommand).slice(1)).toEqual([ROLLBACK_TO_PREVIOUS]);
    expect((await headRecord(WEB_PRODUCTION)).reason).toContain("alarm shop-prod-web-latency fired");
  });

  it.each([
    ["during the rollout", "in progress", StopServiceDeploymentCommand],
    ["inside the watch window", "completed", UpdateServiceCommand],
  ] as const)("rolls back once when the alarm is delivered twice %s", async (...[, status, command]) => {
    await production(status);
    const before = world.aws.inputs(command as typeof UpdateServiceCommand).length;
    const event = alarmEvent();

    await lambda.alarm(event);
    const after = watch();
    const again = await lambda.alarm(event);

    expect(world.aws.inputs(command as typeof UpdateServiceCommand).length - before).toBe(1);
    expect(again).toEqual({ checked: [expect.objectContaining({ status: "rolling_back", rolledBack: false })] });
    expect(after.writes()).toEqual([]);
  });

  it("rolls back once when another guarding alarm of the same environment fires too", async () => {
    await production("completed");
    await lambda.alarm(alarmEvent());
    const after = watch();

    await lambda.alarm(alarmEvent({ alarmName: "shop-prod-web-latency", timestamp: "2026-11-20T09:24:50.000Z" }));

    expect(world.aws.inputs(UpdateServiceCommand)).toHaveLength(2); // the deployment and one rollback
    expect((await headRecord(WEB_PRODUCTION)).reason).toEqual(expect.stringContaining("alarm shop-prod-web-latency fired"));
    expect(statusChanges(after.stream())).toEqual([]);
  });
});

// At-least-once, out-of-order delivery: the decision is recorded before ECS is asked, so one
// rollback is made whoever asks; ECS's events for it are followed whenever they come; and the
// sweeper reads the alarms before it verifies.
describe("on-alarm races (at-least-once, out-of-order delivery)", () => {
  it("rolls back once when two guarding alarms of the environment fire at the same moment", async () => {
    await production("completed");

    await Promise.all([
      lambda.alarm(alarmEvent()),
      lambda.alarm(alarmEvent({ alarmName: "shop-prod-web-latency", id: "b7c1d2e3-0000-4000-8000-000000000001" })),
    ]);

    expect(world.aws.inputs(UpdateServiceCommand).slice(1)).toEqual([ROLLBACK_TO_PREVIOUS]);
    expect((await headRecord(WEB_PRODUCTION)).status).toBe("rolling_back");
  });

  it("follows its own rollback when ECS reports it before the rollback is recorded", async () => {
    await production("completed");
    // ECS's IN_PROGRESS for the rollback deployment reaches on-deployment-changed while the
    // alarm's invocation is still between UpdateService's answer and its write.
    const rollback = "ecs-svc/2000000000000000002";
    let delivered: Promise<unknown> = Promise.resolve();
    world.aws.ecs.on(UpdateServiceCommand).callsFake(async (input: { cluster: string; service: string }) => {
      delivered = lambda.ecs(deploymentEvent("IN_PROGRESS", { target: WEB_PRODUCTION, deploymentId: rollback, updatedAt: "2026-11-20T09:24:41.000Z" }));
      await delivered;
      return {
        service: {
          serviceName: input.service,
          deployments: [{ id: rollback, status: "PRIMARY", rolloutState: "IN_PROGRESS", createdAt: new Date("2026-11-20T09:24:41.000Z") }],
          currentServiceDeployment: `arn:aws:ecs:eu-west-1:123456789012:service-deployment/${input.cluster}/${input.service}/2000000000000000002`,
        },
      };
    });

    await lambda.alarm(alarmEvent());
    await delivered;
    await lambda.ecs(deploymentEvent("COMPLETED", { target: WEB_PRODUCTION, deploymentId: rollback, updatedAt: "2026-11-20T09:29:00.000Z" }));

    expect(await headRecord(WEB_PRODUCTION)).toMatchObject({ status: "rolled_back", reason: expect.stringContaining(ALARM_REASON) });
  });

  it("never verifies a deployment whose guarding alarm fired inside the watch window, even when the sweeper runs before the alarm event is handled", async () => {
    await production("completed");
    // The alarm went to ALARM at 09:27:00 (inside the window, which ends 09:27:51.903); its
    // event is retried by Lambda and handled only after the 09:28 sweep.
    world.aws.cloudwatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        { AlarmName: "shop-prod-web-5xx", StateValue: "ALARM", StateReason: "Threshold Crossed", StateUpdatedTimestamp: new Date("2026-11-20T09:27:00.000Z") },
        { AlarmName: "shop-prod-web-latency", StateValue: "OK", StateReason: "quiet", StateUpdatedTimestamp: new Date("2026-11-20T08:00:00.000Z") },
      ],
    });

    await lambda.sweep("2026-11-20T09:28:00Z");
    await lambda.alarm({ ...alarmEvent({ timestamp: "2026-11-20T09:27:00.000Z" }), time: "2026-11-20T09:27:01Z" });

    expect((await headRecord(WEB_PRODUCTION)).status).not.toBe("verified");
    expect(world.aws.inputs(UpdateServiceCommand).slice(1)).toEqual([ROLLBACK_TO_PREVIOUS]);
  });
});

// The ECS event handler (functions/on-deployment-changed.ts → shared/verify/follow.ts), fed
// real-shaped ECS events (test/events/ecs-*.json, retargeted to the deployment a real push
// started) with the records in a local DynamoDB. Assertions are on what the table holds, what
// the stream carried and which DynamoDB calls were made.
import type { DeploymentRecord } from "../../shared/records/model";
import {
  deploymentEvent,
  digestOf,
  headRecord,
  lambda,
  pushEvent,
  pushWebToStaging,
  QUIET_ALARMS,
  rollbackEvent,
  serviceAction,
  serviceArn,
  SERVICES,
  statusChanges,
  targetRecords,
  WEB_STAGING,
  writesIn,
} from "../support/records";
import { handlerWorld } from "../support/handler-world";

const world = handlerWorld();

const IN_PROGRESS_AT = "2026-11-20T09:14:08.512Z";
const COMPLETED_AT = "2026-11-20T09:17:51.903Z";
const FAILED_AT = "2026-11-20T09:21:29.744Z";
const ECS_ROLLBACK = "ecs-svc/8812044957315520741";

/** What the handler did to the table from here on: DynamoDB writes and stream records. */
function watch() {
  const calls = world.db.calls.length;
  const stream = world.db.stream.length;
  return {
    writes: () => writesIn(world.db.calls.slice(calls)),
    calls: () => world.db.calls.slice(calls),
    stream: () => world.db.stream.slice(stream),
  };
}

describe("on-deployment-changed", () => {
  let record: DeploymentRecord;
  let ours: string;
  const inProgress = () => deploymentEvent("IN_PROGRESS", { deploymentId: ours, updatedAt: IN_PROGRESS_AT, id: "in-progress" });
  const completed = () => deploymentEvent("COMPLETED", { deploymentId: ours, updatedAt: COMPLETED_AT, id: "completed" });
  const failed = () => deploymentEvent("FAILED", { deploymentId: ours, updatedAt: FAILED_AT, id: "failed" });
  const rollbackStarts = () => rollbackEvent({ deploymentId: ECS_ROLLBACK, updatedAt: "2026-11-20T09:21:30.118Z", id: "rollback-in-progress" });
  const rollbackDone = () => deploymentEvent("COMPLETED", { deploymentId: ECS_ROLLBACK, updatedAt: "2026-11-20T09:23:02.000Z", id: "rollback-completed" });

  beforeEach(async () => {
    record = await pushWebToStaging();
    ours = record.ecsDeploymentId as string;
  });

  it("follows the deployment a push started: IN_PROGRESS writes nothing, COMPLETED → completed with a 5-minute watch window", async () => {
    expect(record).toMatchObject({ status: "started", ecsDeploymentId: expect.stringMatching(/^ecs-svc\//) });

    const before = watch();
    await expect(lambda.ecs(inProgress())).resolves.toEqual({ recordId: record.id, status: "started", changed: false });
    expect(writesIn(before.calls())).toEqual([]);

    await expect(lambda.ecs(completed())).resolves.toEqual({ recordId: record.id, status: "completed", changed: true });
    const after = await headRecord(WEB_STAGING);
    expect(after).toMatchObject({ status: "completed", completedAt: COMPLETED_AT, updatedAt: COMPLETED_AT, watchUntil: "2026-11-20T09:22:51.903Z" });
    expect(after.history.map((h) => h.status)).toEqual(["pending", "started", "completed"]);
    expect(statusChanges(world.db.stream, record.id).map((c) => c.to)).toEqual(["pending", "started", "completed"]);
  });

  it("writes nothing when COMPLETED is delivered again", async () => {
    const event = completed();
    await lambda.ecs(event);
    const after = watch();

    await expect(lambda.ecs(event)).resolves.toEqual({ recordId: record.id, status: "completed", changed: false });
    await expect(lambda.ecs({ ...event, id: "redelivered-with-another-id" })).resolves.toMatchObject({ changed: false });

    expect(after.writes()).toEqual([]);
    expect(after.stream()).toEqual([]);
    expect((await headRecord(WEB_STAGING)).status).toBe("completed");
  });

  it("keeps a deployment completed when its IN_PROGRESS arrives after its COMPLETED", async () => {
    await lambda.ecs(completed());
    const after = watch();
    await expect(lambda.ecs(inProgress())).resolves.toMatchObject({ status: "completed", changed: false });

    expect(after.writes()).toEqual([]);
    expect(await headRecord(WEB_STAGING)).toMatchObject({ status: "completed", watchUntil: "2026-11-20T09:22:51.903Z" });
  });

  describe("a circuit-breaker rollback", () => {
    it.each([
      ["in ECS's order", ["inProgress", "failed", "rollbackStarts", "rollbackDone"]],
      ["with the rollback's IN_PROGRESS before our FAILED", ["inProgress", "rollbackStarts", "failed", "rollbackDone"]],
      ["with the rollback's COMPLETED before its IN_PROGRESS", ["inProgress", "failed", "rollbackDone", "rollbackStarts"]],
      ["with the rollback's COMPLETED first of all", ["rollbackDone", "inProgress", "failed", "rollbackStarts"]],
      [
        "with every event delivered twice",
        ["inProgress", "inProgress", "failed", "failed", "rollbackStarts", "rollbackStarts", "rollbackDone", "rollbackDone"],
      ],
    ])("ends rolled_back, naming the circuit breaker, with one final change %s", async (_order, names) => {
      const events: Record<string, () => object> = { inProgress, failed, rollbackStarts, rollbackDone };
      for (const name of names) await lambda.ecs((events[name] as () => object)());

      const after = await headRecord(WEB_STAGING);
      expect(after).toMatchObject({ status: "rolled_back", reason: expect.stringContaining("ECS deployment circuit breaker") });
      const changes = statusChanges(world.db.stream, record.id);
      expect(changes.filter((c) => ["verified", "failed", "rolled_back", "timed_out", "superseded"].includes(c.to))).toEqual([
        { id: record.id, from: expect.any(String), to: "rolled_back" },
      ]);
      expect(changes.map((c) => c.to)).not.toContain("completed");
    });

    it("is never reported as success, even when a late COMPLETED of ours and the sweeper follow", async () => {
      for (const event of [inProgress(), failed(), rollbackStarts(), rollbackDone(), completed()]) await lambda.ecs(event);
      await lambda.sweep("2026-11-20T10:00:00Z");

      expect((await headRecord(WEB_STAGING)).status).toBe("rolled_back");
      expect(statusChanges(world.db.stream, record.id).map((c) => c.to)).not.toContain("verified");
    });
  });

  it("ignores events for a service Stevedore never deployed, with no write", async () => {
    const after = watch();
    const results = [
      await lambda.ecs(
        deploymentEvent("IN_PROGRESS", { target: "eu-west-1/shop-prod/api", deploymentId: "ecs-svc/5550000000000000001", updatedAt: IN_PROGRESS_AT }),
      ),
      await lambda.ecs(
        deploymentEvent("COMPLETED", { target: "eu-west-1/shop-prod/web", deploymentId: "ecs-svc/5550000000000000002", updatedAt: COMPLETED_AT }),
      ),
    ];

    expect(results).toEqual([
      { ignored: "no deployment of eu-west-1/shop-prod/api was started by Stevedore" },
      { ignored: "no deployment of eu-west-1/shop-prod/web was started by Stevedore" },
    ]);
    expect(after.writes()).toEqual([]);
    expect(after.stream()).toEqual([]);
  });

  it("leaves the newer deployment alone when late events of the older one it replaced arrive", async () => {
    // Start over: an older image at 09:00, then the fixture's image at 09:14:05 replaces it.
    await world.db.reset();
    world.fakeAws({ services: SERVICES, alarms: QUIET_ALARMS });
    const older = await pushWebToStaging(pushEvent({ "image-tag": "aaaaaaa", "image-digest": digestOf(1) }, { id: "older", time: "2026-11-20T09:00:00Z" }));
    const newer = await pushWebToStaging();
    expect(newer.digest).not.toBe(older.digest);
    const after = watch();

    const late = [
      deploymentEvent("IN_PROGRESS", { deploymentId: older.ecsDeploymentId as string, updatedAt: "2026-11-20T09:00:03.000Z" }),
      deploymentEvent("COMPLETED", { deploymentId: older.ecsDeploymentId as string, updatedAt: "2026-11-20T09:04:40.000Z" }),
    ];
    for (const event of late) await expect(lambda.ecs(event)).resolves.toEqual({ recordId: newer.id, status: "started", changed: false });

    expect(after.writes()).toEqual([]);
    const [newest, superseded] = await targetRecords(WEB_STAGING);
    expect(newest).toMatchObject({ id: newer.id, status: "started" });
    expect(superseded).toMatchObject({ id: older.id, status: "superseded" });
  });

  it("notes SERVICE_TASK_START_IMPAIRED as a warning on the record, once even when delivered twice", async () => {
    await lambda.ecs(inProgress());
    const after = watch();
    const impaired = serviceAction({ target: WEB_STAGING });

    await expect(lambda.ecs(impaired)).resolves.toEqual({ recordId: record.id, status: "started", changed: true });
    await expect(lambda.ecs(impaired)).resolves.toEqual({ recordId: record.id, status: "started", changed: false });

    expect((await headRecord(WEB_STAGING)).warnings).toEqual([{ at: "2026-11-20T09:19:01.377Z", message: "ECS service task start impaired" }]);
    expect(writesIn(after.calls())).toEqual(["PutItem"]);
    // A warning is not a change of status: nothing for people to hear as a transition.
    expect(statusChanges(after.stream())).toEqual([]);
  });

  it("ignores an INFO service action before reading anything", async () => {
    const after = watch();
    const steady = serviceAction({ target: WEB_STAGING, eventType: "INFO", eventName: "SERVICE_STEADY_STATE" });

    await expect(lambda.ecs(steady)).resolves.toEqual({ ignored: expect.stringContaining("SERVICE_STEADY_STATE (INFO)") });
    expect(after.calls()).toEqual([]);
  });

  const withoutResources = () => {
    const e = inProgress() as Record<string, unknown>;
    delete e.resources;
    return e;
  };
  const withoutUpdatedAt = () => {
    const e = inProgress() as { detail: Record<string, unknown> };
    delete e.detail.updatedAt;
    return e;
  };
  it.each([
    ["without resources", withoutResources],
    ["with empty resources", () => ({ ...inProgress(), resources: [] })],
    ["naming a cluster, not a service", () => ({ ...inProgress(), resources: ["arn:aws:ecs:eu-west-1:123456789012:cluster/shop-staging"] })],
    ["with a service ARN of the old format (no cluster)", () => ({ ...inProgress(), resources: ["arn:aws:ecs:eu-west-1:123456789012:service/web"] })],
    ["with a service ARN that is not one", () => ({ ...inProgress(), resources: ["shop-staging/web"] })],
    ["without updatedAt", withoutUpdatedAt],
    ["with an updatedAt that is not a time", () => ({ ...inProgress(), detail: { ...inProgress().detail, updatedAt: "soon" } })],
    ["without a deploymentId", () => ({ ...inProgress(), detail: { ...inProgress().detail, deploymentId: undefined } })],
    ["of another source", () => ({ ...inProgress(), source: "my.app" })],
    ["that is not an object", () => "SERVICE_DEPLOYMENT_IN_PROGRESS"],
  ])("ignores a malformed event %s, without any DynamoDB call", async (_name, make) => {
    const after = watch();

    await expect(lambda.ecs(JSON.parse(JSON.stringify(make())))).resolves.toEqual({ ignored: expect.any(String) });
    expect(after.calls()).toEqual([]);
    expect((await headRecord(WEB_STAGING)).status).toBe("started");
  });

  it("throws a terminal AWS error to Lambda (a missing table): retried, then kept in the dead-letter queue, never dropped", async () => {
    const table = process.env.RECORDS_TABLE;
    process.env.RECORDS_TABLE = "stevedore-no-such-table";
    try {
      await expect(lambda.ecs(inProgress())).rejects.toThrow(/ResourceNotFoundException/);
    } finally {
      process.env.RECORDS_TABLE = table;
    }
    expect((await headRecord(WEB_STAGING)).status).toBe("started");
  });

  it("reads the service from the event's resources, not from the fixture's cluster", async () => {
    // The same deployment id on another service must not move this record.
    const elsewhere = { ...inProgress(), resources: [serviceArn("eu-west-1/shop-prod/web")] };
    await expect(lambda.ecs(elsewhere)).resolves.toEqual({ ignored: expect.stringContaining("eu-west-1/shop-prod/web") });
    expect((await headRecord(WEB_STAGING)).status).toBe("started");
  });
});

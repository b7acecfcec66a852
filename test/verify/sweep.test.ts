// The sweeper (functions/sweep.ts → shared/verify/sweep.ts), fed EventBridge's scheduled
// event, whose `time` is its clock. Records are made by the real handlers (push, ECS events,
// promotion) in a local DynamoDB; ECS and CloudWatch are aws-sdk-client-mock fakes.
import { BatchGetBuildsCommand, CodeBuildClient, ListBuildsForProjectCommand, type Build } from "@aws-sdk/client-codebuild";
import { DescribeServicesCommand, RegisterTaskDefinitionCommand, StopServiceDeploymentCommand, UpdateServiceCommand } from "@aws-sdk/client-ecs";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import type { DeploymentRecord } from "../../shared/records/model";
import { getPromotion } from "../../shared/records/store";
import { handler as sweepHandler } from "../../functions/sweep";
import { taskDefinitionArn } from "../support/ecs";
import { lambdaContext } from "../support/lambda";
import {
  alarmEvent,
  awsError,
  completeWorkerStaging,
  deployWebToProduction,
  deploymentEvent,
  headRecord,
  lambda,
  promotionsIn,
  pushEvent,
  pushWebToStaging,
  statusChanges,
  streamReader,
  PUSH_DIGEST,
  waitFor,
  WEB_PRODUCTION,
  WEB_STAGING,
  WEB_URI,
  webBuildSucceeded,
  workerPush,
  writesIn,
} from "../support/records";
import { handlerWorld } from "../support/handler-world";

const world = handlerWorld({ aws: { acceptStops: true } });

const IN_PROGRESS_AT = "2026-11-20T09:14:08.512Z";
const COMPLETED_AT = "2026-11-20T09:17:51.903Z";
const WATCH_UNTIL = "2026-11-20T09:22:51.903Z"; // staging watches 5 minutes
// Deadlines count from ECS's acceptance of the rollout (UpdateService's deployment createdAt,
// 09:14:07 in the fake), never from the push event's time (09:14:05).
const STAGING_DEADLINE = "2026-11-20T09:34:07.000Z"; // staging's budget is 20 minutes
const PRODUCTION_DEADLINE = "2026-11-20T09:44:07.000Z"; // production's is 30 minutes

/** shop-web staging pushed and moved by ECS's events up to `status`. */
async function staging(status: "started" | "in progress" | "completed" | "rolling_back"): Promise<DeploymentRecord> {
  const record = await pushWebToStaging();
  const deploymentId = record.ecsDeploymentId as string;
  if (status !== "started") await lambda.ecs(deploymentEvent("IN_PROGRESS", { deploymentId, updatedAt: IN_PROGRESS_AT }));
  if (status === "completed") {
    await webBuildSucceeded();
    await lambda.ecs(deploymentEvent("COMPLETED", { deploymentId, updatedAt: COMPLETED_AT }));
  }
  if (status === "rolling_back") await lambda.ecs(deploymentEvent("FAILED", { deploymentId, updatedAt: "2026-11-20T09:21:29.744Z" }));
  const after = await headRecord(WEB_STAGING);
  // ECS's IN_PROGRESS confirms what UpdateService answered: the record stays started.
  expect(after.status).toBe(status === "in progress" ? "started" : status);
  return after;
}

/** Until the table has seen no call for a while: work nobody awaits (a dead invocation) is over. */
async function quiet(): Promise<void> {
  let seen = -1;
  while (seen !== world.db.calls.length) {
    seen = world.db.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function watch() {
  const calls = world.db.calls.length;
  const stream = world.db.stream.length;
  return { writes: () => writesIn(world.db.calls.slice(calls)), stream: () => world.db.stream.slice(stream) };
}

describe("sweep", () => {
  describe("watch windows", () => {
    it("verifies a completed deployment once its watch window is over, with one verified change on the stream", async () => {
      const record = await staging("completed");
      expect(record.watchUntil).toBe(WATCH_UNTIL);

      const result = await lambda.sweep("2026-11-20T09:23:00Z");

      expect(result).toEqual({ looked: 1, changed: [{ id: record.id, status: "verified" }] });
      expect(await headRecord(WEB_STAGING)).toMatchObject({ status: "verified", finishedAt: "2026-11-20T09:23:00.000Z" });
      expect(statusChanges(world.db.stream, record.id).filter((c) => c.to === "verified")).toEqual([{ id: record.id, from: "completed", to: "verified" }]);
    });

    it.each([
      ["a millisecond before the window ends", "2026-11-20T09:22:51.902Z", "completed", 0],
      ["the moment the window ends", "2026-11-20T09:22:51.903Z", "verified", 1],
    ] as const)("judges the window by the schedule's time: %s → %s", async (...[, time, status, looked]) => {
      await staging("completed");
      const after = watch();

      const result = await lambda.sweep(time);

      expect(result).toMatchObject({ looked });
      expect((await headRecord(WEB_STAGING)).status).toBe(status);
      if (status === "completed") expect(after.writes()).toEqual([]);
    });

    it("changes nothing more when it runs again, or twice at once", async () => {
      const record = await staging("completed");

      const [first, second] = await Promise.all([lambda.sweep("2026-11-20T09:23:00Z"), lambda.sweep("2026-11-20T09:23:00Z")]);
      const after = watch();
      const third = await lambda.sweep("2026-11-20T09:24:00Z");

      expect([...first.changed, ...second.changed]).toEqual([{ id: record.id, status: "verified" }]);
      expect(third).toEqual({ looked: 0, changed: [] });
      expect(after.writes()).toEqual([]);
      expect(statusChanges(world.db.stream, record.id).filter((c) => c.to === "verified")).toHaveLength(1);
    });

    it("does not time out a deployment that completed before its deadline while its window runs past it", async () => {
      const record = await deployWebToProduction("2026-11-20T09:14:05.000Z");
      await webBuildSucceeded();
      await lambda.ecs(
        deploymentEvent("COMPLETED", { target: WEB_PRODUCTION, deploymentId: record.ecsDeploymentId as string, updatedAt: "2026-11-20T09:40:00.000Z" }),
      );

      await lambda.sweep("2026-11-20T09:45:00Z"); // past the deadline, inside the 10-minute window
      expect((await headRecord(WEB_PRODUCTION)).status).toBe("completed");

      await lambda.sweep("2026-11-20T09:50:00Z");
      expect((await headRecord(WEB_PRODUCTION)).status).toBe("verified");
      expect(world.aws.inputs(StopServiceDeploymentCommand)).toEqual([]);
    });
  });

  describe("the word of the build that pushed the image (shop-web is built by CodeBuild project shop-web)", () => {
    let codebuild: AwsClientStub<CodeBuildClient>;
    beforeEach(() => {
      codebuild = mockClient(CodeBuildClient);
    });
    afterEach(() => codebuild.restore());
    const BUILD = "shop-web:5c1f0e2a-7b3d-4e6f-9a8b-0c1d2e3f4a5b";

    /** Completed at 09:17:51.903, its build's own event not (yet) handled; CodeBuild knows `build`. */
    async function completedWithoutBuildEvent(build?: Partial<Build>): Promise<DeploymentRecord> {
      codebuild.on(ListBuildsForProjectCommand, { projectName: "shop-web" }).resolves({ ids: build ? [BUILD] : [] });
      codebuild
        .on(BatchGetBuildsCommand, { ids: [BUILD] })
        .resolves({ builds: [{ id: BUILD, buildNumber: 131, startTime: new Date("2026-11-20T09:12:00Z"), ...build }] });
      const record = await pushWebToStaging();
      await lambda.ecs(deploymentEvent("COMPLETED", { deploymentId: record.ecsDeploymentId as string, updatedAt: COMPLETED_AT }));
      return record;
    }
    const exported = (digest: string) => ({
      exportedEnvironmentVariables: [
        { name: "IMAGE_URI", value: `${WEB_URI}:3f9c2ab` },
        { name: "IMAGE_DIGEST", value: digest },
        { name: "GIT_REF", value: "branch/main" },
      ],
    });

    it("waits past the watch window while a build that started before the push still runs, then verifies once it succeeded", async () => {
      const record = await completedWithoutBuildEvent({ buildStatus: "IN_PROGRESS" });

      expect(await lambda.sweep("2026-11-20T09:23:00Z")).toEqual({ looked: 1, changed: [] });
      expect((await headRecord(WEB_STAGING)).status).toBe("completed");
      codebuild
        .on(BatchGetBuildsCommand, { ids: [BUILD] })
        .resolves({ builds: [{ id: BUILD, buildNumber: 131, buildStatus: "SUCCEEDED", ...exported(PUSH_DIGEST) }] });
      expect(await lambda.sweep("2026-11-20T09:24:00Z")).toEqual({ looked: 1, changed: [{ id: record.id, status: "verified" }] });
      expect((await headRecord(WEB_STAGING)).warnings).toEqual([]);
    });

    it("rolls back, never verifies, when CodeBuild says the build failed after pushing it (its event is late)", async () => {
      const record = await completedWithoutBuildEvent({
        buildStatus: "FAILED",
        ...exported(PUSH_DIGEST),
        phases: [
          { phaseType: "BUILD", phaseStatus: "SUCCEEDED" },
          { phaseType: "POST_BUILD", phaseStatus: "FAILED" },
        ],
      });

      expect(await lambda.sweep("2026-11-20T09:23:00Z")).toEqual({ looked: 1, changed: [{ id: record.id, status: "rolling_back" }] });
      expect(await headRecord(WEB_STAGING)).toMatchObject({ reason: "its build shop-web #131 failed in POST_BUILD after pushing this image" });
      expect(world.aws.inputs(UpdateServiceCommand).at(-1)).toMatchObject({ taskDefinition: taskDefinitionArn("shop-web-staging", 41) });
    });

    it("rolls back, never verifies, when CodeBuild says the build that pushed it was of a pull request", async () => {
      const record = await completedWithoutBuildEvent({ buildStatus: "SUCCEEDED", sourceVersion: "pr/7", ...exported(PUSH_DIGEST) });

      expect(await lambda.sweep("2026-11-20T09:23:00Z")).toEqual({ looked: 1, changed: [{ id: record.id, status: "rolling_back" }] });
      expect(await headRecord(WEB_STAGING)).toMatchObject({
        reason: "its build shop-web #131 was of pull request #7, and apps.shop-web.branches lets only main deploy",
      });
    });

    it.each([
      ["no build of the project ran", undefined],
      ["the only build started after the push", { buildStatus: "IN_PROGRESS", startTime: new Date("2026-11-20T09:15:00Z") }],
      ["the finished build pushed another image", { buildStatus: "FAILED", ...exported(`sha256:${"e".repeat(64)}`) }],
    ] as const)("verifies at the window's end an image no build speaks for (pushed by hand): %s", async (...[, build]) => {
      const record = await completedWithoutBuildEvent(build as Partial<Build> | undefined);

      expect(await lambda.sweep("2026-11-20T09:23:00Z")).toEqual({ looked: 1, changed: [{ id: record.id, status: "verified" }] });
    });

    it("verifies with a warning when CodeBuild cannot be asked, and says why", async () => {
      const record = await completedWithoutBuildEvent();
      codebuild.on(ListBuildsForProjectCommand).rejects(awsError("AccessDeniedException", "not authorized to perform: codebuild:ListBuildsForProject"));

      expect((await lambda.sweep("2026-11-20T09:23:00Z")).changed).toEqual([{ id: record.id, status: "verified" }]);
      expect((await headRecord(WEB_STAGING)).warnings).toEqual([
        expect.objectContaining({
          message: expect.stringMatching(
            /^could not ask CodeBuild whether the build of shop-web that pushed this image succeeded \(.*not authorized.*\); verified on its watch window alone$/,
          ),
        }),
      ]);
    });

    it("asks CodeBuild nothing when the build's own event already spoke", async () => {
      await completedWithoutBuildEvent({ buildStatus: "IN_PROGRESS" });
      await webBuildSucceeded(PUSH_DIGEST, "3f9c2ab", codebuild);

      await lambda.sweep("2026-11-20T09:23:00Z");
      expect((await headRecord(WEB_STAGING)).status).toBe("verified");
      expect(codebuild.commandCalls(ListBuildsForProjectCommand)).toHaveLength(0);
    });
  });

  describe("deadlines", () => {
    it.each([
      ["started", "no outcome within the deadline (2026-11-20T09:34:07.000Z)"],
      ["in progress", "no outcome within the deadline (2026-11-20T09:34:07.000Z)"],
    ] as const)("times out a %s deployment at its deadline, and only reports it (onTimeout: report)", async (...[status, reason]) => {
      const record = await staging(status);

      const early = await lambda.sweep("2026-11-20T09:34:06Z");
      expect(early.changed).toEqual([]);
      const result = await lambda.sweep("2026-11-20T09:34:07Z");

      expect(result.changed).toEqual([{ id: record.id, status: "timed_out" }]);
      expect(await headRecord(WEB_STAGING)).toMatchObject({ status: "timed_out", reason: expect.stringContaining(reason), finishedAt: STAGING_DEADLINE });
      expect(world.aws.inputs(StopServiceDeploymentCommand)).toEqual([]);
      expect(world.aws.ecsWrites()).toEqual(["RegisterTaskDefinitionCommand", "UpdateServiceCommand"]);
    });

    it.each([
      ["delivered 45 minutes late", "2026-11-20T08:29:05Z"],
      ["replayed from the dead-letter queue a day later", "2026-11-19T09:14:05Z"],
    ])("counts the deadline of a push %s from ECS's acceptance, not from the event's time", async (...[, time]) => {
      const record = await pushWebToStaging(pushEvent({}, { time }));
      expect(record).toMatchObject({ status: "started", createdAt: new Date(time).toISOString(), deadline: STAGING_DEADLINE });

      expect((await lambda.sweep("2026-11-20T09:15:00Z")).changed).toEqual([]);
      expect((await lambda.sweep("2026-11-20T09:34:07Z")).changed).toEqual([{ id: record.id, status: "timed_out" }]);
    });

    it("gives a rollback its own deadline (when it started + the environment's budget), then times it out", async () => {
      const record = await staging("rolling_back"); // ECS failed it at 09:21:29.744: 20 minutes from then
      expect(record.deadline).toBe("2026-11-20T09:41:29.744Z");

      expect((await lambda.sweep("2026-11-20T09:34:05Z")).changed).toEqual([]);
      const result = await lambda.sweep("2026-11-20T09:41:30Z");

      expect(result.changed).toEqual([{ id: record.id, status: "timed_out" }]);
      expect(await headRecord(WEB_STAGING)).toMatchObject({
        status: "timed_out",
        reason: expect.stringContaining("the rollback did not finish before the deadline: ECS deployment circuit breaker"),
      });
      expect(world.aws.inputs(StopServiceDeploymentCommand)).toEqual([]);
    });

    it.each(["started", "in progress"] as const)("times out a %s production rollout and stops it with a ROLLBACK (onTimeout: rollback)", async (status) => {
      const record = await deployWebToProduction();
      if (status === "in progress") {
        await lambda.ecs(deploymentEvent("IN_PROGRESS", { target: WEB_PRODUCTION, deploymentId: record.ecsDeploymentId as string, updatedAt: IN_PROGRESS_AT }));
      }

      const result = await lambda.sweep("2026-11-20T09:45:00Z");

      expect(result.changed).toEqual([{ id: record.id, status: "timed_out" }]);
      expect(world.aws.inputs(StopServiceDeploymentCommand)).toEqual([{ serviceDeploymentArn: record.serviceDeploymentArn, stopType: "ROLLBACK" }]);
      expect(await headRecord(WEB_PRODUCTION)).toMatchObject({
        status: "timed_out",
        reason: `no outcome within the deadline (${PRODUCTION_DEADLINE}); rolling back`,
      });
      expect(statusChanges(world.db.stream, record.id).filter((c) => c.to === "timed_out")).toHaveLength(1);
    });

    it("gives a rollback that an alarm started in the watch window, after the deadline, time to finish", async () => {
      // Staging completes late (09:30, deadline 09:34:07) and its window runs to 09:35; the
      // alarm at 09:34:30 rolls it back. The rollback must not be judged by the rollout's deadline.
      const record = await pushWebToStaging();
      await lambda.ecs(deploymentEvent("COMPLETED", { deploymentId: record.ecsDeploymentId as string, updatedAt: "2026-11-20T09:30:00.000Z" }));
      await lambda.alarm(alarmEvent({ alarmName: "shop-staging-web-5xx", timestamp: "2026-11-20T09:34:30.000Z" }));
      const rollingBack = await headRecord(WEB_STAGING);
      expect(rollingBack).toMatchObject({ status: "rolling_back", rollbackDeploymentId: expect.any(String) });

      await lambda.sweep("2026-11-20T09:35:00Z");
      await lambda.ecs(deploymentEvent("COMPLETED", { deploymentId: rollingBack.rollbackDeploymentId as string, updatedAt: "2026-11-20T09:38:00.000Z" }));

      expect(await headRecord(WEB_STAGING)).toMatchObject({ status: "rolled_back", reason: expect.stringContaining("alarm shop-staging-web-5xx fired") });
    });

    it("falls back to the replaced revision when ECS refuses to stop a timed-out production rollout", async () => {
      const record = await deployWebToProduction();
      world.aws.ecs
        .on(StopServiceDeploymentCommand)
        .rejects(awsError("InvalidParameterException", "The service deployment is not in a state that can be stopped."));

      await lambda.sweep("2026-11-20T09:45:00Z");

      // ECS's own rollbacks off for Stevedore's rollback: they would return the image it rejects.
      expect(world.aws.inputs(UpdateServiceCommand).slice(1)).toEqual([
        {
          cluster: "shop-prod",
          service: "web",
          taskDefinition: taskDefinitionArn("shop-web-production", 41),
          deploymentConfiguration: {
            alarms: { alarmNames: ["shop-prod-web-5xx", "shop-prod-web-latency"], enable: false, rollback: false },
            deploymentCircuitBreaker: { enable: true, rollback: false },
          },
        },
      ]);
      expect((await headRecord(WEB_PRODUCTION)).status).toBe("timed_out");
      expect(record.replacesTaskDefinition).toBe(taskDefinitionArn("shop-web-production", 41));
    });

    it("keeps one record's failure its own: a throttled rollback does not keep another deployment from being verified", async () => {
      const verifiable = await staging("completed");
      const stuck = await deployWebToProduction();
      world.aws.ecs.on(StopServiceDeploymentCommand).rejects(awsError("ThrottlingException", "Rate exceeded"));

      const first = await lambda.sweep("2026-11-20T09:45:00Z");

      expect(first).toEqual({
        looked: 2,
        changed: [{ id: verifiable.id, status: "verified" }],
        failed: [{ id: stuck.id, error: expect.stringContaining("ThrottlingException") }],
      });
      expect(await headRecord(WEB_STAGING)).toMatchObject({ status: "verified" });
    });

    it("stops a timed-out rollout once, however often it runs", async () => {
      await deployWebToProduction();

      await lambda.sweep("2026-11-20T09:45:00Z");
      await lambda.sweep("2026-11-20T09:46:00Z");
      await lambda.sweep("2026-11-20T09:47:00Z");

      expect(world.aws.inputs(StopServiceDeploymentCommand)).toHaveLength(1);
    });
  });

  describe("abandoned claims", () => {
    it("resumes a claim given back after a throttled UpdateService, without registering again", async () => {
      world.aws.ecs.on(UpdateServiceCommand).rejectsOnce(awsError("ThrottlingException", "Rate exceeded"));
      await expect(lambda.push(pushEvent())).rejects.toThrow(/ThrottlingException/);
      const pending = await headRecord(WEB_STAGING);
      expect(pending).toMatchObject({ status: "pending", leaseUntil: 0, taskDefinitionArn: taskDefinitionArn("shop-web-staging", 42) });
      world.aws.ecs.on(UpdateServiceCommand).callsFake(() => started("ecs-svc/3000000000000000001"));

      const result = await lambda.sweep("2026-11-20T09:15:00Z");

      expect(result.changed).toEqual([{ id: pending.id, status: "started" }]);
      expect(world.aws.inputs(RegisterTaskDefinitionCommand)).toHaveLength(1);
      const updates = world.aws.inputs(UpdateServiceCommand);
      expect(updates).toHaveLength(2);
      expect(updates[1]).toEqual(updates[0]);
      expect(await headRecord(WEB_STAGING)).toMatchObject({
        id: pending.id,
        status: "started",
        ecsDeploymentId: "ecs-svc/3000000000000000001",
        taskDefinitionArn: taskDefinitionArn("shop-web-staging", 42),
      });
    });

    it("leaves a claim alone while its invocation's lease runs, and resumes it once the lease is over", async () => {
      // The first invocation's UpdateService never answers: it is as good as dead once its
      // lease (its own deadline) is over.
      let answer: () => void = () => undefined;
      world.aws.ecs
        .on(UpdateServiceCommand)
        .callsFakeOnce(
          () =>
            new Promise((resolve) => {
              answer = () => resolve(started("ecs-svc/9000000000000000009"));
            }),
        )
        .callsFake(() => started("ecs-svc/3000000000000000001"));
      // middy answers Lambda just before the deadline (TimeoutError) while the work goes on.
      const dying = lambda.push(pushEvent(), 1_000).catch((error: Error) => error);
      await waitFor(async () => (await headRecord(WEB_STAGING).catch(() => undefined))?.status === "pending", "a pending claim");
      const pending = await headRecord(WEB_STAGING);

      const meanwhile = await lambda.sweep("2026-11-20T09:15:00Z");
      expect(meanwhile.changed).toEqual([]);
      expect(world.aws.inputs(UpdateServiceCommand)).toHaveLength(1);
      expect((await headRecord(WEB_STAGING)).status).toBe("pending");

      await waitFor(async () => Date.now() > (pending.leaseUntil as number), "the lease to end");
      const later = await lambda.sweep("2026-11-20T09:16:00Z");

      expect(later.changed).toEqual([{ id: pending.id, status: "started" }]);
      // The dead invocation's revision was never written to the record (its UpdateService never
      // answered): the resume finds it by its provenance tags and uses it, registering nothing,
      // so no revision is left that no record names.
      expect(world.aws.inputs(RegisterTaskDefinitionCommand)).toHaveLength(1);
      expect(world.aws.inputs(UpdateServiceCommand)).toHaveLength(2);
      expect(world.aws.inputs(UpdateServiceCommand)[1]).toMatchObject({ taskDefinition: taskDefinitionArn("shop-web-staging", 42) });
      expect(await headRecord(WEB_STAGING)).toMatchObject({
        status: "started",
        ecsDeploymentId: "ecs-svc/3000000000000000001",
        taskDefinitionArn: taskDefinitionArn("shop-web-staging", 42),
      });

      // The dead invocation's answer, should it ever come, changes nothing.
      answer();
      expect(await dying).toMatchObject({ name: "TimeoutError" });
      await quiet();
      expect(await headRecord(WEB_STAGING)).toMatchObject({ status: "started", ecsDeploymentId: "ecs-svc/3000000000000000001" });
      expect((await lambda.sweep("2026-11-20T09:17:00Z")).changed).toEqual([]);
    });

    it.each([
      ["still rolling out", "IN_PROGRESS", "started"],
      ["already completed (its events went by unheard)", "COMPLETED", "completed"],
    ] as const)("adopts the deployment a dead invocation's UpdateService started, %s, instead of asking ECS again", async (...[, rolloutState, status]) => {
      // UpdateService landed, then the invocation died before recording it (its answer never came back).
      world.aws.ecs.on(UpdateServiceCommand).callsFakeOnce(() => new Promise(() => undefined));
      void lambda.push(pushEvent(), 1_000).catch(() => undefined);
      await waitFor(async () => world.aws.inputs(UpdateServiceCommand).length === 1, "the UpdateService");
      const pending = await headRecord(WEB_STAGING);
      const revision = taskDefinitionArn("shop-web-staging", 42);
      world.aws.ecs.on(DescribeServicesCommand).resolves({
        services: [
          {
            serviceName: "web",
            status: "ACTIVE",
            taskDefinition: revision,
            deploymentController: { type: "ECS" },
            currentServiceDeployment: "arn:aws:ecs:eu-west-1:123456789012:service-deployment/shop-staging/web/landed",
            deployments: [
              {
                id: "ecs-svc/7000000000000000007",
                status: "PRIMARY",
                taskDefinition: revision,
                rolloutState,
                createdAt: new Date("2026-11-20T09:14:07.000Z"),
                updatedAt: new Date("2026-11-20T09:16:30.000Z"),
              },
              ...(rolloutState === "IN_PROGRESS"
                ? [
                    {
                      id: "ecs-svc/1000000000000000001",
                      status: "ACTIVE",
                      taskDefinition: taskDefinitionArn("shop-web-staging", 41),
                      rolloutState: "COMPLETED" as const,
                    },
                  ]
                : []),
            ],
          },
        ],
      });
      await waitFor(async () => Date.now() > (pending.leaseUntil as number), "the lease to end");

      expect((await lambda.sweep("2026-11-20T09:17:00Z")).changed).toEqual([{ id: pending.id, status }]);

      expect(world.aws.inputs(UpdateServiceCommand)).toHaveLength(1);
      expect(world.aws.inputs(RegisterTaskDefinitionCommand)).toHaveLength(1);
      expect(await headRecord(WEB_STAGING)).toMatchObject({
        status,
        ecsDeploymentId: "ecs-svc/7000000000000000007",
        taskDefinitionArn: revision,
        startedAt: "2026-11-20T09:14:07.000Z",
        serviceDeploymentArn: "arn:aws:ecs:eu-west-1:123456789012:service-deployment/shop-staging/web/landed",
        ...(status === "completed" ? { completedAt: "2026-11-20T09:16:30.000Z" } : {}),
      });
    });
  });

  describe("promotions waiting for approval", () => {
    it("expires one nobody decided on by its expiry, once", async () => {
      const reader = streamReader(world.db);
      await lambda.push(workerPush());
      await completeWorkerStaging(["2026-11-20T09:17:00.000Z", "2026-11-20T09:17:00.000Z", "2026-11-20T09:17:00.000Z"]);
      await lambda.sweep("2026-11-20T09:22:30Z");
      await lambda.promote(reader.next());
      const [promotion] = promotionsIn(world.db.stream);
      expect(promotion).toMatchObject({ status: "awaiting_approval", expiresAt: "2026-11-22T09:22:30.000Z" });
      const id = promotion?.id as string;

      // A promotion is due at its expiry: before it, the sweeper does not even see it.
      const before = await lambda.sweep("2026-11-22T09:22:29.999Z");
      expect(before).toEqual({ looked: 0, changed: [] });
      expect((await getPromotion("shop-worker", id))?.status).toBe("awaiting_approval");

      const at = await lambda.sweep("2026-11-22T09:22:30Z");
      expect(at).toEqual({ looked: 1, changed: [{ id, status: "expired" }] });
      expect(await getPromotion("shop-worker", id)).toMatchObject({ status: "expired", decidedAt: "2026-11-22T09:22:30.000Z" });

      const after = watch();
      expect(await lambda.sweep("2026-11-22T09:23:30Z")).toEqual({ looked: 0, changed: [] });
      expect(after.writes()).toEqual([]);
      expect(world.aws.inputs(UpdateServiceCommand)).toHaveLength(3); // the staging services only
    });
  });

  it("ignores a malformed scheduled event without any DynamoDB call", async () => {
    await staging("completed");
    const calls = world.db.calls.length;
    const result = await sweepHandler({ "detail-type": "Scheduled Event", source: "aws.events", time: "now", detail: {} }, lambdaContext());

    expect(result).toEqual({ ignored: "malformed event" });
    expect(world.db.calls.slice(calls)).toEqual([]);
  });
});

/** UpdateService's answer for a deployment `id` ECS started. */
function started(id: string) {
  return {
    service: {
      serviceName: "web",
      deployments: [{ id, status: "PRIMARY", rolloutState: "IN_PROGRESS", createdAt: new Date("2026-11-20T09:15:01.000Z") }],
      currentServiceDeployment: `arn:aws:ecs:eu-west-1:123456789012:service-deployment/shop-staging/web/${id.slice(8)}`,
    },
  };
}

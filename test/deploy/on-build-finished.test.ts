// The CodeBuild handler, fed the real-shaped build events of test/events and variants: a
// successful build deploys the image its exported variables name; a failed one is recorded
// (and so reported) with its failing phase and logs, and deploys nothing.
import { BatchGetBuildsCommand, CodeBuildClient } from "@aws-sdk/client-codebuild";
import { RegisterTaskDefinitionCommand, StopServiceDeploymentCommand, UpdateServiceCommand } from "@aws-sdk/client-ecs";
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { readFileSync } from "node:fs";
import { handler } from "../../functions/on-build-finished";
import { handler as onImagePushed } from "../../functions/on-image-pushed";
import { fromItem } from "../../shared/records/store";
import { taskDefinitionArn } from "../support/ecs";
import { fakeEcr } from "../support/ecr";
import { lambdaContext } from "../support/lambda";
import { acceptStops, targetRecords } from "../support/records";
import { handlerWorld } from "../support/handler-world";

const succeeded = JSON.parse(readFileSync("test/events/codebuild-build-succeeded.json", "utf8"));
const failed = JSON.parse(readFileSync("test/events/codebuild-build-failed.json", "utf8"));
const push = JSON.parse(readFileSync("test/events/ecr-image-push.json", "utf8"));
const DIGEST = push.detail["image-digest"] as string;
const COMMIT = "3f9c2ab81d6e4c0f9b7a5e3d1c2b4a6f8e0d2c4b";
const REGISTRY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
const WEB = "eu-west-1/shop-staging/web";

const exported = (vars: Record<string, string>) => ({
  builds: [{ id: succeeded.detail["build-id"], exportedEnvironmentVariables: Object.entries(vars).map(([name, value]) => ({ name, value })) }],
});
const withDetail = (event: typeof succeeded, detail: Record<string, unknown>) => ({ ...event, detail: { ...event.detail, ...detail } });

const world = handlerWorld({
  aws: {
    services: [{ cluster: "shop-staging", service: "web", taskDefinition: taskDefinitionArn("shop-web-staging", 41) }],
    alarms: { "shop-staging-web-5xx": "OK" },
  },
});
let ecr: ReturnType<typeof fakeEcr>;
const codebuild = mockClient(CodeBuildClient);
beforeEach(() => {
  codebuild.reset();
  codebuild
    .on(BatchGetBuildsCommand)
    .resolves(exported({ IMAGE_URI: `${REGISTRY}/shop/web:3f9c2ab`, IMAGE_DIGEST: DIGEST, GIT_COMMIT: COMMIT, GIT_REF: "branch/main" }));
  // The build pushed the image in its BUILD phase (the push event's time).
  ecr = fakeEcr();
  ecr.push("shop/web", DIGEST, push.time, "3f9c2ab");
});
afterEach(() => ecr.restore());

const run = (event: unknown) => handler(event, lambdaContext());

describe("on-build-finished", () => {
  it("deploys the image a successful build pushed, read from the build's exported variables", async () => {
    const result = await run(succeeded);

    expect(result).toEqual({ deployed: [expect.objectContaining({ target: WEB, outcome: "started" })] });
    // The event names the build by its ARN; BatchGetBuilds takes its id.
    expect(codebuild.commandCalls(BatchGetBuildsCommand).map((c) => c.args[0].input)).toEqual([{ ids: ["shop-web:0d6e1f3a-2b4c-4d5e-8f60-718293a4b5c6"] }]);
    expect(world.aws.inputs(RegisterTaskDefinitionCommand)[0]?.containerDefinitions?.[0]?.image).toBe(`${REGISTRY}/shop/web@${DIGEST}`);
    expect(world.aws.inputs(RegisterTaskDefinitionCommand)[0]?.tags).toEqual(
      expect.arrayContaining([
        { key: "stevedore:commit", value: COMMIT },
        { key: "stevedore:trigger", value: "build" },
      ]),
    );
    expect(world.aws.inputs(UpdateServiceCommand)).toHaveLength(1);
    expect((await targetRecords(WEB))[0]).toMatchObject({
      status: "started",
      trigger: "build",
      triggerRef: succeeded.detail["build-id"],
      commit: COMMIT,
      buildUrl: succeeded.detail["additional-information"].logs["deep-link"],
    });
  });

  it("recognises the image the ECR push already deployed: both triggers give one deployment", async () => {
    await onImagePushed(push, lambdaContext());
    const result = await run(succeeded);

    expect(result).toEqual({ deployed: [expect.objectContaining({ outcome: "duplicate" })] });
    expect(world.aws.ecsWrites()).toEqual(["RegisterTaskDefinitionCommand", "UpdateServiceCommand"]);
  });

  it("orders a build's image by ECR's push time, not the build's finish: an older build whose post-build step was slow is stale", async () => {
    // Build 128 pushes at 09:14:05 and is slow to finish; build 129 starts later, pushes at 09:20:00
    // and finishes first. Build 128's success comes last and must not replace 129's image.
    const NEWER = `sha256:${"9".repeat(64)}`;
    ecr.push("shop/web", NEWER, "2026-11-20T09:20:00Z", "b2c3d4e");
    const build = (n: number, time: string) => ({
      ...withDetail(succeeded, {
        "build-id": `${succeeded.detail["build-id"]}-${n}`,
        "additional-information": { ...succeeded.detail["additional-information"], "build-number": n },
      }),
      id: `build-${n}`,
      time,
    });
    codebuild
      .on(BatchGetBuildsCommand)
      .callsFake((input: { ids: string[] }) =>
        input.ids[0]?.endsWith("-129")
          ? exported({ IMAGE_URI: `${REGISTRY}/shop/web:b2c3d4e`, IMAGE_DIGEST: NEWER, GIT_COMMIT: "b2c3d4e".padEnd(40, "0"), GIT_REF: "branch/main" })
          : exported({ IMAGE_URI: `${REGISTRY}/shop/web:3f9c2ab`, IMAGE_DIGEST: DIGEST, GIT_COMMIT: COMMIT, GIT_REF: "branch/main" }),
      );
    await run(build(129, "2026-11-20T09:25:00Z"));
    const older = await run(build(128, "2026-11-20T09:40:00Z"));

    expect(older).toEqual({ deployed: [expect.objectContaining({ outcome: "stale" })] });
    expect(world.aws.inputs(UpdateServiceCommand)).toHaveLength(1);
    const byDigest = new Map((await targetRecords(WEB)).map((r) => [r.digest, r]));
    expect(byDigest.get(NEWER)).toMatchObject({ status: "started", pushedAt: "2026-11-20T09:20:00.000Z" });
    expect(byDigest.get(DIGEST)).toMatchObject({ status: "superseded", pushedAt: "2026-11-20T09:14:05.000Z" });
  });

  it("gives the image the same order whichever trigger brings it first", async () => {
    await run(succeeded);
    await onImagePushed({ ...push, time: "2026-11-20T09:14:09Z" }, lambdaContext());

    const records = await targetRecords(WEB);
    expect(records).toEqual([expect.objectContaining({ trigger: "build", pushedAt: "2026-11-20T09:14:05.000Z" })]);
  });

  it("ignores a build whose image ECR no longer has, writing nothing", async () => {
    ecr.restore();
    ecr = fakeEcr();
    const result = await run(succeeded);

    expect(result).toEqual({ ignored: expect.stringContaining("ECR no longer has the image shop/web@sha256:") });
    expect(world.aws.ecsWrites()).toEqual([]);
    expect(await targetRecords(WEB)).toEqual([]);
  });

  describe("only builds of the branches an app names deploy (shop-web: main)", () => {
    const withRef = (sourceVersion: string, gitRef?: string) => {
      codebuild.on(BatchGetBuildsCommand).resolves(
        exported({
          IMAGE_URI: `${REGISTRY}/shop/web:3f9c2ab`,
          IMAGE_DIGEST: DIGEST,
          GIT_COMMIT: COMMIT,
          ...(gitRef ? { GIT_REF: gitRef } : {}),
        }),
      );
      return withDetail(succeeded, { "additional-information": { ...succeeded.detail["additional-information"], "source-version": sourceVersion } });
    };

    it.each([
      ["a pull request (CodeBuild reports pr/7)", "pr/7", undefined, "was of pull request #7"],
      ["a pull request whose edited buildspec exports GIT_REF=branch/main", "pr/7", "branch/main", "was of pull request #7"],
      ["a push to another branch", COMMIT, "branch/feature-x", "was of branch feature-x"],
      ["a build that names no branch", COMMIT, undefined, "was of no branch"],
    ])("refuses %s: nothing reaches ECS, and a later push of the image is refused too", async (_name, sourceVersion, gitRef, said) => {
      const result = await run(withRef(sourceVersion, gitRef));

      expect(result).toEqual({ refused: expect.stringContaining(said) });
      expect((result as { refused: string }).refused).toContain("apps.shop-web.branches lets only main deploy");
      expect(world.aws.ecs.calls()).toHaveLength(0);
      const pushed = await onImagePushed(push, lambdaContext());
      expect(pushed).toEqual({ deployed: [expect.objectContaining({ outcome: "refused", reason: expect.stringContaining(said) })] });
      expect(world.aws.ecsWrites()).toEqual([]);
    });

    it.each([
      ["refs/heads/main", undefined],
      ["main", undefined],
      [COMMIT, "branch/main"],
    ])("deploys a build of main (source version %s, GIT_REF %s)", async (sourceVersion, gitRef) => {
      expect(await run(withRef(sourceVersion, gitRef))).toEqual({ deployed: [expect.objectContaining({ outcome: "started" })] });
    });

    it("rolls back what a pull request's push already started (its buildspec pushed under a deploying tag)", async () => {
      acceptStops(world.aws);
      await onImagePushed(push, lambdaContext());
      const result = await run(withRef("pr/7", "branch/main"));

      expect(result).toEqual({ refused: expect.stringContaining("pull request #7"), rolledBack: [expect.any(String)] });
      expect(world.aws.inputs(StopServiceDeploymentCommand)).toHaveLength(1);
      expect((await targetRecords(WEB))[0]).toMatchObject({ status: "rolling_back", reason: expect.stringContaining("was of pull request #7") });
    });
  });

  it("records a failed build once, with the failing phase, its message and the logs link, and deploys nothing", async () => {
    const first = await run(failed);
    const again = await run(failed);

    expect(first).toEqual({ reported: ["shop-web"] });
    expect(again).toEqual({ reported: [] });
    expect(codebuild.calls()).toHaveLength(0);
    expect(world.aws.ecs.calls()).toHaveLength(0);
    const inserts = world.db.stream.filter((r) => r.eventName === "INSERT").map((r) => fromItem(r.dynamodb.NewImage as never));
    expect(inserts).toEqual([
      expect.objectContaining({
        kind: "build",
        app: "shop-web",
        status: "FAILED",
        phase: "BUILD",
        phaseContext: "COMMAND_EXECUTION_ERROR: Error while executing command: docker build -t $REPOSITORY_URI:$IMAGE_TAG .. Reason: exit status 1",
        logsUrl: failed.detail["additional-information"].logs["deep-link"],
        buildNumber: 129,
        commit: COMMIT,
      }),
    ]);
  });

  describe("a build that fails after it pushed its image (POST_BUILD)", () => {
    // The push event has already deployed the image; the build's own event says it failed later.
    const failedAfterPush = (status = "FAILED") =>
      withDetail(failed, {
        "build-status": status,
        "additional-information": {
          ...failed.detail["additional-information"],
          phases: [
            { "phase-type": "SUBMITTED", "phase-status": "SUCCEEDED" },
            { "phase-type": "BUILD", "phase-status": "SUCCEEDED" },
            {
              "phase-type": "POST_BUILD",
              "phase-status": status === "STOPPED" ? "STOPPED" : "FAILED",
              "phase-context": ["COMMAND_EXECUTION_ERROR: Error while executing command: ./scan-image.sh. Reason: exit status 1"],
            },
            { "phase-type": "COMPLETED" },
          ],
        },
      });

    it.each([
      ["FAILED", "failed"],
      ["STOPPED", "was stopped"],
    ])("rolls back the deployment its push started when the build %s, saying why", async (status, said) => {
      acceptStops(world.aws);
      await onImagePushed(push, lambdaContext());
      expect((await targetRecords(WEB))[0]?.status).toBe("started");

      const result = await run(failedAfterPush(status));

      expect(result).toEqual({ reported: ["shop-web"], rolledBack: [expect.any(String)] });
      expect(codebuild.commandCalls(BatchGetBuildsCommand).map((c) => c.args[0].input)).toEqual([{ ids: ["shop-web:0d6e1f3a-2b4c-4d5e-8f60-718293a4b5c6"] }]);
      expect(world.aws.inputs(StopServiceDeploymentCommand)).toHaveLength(1);
      expect((await targetRecords(WEB)).find((r) => r.digest === DIGEST)).toMatchObject({
        status: "rolling_back",
        reason: `its build shop-web #129 ${said} in POST_BUILD after pushing this image`,
      });
    });

    it("refuses the image to its push when the build's failure comes first, and tells who runs what", async () => {
      expect(await run(failedAfterPush())).toEqual({ reported: ["shop-web"] });

      const result = await onImagePushed(push, lambdaContext());

      const reason = "refused: its build shop-web #129 failed in POST_BUILD after pushing this image";
      expect(result).toEqual({ deployed: [expect.objectContaining({ target: WEB, outcome: "refused", reason })] });
      expect(world.aws.ecsWrites()).toEqual([]);
      expect(await targetRecords(WEB)).toEqual([expect.objectContaining({ status: "refused", reason, digest: DIGEST })]);
    });

    it("names the image it pushed in the build's record, for the message", async () => {
      await run(failedAfterPush());
      const item = world.db.stream.map((r) => r.dynamodb.NewImage as Record<string, AttributeValue> | undefined).find((i) => i?.kind?.S === "build");
      expect(item && fromItem(item)).toMatchObject({ kind: "build", digest: DIGEST });
    });

    it("lets a later build of the project that pushed the same digest and succeeded deploy it again", async () => {
      await run(failedAfterPush());
      const later = withDetail(succeeded, { "additional-information": { ...succeeded.detail["additional-information"], "build-number": 130 } });

      expect(await run(later)).toEqual({ deployed: [expect.objectContaining({ outcome: "started" })] });
    });

    it("does not roll back on an earlier build's failure that arrives after a later build succeeded with the same digest", async () => {
      acceptStops(world.aws);
      const later = withDetail(succeeded, { "additional-information": { ...succeeded.detail["additional-information"], "build-number": 130 } });
      await run(later);

      expect(await run(failedAfterPush())).toEqual({ reported: ["shop-web"] });
      expect(world.aws.inputs(StopServiceDeploymentCommand)).toHaveLength(0);
      expect((await targetRecords(WEB))[0]?.status).toBe("started");
    });

    it("waits for a deployment of the image that is being started when the failure comes, then rolls it back", async () => {
      acceptStops(world.aws);
      // The push has claimed the service and is still registering when the build's failure comes.
      let registered!: () => void;
      world.aws.ecs.on(RegisterTaskDefinitionCommand).callsFake(async (input: { family: string }) => {
        await new Promise<void>((resolve) => {
          registered = resolve;
        });
        return { taskDefinition: { ...input, taskDefinitionArn: taskDefinitionArn(input.family, 42), revision: 42 } };
      });
      const pushing = onImagePushed(push, lambdaContext());
      while (!registered) await new Promise((resolve) => setTimeout(resolve, 10));
      expect((await targetRecords(WEB))[0]?.status).toBe("pending");

      const failing = run(failedAfterPush());
      await new Promise((resolve) => setTimeout(resolve, 300));
      registered();
      await pushing;

      expect(await failing).toEqual({ reported: ["shop-web"], rolledBack: [expect.any(String)] });
      expect(world.aws.inputs(StopServiceDeploymentCommand)).toHaveLength(1);
      expect((await targetRecords(WEB))[0]?.status).toBe("rolling_back");
    });

    it("rolls back nothing when the image it pushed is not what runs", async () => {
      codebuild
        .on(BatchGetBuildsCommand)
        .resolves(exported({ IMAGE_URI: `${REGISTRY}/shop/web:0000000`, IMAGE_DIGEST: `sha256:${"0".repeat(64)}`, GIT_COMMIT: COMMIT }));
      await onImagePushed(push, lambdaContext());

      expect(await run(failedAfterPush())).toEqual({ reported: ["shop-web"] });
      expect(world.aws.inputs(StopServiceDeploymentCommand)).toHaveLength(0);
      expect((await targetRecords(WEB))[0]?.status).toBe("started");
    });
  });

  it.each(["STOPPED", "FAULT", "TIMED_OUT"])("reports a build that ended %s like a failed one", async (status) => {
    const result = await run(withDetail(failed, { "build-status": status }));
    expect(result).toEqual({ reported: ["shop-web"] });
    expect(world.aws.ecs.calls()).toHaveLength(0);
  });

  it.each([
    ["an unknown project", withDetail(succeeded, { "project-name": "billing-api" }), "project billing-api builds no configured app"],
    ["a build still in progress", withDetail(succeeded, { "build-status": "IN_PROGRESS" }), "is not final"],
  ])("ignores %s without calling AWS", async (_name, event, reason) => {
    expect(await run(event)).toEqual({ ignored: expect.stringContaining(reason) });
    expect(codebuild.calls()).toHaveLength(0);
    expect(world.aws.ecs.calls()).toHaveLength(0);
  });

  it.each([
    ["no exported variables", {}, "did not export IMAGE_URI and IMAGE_DIGEST"],
    ["a digest that is not sha256", { IMAGE_URI: `${REGISTRY}/shop/web:3f9c2ab`, IMAGE_DIGEST: "latest" }, "did not export IMAGE_URI and IMAGE_DIGEST"],
    [
      "an image of another repository",
      { IMAGE_URI: `${REGISTRY}/shop/admin:3f9c2ab`, IMAGE_DIGEST: DIGEST },
      "the build pushed shop/admin, but shop-web deploys shop/web",
    ],
    ["a tag the app does not deploy", { IMAGE_URI: `${REGISTRY}/shop/web:latest`, IMAGE_DIGEST: DIGEST }, "tag latest does not match"],
  ])("deploys nothing when the build exported %s, and says why", async (_name, vars, reason) => {
    codebuild.on(BatchGetBuildsCommand).resolves(exported(vars as Record<string, string>));
    expect(await run(succeeded)).toEqual({ ignored: expect.stringContaining(reason) });
    expect(world.aws.ecs.calls()).toHaveLength(0);
  });

  it("gives up without retrying when CodeBuild does not know the build", async () => {
    codebuild.on(BatchGetBuildsCommand).resolves({ builds: [], buildsNotFound: [succeeded.detail["build-id"]] });
    expect(await run(succeeded)).toEqual({ ignored: expect.stringContaining("BuildNotFound") });
    expect(world.aws.ecs.calls()).toHaveLength(0);
  });

  it("ignores a malformed build event: no AWS call at all", async () => {
    expect(await run(withDetail(succeeded, { "build-id": "not-an-arn" }))).toEqual({ ignored: "malformed event" });
    expect(codebuild.calls()).toHaveLength(0);
    expect(world.db.calls).toEqual([]);
  });
});

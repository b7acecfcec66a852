// The ECR push handler, fed real-shaped events (test/events/ecr-image-push.json and variants),
// with ECS and CloudWatch faked by aws-sdk-client-mock and the records in a real local
// DynamoDB. Assertions are on the exact ECS commands and on what the records table holds.
import { DescribeServicesCommand, RegisterTaskDefinitionCommand, UpdateServiceCommand } from "@aws-sdk/client-ecs";
import { readFileSync } from "node:fs";
import { handler } from "../../functions/on-image-pushed";
import { readTarget } from "../../shared/records/store";
import { targetRecords } from "../support/records";
import { taskDefinitionArn, type FakeService } from "../support/ecs";
import { lambdaContext } from "../support/lambda";
import { FIXTURE_CONFIG, useConfig } from "../support/config";
import { fakeEcr } from "../support/ecr";
import { handlerWorld } from "../support/handler-world";

const fixture = JSON.parse(readFileSync("test/events/ecr-image-push.json", "utf8"));
const DIGEST = fixture.detail["image-digest"] as string;
const IMAGE = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/web@${DIGEST}`;
const WEB = "eu-west-1/shop-staging/web";

type Event = typeof fixture;
function push(detail: Record<string, unknown> = {}, envelope: Record<string, unknown> = {}): Event {
  const event = { ...structuredClone(fixture), ...envelope, detail: { ...fixture.detail, ...detail } };
  for (const [key, value] of Object.entries(detail)) if (value === undefined) delete event.detail[key];
  return event;
}
const digest = (n: number) => `sha256:${n.toString(16).padStart(64, "0")}`;

const webStaging: FakeService = { cluster: "shop-staging", service: "web", taskDefinition: taskDefinitionArn("shop-web-staging", 41) };
const workers: FakeService[] = [
  { cluster: "shop-staging", service: "worker", taskDefinition: taskDefinitionArn("shop-worker-staging", 7) },
  { cluster: "shop-staging", service: "worker-priority", taskDefinition: taskDefinitionArn("shop-worker-staging", 7) },
  { cluster: "shop-batch", service: "worker-reports", taskDefinition: taskDefinitionArn("shop-worker-reports-staging", 3) },
];

const world = handlerWorld({ aws: { services: [webStaging, ...workers], alarms: { "shop-staging-web-5xx": "OK", "shop-staging-worker-errors": "OK" } } });
let ecr: ReturnType<typeof fakeEcr>;
beforeEach(() => {
  ecr = fakeEcr();
});
afterEach(() => ecr.restore());

/**
 * Delivers `event`. A successful push's event means ECR holds the image: it is pushed to the
 * fake ECR at the event's time first, unless a test pushed it already (a late event, a retag).
 */
const run = (event: unknown, context = lambdaContext()) => {
  const e = event as Partial<Event>;
  if (
    e.source === "aws.ecr" &&
    e.detail?.result === "SUCCESS" &&
    e.detail["action-type"] === "PUSH" &&
    !ecr.has(e.detail["repository-name"], e.detail["image-digest"])
  ) {
    ecr.push(e.detail["repository-name"], e.detail["image-digest"], e.time as string, e.detail["image-tag"]);
  }
  return handler(event, context);
};

/** shop-web staging's alarm in `state` (absent: it does not exist). */
function webAlarm(state?: "OK" | "ALARM"): void {
  world.fakeAws({ services: [webStaging], alarms: state ? { "shop-staging-web-5xx": state } : {} });
}

/** Runs `body` under the config whose staging refuses while a guarding alarm fires (or is missing). */
async function whereFiringRefuses(body: () => Promise<void>): Promise<void> {
  useConfig("test/deploy/fixtures/refuse-when-firing.yml");
  try {
    await body();
  } finally {
    useConfig(FIXTURE_CONFIG);
  }
}
const records = async (key = WEB) => targetRecords(key);

describe("on-image-pushed", () => {
  it("deploys a tagged push to the staging service by digest, with the circuit breaker and the alarms", async () => {
    const result = await run(fixture);

    expect(result).toEqual({ deployed: [expect.objectContaining({ target: WEB, outcome: "started" })] });
    expect(world.aws.inputs(DescribeServicesCommand)).toEqual([{ cluster: "shop-staging", services: ["web"] }]);
    const [registered] = world.aws.inputs(RegisterTaskDefinitionCommand);
    expect(registered?.family).toBe("shop-web-staging");
    expect(registered?.containerDefinitions?.[0]?.image).toBe(IMAGE);
    expect(registered?.containerDefinitions?.[0]?.portMappings?.[0]?.containerPort).toBe(8080);
    expect(registered?.tags).toEqual(
      expect.arrayContaining([
        { key: "stevedore:digest", value: DIGEST },
        { key: "stevedore:tag", value: "3f9c2ab" },
        { key: "stevedore:commit", value: "3f9c2ab" },
        { key: "stevedore:trigger", value: "push" },
        { key: "stevedore:replaces", value: "shop-web-staging:41" },
      ]),
    );
    expect(world.aws.inputs(UpdateServiceCommand)).toEqual([
      {
        cluster: "shop-staging",
        service: "web",
        taskDefinition: taskDefinitionArn("shop-web-staging", 42),
        deploymentConfiguration: {
          maximumPercent: 200,
          minimumHealthyPercent: 100,
          deploymentCircuitBreaker: { enable: true, rollback: true },
          alarms: { alarmNames: ["shop-staging-web-5xx"], enable: true, rollback: true },
          strategy: "ROLLING",
        },
      },
    ]);

    const [record] = await records();
    expect(record).toMatchObject({
      status: "started",
      app: "shop-web",
      env: "staging",
      digest: DIGEST,
      tag: "3f9c2ab",
      trigger: "push",
      triggerRef: fixture.id,
      pushedAt: "2026-11-20T09:14:05.000Z",
      replacesTaskDefinition: taskDefinitionArn("shop-web-staging", 41),
      taskDefinitionArn: taskDefinitionArn("shop-web-staging", 42),
      ecsDeploymentId: "ecs-svc/2000000000000000001",
      serviceDeploymentArn: expect.stringMatching(/:service-deployment\/shop-staging\/web\//),
      history: [
        { status: "pending", at: "2026-11-20T09:14:05.000Z" },
        { status: "started", at: "2026-11-20T09:14:07.000Z" },
      ],
    });
    // The head is unlocked once UpdateService returned.
    expect((await readTarget(WEB)).head).toMatchObject({ digest: DIGEST, recordId: record?.id });
    expect((await readTarget(WEB)).head?.lockUntil).toBeUndefined();
  });

  it("deploys nothing more when the same event comes again, or the same image is pushed again", async () => {
    await run(fixture);
    const again = await run(fixture);
    const retagged = await run(push({ "image-tag": "3f9c2ab81d" }, { id: "another-event", time: "2026-11-20T09:20:00Z" }));

    expect(again).toEqual({ deployed: [expect.objectContaining({ outcome: "duplicate" })] });
    expect(retagged).toEqual({ deployed: [expect.objectContaining({ outcome: "duplicate" })] });
    expect(world.aws.ecsWrites()).toEqual(["RegisterTaskDefinitionCommand", "UpdateServiceCommand"]);
    expect(await records()).toHaveLength(1);
  });

  it("gives a multi-arch push one deployment: the untagged platform manifests are ignored", async () => {
    const results = [
      await run(
        push({ "image-tag": undefined, "image-digest": digest(1), "manifest-media-type": "application/vnd.oci.image.manifest.v1+json" }, { id: "arm64" }),
      ),
      await run(
        push({ "image-tag": undefined, "image-digest": digest(2), "manifest-media-type": "application/vnd.oci.image.manifest.v1+json" }, { id: "amd64" }),
      ),
      await run(push({ "manifest-media-type": "application/vnd.oci.image.index.v1+json" })),
    ];

    expect(results.slice(0, 2)).toEqual([{ ignored: expect.stringContaining("untagged push") }, { ignored: expect.stringContaining("untagged push") }]);
    expect(world.aws.ecsWrites()).toEqual(["RegisterTaskDefinitionCommand", "UpdateServiceCommand"]);
    expect(world.aws.inputs(RegisterTaskDefinitionCommand)[0]?.containerDefinitions?.[0]?.image).toBe(IMAGE);
  });

  it.each([
    ["a push by digest only (no tag)", push({ "image-tag": undefined }), "untagged push"],
    ["an unknown repository", push({ "repository-name": "billing/api" }), "repository billing/api is not configured"],
    ["a tag that does not match the app's pattern", push({ "image-tag": "latest" }), "tag latest does not match apps.shop-web.tags"],
    ["a DELETE", push({ "action-type": "DELETE" }), "only successful pushes deploy"],
    ["a failed push", push({ result: "FAILURE" }), "only successful pushes deploy"],
    [
      "a signature pushed as an OCI artifact",
      push({ "image-tag": "sha256-5b0d3c7.sig", "artifact-media-type": "application/vnd.dev.cosign.artifact.sig.v1+json" }),
      "is not a container image",
    ],
  ])("ignores %s with a logged reason and no AWS write", async (_name, event, reason) => {
    const result = await run(event);

    expect(result).toEqual({ ignored: expect.stringContaining(reason) });
    expect(world.aws.ecs.calls()).toHaveLength(0);
    expect(world.db.calls.filter((c) => c !== "Query")).toEqual([]);
  });

  it.each([
    ["without a digest", push({ "image-digest": undefined })],
    ["with a digest that is not sha256", push({ "image-digest": "md5:abc" })],
    ["with a tag Docker would reject", push({ "image-tag": 'v1\n"}{{ image }}' })],
    ["of another detail-type", push({}, { "detail-type": "ECR Image Scan" })],
    ["with a time that is not a time", push({}, { time: "yesterday" })],
    ["that is not an object at all", "PUSH" as unknown as Event],
  ])("ignores a malformed event %s: no AWS call at all", async (_name, event) => {
    const result = await run(event);

    expect(result).toEqual({ ignored: "malformed event" });
    expect(world.aws.ecs.calls()).toHaveLength(0);
    expect(world.db.calls).toEqual([]);
  });

  it("never deploys an older image over a newer one that already owns the service", async () => {
    const newer = push({ "image-tag": "aaaaaaa", "image-digest": digest(10) }, { id: "newer", time: "2026-11-20T10:00:00Z" });
    const older = push({ "image-tag": "bbbbbbb", "image-digest": digest(9) }, { id: "older", time: "2026-11-20T09:00:00Z" });
    await run(newer);
    const result = await run(older);

    expect(result).toEqual({ deployed: [expect.objectContaining({ outcome: "stale" })] });
    expect(world.aws.inputs(UpdateServiceCommand)).toHaveLength(1);
    const [newest, stale] = await records();
    expect(newest).toMatchObject({ digest: digest(10), status: "started" });
    expect(stale).toMatchObject({ digest: digest(9), status: "superseded", reason: expect.stringContaining("a newer image") });
  });

  it("orders images by ECR's push time, not by when their events were sent: a late event of an older push is stale", async () => {
    ecr.push("shop/web", digest(9), "2026-11-20T09:00:10Z", "aaaaaaa");
    ecr.push("shop/web", digest(10), "2026-11-20T09:00:20Z", "bbbbbbb");
    await run(push({ "image-tag": "bbbbbbb", "image-digest": digest(10) }, { id: "newer", time: "2026-11-20T09:00:20Z" }));
    const late = await run(push({ "image-tag": "aaaaaaa", "image-digest": digest(9) }, { id: "older-late", time: "2026-11-20T09:45:00Z" }));

    expect(late).toEqual({ deployed: [expect.objectContaining({ outcome: "stale" })] });
    expect(world.aws.inputs(UpdateServiceCommand)).toHaveLength(1);
    const byDigest = new Map((await records()).map((r) => [r.digest, r]));
    expect(byDigest.get(digest(9))).toMatchObject({ status: "superseded", pushedAt: "2026-11-20T09:00:10.000Z" });
    expect(byDigest.get(digest(10))).toMatchObject({ status: "started", pushedAt: "2026-11-20T09:00:20.000Z" });
  });

  describe("two pushes within one second (ECR's push times are whole seconds)", () => {
    const WORKERS = workers.map((w) => `eu-west-1/${w.cluster}/${w.service}`);
    const workerPush = (n: number, tag: string, id: string) =>
      push({ "repository-name": "shop/worker", "image-tag": tag, "image-digest": digest(n) }, { id, time: "2026-11-20T10:00:00Z" });

    it.each([
      ["the earlier push's event first", [1, 2]],
      ["the later push's event first", [2, 1]],
    ])("to one mutable tag: the image that holds the tag now wins on every service (%s)", async (_name, order) => {
      ecr.push("shop/worker", digest(1), "2026-11-20T10:00:00.200Z", "main");
      ecr.push("shop/worker", digest(2), "2026-11-20T10:00:00.700Z", "main");
      for (const n of order as number[]) await run(workerPush(n, "main", `push-${n}`));

      for (const key of WORKERS) {
        const byDigest = new Map((await records(key)).map((r) => [r.digest, r.status]));
        expect(Object.fromEntries(byDigest)).toEqual({ [digest(1)]: "superseded", [digest(2)]: "started" });
      }
      // The image that lost never reaches ECS after the winner: the last UpdateServices run digest 2.
      const last = world.aws
        .inputs(UpdateServiceCommand)
        .slice(-WORKERS.length)
        .map((u) => u.taskDefinition);
      const registered = world.aws.inputs(RegisterTaskDefinitionCommand).filter((r) => r.containerDefinitions?.[0]?.image?.endsWith(digest(2)));
      expect(registered.length).toBeGreaterThan(0);
      expect(last.every((arn) => arn !== undefined)).toBe(true);
    });

    it("to different tags: the second is refused, saying why, and registers nothing (never ordered by digest)", async () => {
      ecr.push("shop/worker", digest(2), "2026-11-20T10:00:00.200Z", "v2");
      ecr.push("shop/worker", digest(1), "2026-11-20T10:00:00.700Z", "v1");
      await run(workerPush(2, "v2", "push-2"));
      const registeredBefore = world.aws.inputs(RegisterTaskDefinitionCommand).length;
      const second = await run(workerPush(1, "v1", "push-1"));

      expect(second).toEqual({
        deployed: WORKERS.map((target) =>
          expect.objectContaining({ target, outcome: "refused", reason: expect.stringContaining("pushed in the same second") }),
        ),
      });
      expect(world.aws.inputs(RegisterTaskDefinitionCommand)).toHaveLength(registeredBefore);
      const refused = (await records(WORKERS[0])).find((r) => r.digest === digest(1));
      expect(refused).toMatchObject({
        status: "refused",
        reason: expect.stringMatching(/this image and v2 \(0{12}, record d-[0-9a-f]{12}\).*keeps v2; push images of shop\/worker at least a second apart/),
      });
    });
  });

  it("ignores a push whose image ECR no longer has, writing nothing", async () => {
    const gone = push({ "image-digest": digest(7) }, { id: "gone" });
    world.fakeAws({ services: [webStaging] });
    const result = await handler(gone, lambdaContext());

    expect(result).toEqual({ ignored: expect.stringContaining("ECR no longer has the image") });
    expect(world.aws.ecsWrites()).toEqual([]);
    expect(await records()).toEqual([]);
  });

  // A long list of repositories is narrowed to prefixes in the rule's pattern (infra/patterns.ts):
  // the function itself is what keeps other repositories' pushes from deploying.
  it("ignores a push to a repository no app names, before any AWS call", async () => {
    const result = await handler(push({ "repository-name": "shop/webhooks" }, { id: "other-repository" }), lambdaContext());

    expect(result).toEqual({ ignored: "repository shop/webhooks is not configured for any app" });
    expect(world.aws.ecsWrites()).toEqual([]);
    expect(await records()).toEqual([]);
  });

  it("supersedes the deployment still rolling out when a newer image arrives", async () => {
    await run(push({ "image-tag": "aaaaaaa", "image-digest": digest(1) }, { id: "first", time: "2026-11-20T09:00:00Z" }));
    await run(push({ "image-tag": "bbbbbbb", "image-digest": digest(2) }, { id: "second", time: "2026-11-20T09:01:00Z" }));

    const [second, first] = await records();
    expect(second).toMatchObject({ digest: digest(2), status: "started" });
    expect(first).toMatchObject({ digest: digest(1), status: "superseded", reason: expect.stringContaining("bbbbbbb") });
    expect(world.aws.inputs(UpdateServiceCommand).map((u) => u.taskDefinition)).toEqual([
      taskDefinitionArn("shop-web-staging", 42),
      taskDefinitionArn("shop-web-staging", 43),
    ]);
  });

  it("lets exactly one of two racing deliveries of the same push deploy", async () => {
    const results = await Promise.all([run(fixture), run(fixture), run(fixture)]);

    const outcomes = results.flatMap((r) => ("deployed" in r ? r.deployed.map((d) => d.outcome) : []));
    expect(outcomes.filter((o) => o === "started")).toHaveLength(1);
    expect(world.aws.inputs(UpdateServiceCommand)).toHaveLength(1);
    expect(await records()).toHaveLength(1);
  });

  it("lets the newer of two racing pushes win, whichever runs first", async () => {
    const a = push({ "image-tag": "aaaaaaa", "image-digest": digest(1) }, { id: "a", time: "2026-11-20T09:00:00Z" });
    const b = push({ "image-tag": "bbbbbbb", "image-digest": digest(2) }, { id: "b", time: "2026-11-20T09:00:30Z" });
    await Promise.all([run(b), run(a)]);

    const updates = world.aws.inputs(UpdateServiceCommand).map((u) => u.taskDefinition);
    const imageByRevision = new Map(
      world.aws.inputs(RegisterTaskDefinitionCommand).map((r, i) => [taskDefinitionArn("shop-web-staging", 42 + i), r.containerDefinitions?.[0]?.image]),
    );
    // Whatever interleaving happened, the last UpdateService is the newer image.
    expect(imageByRevision.get(updates[updates.length - 1] as string)).toContain(digest(2));
    expect((await readTarget(WEB)).head?.digest).toBe(digest(2));
    const byDigest = Object.fromEntries((await records()).map((r) => [r.digest, r.status]));
    expect(byDigest).toEqual({ [digest(2)]: "started", [digest(1)]: "superseded" });
  });

  it("registers nothing for an image that loses the race: no unused revision becomes the family's newest", async () => {
    // The newer push claims the service first; its registration is slow, so the older push
    // arrives while the newer one still holds the service.
    let revision = 41;
    let release!: () => void;
    const slow = new Promise<void>((resolve) => {
      release = resolve;
    });
    world.aws.ecs.on(RegisterTaskDefinitionCommand).callsFake(async (input: { family: string }) => {
      const arn = taskDefinitionArn(input.family, ++revision);
      await slow;
      return { taskDefinition: { ...input, taskDefinitionArn: arn, revision } };
    });
    const newer = run(push({ "image-tag": "bbbbbbb", "image-digest": digest(2) }, { id: "b", time: "2026-11-20T09:00:30Z" }));
    await waitFor(async () => world.aws.inputs(RegisterTaskDefinitionCommand).length === 1);
    const older = await run(push({ "image-tag": "aaaaaaa", "image-digest": digest(1) }, { id: "a", time: "2026-11-20T09:00:00Z" }));
    release();
    await expect(newer).resolves.toEqual({ deployed: [expect.objectContaining({ outcome: "started" })] });

    expect(older).toEqual({ deployed: [expect.objectContaining({ outcome: "stale" })] });
    expect(world.aws.inputs(RegisterTaskDefinitionCommand).map((r) => r.containerDefinitions?.[0]?.image)).toEqual([expect.stringContaining(digest(2))]);
    const loser = (await records()).find((r) => r.digest === digest(1));
    expect(loser).toMatchObject({ status: "superseded" });
    expect(loser?.taskDefinitionArn).toBeUndefined();
  });

  it("fans one image out to every service, registering each distinct definition once", async () => {
    const result = await run(push({ "repository-name": "shop/worker", "image-tag": "v1.4.0" }));

    expect(result).toEqual({
      deployed: expect.arrayContaining([
        expect.objectContaining({ target: "eu-west-1/shop-staging/worker", outcome: "started" }),
        expect.objectContaining({ target: "eu-west-1/shop-staging/worker-priority", outcome: "started" }),
        expect.objectContaining({ target: "eu-west-1/shop-batch/worker-reports", outcome: "started" }),
      ]),
    });
    expect(world.aws.inputs(DescribeServicesCommand)).toEqual(
      expect.arrayContaining([
        { cluster: "shop-staging", services: ["worker", "worker-priority"] },
        { cluster: "shop-batch", services: ["worker-reports"] },
      ]),
    );
    expect(
      world.aws
        .inputs(RegisterTaskDefinitionCommand)
        .map((r) => r.family)
        .sort(),
    ).toEqual(["shop-worker-reports-staging", "shop-worker-staging"]);
    const updates = world.aws
      .inputs(UpdateServiceCommand)
      .map((u) => [u.service, u.taskDefinition])
      .sort();
    expect(updates).toEqual([
      ["worker", taskDefinitionArn("shop-worker-staging", 42)],
      ["worker-priority", taskDefinitionArn("shop-worker-staging", 42)],
      ["worker-reports", taskDefinitionArn("shop-worker-reports-staging", 42)],
    ]);
  });

  it("records a service that does not exist as failed, without any ECS write, and deploys the others", async () => {
    world.aws.services.delete("shop-batch/worker-reports");
    const result = await run(push({ "repository-name": "shop/worker", "image-tag": "v1.4.0" }));

    expect(result).toEqual({
      deployed: expect.arrayContaining([
        expect.objectContaining({
          target: "eu-west-1/shop-batch/worker-reports",
          outcome: "failed",
          reason: "service shop-batch/worker-reports does not exist",
        }),
      ]),
    });
    expect(
      world.aws
        .inputs(UpdateServiceCommand)
        .map((u) => u.service)
        .sort(),
    ).toEqual(["worker", "worker-priority"]);
    expect(world.aws.inputs(RegisterTaskDefinitionCommand).map((r) => r.family)).toEqual(["shop-worker-staging"]);
    const [record] = await records("eu-west-1/shop-batch/worker-reports");
    expect(record).toMatchObject({ status: "failed", reason: "service shop-batch/worker-reports does not exist" });
  });

  it("refuses a service driven by CodeDeploy before writing anything", async () => {
    world.aws.services.set("shop-staging/web", { ...webStaging, controller: "CODE_DEPLOY" });
    const result = await run(fixture);

    expect(result).toEqual({
      deployed: [expect.objectContaining({ outcome: "failed", reason: expect.stringContaining("CODE_DEPLOY deployment controller") })],
    });
    expect(world.aws.ecsWrites()).toEqual([]);
  });

  it("records ECS's refusal of UpdateService as a failed deployment with ECS's reason", async () => {
    world.aws.ecs.on(UpdateServiceCommand).rejects(
      Object.assign(new Error("Task definition does not support launch_type FARGATE."), {
        name: "InvalidParameterException",
        $fault: "client",
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const result = await run(fixture);

    expect(result).toEqual({ deployed: [expect.objectContaining({ outcome: "failed", reason: expect.stringContaining("InvalidParameterException") })] });
    const [record] = await records();
    // The revision registered for it is named, though ECS refused to run it.
    expect(record).toMatchObject({
      status: "failed",
      reason: expect.stringContaining("does not support launch_type FARGATE"),
      taskDefinitionArn: taskDefinitionArn("shop-web-staging", 42),
    });
    expect((await readTarget(WEB)).head?.lockUntil).toBeUndefined();
  });

  it("throws on throttling that outlasted the SDK's retries, and the retried event resumes without registering again", async () => {
    world.aws.ecs
      .on(UpdateServiceCommand)
      .rejectsOnce(Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException", $fault: "client", $metadata: { httpStatusCode: 400 } }));
    await expect(run(fixture)).rejects.toThrow(/ThrottlingException/);
    const [pending] = await records();
    expect(pending).toMatchObject({ status: "pending", leaseUntil: 0, taskDefinitionArn: taskDefinitionArn("shop-web-staging", 42) });

    world.aws.ecs.on(UpdateServiceCommand).callsFake(() => ({ service: { deployments: [{ id: "ecs-svc/3", status: "PRIMARY" }] } }));
    const retried = await run(fixture);

    expect(retried).toEqual({ deployed: [expect.objectContaining({ outcome: "started" })] });
    expect(world.aws.inputs(RegisterTaskDefinitionCommand)).toHaveLength(1);
    expect((await records())[0]).toMatchObject({ status: "started", ecsDeploymentId: "ecs-svc/3" });
  });

  it("names in the superseded record the revision an abandoned claim registered, when a newer image takes the service", async () => {
    // The older push's invocation registers, then its UpdateService never answers: it is dead
    // once its lease (a second here) is over, before it could record the revision.
    world.aws.ecs
      .on(UpdateServiceCommand)
      .callsFakeOnce(() => new Promise(() => undefined))
      .callsFake(() => ({ service: { deployments: [{ id: "ecs-svc/3", status: "PRIMARY" }] } }));
    void run(
      push({ "image-tag": "aaaaaaa", "image-digest": digest(1) }, { id: "a", time: "2026-11-20T09:00:00Z" }),
      lambdaContext("stevedore-on-image-pushed", 1_000),
    ).catch(() => undefined);
    await waitFor(async () => world.aws.inputs(UpdateServiceCommand).length === 1);
    const abandoned = (await records())[0];
    await waitFor(async () => Date.now() > (abandoned?.leaseUntil as number));

    const newer = await run(push({ "image-tag": "bbbbbbb", "image-digest": digest(2) }, { id: "b", time: "2026-11-20T09:00:30Z" }));

    expect(newer).toEqual({ deployed: [expect.objectContaining({ outcome: "started" })] });
    const byDigest = new Map((await records()).map((r) => [r.digest, r]));
    expect(byDigest.get(digest(1))).toMatchObject({ status: "superseded", taskDefinitionArn: taskDefinitionArn("shop-web-staging", 42) });
    expect(byDigest.get(digest(2))).toMatchObject({ status: "started", taskDefinitionArn: taskDefinitionArn("shop-web-staging", 43) });
  });

  it("does not resume a claim whose invocation may still be working on it", async () => {
    let answer = () => undefined as void;
    world.aws.ecs.on(UpdateServiceCommand).callsFake(
      () =>
        new Promise((resolve) => {
          answer = () => resolve({ service: { deployments: [{ id: "ecs-svc/9", status: "PRIMARY" }] } });
        }),
    );
    const first = run(fixture); // its UpdateService hangs until answered
    await waitFor(async () => world.aws.inputs(UpdateServiceCommand).length === 1);
    expect((await records())[0]?.status).toBe("pending");

    const duplicate = await run(fixture);
    expect(duplicate).toEqual({ deployed: [expect.objectContaining({ outcome: "duplicate", reason: expect.stringContaining("pending") })] });
    expect(world.aws.inputs(RegisterTaskDefinitionCommand)).toHaveLength(1);

    answer();
    await expect(first).resolves.toEqual({ deployed: [expect.objectContaining({ outcome: "started" })] });
  });

  it("deploys with a loud warning when a guarding alarm is already firing and the environment allows it", async () => {
    world.fakeAws({ services: [webStaging], alarms: { "shop-staging-web-5xx": "ALARM" } });
    await run(fixture);

    const [record] = await records();
    expect(record?.status).toBe("started");
    expect(record?.warnings).toEqual([expect.objectContaining({ message: expect.stringContaining("shop-staging-web-5xx was already in ALARM") })]);
  });

  it("refuses to deploy while a guarding alarm fires where the environment says refuse", async () => {
    webAlarm("ALARM");
    await whereFiringRefuses(async () => {
      const result = await run(fixture);
      expect(result).toEqual({
        deployed: [expect.objectContaining({ outcome: "refused", reason: expect.stringContaining("shop-staging-web-5xx is already in ALARM") })],
      });
    });
    expect(world.aws.ecsWrites()).toEqual([]);
    expect((await records())[0]).toMatchObject({ status: "refused" });
    expect((await readTarget(WEB)).head).toBeUndefined();
  });

  it("answers the same push again, after its deployment was refused, at once: it never spins on the claim", async () => {
    await whereFiringRefuses(async () => {
      webAlarm("ALARM");
      await run(fixture);
      webAlarm("OK"); // the alarm cleared
      const writes = world.db.calls.length;

      const again = await run(fixture);

      expect(again).toEqual({
        deployed: [
          expect.objectContaining({
            outcome: "duplicate",
            reason: expect.stringMatching(/already refused: refused: alarm shop-staging-web-5xx is already in ALARM.*push the image again/),
          }),
        ],
      });
      expect(world.db.calls.slice(writes).filter((c) => c === "TransactWriteItems")).toHaveLength(1);
    });
    expect(world.aws.ecsWrites()).toEqual([]);
  });

  it("warns that an alarm which does not exist guards nothing", async () => {
    webAlarm();
    await run(fixture);

    expect((await records())[0]?.warnings).toEqual([
      expect.objectContaining({ message: "alarm shop-staging-web-5xx does not exist, so it guards nothing: staging is unguarded against it" }),
    ]);
  });

  it("refuses to deploy unguarded where the environment says refuse and a guarding alarm does not exist", async () => {
    webAlarm();
    await whereFiringRefuses(async () => {
      const result = await run(fixture);
      expect(result).toEqual({
        deployed: [
          expect.objectContaining({
            outcome: "refused",
            reason: expect.stringContaining("alarm shop-staging-web-5xx does not exist in eu-west-1, so nothing would guard this deployment"),
          }),
        ],
      });
    });
    expect(world.aws.ecsWrites()).toEqual([]);
    expect((await records())[0]).toMatchObject({ status: "refused" });
  });
  describe("to a blue-green environment", () => {
    const blueGreen = async (service: FakeService) => {
      useConfig("test/deploy/fixtures/blue-green-staging.yml");
      world.aws.services.set("shop-staging/web", { ...service }); // a copy: the fake updates what it holds
      try {
        return await run(push({ "image-digest": digest(9) }, { id: "blue-green" }));
      } finally {
        useConfig(FIXTURE_CONFIG);
      }
    };

    it("refuses a service ECS cannot shift traffic for, naming what it lacks, before registering anything", async () => {
      const result = await blueGreen({
        ...webStaging,
        loadBalancers: [{ targetGroupArn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/1", containerName: "web", containerPort: 8080 }],
      });

      const reason = expect.stringMatching(
        /^service shop-staging\/web cannot take a blue-green deployment: its load balancer lacks advanced configuration: an alternate target group, a production listener rule, a role for ECS to call Elastic Load Balancing\. .* or set the environment's strategy to rolling$/,
      );
      expect(result).toEqual({ deployed: [expect.objectContaining({ outcome: "failed", reason })] });
      expect(world.aws.ecsWrites()).toEqual([]);
      const [record] = await records();
      expect(record).toMatchObject({ status: "failed", reason });
    });

    it("rolls out blue-green to a service whose load balancer has the advanced configuration", async () => {
      const result = await blueGreen(webStaging);

      expect(result).toEqual({ deployed: [expect.objectContaining({ outcome: "started" })] });
      expect(world.aws.inputs(UpdateServiceCommand)[0]?.deploymentConfiguration).toMatchObject({ strategy: "BLUE_GREEN", bakeTimeInMinutes: 5 });
    });
  });
});

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error("condition never became true");
}

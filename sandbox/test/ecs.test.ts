import {
  ClientException,
  ClusterNotFoundException,
  DeleteServiceCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ConflictException,
  InvalidParameterException,
  ListClustersCommand,
  ListTagsForResourceCommand,
  RegisterTaskDefinitionCommand,
  ServiceDeploymentNotFoundException,
  ServiceNotActiveException,
  ServiceNotFoundException,
  StopServiceDeploymentCommand,
  UpdateServiceCommand,
  type Service,
} from "@aws-sdk/client-ecs";
import { SetAlarmStateCommand } from "@aws-sdk/client-cloudwatch";
import { DEFAULT_ECS_TIMING, ECS_PREFIX, rolloutDuration } from "../aws/ecs";
import { MINUTE, SECOND } from "../clock";
import type { AwsEvent } from "../events";
import { DIGEST_BAD, DIGEST_GOOD, DIGEST_NEW, fixture, shape, startWorld, webDefinition, type World, type WorldOptions } from "./local-aws";

const CLUSTER = "shop-prod";
const SERVICE = "web";
const SERVICE_ARN = "arn:aws:ecs:eu-west-1:123456789012:service/shop-prod/web";
const DEPLOYMENT_ID = /^ecs-svc\/\d{19}$/;
const SERVICE_DEPLOYMENT_ARN = /^arn:aws:ecs:eu-west-1:123456789012:service-deployment\/shop-prod\/web\/[A-Za-z0-9_-]{22}$/;

const deploymentEvents = (events: AwsEvent[], from = 0) =>
  events
    .slice(from)
    .filter((e) => e["detail-type"] === "ECS Deployment State Change")
    .map((e) => ({ name: String(e.detail.eventName).replace("SERVICE_DEPLOYMENT_", ""), id: String(e.detail.deploymentId), reason: String(e.detail.reason) }));

const isEvent = (name: string, id?: string) => (e: AwsEvent) =>
  e.detail.eventName === `SERVICE_DEPLOYMENT_${name}` && (id === undefined || e.detail.deploymentId === id);

async function failure(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected the call to fail");
}

/** A load balancer ECS can shift traffic on: the advancedConfiguration blue-green needs. */
const READY_LOAD_BALANCER = {
  targetGroupArn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-blue/0123456789abcdef",
  containerName: "web",
  containerPort: 8080,
  advancedConfiguration: {
    alternateTargetGroupArn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-green/fedcba9876543210",
    productionListenerRule: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/shop/0123/4567/89ab",
    roleArn: "arn:aws:iam::123456789012:role/ecs-infrastructure-load-balancers",
  },
};

describe("LocalEcs", () => {
  let world: World;

  async function setUp(options: WorldOptions = {}, deploymentConfiguration?: Record<string, unknown>) {
    world = await startWorld(options);
    world.ecs.createService({
      cluster: CLUSTER,
      service: SERVICE,
      taskDefinition: webDefinition(DIGEST_GOOD),
      desiredCount: 2,
      deploymentConfiguration: deploymentConfiguration ?? { deploymentCircuitBreaker: { enable: true, rollback: true } },
      loadBalancers: [READY_LOAD_BALANCER],
    });
    return world;
  }

  async function register(digest: string): Promise<string> {
    const out = await world.ecsClient.send(new RegisterTaskDefinitionCommand(webDefinition(digest)));
    return out.taskDefinition?.taskDefinitionArn ?? "";
  }

  async function describe1(): Promise<Service> {
    const out = await world.ecsClient.send(new DescribeServicesCommand({ cluster: CLUSTER, services: [SERVICE] }));
    return out.services?.[0] as Service;
  }

  afterEach(async () => {
    await world?.close();
  });

  it("answers on the X-Amz-Target prefix the SDK sends", async () => {
    await setUp();
    await describe1();
    expect(world.targets).toEqual([`${ECS_PREFIX}.DescribeServices`]);
  });

  describe("task definitions", () => {
    it("registers revisions per family from 1, with the fields ECS adds, and dates as Dates", async () => {
      await setUp();
      const first = await world.ecsClient.send(new RegisterTaskDefinitionCommand(webDefinition(DIGEST_NEW, "api")));
      const second = await world.ecsClient.send(new RegisterTaskDefinitionCommand(webDefinition(DIGEST_GOOD, "api")));
      const td = second.taskDefinition;
      expect(first.taskDefinition?.revision).toBe(1);
      expect(td?.revision).toBe(2);
      expect(td?.taskDefinitionArn).toBe("arn:aws:ecs:eu-west-1:123456789012:task-definition/api:2");
      expect(td?.status).toBe("ACTIVE");
      expect(td?.family).toBe("api");
      expect(td?.compatibilities).toEqual(["EC2", "FARGATE"]);
      expect(td?.requiresAttributes?.map((a) => a.name)).toEqual(expect.arrayContaining(["ecs.capability.task-eni", "com.amazonaws.ecs.capability.ecr-auth"]));
      expect(td?.registeredAt).toBeInstanceOf(Date);
      expect(Math.abs((td?.registeredAt?.getTime() ?? 0) - world.clock.now())).toBeLessThan(5 * MINUTE);
      expect(td?.containerDefinitions?.[0]?.image).toContain(DIGEST_GOOD);
      expect(second.tags).toEqual([{ key: "stevedore:digest", value: DIGEST_GOOD }]);
    });

    it("describes by family, family:revision and ARN, with tags on request", async () => {
      await setUp();
      const arn = await register(DIGEST_NEW);
      for (const ref of ["shop-prod-web", "shop-prod-web:2", arn]) {
        const out = await world.ecsClient.send(new DescribeTaskDefinitionCommand({ taskDefinition: ref }));
        expect(out.taskDefinition?.taskDefinitionArn).toBe(arn);
        expect(out.tags).toBeUndefined();
      }
      const first = await world.ecsClient.send(new DescribeTaskDefinitionCommand({ taskDefinition: "shop-prod-web:1", include: ["TAGS"] }));
      expect(first.taskDefinition?.revision).toBe(1);
      expect(first.tags).toEqual([{ key: "stevedore:digest", value: DIGEST_GOOD }]);
      const tags = await world.ecsClient.send(new ListTagsForResourceCommand({ resourceArn: arn }));
      expect(tags.tags).toEqual([{ key: "stevedore:digest", value: DIGEST_NEW }]);
      expect(world.ecs.taskDefinition(arn)?.revision).toBe(2);
    });

    it("rejects what RegisterTaskDefinition rejects, as ClientException", async () => {
      await setUp();
      const send = (input: Record<string, unknown>) => failure(world.ecsClient.send(new RegisterTaskDefinitionCommand(input as never)));
      const container = { name: "web", image: "nginx", memory: 128 };
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ containerDefinitions: [container] }, /Family/],
        [{ family: "bad name!", containerDefinitions: [container] }, /family name/],
        [{ family: "x", containerDefinitions: [] }, /Container list cannot be empty/],
        [{ family: "x", containerDefinitions: [{ name: "web", memory: 128 }] }, /Container.image should not be null or empty/],
        [{ family: "x", containerDefinitions: [{ image: "nginx", memory: 128 }] }, /Container.name should not be null or empty/],
        [{ family: "x", containerDefinitions: [{ name: "web", image: "nginx" }] }, /memory/],
        [{ family: "x", requiresCompatibilities: ["FARGATE"], containerDefinitions: [container] }, /awsvpc/],
      ];
      for (const [input, message] of cases) {
        const error = await send(input);
        expect(error).toBeInstanceOf(ClientException);
        expect(error.message).toMatch(message);
        expect(error.$metadata?.httpStatusCode).toBe(400);
      }
      const missing = await failure(world.ecsClient.send(new DescribeTaskDefinitionCommand({ taskDefinition: "nope:3" })));
      expect(missing).toBeInstanceOf(ClientException);
    });

    it("is as strict as ECS on types, Fargate sizes and tags", async () => {
      await setUp();
      const send = (input: Record<string, unknown>) => failure(world.ecsClient.send(new RegisterTaskDefinitionCommand(input as never)));
      const fargate = (cpu: unknown, memory: unknown, container: Record<string, unknown> = {}) => ({
        family: "x",
        requiresCompatibilities: ["FARGATE"],
        networkMode: "awsvpc",
        cpu,
        memory,
        containerDefinitions: [{ name: "web", image: "nginx", ...container }],
      });
      const cases: [string, Record<string, unknown>, string, RegExp][] = [
        ["cpu as a number", fargate(256, "512"), "SerializationException", /cpu: the model says string/],
        ["memory as a number", fargate("256", 512), "SerializationException", /memory: the model says string/],
        [
          "containerPort as a string",
          fargate("256", "512", { portMappings: [{ containerPort: "8080" }] }),
          "SerializationException",
          /portMappings\[0\]\.containerPort: the model says integer/,
        ],
        [
          "a Fargate size that does not exist",
          fargate("256", "4096"),
          "ClientException",
          /No Fargate configuration exists for given values: 256 CPU, 4096 memory/,
        ],
        ["memory off Fargate's steps", fargate("1024", "2500"), "ClientException", /No Fargate configuration exists/],
        [
          "a tag value with characters ECS refuses",
          { ...fargate("256", "512"), tags: [{ key: "team", value: "shop & co" }] },
          "InvalidParameterException",
          /Tag value 'shop & co'/,
        ],
        [
          "a tag key with AWS's reserved prefix",
          { ...fargate("256", "512"), tags: [{ key: "AWS:team", value: "shop" }] },
          "InvalidParameterException",
          /Tag key 'AWS:team' uses the aws: prefix/,
        ],
        [
          "11 containers",
          { ...fargate("256", "512"), containerDefinitions: Array.from({ length: 11 }, (_, i) => ({ name: `c${i}`, image: "nginx" })) },
          "ClientException",
          /Too many containers: 11/,
        ],
        [
          "65 KiB of task definition",
          fargate("256", "512", { environment: [{ name: "BLOB", value: "x".repeat(65 * 1024) }] }),
          "ClientException",
          /exceeds the maximum of 65536 bytes/,
        ],
        [
          "a mount point of an undeclared volume",
          fargate("256", "512", { mountPoints: [{ sourceVolume: "cache", containerPath: "/cache" }] }),
          "ClientException",
          /Unknown volume 'cache'\./,
        ],
        [
          "a host path on Fargate",
          { ...fargate("256", "512"), volumes: [{ name: "logs", host: { sourcePath: "/var/log" } }] },
          "ClientException",
          /Fargate compatible task definitions do not support sourcePath/,
        ],
        [
          "SUCCESS of an essential container",
          {
            ...fargate("256", "512"),
            containerDefinitions: [
              { name: "migrate", image: "nginx" },
              { name: "web", image: "nginx", dependsOn: [{ containerName: "migrate", condition: "SUCCESS" }] },
            ],
          },
          "ClientException",
          /A dependency container with SUCCESS or COMPLETE condition cannot be an essential container/,
        ],
        [
          "a dependency on a container the task does not have",
          fargate("256", "512", { dependsOn: [{ containerName: "sidecar", condition: "START" }] }),
          "ClientException",
          /Cannot depend on container \+ 'sidecar' because it does not exist/,
        ],
        [
          "51 tags",
          { ...fargate("256", "512"), tags: Array.from({ length: 51 }, (_, i) => ({ key: `k${i}`, value: "v" })) },
          "InvalidParameterException",
          /Too many tags/,
        ],
      ];
      for (const [what, input, name, message] of cases) {
        const error = await send(input);
        expect([what, error.name]).toEqual([what, name]);
        expect(error.message).toMatch(message);
      }
      // What ECS accepts: sizes on its table, also written with units, and tags within its pattern.
      for (const [cpu, memory] of [
        ["256", "512"],
        ["1024", "8192"],
        ["4096", "30720"],
        ["0.5 vCPU", "1 GB"],
        ["8192", "61440"],
      ]) {
        await world.ecsClient.send(
          new RegisterTaskDefinitionCommand({ ...fargate(cpu, memory), tags: [{ key: "stevedore:app", value: "shop-web/staging @ 1.0+build=7" }] } as never),
        );
      }
    });

    it("throttles registrations like ECS when a limit is set (real-time token bucket)", async () => {
      await setUp({ registrationLimit: { perSecond: 1, burst: 3 } });
      for (let i = 0; i < 3; i++) await register(DIGEST_NEW);
      const error = await failure(world.ecsClient.send(new RegisterTaskDefinitionCommand(webDefinition(DIGEST_NEW))));
      expect(error.name).toBe("ThrottlingException");
      expect(error.message).toBe("Rate exceeded");
      expect(error.$metadata?.httpStatusCode).toBe(400);
      expect(world.ecs.calls.RegisterTaskDefinition).toBe(4);

      await world.pass(SECOND); // the bucket refills on sandbox time
      await register(DIGEST_NEW);
      await expect(world.ecsClient.send(new RegisterTaskDefinitionCommand(webDefinition(DIGEST_NEW)))).rejects.toThrow("Rate exceeded");
    });
  });

  describe("DescribeServices", () => {
    it("shows a service like ECS: one COMPLETED PRIMARY deployment, dates as Dates, its event log", async () => {
      await setUp();
      const service = await describe1();
      expect(service).toMatchObject({
        serviceArn: SERVICE_ARN,
        serviceName: SERVICE,
        clusterArn: "arn:aws:ecs:eu-west-1:123456789012:cluster/shop-prod",
        status: "ACTIVE",
        desiredCount: 2,
        runningCount: 2,
        taskDefinition: "arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-prod-web:1",
        deploymentController: { type: "ECS" },
        deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true }, maximumPercent: 200, minimumHealthyPercent: 100 },
      });
      expect(service.createdAt).toBeInstanceOf(Date);
      expect(service.deployments).toHaveLength(1);
      const [primary] = service.deployments ?? [];
      expect(primary).toMatchObject({ status: "PRIMARY", rolloutState: "COMPLETED", desiredCount: 2, runningCount: 2, pendingCount: 0, failedTasks: 0 });
      expect(primary?.id).toMatch(DEPLOYMENT_ID);
      expect(primary?.createdAt).toBeInstanceOf(Date);
      expect(primary?.updatedAt).toBeInstanceOf(Date);
      expect(service.currentServiceDeployment).toMatch(SERVICE_DEPLOYMENT_ARN);
      expect(service.events?.[0]?.message).toBe("(service web) has reached a steady state.");
      expect(service.events?.[0]?.createdAt).toBeInstanceOf(Date);
    });

    it("lists missing services as failures, takes ARNs, caps at 10 and knows its clusters", async () => {
      await setUp();
      const out = await world.ecsClient.send(new DescribeServicesCommand({ cluster: CLUSTER, services: [SERVICE_ARN, "api"] }));
      expect(out.services?.map((s) => s.serviceName)).toEqual([SERVICE]);
      expect(out.failures).toEqual([{ arn: "arn:aws:ecs:eu-west-1:123456789012:service/shop-prod/api", reason: "MISSING" }]);

      const many = await failure(
        world.ecsClient.send(new DescribeServicesCommand({ cluster: CLUSTER, services: Array.from({ length: 11 }, (_, i) => `s${i}`) })),
      );
      expect(many).toBeInstanceOf(InvalidParameterException);
      expect(many.message).toMatch(/at most 10/);
      const ten = await world.ecsClient.send(new DescribeServicesCommand({ cluster: CLUSTER, services: Array.from({ length: 10 }, (_, i) => `s${i}`) }));
      expect(ten.failures).toHaveLength(10);

      const cluster = await failure(world.ecsClient.send(new DescribeServicesCommand({ cluster: "nope", services: [SERVICE] })));
      expect(cluster).toBeInstanceOf(ClusterNotFoundException);
    });
  });

  describe("UpdateService", () => {
    it("answers with the errors ECS gives", async () => {
      await setUp();
      world.ecs.createService({ cluster: CLUSTER, service: "legacy", taskDefinition: "shop-prod-web:1", controller: "CODE_DEPLOY" });
      const arn = await register(DIGEST_NEW);
      const update = (input: Record<string, unknown>) =>
        failure(world.ecsClient.send(new UpdateServiceCommand({ cluster: CLUSTER, service: SERVICE, ...input } as never)));

      const missing = await update({ service: "api", taskDefinition: arn });
      expect(missing).toBeInstanceOf(ServiceNotFoundException);
      expect(missing.message).toBe("Service not found.");

      const td = await update({ taskDefinition: "shop-prod-web:99" });
      expect(td).toBeInstanceOf(ClientException);
      expect(td.message).toBe("TaskDefinition not found.");

      const codeDeploy = await update({ service: "legacy", taskDefinition: arn });
      expect(codeDeploy).toBeInstanceOf(InvalidParameterException);
      expect(codeDeploy.message).toMatch(/CODE_DEPLOY/);

      expect(await update({ deploymentConfiguration: { strategy: "SIDEWAYS" } })).toBeInstanceOf(InvalidParameterException);
      expect(
        await update({ deploymentConfiguration: { strategy: "ROLLING", linearConfiguration: { stepPercent: 10, stepBakeTimeInMinutes: 1 } } }),
      ).toBeInstanceOf(InvalidParameterException);
      expect(
        await update({ deploymentConfiguration: { strategy: "LINEAR", canaryConfiguration: { canaryPercent: 5, canaryBakeTimeInMinutes: 1 } } }),
      ).toBeInstanceOf(InvalidParameterException);
      expect(await update({ cluster: "nope", taskDefinition: arn })).toBeInstanceOf(ClusterNotFoundException);

      await world.ecsClient.send(new DeleteServiceCommand({ cluster: CLUSTER, service: "legacy", force: true }));
      const inactive = await update({ service: "legacy", taskDefinition: arn });
      expect(inactive).toBeInstanceOf(ServiceNotActiveException);
      expect(world.ecs.service(CLUSTER, SERVICE)?.deployments).toHaveLength(1);
    });

    it("merges deploymentConfiguration like ECS: what is given replaces, strategy settings follow the strategy", async () => {
      await setUp(
        {},
        {
          deploymentCircuitBreaker: { enable: true, rollback: true },
          strategy: "LINEAR",
          linearConfiguration: { stepPercent: 25, stepBakeTimeInMinutes: 2 },
        },
      );
      const out = await world.ecsClient.send(
        new UpdateServiceCommand({
          cluster: CLUSTER,
          service: SERVICE,
          deploymentConfiguration: { strategy: "BLUE_GREEN", bakeTimeInMinutes: 5, alarms: { alarmNames: ["a"], enable: true, rollback: true } },
        }),
      );
      expect(out.service?.deploymentConfiguration).toEqual({
        deploymentCircuitBreaker: { enable: true, rollback: true },
        maximumPercent: 200,
        minimumHealthyPercent: 100,
        strategy: "BLUE_GREEN",
        bakeTimeInMinutes: 5,
        alarms: { alarmNames: ["a"], enable: true, rollback: true },
      });
      // A configuration-only update starts no deployment.
      expect(out.service?.deployments).toHaveLength(1);
    });

    it("refuses blue-green, linear and canary on a service ECS cannot shift traffic for, as ECS does", async () => {
      await setUp();
      const { advancedConfiguration: _, ...plain } = READY_LOAD_BALANCER;
      world.ecs.createService({ cluster: CLUSTER, service: "plain", taskDefinition: webDefinition(DIGEST_GOOD), loadBalancers: [plain] });
      world.ecs.createService({ cluster: CLUSTER, service: "meshed", taskDefinition: webDefinition(DIGEST_GOOD), serviceConnect: true });
      for (const strategy of ["BLUE_GREEN", "LINEAR", "CANARY"] as const) {
        const error = await failure(
          world.ecsClient.send(new UpdateServiceCommand({ cluster: CLUSTER, service: "plain", deploymentConfiguration: { strategy } })),
        );
        expect(error.name).toBe("InvalidParameterException");
        expect(error.message).toContain(
          `The ${strategy} deployment strategy requires the service to use Service Connect or a load balancer with an advancedConfiguration`,
        );
        // Service Connect shifts the traffic itself.
        await world.ecsClient.send(new UpdateServiceCommand({ cluster: CLUSTER, service: "meshed", deploymentConfiguration: { strategy } }));
      }
      // The load balancer as given, and Service Connect in the current deployment, as DescribeServices shows them.
      const out = await world.ecsClient.send(new DescribeServicesCommand({ cluster: CLUSTER, services: [SERVICE, "meshed"] }));
      expect(out.services?.[0]?.loadBalancers).toEqual([READY_LOAD_BALANCER]);
      expect(out.services?.[1]?.deployments?.[0]?.serviceConnectConfiguration?.enabled).toBe(true);
    });

    it("rolls out a new task definition: PRIMARY IN_PROGRESS, then COMPLETED after the rollout, the old one INACTIVE", async () => {
      await setUp();
      const arn = await register(DIGEST_NEW);
      const before = world.clock.now();
      const out = await world.ecsClient.send(new UpdateServiceCommand({ cluster: CLUSTER, service: SERVICE, taskDefinition: arn }));
      const [primary, previous] = out.service?.deployments ?? [];
      expect(primary).toMatchObject({ status: "PRIMARY", rolloutState: "IN_PROGRESS", taskDefinition: arn });
      expect(primary?.id).toMatch(DEPLOYMENT_ID);
      expect(primary?.createdAt).toBeInstanceOf(Date);
      expect(previous).toMatchObject({ status: "ACTIVE", rolloutState: "COMPLETED" });
      expect(out.service?.taskDefinition).toBe(arn);
      expect(out.service?.currentServiceDeployment).toMatch(SERVICE_DEPLOYMENT_ARN);
      const id = primary?.id ?? "";

      const completed = await world.waitFor(isEvent("COMPLETED", id));
      expect(deploymentEvents(world.events)).toEqual([
        { name: "IN_PROGRESS", id, reason: `ECS deployment ${id} in progress.` },
        { name: "COMPLETED", id, reason: `ECS deployment ${id} completed.` },
      ]);
      const inProgress = world.events[0] as AwsEvent;
      expect(Date.parse(String(inProgress.detail.updatedAt)) - before).toBeGreaterThanOrEqual(DEFAULT_ECS_TIMING.inProgressAfter);
      const took = Date.parse(String(completed.detail.updatedAt)) - before;
      expect(took).toBeGreaterThanOrEqual(DEFAULT_ECS_TIMING.rollout);
      expect(took).toBeLessThan(DEFAULT_ECS_TIMING.rollout + 60 * SECOND);
      expect(completed.resources).toEqual([SERVICE_ARN]);
      expect(shape(inProgress)).toEqual(shape(fixture("ecs-deployment-in-progress")));
      expect(shape(completed)).toEqual(shape(fixture("ecs-deployment-completed")));

      const service = await describe1();
      expect(service.deployments?.map((d) => [d.status, d.rolloutState])).toEqual([
        ["PRIMARY", "COMPLETED"],
        ["INACTIVE", "COMPLETED"],
      ]);
      expect(service.runningCount).toBe(2);
      expect(service.events?.slice(0, 2).map((e) => e.message)).toEqual([
        "(service web) has reached a steady state.",
        `(service web) (deployment ${id}) deployment completed.`,
      ]);
      expect(world.ecs.primaryHistory(CLUSTER, SERVICE).map((h) => h.cause)).toEqual(["create", "update"]);
      expect(world.ecs.completedHistory(CLUSTER, SERVICE).map((h) => [h.deploymentId, h.images[0]?.split("@")[1]])).toEqual([
        [world.ecs.primaryHistory(CLUSTER, SERVICE)[0]?.deploymentId, DIGEST_GOOD],
        [id, DIGEST_NEW],
      ]);
    });

    it("starts nothing for an identical update, and a new deployment when forced", async () => {
      await setUp();
      const same = await world.ecsClient.send(new UpdateServiceCommand({ cluster: CLUSTER, service: SERVICE, taskDefinition: "shop-prod-web:1" }));
      expect(same.service?.deployments).toHaveLength(1);
      await world.pass(3 * MINUTE);
      expect(world.events).toEqual([]);
      expect(world.ecs.primaryHistory(CLUSTER, SERVICE)).toHaveLength(1);

      const forced = await world.ecsClient.send(new UpdateServiceCommand({ cluster: CLUSTER, service: SERVICE, forceNewDeployment: true }));
      const id = forced.service?.deployments?.[0]?.id ?? "";
      expect(forced.service?.deployments).toHaveLength(2);
      await world.waitFor(isEvent("COMPLETED", id));
    });

    it("drops a deployment that a newer update replaces mid-rollout: no more events for it", async () => {
      await setUp({ timing: { rollout: 60 * MINUTE } });
      const first = await world.ecsClient.send(new UpdateServiceCommand({ cluster: CLUSTER, service: SERVICE, taskDefinition: await register(DIGEST_NEW) }));
      const a = first.service?.deployments?.[0]?.id ?? "";
      await world.waitFor(isEvent("IN_PROGRESS", a));
      const second = await world.ecsClient.send(new UpdateServiceCommand({ cluster: CLUSTER, service: SERVICE, taskDefinition: await register(DIGEST_GOOD) }));
      const b = second.service?.deployments?.[0]?.id ?? "";
      expect(second.service?.deployments?.map((d) => [d.id, d.status, d.rolloutState]).slice(0, 2)).toEqual([
        [b, "PRIMARY", "IN_PROGRESS"],
        [a, "ACTIVE", "IN_PROGRESS"],
      ]);
      await world.waitFor(isEvent("COMPLETED", b));
      await world.pass(MINUTE);
      expect(deploymentEvents(world.events).map((e) => [e.name, e.id])).toEqual([
        ["IN_PROGRESS", a],
        ["IN_PROGRESS", b],
        ["COMPLETED", b],
      ]);
      expect((await describe1()).deployments?.find((d) => d.id === a)?.status).toBe("INACTIVE");
    });

    it("completes a BLUE_GREEN deployment only after its bake time", async () => {
      await setUp({}, { deploymentCircuitBreaker: { enable: true, rollback: true }, strategy: "BLUE_GREEN", bakeTimeInMinutes: 10 });
      const arn = await register(DIGEST_NEW);
      const before = world.clock.now();
      const out = await world.ecsClient.send(new UpdateServiceCommand({ cluster: CLUSTER, service: SERVICE, taskDefinition: arn }));
      const id = out.service?.deployments?.[0]?.id ?? "";
      await world.pass(DEFAULT_ECS_TIMING.rollout + MINUTE);
      expect((await describe1()).deployments?.[0]?.rolloutState).toBe("IN_PROGRESS");
      const completed = await world.waitFor(isEvent("COMPLETED", id));
      expect(Date.parse(String(completed.detail.updatedAt)) - before).toBeGreaterThanOrEqual(12 * MINUTE);
    });
  });

  it("computes rollout durations per strategy", () => {
    const t = DEFAULT_ECS_TIMING;
    expect(rolloutDuration(undefined)).toBe(2 * MINUTE);
    expect(rolloutDuration({ strategy: "ROLLING", bakeTimeInMinutes: 9 })).toBe(2 * MINUTE);
    expect(rolloutDuration({ strategy: "BLUE_GREEN", bakeTimeInMinutes: 5 })).toBe(t.rollout + 5 * MINUTE);
    // Four steps of 25 %: a step bake between steps, none after the last one; then the bake.
    expect(rolloutDuration({ strategy: "LINEAR", linearConfiguration: { stepPercent: 25, stepBakeTimeInMinutes: 2 }, bakeTimeInMinutes: 1 })).toBe(
      t.rollout + 3 * 2 * MINUTE + MINUTE,
    );
    expect(rolloutDuration({ strategy: "CANARY", canaryConfiguration: { canaryPercent: 5, canaryBakeTimeInMinutes: 3 }, bakeTimeInMinutes: 2 })).toBe(
      t.rollout + 5 * MINUTE,
    );
    expect(rolloutDuration({ strategy: "CANARY" })).toBe(t.rollout + 10 * MINUTE);
  });

  describe("a bad image", () => {
    it("impairs task starts, trips the circuit breaker and rolls back to the last completed deployment", async () => {
      await setUp();
      world.ecs.markBad(DIGEST_BAD);
      const seed = world.ecs.service(CLUSTER, SERVICE)?.deployments[0]?.id ?? "";
      const arn = await register(DIGEST_BAD);
      const before = world.clock.now();
      const out = await world.ecsClient.send(new UpdateServiceCommand({ cluster: CLUSTER, service: SERVICE, taskDefinition: arn }));
      const bad = out.service?.deployments?.[0]?.id ?? "";

      const rollbackStarted = await world.waitFor((e) => isEvent("IN_PROGRESS")(e) && e.detail.deploymentId !== bad);
      const rollback = String(rollbackStarted.detail.deploymentId);
      await world.waitFor(isEvent("COMPLETED", rollback));

      expect(deploymentEvents(world.events)).toEqual([
        { name: "IN_PROGRESS", id: bad, reason: `ECS deployment ${bad} in progress.` },
        { name: "FAILED", id: bad, reason: "ECS deployment circuit breaker: tasks failed to start." },
        { name: "IN_PROGRESS", id: rollback, reason: `ECS deployment circuit breaker: rolling back to deploymentId ${seed}.` },
        { name: "COMPLETED", id: rollback, reason: `ECS deployment ${rollback} completed.` },
      ]);
      const impaired = world.events.find((e) => e["detail-type"] === "ECS Service Action") as AwsEvent;
      expect(impaired.detail).toMatchObject({
        eventType: "WARN",
        eventName: "SERVICE_TASK_START_IMPAIRED",
        clusterArn: "arn:aws:ecs:eu-west-1:123456789012:cluster/shop-prod",
      });
      expect(shape(impaired)).toEqual(shape(fixture("ecs-service-task-start-impaired")));
      expect(Date.parse(String(impaired.detail.createdAt)) - before).toBeGreaterThanOrEqual(DEFAULT_ECS_TIMING.impairedAfter);
      const failed = world.events.find(isEvent("FAILED")) as AwsEvent;
      expect(failed.detail.eventType).toBe("ERROR");
      expect(Date.parse(String(failed.detail.updatedAt)) - before).toBeGreaterThanOrEqual(DEFAULT_ECS_TIMING.circuitBreakerAfter);
      expect(shape(failed)).toEqual(shape(fixture("ecs-deployment-failed-circuit-breaker")));
      expect(shape(rollbackStarted)).toEqual(shape(fixture("ecs-deployment-rollback-in-progress")));
      expect(world.events.indexOf(impaired)).toBeLessThan(world.events.indexOf(failed));
      expect(Date.parse(String(rollbackStarted.detail.updatedAt))).toBeGreaterThan(Date.parse(String(failed.detail.updatedAt)));

      const service = await describe1();
      expect(service.taskDefinition).toBe("arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-prod-web:1");
      expect(service.deployments?.map((d) => [d.id, d.status, d.rolloutState])).toEqual([
        [rollback, "PRIMARY", "COMPLETED"],
        [bad, "INACTIVE", "FAILED"],
        [seed, "INACTIVE", "COMPLETED"],
      ]);
      expect(service.deployments?.[1]?.failedTasks).toBeGreaterThan(0);
      expect(world.ecs.primaryHistory(CLUSTER, SERVICE).map((h) => [h.cause, h.images[0]?.split("@")[1]])).toEqual([
        ["create", DIGEST_GOOD],
        ["update", DIGEST_BAD],
        ["circuit-breaker-rollback", DIGEST_GOOD],
      ]);
      expect(world.ecs.completedHistory(CLUSTER, SERVICE).map((h) => h.deploymentId)).toEqual([seed, rollback]);
    });

    it("stays IN_PROGRESS for good without the circuit breaker, as ECS does", async () => {
      await setUp({}, { deploymentCircuitBreaker: { enable: false, rollback: false } });
      world.ecs.markBad(DIGEST_BAD);
      const arn = await register(DIGEST_BAD);
      await world.ecsClient.send(new UpdateServiceCommand({ cluster: CLUSTER, service: SERVICE, taskDefinition: arn }));
      await world.waitFor((e) => e.detail.eventName === "SERVICE_TASK_START_IMPAIRED");
      await world.pass(6 * MINUTE); // past the breaker's and the rollout's times
      expect(deploymentEvents(world.events).map((e) => e.name)).toEqual(["IN_PROGRESS"]);
      const primary = (await describe1()).deployments?.[0];
      expect(primary).toMatchObject({ status: "PRIMARY", rolloutState: "IN_PROGRESS", runningCount: 0 });
    });
  });

  describe("StopServiceDeployment", () => {
    it("rolls back an active deployment to the last completed one", async () => {
      await setUp({ timing: { rollout: 60 * MINUTE } });
      const seed = world.ecs.service(CLUSTER, SERVICE)?.deployments[0]?.id ?? "";
      const arn = await register(DIGEST_NEW);
      const out = await world.ecsClient.send(new UpdateServiceCommand({ cluster: CLUSTER, service: SERVICE, taskDefinition: arn }));
      const id = out.service?.deployments?.[0]?.id ?? "";
      const serviceDeploymentArn = out.service?.currentServiceDeployment ?? "";
      await world.waitFor(isEvent("IN_PROGRESS", id));

      const stopped = await world.ecsClient.send(new StopServiceDeploymentCommand({ serviceDeploymentArn, stopType: "ROLLBACK" }));
      expect(stopped.serviceDeploymentArn).toBe(serviceDeploymentArn);
      const rollbackStarted = await world.waitFor((e) => isEvent("IN_PROGRESS")(e) && e.detail.deploymentId !== id);
      const rollback = String(rollbackStarted.detail.deploymentId);
      expect(rollbackStarted.detail.reason).toMatch(new RegExp(`rolling back to deploymentId ${seed.replace("/", "\\/")}`));
      // While ECS rolls it back, it cannot be stopped again: ConflictException, as the ECS API model has it.
      const twice = await failure(world.ecsClient.send(new StopServiceDeploymentCommand({ serviceDeploymentArn, stopType: "ROLLBACK" })));
      expect(twice).toBeInstanceOf(ConflictException);
      await world.waitFor(isEvent("COMPLETED", rollback));
      expect(deploymentEvents(world.events).map((e) => [e.name, e.id])).toEqual([
        ["IN_PROGRESS", id],
        ["FAILED", id],
        ["IN_PROGRESS", rollback],
        ["COMPLETED", rollback],
      ]);
      expect(world.ecs.primaryHistory(CLUSTER, SERVICE).map((h) => h.cause)).toEqual(["create", "update", "stop-rollback"]);
      expect((await describe1()).taskDefinition).toMatch(/shop-prod-web:1$/);

      // It is over now: ECS will not stop it again.
      const again = await failure(world.ecsClient.send(new StopServiceDeploymentCommand({ serviceDeploymentArn, stopType: "ROLLBACK" })));
      expect(again).toBeInstanceOf(InvalidParameterException);
      expect(again.message).toMatch(/not in a state that can be stopped/);
    });

    it("announces a deployment stopped in its first seconds before failing it", async () => {
      await setUp({ timing: { inProgressAfter: 10 * MINUTE, rollout: 30 * MINUTE } });
      const arn = await register(DIGEST_NEW);
      const out = await world.ecsClient.send(new UpdateServiceCommand({ cluster: CLUSTER, service: SERVICE, taskDefinition: arn }));
      const id = out.service?.deployments?.[0]?.id ?? "";
      await world.ecsClient.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: out.service?.currentServiceDeployment, stopType: "ROLLBACK" }));
      const events = deploymentEvents(world.events);
      expect(events.map((e) => [e.name, e.id === id])).toEqual([
        ["IN_PROGRESS", true],
        ["FAILED", true],
        ["IN_PROGRESS", false],
      ]);
      expect(events[2]?.reason).toMatch(/rolling back/);
    });

    it("refuses a finished deployment and does not know a made-up one", async () => {
      await setUp();
      const seed = world.ecs.service(CLUSTER, SERVICE)?.currentServiceDeployment ?? "";
      const finished = await failure(world.ecsClient.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: seed, stopType: "ROLLBACK" })));
      expect(finished).toBeInstanceOf(InvalidParameterException);
      const unknown = await failure(
        world.ecsClient.send(
          new StopServiceDeploymentCommand({
            serviceDeploymentArn: "arn:aws:ecs:eu-west-1:123456789012:service-deployment/shop-prod/web/AAAAAAAAAAAAAAAAAAAAAA",
            stopType: "ROLLBACK",
          }),
        ),
      );
      expect(unknown).toBeInstanceOf(ServiceDeploymentNotFoundException);
      expect(world.events).toEqual([]);
    });
  });

  describe("deployment alarms", () => {
    const config = {
      deploymentCircuitBreaker: { enable: true, rollback: true },
      alarms: { alarmNames: ["web-5xx"], enable: true, rollback: true },
    };

    it("fail the deployment and roll back when a guarding alarm goes to ALARM during the rollout", async () => {
      await setUp({ timing: { rollout: 60 * MINUTE } }, config);
      world.cloudwatch.createAlarm("web-5xx", { state: "OK" });
      const seed = world.ecs.service(CLUSTER, SERVICE)?.deployments[0]?.id ?? "";
      const arn = await register(DIGEST_NEW);
      const out = await world.ecsClient.send(new UpdateServiceCommand({ cluster: CLUSTER, service: SERVICE, taskDefinition: arn }));
      const id = out.service?.deployments?.[0]?.id ?? "";
      await world.waitFor(isEvent("IN_PROGRESS", id));

      await world.cwClient.send(new SetAlarmStateCommand({ AlarmName: "web-5xx", StateValue: "ALARM", StateReason: "5xx above 2%" }));
      const failed = await world.waitFor(isEvent("FAILED", id));
      expect(failed.detail.reason).toMatch(/^ECS deployment alarms: /);
      expect(failed.detail.reason).toMatch(/web-5xx/);
      const rollbackStarted = await world.waitFor((e) => isEvent("IN_PROGRESS")(e) && e.detail.deploymentId !== id);
      expect(rollbackStarted.detail.reason).toBe(`ECS deployment alarms: rolling back to deploymentId ${seed}.`);
      await world.waitFor(isEvent("COMPLETED", String(rollbackStarted.detail.deploymentId)));
      expect(world.ecs.primaryHistory(CLUSTER, SERVICE).map((h) => h.cause)).toEqual(["create", "update", "alarm-rollback"]);
    });

    it("ignore an alarm that was already firing when the deployment started, until it recovers", async () => {
      await setUp({ timing: { rollout: 20 * MINUTE } }, config);
      world.cloudwatch.createAlarm("web-5xx", { state: "ALARM" });
      const arn = await register(DIGEST_NEW);
      const out = await world.ecsClient.send(new UpdateServiceCommand({ cluster: CLUSTER, service: SERVICE, taskDefinition: arn }));
      const id = out.service?.deployments?.[0]?.id ?? "";
      world.ecs.alarmChanged("web-5xx", "ALARM"); // told again: still the same firing
      await world.waitFor(isEvent("COMPLETED", id));
      expect(deploymentEvents(world.events).map((e) => e.name)).toEqual(["IN_PROGRESS", "COMPLETED"]);

      // The next deployment starts with it firing too; it recovers, then fires again: that counts.
      const from = world.events.length;
      const next = await world.ecsClient.send(new UpdateServiceCommand({ cluster: CLUSTER, service: SERVICE, taskDefinition: "shop-prod-web:1" }));
      const nextId = next.service?.deployments?.[0]?.id ?? "";
      world.cloudwatch.setAlarmState("web-5xx", "OK");
      world.cloudwatch.setAlarmState("web-5xx", "ALARM");
      await world.waitFor(isEvent("FAILED", nextId), 60 * MINUTE, from);
    });
  });

  it("answers operations it does not implement with an AWS-shaped error", async () => {
    await setUp();
    const error = await failure(world.ecsClient.send(new ListClustersCommand({})));
    expect(error.name).toBe("UnknownOperationException");
    expect(error.message).toMatch(/not implemented by the sandbox/);
    expect(error.$metadata?.httpStatusCode).toBe(400);
    expect(world.ecs.calls.ListClusters).toBe(1);
  });
});

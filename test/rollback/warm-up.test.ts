// on-alarm woken by ECS's deployment events (shared/rollback/warm-up.ts), fed the real-shaped
// fixtures through the handler. Every AWS endpoint points at a local HTTP server that counts what
// reaches it: priming must send nothing, whatever it primes. That the alarm after a warm-up is
// faster is measured by `npm run bench -- --only rollback`; that it still rolls back correctly,
// by every sandbox scenario with an alarm (the sandbox wires the warm-up as serverless.yml does).
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { ECSClient, UpdateServiceCommand } from "@aws-sdk/client-ecs";
import { handler as onAlarm } from "../../functions/on-alarm";
import { prime } from "../../shared/aws/prime";
import { lambdaContext } from "../support/lambda";

let server: Server;
let requests: string[] = [];
const saved = { ...process.env };

beforeAll(async () => {
  server = createServer((request, response) => {
    requests.push(`${request.method} ${request.headers["x-amz-target"] ?? request.url}`);
    response.writeHead(500).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
  delete process.env.AWS_ENDPOINT_URL_ECS;
  process.env.AWS_ENDPOINT_URL = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  process.env = saved;
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  requests = [];
});

const fixture = (file: string): unknown => JSON.parse(readFileSync(`test/events/${file}`, "utf8"));
const ALL_PRIMED = ["Query", "TransactWriteItems", "PutItem", "StopServiceDeployment", "UpdateService"];

/** The IN_PROGRESS fixture (shop-prod/web, guarded by two alarms) with `changes` applied. */
function deploymentEvent(changes: { eventName?: string; service?: string; resources?: string[] } = {}) {
  const event = fixture("ecs-deployment-in-progress.json") as { resources: string[]; detail: Record<string, unknown> };
  if (changes.eventName) event.detail.eventName = changes.eventName;
  if (changes.service) event.resources = [`arn:aws:ecs:eu-west-1:123456789012:service/${changes.service}`];
  if (changes.resources) event.resources = changes.resources;
  return event;
}

describe("on-alarm warm-up", () => {
  // The tests share one module instance, as the invocations of one container do: it primes once.
  it("a rollout starting: primes the rollback's four calls, sending nothing", async () => {
    const result = await onAlarm(fixture("ecs-deployment-in-progress.json"), lambdaContext("on-alarm"));
    expect(result).toEqual({ warmedUpFor: "eu-west-1/shop-prod/web", primed: ALL_PRIMED, failed: [] });
    expect(requests).toEqual([]);
  });

  it("a rollout completing (the watch window opens), in the same container: already warm, primes nothing again", async () => {
    const result = await onAlarm(fixture("ecs-deployment-completed.json"), lambdaContext("on-alarm"));
    expect(result).toEqual({ warmedUpFor: "eu-west-1/shop-prod/web", alreadyWarm: true });
    expect(requests).toEqual([]);
  });

  it("warms up for every guarded target of the example, staging and production", async () => {
    for (const service of ["shop-staging/web", "shop-staging/worker", "shop-batch/worker-reports", "shop-prod/worker"]) {
      await expect(onAlarm(deploymentEvent({ service }), lambdaContext("on-alarm"))).resolves.toEqual({
        warmedUpFor: `eu-west-1/${service}`,
        alreadyWarm: true,
      });
    }
    expect(requests).toEqual([]);
  });

  it.each([
    [
      "FAILED: the rollout is over, nothing left to roll back",
      { eventName: "SERVICE_DEPLOYMENT_FAILED" },
      "SERVICE_DEPLOYMENT_FAILED opens no window for an alarm",
    ],
    [
      "ECS rolling back on its own",
      { eventName: "SERVICE_DEPLOYMENT_ROLLBACK_IN_PROGRESS" },
      "SERVICE_DEPLOYMENT_ROLLBACK_IN_PROGRESS opens no window for an alarm",
    ],
    ["a service Stevedore does not deploy", { service: "other-cluster/api" }, "no alarm guards eu-west-1/other-cluster/api"],
    ["no service named", { resources: [] }, "the event names no ECS service"],
    [
      "a task ARN instead of a service",
      { resources: ["arn:aws:ecs:eu-west-1:123456789012:task/shop-prod/0123456789abcdef"] },
      "the event names no ECS service",
    ],
  ])("ignores %s, priming nothing", async (_what, changes, reason) => {
    await expect(onAlarm(deploymentEvent(changes), lambdaContext("on-alarm"))).resolves.toEqual({ ignored: reason });
    expect(requests).toEqual([]);
  });

  it("ignores a deployment event that is not well formed", async () => {
    const event = deploymentEvent() as { detail: Record<string, unknown> };
    delete event.detail.deploymentId;
    await expect(onAlarm(event, lambdaContext("on-alarm"))).resolves.toEqual({ ignored: "malformed event" });
    expect(requests).toEqual([]);
  });
});

describe("prime", () => {
  it("reports a command it could not prime, and does not throw: the real call only starts cold", async () => {
    const result = await prime(ECSClient, { UpdateService: new UpdateServiceCommand({ cluster: "c", service: "s", taskDefinition: "t:1" }) }, "not a region!");
    expect(result.primed).toEqual([]);
    expect(result.failed).toEqual([expect.stringMatching(/^UpdateService: .*not a region!/)]);
    expect(requests).toEqual([]);
  });

  it("leaves the real clients alone: a real call afterwards still reaches AWS", async () => {
    await prime(ECSClient, { UpdateService: new UpdateServiceCommand({ cluster: "c", service: "s", taskDefinition: "t:1" }) });
    const real = new ECSClient({ maxAttempts: 1 });
    await expect(real.send(new UpdateServiceCommand({ cluster: "c", service: "s", taskDefinition: "t:1" }))).rejects.toThrow();
    expect(requests).toEqual(["POST AmazonEC2ContainerServiceV20141113.UpdateService"]);
  });
});

// The pure decisions of the deploy path, as tables of cases.
import { loadConfig } from "../../shared/config/load";
import type { Environment, Strategy } from "../../shared/config/model";
import type { ServiceState } from "../../shared/deploy/ecs";
import { classifyArrival, deploymentConfiguration, lastStableTaskDefinition, matchPush, serviceProblem, type Arriving } from "../../shared/deploy/plan";
import type { DeploymentRecord, TargetState } from "../../shared/records/model";
import { FIXTURE_CONFIG } from "../support/config";

const config = loadConfig(FIXTURE_CONFIG);
const envOf = (app: string, env: string) => config.apps.find((a) => a.name === app)?.environments.find((e) => e.name === env) as Environment;

describe("matchPush", () => {
  it.each([
    ["shop/web", "3f9c2ab", ["shop-web:staging"]],
    ["shop/web", "3f9c2ab81d6e4c0f9b7a5e3d1c2b4a6f8e0d2c4b", ["shop-web:staging"]],
    ["shop/worker", "anything-goes", ["shop-worker:staging"]],
  ])("sends %s:%s to the push-fed environments only (never to promotion-fed ones)", (repository, tag, expected) => {
    const match = matchPush(config, repository, tag);
    expect("apps" in match && match.apps.flatMap((m) => m.environments.map((e) => `${m.app.name}:${e.name}`))).toEqual(expected);
  });

  it.each([
    ["shop/web", "latest", "tag latest does not match apps.shop-web.tags"],
    ["shop/web", "3f9c2abX", "does not match"],
    ["shop/web", undefined, "untagged push"],
    ["billing/api", "1.0", "repository billing/api is not configured"],
  ])("ignores %s:%s", (repository, tag, reason) => {
    expect(matchPush(config, repository, tag)).toEqual({ ignored: expect.stringContaining(reason) });
  });
});

describe("classifyArrival", () => {
  const head = { digest: "sha256:b", pushKey: "2026-11-20T10:00:00.000Z#sha256:b", recordSk: "DEPLOY#x", recordId: "d-1" };
  const record = (status: DeploymentRecord["status"], leaseUntil?: number, tag = "main") => ({ status, leaseUntil, tag }) as DeploymentRecord;
  const now = 1_000_000;
  const at = (time: string, digest: string, more: Partial<Arriving> = {}): Arriving => ({ digest, pushedAt: time, ...more });
  const sameSecond = "2026-11-20T10:00:00.000Z";

  it.each<[string, string, TargetState, Arriving]>([
    ["nothing there yet", "new", {}, at("2026-11-20T09:00:00.000Z", "sha256:a")],
    ["a newer image than the head", "new", { head, record: record("started") }, at("2026-11-20T11:00:00.000Z", "sha256:c")],
    ["an older image than the head", "stale", { head, record: record("started") }, at("2026-11-20T09:00:00.000Z", "sha256:a")],
    ["pushed a second after the head (whatever the digests)", "new", { head, record: record("started") }, at("2026-11-20T10:00:01.000Z", "sha256:0")],
    ["pushed a second before the head (whatever the digests)", "stale", { head, record: record("started") }, at("2026-11-20T09:59:59.000Z", "sha256:f")],
    [
      "a head recorded with EventBridge's time format, the same instant",
      "tie",
      { head: { ...head, pushKey: "2026-11-20T10:00:00Z#sha256:b" }, record: record("started", undefined, "x") },
      at(sameSecond, "sha256:c", { tag: "y", tagsNow: ["y"] }),
    ],
    [
      "the same second, the same tag, which it holds now: pushed after the head",
      "new",
      { head, record: record("started") },
      at(sameSecond, "sha256:a", { tag: "main", tagsNow: ["main"] }),
    ],
    [
      "the same second, the same tag, which moved on: pushed before the head",
      "stale",
      { head, record: record("started") },
      at(sameSecond, "sha256:c", { tag: "main", tagsNow: [] }),
    ],
    [
      "the same second, other tags: nothing tells (never the digest)",
      "tie",
      { head, record: record("started") },
      at(sameSecond, "sha256:c", { tag: "feature", tagsNow: ["feature"] }),
    ],
    ["the same second, the same tag, its tags unknown (a promotion)", "tie", { head, record: record("started") }, at(sameSecond, "sha256:a", { tag: "main" })],
    ["the head's image again", "duplicate", { head, record: record("verified") }, at("2026-11-20T10:00:00.000Z", "sha256:b")],
    ["the head's image pushed again later (a retag)", "duplicate", { head, record: record("started") }, at("2026-11-20T12:00:00.000Z", "sha256:b")],
    ["the head's image, claim still leased", "duplicate", { head, record: record("pending", now + 1) }, at(sameSecond, "sha256:b")],
    ["the head's image, claim abandoned", "resume", { head, record: record("pending", now - 1) }, at(sameSecond, "sha256:b")],
    ["the head's image, claim given back", "resume", { head, record: record("pending", 0) }, at(sameSecond, "sha256:b")],
  ])("%s → %s", (_name, expected, state, image) => {
    expect(classifyArrival(state, image, now).kind).toBe(expected);
  });
});

describe("lastStableTaskDefinition", () => {
  const td = (n: number) => `arn:aws:ecs:eu-west-1:123456789012:task-definition/web:${n}`;
  const service = (deployments: ServiceState["deployments"], taskDefinition = td(99)): ServiceState => ({
    cluster: "c",
    service: "s",
    status: "ACTIVE",
    controller: "ECS",
    taskDefinition,
    deployments,
    traffic: { loadBalancers: [], serviceConnect: false },
  });

  it.each<[string, ServiceState, string]>([
    ["a settled service: its PRIMARY", service([{ id: "1", status: "PRIMARY", rolloutState: "COMPLETED", taskDefinition: td(41) }], td(41)), td(41)],
    [
      "mid-rollout: the COMPLETED one being replaced, not the new PRIMARY",
      service(
        [
          { id: "2", status: "PRIMARY", rolloutState: "IN_PROGRESS", taskDefinition: td(42), createdAt: "2026-11-20T09:00:00Z" },
          { id: "1", status: "ACTIVE", rolloutState: "COMPLETED", taskDefinition: td(41), createdAt: "2026-11-19T09:00:00Z" },
        ],
        td(42),
      ),
      td(41),
    ],
    [
      "the newest of several completed ones",
      service(
        [
          { id: "1", status: "ACTIVE", rolloutState: "COMPLETED", taskDefinition: td(40), createdAt: "2026-11-18T09:00:00Z" },
          { id: "2", status: "ACTIVE", rolloutState: "COMPLETED", taskDefinition: td(41), createdAt: "2026-11-19T09:00:00Z" },
          { id: "3", status: "PRIMARY", rolloutState: "IN_PROGRESS", taskDefinition: td(42), createdAt: "2026-11-20T09:00:00Z" },
        ],
        td(42),
      ),
      td(41),
    ],
    ["no rollout state reported: the service's task definition", service([{ id: "1", status: "PRIMARY", taskDefinition: td(7) }], td(7)), td(7)],
  ])("%s", (_name, state, expected) => {
    expect(lastStableTaskDefinition(state)).toBe(expected);
  });
});

describe("serviceProblem", () => {
  const base: ServiceState = {
    cluster: "shop",
    service: "web",
    status: "ACTIVE",
    controller: "ECS",
    deployments: [],
    traffic: { loadBalancers: [], serviceConnect: false },
  };
  const ROLLING: Strategy = { type: "ROLLING" };
  it.each<[Partial<ServiceState>, string | null]>([
    [{}, null],
    [{ status: "MISSING" }, "service shop/web does not exist"],
    [{ status: "DRAINING" }, "service shop/web is DRAINING"],
    [{ controller: "CODE_DEPLOY" }, "service shop/web uses the CODE_DEPLOY deployment controller; Stevedore drives ECS-native deployments only"],
    [{ controller: "EXTERNAL" }, "service shop/web uses the EXTERNAL deployment controller; Stevedore drives ECS-native deployments only"],
  ])("%j → %s", (patch, expected) => {
    expect(serviceProblem({ ...base, ...patch }, ROLLING)).toBe(expected);
  });

  // What ECS needs to shift a blue-green, linear or canary deployment's traffic.
  const complete = { targetGroupArn: "tg-blue", alternateTargetGroupArn: "tg-green", productionListenerRule: "rule/prod", roleArn: "role/ecs-elb" };
  const fix =
    ". ECS shifts its traffic between two target groups (the load balancer's advancedConfiguration: alternateTargetGroupArn, productionListenerRule, roleArn) " +
    "or through Service Connect; add them to the service, or set the environment's strategy to rolling";
  it.each<[string, Strategy["type"], ServiceState["traffic"], string | null]>([
    ["rolling needs neither", "ROLLING", { loadBalancers: [], serviceConnect: false }, null],
    ["blue-green with a complete advanced configuration", "BLUE_GREEN", { loadBalancers: [complete], serviceConnect: false }, null],
    ["canary through Service Connect", "CANARY", { loadBalancers: [], serviceConnect: true }, null],
    [
      "blue-green with nothing to shift traffic with",
      "BLUE_GREEN",
      { loadBalancers: [], serviceConnect: false },
      `service shop/web cannot take a blue-green deployment: it has no load balancer and no Service Connect${fix}`,
    ],
    [
      "linear behind a load balancer without advanced configuration",
      "LINEAR",
      { loadBalancers: [{ targetGroupArn: "tg-blue" }], serviceConnect: false },
      `service shop/web cannot take a linear deployment: its load balancer lacks advanced configuration: an alternate target group, a production listener rule, a role for ECS to call Elastic Load Balancing${fix}`,
    ],
    [
      "canary without the role",
      "CANARY",
      { loadBalancers: [{ ...complete, roleArn: undefined }], serviceConnect: false },
      `service shop/web cannot take a canary deployment: its load balancer lacks advanced configuration: a role for ECS to call Elastic Load Balancing${fix}`,
    ],
  ])("%s", (_, type, traffic, expected) => {
    expect(serviceProblem({ ...base, traffic }, { type })).toBe(expected);
  });
});

describe("deploymentConfiguration", () => {
  it("always turns the circuit breaker on with rollback, adds the alarms, and keeps the service's sizing", () => {
    expect(deploymentConfiguration(envOf("shop-web", "staging"), { maximumPercent: 150, minimumHealthyPercent: 50, bakeTimeInMinutes: 9 })).toEqual({
      maximumPercent: 150,
      minimumHealthyPercent: 50,
      deploymentCircuitBreaker: { enable: true, rollback: true },
      alarms: { alarmNames: ["shop-staging-web-5xx"], enable: true, rollback: true },
      strategy: "ROLLING",
    });
  });

  it("sends blue/green with its bake time", () => {
    expect(deploymentConfiguration(envOf("shop-web", "production"), undefined)).toEqual({
      deploymentCircuitBreaker: { enable: true, rollback: true },
      alarms: { alarmNames: ["shop-prod-web-5xx", "shop-prod-web-latency"], enable: true, rollback: true },
      strategy: "BLUE_GREEN",
      bakeTimeInMinutes: 5,
    });
  });

  it.each([
    ["LINEAR", { linear: { stepPercent: 20, stepBakeTimeMinutes: 3 } }, { linearConfiguration: { stepPercent: 20, stepBakeTimeInMinutes: 3 } }],
    ["CANARY", { canary: { canaryPercent: 10, canaryBakeTimeMinutes: 5 } }, { canaryConfiguration: { canaryPercent: 10, canaryBakeTimeInMinutes: 5 } }],
  ])("sends only the fields %s accepts", (type, strategy, expected) => {
    const env = { ...envOf("shop-web", "staging"), strategy: { type, bakeTimeMinutes: 2, ...strategy } } as Environment;
    const config = deploymentConfiguration(env, undefined);
    expect(config).toMatchObject({ strategy: type, bakeTimeInMinutes: 2, ...expected });
    expect(Object.keys(config)).not.toContain(type === "LINEAR" ? "canaryConfiguration" : "linearConfiguration");
  });

  it("disables alarm rollback cleanly when an environment has no alarms", () => {
    const env = { ...envOf("shop-web", "staging"), alarms: [] };
    expect(deploymentConfiguration(env, undefined).alarms).toEqual({ alarmNames: [], enable: false, rollback: false });
  });
});

// The fault matrix's cells are "held" only if its checks can fail. Each invariant is handed here
// an outcome that is deliberately wrong (and, beside it, the nearest outcome that is right), so a
// check that always says "held" cannot hide behind a green matrix.
import { judge, type Observation } from "../invariants";

const SEED = "sha256:0000000000000000";
const A = "sha256:aaaaaaaaaaaaaaaa";
const B = "sha256:bbbbbbbbbbbbbbbb";
const KEY = "shop-staging/web";
const revision = (n: number) => `arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-web-staging:${n}`;

/** A good run: A then B pushed, both rolled out and verified, one final webhook message each. */
function good(): Observation {
  return {
    pushes: [
      { digest: A, repository: "shop/web", bad: false },
      { digest: B, repository: "shop/web", bad: false },
    ],
    alarms: [],
    services: [
      {
        key: KEY,
        seed: SEED,
        alarms: ["web-5xx"],
        primaries: [
          { at: 0, images: [SEED], cause: "create" },
          { at: 10, images: [A], cause: "update" },
          { at: 20, images: [B], cause: "update" },
        ],
        completed: [A, B],
      },
    ],
    expected: { [KEY]: B },
    deployments: [
      { id: "d-a", key: KEY, app: "shop", env: "staging", digest: A, status: "superseded", deadline: "2026-11-29T10:00:00.000Z", taskDefinition: revision(42) },
      { id: "d-b", key: KEY, app: "shop", env: "staging", digest: B, status: "verified", deadline: "2026-11-29T10:05:00.000Z", taskDefinition: revision(43) },
    ],
    messages: [
      { destination: "hook", deploymentId: "d-a", status: "superseded", deliveryId: "1" },
      { destination: "hook", deploymentId: "d-b", status: "started", deliveryId: "2" },
      { destination: "hook", deploymentId: "d-b", status: "verified", deliveryId: "3" },
    ],
    destinations: { "shop/staging": [{ name: "hook", kind: "webhook" }] },
    writes: ["RegisterTaskDefinition", "UpdateService", "TransactWriteItems"],
    registered: [revision(42), revision(43)],
    badInput: false,
    sweptTo: "2026-11-29T11:00:00.000Z",
  };
}

/** B was pushed, ran, and an alarm made Stevedore return the service to A. */
function rolledBack(o: Observation): Observation {
  const service = o.services[0]!;
  service.primaries.push({ at: 30, images: [A], cause: "update" });
  o.alarms.push({ name: "web-5xx", at: 25 });
  o.expected[KEY] = A;
  o.deployments[1]!.status = "rolled_back";
  o.messages[2]!.status = "rolled_back";
  return o;
}

const verdictOf = (o: Observation, invariant: number) => judge(o).find((v) => v.invariant === invariant)!;

describe("the invariants judge an outcome", () => {
  it("a good run holds all six", () => {
    expect(judge(good()).filter((v) => !v.held)).toEqual([]);
  });

  it("a rollback to the last good image, reported as one, holds all six", () => {
    expect(judge(rolledBack(good())).filter((v) => !v.held)).toEqual([]);
  });

  type Case = [string, number, (o: Observation) => Observation, RegExp];
  const broken: Case[] = [
    [
      "1: the service ends on an older image than expected",
      1,
      (o) => {
        o.expected[KEY] = "sha256:cccccccccccccccc";
        return o;
      },
      /runs bbbbbbbbbbbb, expected cccccccccccc/,
    ],
    [
      "2: an older image returns with no alarm and nothing bad about the newer one",
      2,
      (o) => {
        o.services[0]!.primaries.push({ at: 30, images: [A], cause: "update" });
        return o;
      },
      /aaaaaaaaaaaa became PRIMARY after the newer bbbbbbbbbbbb/,
    ],
    [
      "2: the older push lands after the newer one (a lost race)",
      2,
      (o) => {
        o.services[0]!.primaries = [
          { at: 0, images: [SEED], cause: "create" },
          { at: 10, images: [B], cause: "update" },
          { at: 20, images: [A], cause: "update" },
        ];
        return o;
      },
      /aaaaaaaaaaaa became PRIMARY after the newer/,
    ],
    [
      "3: a deployment's final word never arrived",
      3,
      (o) => {
        o.messages = o.messages.filter((m) => m.deploymentId !== "d-b" || m.status !== "verified");
        return o;
      },
      /d-b .* got 0 final messages at hook/,
    ],
    [
      "3: two different final words for one deployment",
      3,
      (o) => {
        o.messages.push({ destination: "hook", deploymentId: "d-b", status: "timed_out", deliveryId: "4" });
        return o;
      },
      /d-b .* got 2 final messages at hook: verified, timed_out/,
    ],
    [
      "3: Slack shows the same final word twice",
      3,
      (o) => {
        o.destinations["shop/staging"] = [{ name: "slack", kind: "slack" }];
        o.messages = [
          { destination: "slack", deploymentId: "d-a", status: "superseded" },
          { destination: "slack", deploymentId: "d-b", status: "verified" },
          { destination: "slack", deploymentId: "d-b", status: "verified" },
        ];
        return o;
      },
      /d-b .* got 2 final messages at slack/,
    ],
    [
      "3: a rollback reported as success",
      3,
      (o) => {
        const r = rolledBack(o);
        r.messages[2]!.status = "verified";
        return r;
      },
      /reported verified at hook, but ECS rolled it back \(a rollback reported as success\)/,
    ],
    [
      "3: rolled back, while ECS rolled the rollback back and the rejected image runs at rest",
      3,
      (o) => {
        const r = rolledBack(o);
        r.services[0]!.primaries.push({ at: 40, images: [B], cause: "alarm-rollback" });
        return r;
      },
      /d-b .* reported rolled_back at hook, but the service runs it at rest \(the rollback did not hold\)/,
    ],
    [
      "3: a rollback in progress reported superseded (its final word loses the alarm)",
      3,
      (o) => {
        const r = rolledBack(o);
        r.messages.splice(2, 0, { destination: "hook", deploymentId: "d-b", status: "rolling_back", deliveryId: "2b" });
        r.messages.at(-1)!.status = "superseded";
        r.pushes.push({ digest: "sha256:cccccccccccccccc", repository: "shop/web", bad: false });
        return r;
      },
      /d-b .* reported superseded at hook, but it was being rolled back, and a rollback ends rolled back, failed or timed out/,
    ],
    [
      "3: verified although ECS never completed it",
      3,
      (o) => {
        o.services[0]!.completed = [A];
        return o;
      },
      /reported verified .* ECS never completed rolling it out/,
    ],
    [
      "3: superseded although nothing newer was pushed",
      3,
      (o) => {
        o.deployments[1]!.status = "superseded";
        o.messages[2]!.status = "superseded";
        return o;
      },
      /d-b .* reported superseded .* no newer image was pushed/,
    ],
    [
      "4: a deployment still in progress after the sweeper passed its deadline",
      4,
      (o) => {
        o.deployments[1]!.status = "started";
        return o;
      },
      /d-b .* is still started, past its deadline/,
    ],
    [
      "5: bad input, and something was written",
      5,
      (o) => {
        o.badInput = true;
        return o;
      },
      /3 AWS writes: RegisterTaskDefinition, UpdateService, TransactWriteItems/,
    ],
    [
      "6: a revision registered twice for one deployment (its invocation died in UpdateService), the first named nowhere",
      6,
      (o) => {
        o.registered.push(revision(44));
        o.deployments[1]!.taskDefinition = revision(44);
        return o;
      },
      /shop-web-staging:43 is named by no deployment record/,
    ],
    [
      "6: the image that lost a race registered a revision",
      6,
      (o) => {
        o.deployments[0]!.taskDefinition = undefined;
        return o;
      },
      /shop-web-staging:42 is named by no deployment record/,
    ],
  ];

  it.each(broken)("catches %s", (...[, invariant, spoil, detail]: Case) => {
    const verdict = verdictOf(spoil(good()), invariant);
    expect(verdict.held).toBe(false);
    expect(verdict.detail).toMatch(detail);
  });

  type HeldCase = [string, number, (o: Observation) => Observation];
  const held: HeldCase[] = [
    [
      "2: ECS's own rollback to an older image",
      2,
      (o) => {
        o.services[0]!.primaries.push({ at: 30, images: [A], cause: "ecs-rollback" });
        return o;
      },
    ],
    [
      "2: a return away from an image that cannot run",
      2,
      (o) => {
        o.pushes[1]!.bad = true;
        o.services[0]!.primaries.push({ at: 30, images: [A], cause: "update" });
        return o;
      },
    ],
    [
      "3: a webhook redelivery with the same delivery id (the receiver deduplicates)",
      3,
      (o) => {
        o.messages.push({ ...o.messages[2]! });
        return o;
      },
    ],
    [
      "4: a deployment still in progress before its deadline",
      4,
      (o) => {
        o.deployments[1]!.status = "started";
        o.deployments[1]!.deadline = "2026-11-29T12:00:00.000Z";
        return o;
      },
    ],
    [
      "5: bad input, nothing written",
      5,
      (o) => {
        o.badInput = true;
        o.writes = [];
        return o;
      },
    ],
  ];

  it.each(held)("does not cry wolf: %s", (...[, invariant, spoil]: HeldCase) => {
    expect(verdictOf(spoil(good()), invariant)).toMatchObject({ held: true, detail: "" });
  });
});

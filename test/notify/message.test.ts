import { changesToNotify, formatElapsed, type DeploymentNotification, type Notification } from "../../shared/notify/message";
import type { DeploymentStatus, PromotionRecord, StoredRecord } from "../../shared/records/model";
import { build, deployment, DIGEST, moved } from "./records";

const pending = deployment();
const started = moved(pending, "started");
const completed = moved(started, "completed");
const rollingBack = moved(completed, "rolling_back", "alarm shop-staging-web-5xx is in ALARM");
const rolledBack = moved(rollingBack, "rolled_back", "alarm shop-staging-web-5xx is in ALARM");

function only(changes: Notification[]): DeploymentNotification {
  expect(changes).toHaveLength(1);
  const [n] = changes;
  if (n?.kind !== "deployment") throw new Error("expected one deployment notification");
  return n;
}

describe("changesToNotify: deployment status changes", () => {
  it.each<[DeploymentStatus, string, Notification["severity"], string]>([
    ["started", "deployment.started", "info", "shop-web → staging: deploying"],
    ["completed", "deployment.completed", "info", "shop-web → staging: rolled out, watching alarms"],
    ["rolling_back", "deployment.rolling_back", "warning", "shop-web → staging: rolling back"],
    ["verified", "deployment.verified", "success", "shop-web → staging: deployed and verified"],
    ["failed", "deployment.failed", "failure", "shop-web → staging: deployment failed"],
    ["rolled_back", "deployment.rolled_back", "failure", "shop-web → staging: rolled back, deployment failed"],
    ["timed_out", "deployment.timed_out", "failure", "shop-web → staging: timed out, deployment failed"],
    ["superseded", "deployment.superseded", "warning", "shop-web → staging: superseded by a newer image"],
    ["refused", "deployment.refused", "warning", "shop-web → staging: refused, not deployed"],
  ])("announces a move to %s as %s (%s)", (status, event, severity, title) => {
    const before = status === "started" ? pending : started;
    const n = only(changesToNotify(before, moved(before, status, "because")));
    expect(n).toMatchObject({ event, severity, title, deliveryId: `d-3f9c2a1b4e5d:${status}` });
    expect(n.summary).toContain("Reason: because");
    expect(n.deployment.reason).toBe("because");
  });

  it("says nothing about a move to pending", () => {
    expect(changesToNotify(started, moved(started, "pending"))).toEqual([]);
  });

  it("announces an INSERT in a notified status (a refusal written at once)", () => {
    const refused = moved(pending, "refused", "alarm shop-staging-web-5xx was already in ALARM");
    const n = only(changesToNotify(undefined, refused));
    expect(n.event).toBe("deployment.refused");
    expect(n.summary).toContain("alarm shop-staging-web-5xx was already in ALARM");
  });

  it("says nothing about an INSERT as pending", () => {
    expect(changesToNotify(undefined, pending)).toEqual([]);
  });

  it.each<[string, StoredRecord, StoredRecord]>([
    ["started", started, { ...started }],
    ["completed", completed, { ...completed }],
    ["rolled_back", rolledBack, { ...rolledBack }],
  ])("says nothing when a %s record is written again unchanged (a duplicate)", (_, before, after) => {
    expect(changesToNotify(before, after)).toEqual([]);
  });

  it("says nothing when only other fields change (lease, version)", () => {
    expect(changesToNotify(started, { ...started, leaseUntil: 1772442660000, updatedAt: "2026-03-02T09:11:00.000Z", version: 9 })).toEqual([]);
  });

  it("says nothing on REMOVE", () => {
    expect(changesToNotify(rolledBack, undefined)).toEqual([]);
  });

  it("gives the same delivery id when the same change is seen twice", () => {
    expect(changesToNotify(completed, rollingBack)[0]?.deliveryId).toBe(changesToNotify(completed, rollingBack)[0]?.deliveryId);
  });
});

describe("changesToNotify: what a deployment message says", () => {
  it("names cluster, service, region, image, digest, commit, revision, trigger and reason", () => {
    const n = only(changesToNotify(rollingBack, rolledBack));
    expect(n.summary).toBe(
      "shop/web:3f9c2a1 (4b1d09c2e8aa) was rolled back on shop-staging/web (eu-west-1): it is not running there. " +
        "Reason: alarm shop-staging-web-5xx is in ALARM",
    );
    expect(n.deployment).toMatchObject({
      id: "d-3f9c2a1b4e5d",
      app: "shop-web",
      env: "staging",
      region: "eu-west-1",
      cluster: "shop-staging",
      service: "web",
      repository: "shop/web",
      tag: "3f9c2a1",
      digest: DIGEST,
      shortDigest: "4b1d09c2e8aa",
      commit: "3f9c2a1d8e7b6a5c4d3e2f1a0b9c8d7e6f5a4b3c",
      revision: 42,
      status: "rolled_back",
      trigger: "push",
      triggeredBy: "push",
    });
  });

  it("links the ECS console deployments page of the service", () => {
    const n = only(changesToNotify(rollingBack, rolledBack));
    expect(n.links.ecsConsole).toBe("https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/shop-staging/services/web/deployments?region=eu-west-1");
    expect(n.links.buildLogs).toBeUndefined();
  });

  it("links the build logs when the image came from a build", () => {
    const fromBuild = { ...started, trigger: "build" as const, buildUrl: "https://eu-west-1.console.aws.amazon.com/codesuite/codebuild/x/log" };
    const n = only(changesToNotify(fromBuild, moved(fromBuild, "completed")));
    expect(n.links.buildLogs).toBe("https://eu-west-1.console.aws.amazon.com/codesuite/codebuild/x/log");
    expect(n.deployment.triggeredBy).toBe("build");
  });

  it("measures the duration from the start to the status change", () => {
    // started 09:10:08, rolled back 09:19:50
    expect(only(changesToNotify(rollingBack, rolledBack)).deployment).toMatchObject({ durationSeconds: 582, duration: "9m 42s" });
  });

  it("measures from creation when ECS was never asked", () => {
    const refused = moved(pending, "refused", "alarm firing", "2026-03-02T09:10:07.000Z");
    expect(only(changesToNotify(pending, refused)).deployment.duration).toBe("2s");
  });

  it("tells until when alarms are watched once completed", () => {
    const n = only(changesToNotify(started, completed));
    expect(n.summary).toContain("watching alarms until 09:19 UTC");
    expect(n.deployment.watchUntil).toBe("2026-03-02T09:19:20.000Z");
  });

  it("names the environment a promotion came from", () => {
    const promoted = deployment({
      env: "production",
      cluster: "shop-prod",
      trigger: "promotion",
      promotedFrom: { env: "staging", deploymentId: "d-3f9c2a1b4e5d" },
    });
    const n = only(changesToNotify(promoted, moved(promoted, "started")));
    expect(n.deployment).toMatchObject({ trigger: "promotion", promotedFrom: "staging", triggeredBy: "promotion from staging" });
    expect(n.title).toBe("shop-web → production: deploying");
  });

  it("shows the image by digest when the push had no tag", () => {
    const untagged = deployment({ tag: undefined });
    expect(only(changesToNotify(untagged, moved(untagged, "started"))).summary).toContain("shop/web@sha256:4b1d09c2e8aa");
  });

  it("takes the reason of the status change from history before the record's last reason", () => {
    const r = { ...moved(rollingBack, "rolled_back", "ECS circuit breaker: 3 tasks failed to start"), reason: "older reason" };
    expect(only(changesToNotify(rollingBack, r)).deployment.reason).toBe("ECS circuit breaker: 3 tasks failed to start");
  });

  it("never reads a rollback as success", () => {
    for (const status of ["rolled_back", "failed", "timed_out"] as const) {
      const n = only(changesToNotify(completed, moved(completed, status)));
      expect(n.severity).toBe("failure");
      expect(`${n.title} ${n.summary}`).not.toMatch(/success|succeeded|verified|stable|healthy/i);
    }
  });

  it("carries only the named facts: no template variables, task definition or alarm lists", () => {
    const n = only(changesToNotify(rollingBack, rolledBack));
    const text = JSON.stringify(n);
    expect(text).not.toContain("task-definition/");
    expect(text).not.toContain("ecs-svc/");
    expect(text).not.toContain("repositoryUri");
    expect(text).not.toContain("123456789012");
  });
});

describe("changesToNotify: warnings", () => {
  it("sends one message per appended warning, with stable ids by position", () => {
    const one = { ...started, warnings: [{ at: "2026-03-02T09:10:07.000Z", message: "alarm shop-staging-web-5xx was already in ALARM; deploying anyway" }] };
    const two = { ...one, warnings: [...one.warnings, { at: "2026-03-02T09:10:09.000Z", message: "tasks are slow to start" }] };
    const first = changesToNotify(started, one);
    expect(first.map((n) => [n.event, n.deliveryId, n.severity])).toEqual([["deployment.warning", "d-3f9c2a1b4e5d:warning:0", "warning"]]);
    expect(first[0]?.summary).toContain("alarm shop-staging-web-5xx was already in ALARM; deploying anyway");
    expect(changesToNotify(one, two).map((n) => n.deliveryId)).toEqual(["d-3f9c2a1b4e5d:warning:1"]);
    expect(changesToNotify(two, { ...two })).toEqual([]);
  });

  it("sends a warning and a status change of one write in the order they happened", () => {
    const warned = { ...moved(pending, "started"), warnings: [{ at: "2026-03-02T09:10:06.000Z", message: "alarm already firing" }] };
    expect(changesToNotify(pending, warned).map((n) => n.event)).toEqual(["deployment.warning", "deployment.started"]);
  });

  it("sends every warning of an inserted record", () => {
    const inserted = {
      ...pending,
      warnings: [
        { at: "2026-03-02T09:10:05.000Z", message: "a" },
        { at: "2026-03-02T09:10:05.000Z", message: "b" },
      ],
    };
    expect(changesToNotify(undefined, inserted).map((n) => n.deliveryId)).toEqual(["d-3f9c2a1b4e5d:warning:0", "d-3f9c2a1b4e5d:warning:1"]);
  });
});

describe("changesToNotify: builds", () => {
  it("sends one build.failed message when a failed build is recorded", () => {
    const [n, ...rest] = changesToNotify(undefined, build());
    expect(rest).toEqual([]);
    expect(n).toMatchObject({
      kind: "build",
      event: "build.failed",
      deliveryId: "build:shop-web:0f5d6b32-8a4c-4c0e-9a59-8d1f3f7c2b11",
      severity: "failure",
      title: "shop-web: build shop-web #118 failed",
      links: { buildLogs: build().logsUrl },
    });
    expect(n?.summary).toBe(
      "CodeBuild shop-web #118 failed in phase BUILD; Stevedore deploys nothing from this build. " +
        "Reason: COMMAND_EXECUTION_ERROR: Error while executing command: npm test. Reason: exit status 1",
    );
  });

  it("says how a build ended when it did not simply fail", () => {
    expect(changesToNotify(undefined, build({ status: "TIMED_OUT", phase: undefined, phaseContext: undefined }))[0]?.summary).toBe(
      "CodeBuild shop-web #118 timed out; Stevedore deploys nothing from this build.",
    );
  });

  it("names the image a build pushed before it failed, and never says it deployed nothing", () => {
    const digest = `sha256:6ad162fdae82${"a".repeat(52)}`;
    const [n] = changesToNotify(undefined, build({ phase: "POST_BUILD", phaseContext: undefined, digest }));
    expect(n?.summary).toBe(
      "CodeBuild shop-web #118 failed in phase POST_BUILD; it had pushed image 6ad162fdae82, which Stevedore deploys nowhere and rolls back wherever its push already started it.",
    );
    expect(n).toMatchObject({ build: { digest } });
  });

  it("names a stopped build's event build.stopped, not build.failed", () => {
    expect(changesToNotify(undefined, build({ status: "STOPPED" }))[0]).toMatchObject({
      event: "build.stopped",
      title: "shop-web: build shop-web #118 was stopped",
    });
    expect(changesToNotify(undefined, build({ status: "FAULT" }))[0]).toMatchObject({ event: "build.failed" });
  });

  it("says nothing when a build record is modified or removed", () => {
    expect(changesToNotify(build(), { ...build(), logsUrl: "https://example.com/x" })).toEqual([]);
    expect(changesToNotify(build(), undefined)).toEqual([]);
  });
});

describe("changesToNotify: promotions", () => {
  const waiting: PromotionRecord = {
    kind: "promotion",
    id: "p-0a1b2c3d4e5f",
    app: "shop-worker",
    from: "staging",
    to: "production",
    repository: "shop/worker",
    repositoryUri: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/worker",
    digest: DIGEST,
    tag: "v1.4.0",
    pushedAt: "2026-03-02T09:00:00.000Z",
    pushKey: `2026-03-02T09:00:00.000Z#${DIGEST}`,
    sourceDeploymentIds: ["d-1", "d-2"],
    status: "awaiting_approval",
    requestedAt: "2026-03-02T09:30:00.000Z",
    expiresAt: "2026-03-04T09:30:00.000Z",
    history: [{ status: "awaiting_approval", at: "2026-03-02T09:30:00.000Z" }],
    version: 1,
  };
  const decided = (status: PromotionRecord["status"], by?: string, reason?: string): PromotionRecord => ({
    ...waiting,
    status,
    decidedBy: by,
    version: 2,
    history: [...waiting.history, { status, at: "2026-03-02T10:00:00.000Z", by, reason }],
  });

  it("asks for approval with the commands that give it, once", () => {
    const [n] = changesToNotify(undefined, waiting);
    expect(n).toMatchObject({
      kind: "promotion",
      event: "promotion.awaiting_approval",
      deliveryId: "p-0a1b2c3d4e5f:awaiting_approval",
      title: "shop-worker → production: waiting for approval",
      promotion: {
        approveCommand: "npm run stevedore -- approve shop-worker p-0a1b2c3d4e5f",
        rejectCommand: "npm run stevedore -- reject shop-worker p-0a1b2c3d4e5f",
      },
    });
    expect(n?.summary).toContain("is verified in staging and waits for approval to go to production");
    expect(changesToNotify(waiting, { ...waiting, version: 2 })).toEqual([]);
  });

  it.each([
    ["approved", "alice", undefined, "info", "promotion from staging to production approved, deploying by alice"],
    ["rejected", "bob", "needs the migration first", "warning", "Reason: needs the migration first"],
    ["expired", undefined, "nobody decided within 48h", "warning", "approval expired, not deployed"],
  ] as const)("tells who %s it and why, without the commands", (status, by, reason, severity, text) => {
    const [n] = changesToNotify(waiting, decided(status, by, reason));
    expect(n).toMatchObject({ event: `promotion.${status}`, severity });
    expect(n?.summary).toContain(text);
    expect(n?.kind === "promotion" && n.promotion.approveCommand).toBeFalsy();
  });
});

describe("changesToNotify: other items", () => {
  it.each([
    ["a head item without kind", { app: "shop-web", digest: DIGEST }],
    ["an unknown future kind", { kind: "approval", app: "shop-web" }],
  ])("ignores %s quietly", (_, item) => {
    expect(changesToNotify(undefined, item as unknown as StoredRecord)).toEqual([]);
    expect(changesToNotify(item as unknown as StoredRecord, item as unknown as StoredRecord)).toEqual([]);
  });
});

describe("formatElapsed", () => {
  it.each([
    [0, "0s"],
    [45, "45s"],
    [252, "4m 12s"],
    [3600, "1h 0m"],
    [3780, "1h 3m"],
  ])("formats %i s as %s", (s, text) => {
    expect(formatElapsed(s)).toBe(text);
  });
});

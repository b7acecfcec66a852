// The deployment state machine over sequences of facts: duplicates, reordering, late events,
// rollbacks during the rollout and in the watch window, alarms after it, timeouts, supersession.
// Event ids and reasons are those of test/events (ECS's real shapes).
import { changesToNotify } from "../../shared/notify/message";
import { isFinal, type DeploymentRecord } from "../../shared/records/model";
import { decide, type Action, type Fact } from "../../shared/records/state";

const OURS = "ecs-svc/4587293610274518230";
const ECS_ROLLBACK = "ecs-svc/8812044957315520741";
const OUR_ROLLBACK = "ecs-svc/9000000000000000001";
const STARTED = "2026-11-20T09:14:07.000Z";
const PREVIOUS = "arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-web-production:41";

function started(patch: Partial<DeploymentRecord> = {}): DeploymentRecord {
  return {
    kind: "deployment",
    id: "d-0123456789ab",
    app: "shop-web",
    env: "production",
    region: "eu-west-1",
    cluster: "shop-prod",
    service: "web",
    targetKey: "eu-west-1/shop-prod/web",
    repository: "shop/web",
    repositoryUri: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/web",
    digest: "sha256:5b0d3c7a9e1f24b6c8d0e2f4a6b8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a2b4",
    tag: "3f9c2ab",
    pushedAt: "2026-11-20T09:14:05.000Z",
    pushKey: "2026-11-20T09:14:05.000Z#sha256:5b0d",
    trigger: "push",
    status: "started",
    history: [
      { status: "pending", at: "2026-11-20T09:14:05.000Z" },
      { status: "started", at: STARTED },
    ],
    warnings: [],
    createdAt: "2026-11-20T09:14:05.000Z",
    updatedAt: STARTED,
    startedAt: STARTED,
    deadline: "2026-11-20T09:44:05.000Z",
    watchSeconds: 300,
    onTimeout: "report",
    alarms: ["shop-prod-web-5xx"],
    replacesTaskDefinition: PREVIOUS,
    taskDefinitionArn: PREVIOUS.replace(":41", ":42"),
    ecsDeploymentId: OURS,
    serviceDeploymentArn: "arn:aws:ecs:eu-west-1:123456789012:service-deployment/shop-prod/web/abc",
    version: 2,
    ...patch,
  };
}

const ecs = (event: "IN_PROGRESS" | "COMPLETED" | "FAILED", deploymentId: string, at: string, reason?: string): Fact => ({
  kind: "ecs",
  event,
  deploymentId,
  at,
  reason,
});
const inProgress = ecs("IN_PROGRESS", OURS, "2026-11-20T09:14:08.512Z", `ECS deployment ${OURS} in progress.`);
const completed = ecs("COMPLETED", OURS, "2026-11-20T09:17:51.903Z", `ECS deployment ${OURS} completed.`);
const failed = ecs("FAILED", OURS, "2026-11-20T09:21:29.744Z", "ECS deployment circuit breaker: tasks failed to start.");
const rollbackStarts = ecs(
  "IN_PROGRESS",
  ECS_ROLLBACK,
  "2026-11-20T09:21:30.118Z",
  "ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/6120398457102938475.",
);
const rollbackDone = ecs("COMPLETED", ECS_ROLLBACK, "2026-11-20T09:23:02.000Z", `ECS deployment ${ECS_ROLLBACK} completed.`);
const WALL = Date.parse("2026-11-20T10:00:00.000Z");
// While our rollback (OUR_ROLLBACK, an UpdateService to the previous revision) rolls out:
const watchAlarm = () => alarm("2026-11-20T09:20:00.000Z");
const reRollback = ecs(
  "IN_PROGRESS",
  "ecs-svc/5550000000000000005",
  "2026-11-20T09:21:10.000Z",
  "ECS deployment alarms: rolling back to deploymentId ecs-svc/4587293610274518230.",
);
const reRollbackDone = ecs("COMPLETED", "ecs-svc/5550000000000000005", "2026-11-20T09:22:10.000Z");
const newer: Fact = { kind: "superseded", at: "2026-11-20T09:20:30.000Z", by: "4e5d6c7 (abc, record d-newer)" };
const newerStarts = ecs("IN_PROGRESS", "ecs-svc/6660000000000000006", "2026-11-20T09:20:32.000Z", "ECS deployment ecs-svc/6660000000000000006 in progress.");
const alarm = (at: string, name = "shop-prod-web-5xx", wallNow = WALL): Fact => ({
  kind: "alarm",
  at,
  alarm: name,
  reason: "Threshold Crossed: 2 out of the last 2 datapoints were greater than the threshold (10.0)",
  wallNow,
  leaseUntil: wallNow + 60_000,
});
const rejected = (at: string): Fact => ({
  kind: "rejected",
  at,
  reason: "its build shop-web #129 failed in POST_BUILD after pushing this image",
  wallNow: WALL,
  leaseUntil: WALL + 60_000,
});
const sweep = (at: string, wallNow = Date.parse(at), alarms?: { name: string; state: string; since?: string }[]): Fact => ({
  kind: "sweep",
  at,
  wallNow,
  leaseUntil: wallNow + 60_000,
  alarms,
});

/** A sweep after the watch window, for an image of an app CodeBuild builds: what its build said so far. */
const sweepAfterBuild = (at: string, word: "running" | "accepted" | "rejected" | "unknown" | "none"): Fact => ({
  ...(sweep(at) as Extract<Fact, { kind: "sweep" }>),
  build: {
    project: "shop-web",
    ...(word === "running" ? { running: "shop-web:b-130" } : {}),
    ...(word === "unknown" ? { unknown: "AccessDeniedException: not authorized" } : {}),
    ...(word === "accepted" || word === "rejected"
      ? {
          verdict: {
            repository: "shop/web",
            digest: started().digest,
            verdict: word,
            project: "shop-web",
            buildId: "shop-web:b-129",
            buildNumber: 129,
            at: "2026-11-20T09:22:00.000Z",
            ...(word === "rejected" ? { reason: "its build shop-web #129 failed in POST_BUILD after pushing this image" } : {}),
          },
        }
      : {}),
  },
});

/** Applies facts in order; what ECS would be asked to do is collected, and answered as ECS would. */
function run(record: DeploymentRecord, facts: Fact[]): { record: DeploymentRecord; records: DeploymentRecord[]; actions: Action["type"][] } {
  const records = [record];
  const actions: Action["type"][] = [];
  let current = record;
  for (const fact of facts) {
    const outcome = decide(current, fact);
    current = outcome.record;
    records.push(current);
    for (const action of outcome.actions) {
      actions.push(action.type);
      // What the rollback executor records after ECS accepted the call.
      if (action.type !== "resume" && !isFinal(current.status)) {
        expect(current.status).toBe("rolling_back"); // the decision is written before ECS is asked
        current = decide(current, {
          kind: "rollback-started",
          at: fact.at,
          reason: action.reason,
          rollbackDeploymentId: action.type === "redeploy-previous" ? OUR_ROLLBACK : undefined,
        }).record;
        records.push(current);
      }
    }
  }
  return { record: current, records, actions };
}

/** The final notifications people would get from this sequence of record versions. */
function finalMessages(records: DeploymentRecord[]): string[] {
  return records
    .slice(1)
    .flatMap((r, i) => changesToNotify(records[i], r))
    .filter((n) => n.kind === "deployment" && isFinal(n.deployment.status))
    .map((n) => n.event);
}

describe("deployment state machine", () => {
  it.each<[string, string, Fact[], Action["type"][], string?]>([
    ["a clean rollout, then a quiet watch window", "verified", [inProgress, completed, sweep("2026-11-20T09:22:52.000Z")], []],
    ["the sweeper before the window ends leaves it completed", "completed", [inProgress, completed, sweep("2026-11-20T09:22:51.000Z")], []],
    [
      "every event delivered twice",
      "verified",
      [inProgress, inProgress, completed, completed, sweep("2026-11-20T09:30:00.000Z"), sweep("2026-11-20T09:31:00.000Z")],
      [],
    ],
    ["COMPLETED before IN_PROGRESS: the late IN_PROGRESS never undoes it", "verified", [completed, inProgress, sweep("2026-11-20T09:30:00.000Z")], []],
    [
      "circuit breaker: FAILED, then ECS's rollback runs and completes",
      "rolled_back",
      [inProgress, failed, rollbackStarts, rollbackDone],
      [],
      "circuit breaker: tasks failed to start",
    ],
    ["circuit breaker, the rollback's IN_PROGRESS first", "rolled_back", [inProgress, rollbackStarts, failed, rollbackDone], [], "circuit breaker"],
    [
      "circuit breaker, the rollback's COMPLETED before its IN_PROGRESS",
      "rolled_back",
      [inProgress, failed, rollbackDone, rollbackStarts],
      [],
      "circuit breaker",
    ],
    ["circuit breaker, the rollback's COMPLETED before our FAILED", "rolled_back", [inProgress, rollbackDone, failed, rollbackStarts], [], "circuit breaker"],
    [
      "a rollback is never success, even when COMPLETED comes last",
      "rolled_back",
      [inProgress, failed, rollbackStarts, rollbackDone, completed, sweep("2026-11-20T10:00:00.000Z")],
      [],
    ],
    [
      "an alarm during the rollout: ours is stopped and rolled back",
      "rolled_back",
      [inProgress, alarm("2026-11-20T09:16:00.000Z"), rollbackStarts, rollbackDone],
      ["stop-deployment"],
      "alarm shop-prod-web-5xx fired",
    ],
    [
      "an alarm inside the watch window: the replaced revision comes back",
      "rolled_back",
      [inProgress, completed, alarm("2026-11-20T09:20:00.000Z"), ecs("COMPLETED", OUR_ROLLBACK, "2026-11-20T09:24:00.000Z")],
      ["redeploy-previous"],
      "alarm shop-prod-web-5xx fired",
    ],
    [
      "an alarm after the watch window changes nothing",
      "verified",
      [inProgress, completed, alarm("2026-11-20T09:23:00.000Z"), sweep("2026-11-20T09:24:00.000Z")],
      [],
    ],
    ["an alarm that does not guard this service changes nothing", "completed", [inProgress, alarm("2026-11-20T09:16:00.000Z", "billing-5xx"), completed], []],
    [
      "the same alarm twice rolls back once",
      "rolling_back",
      [inProgress, completed, alarm("2026-11-20T09:20:00.000Z"), alarm("2026-11-20T09:20:30.000Z")],
      ["redeploy-previous"],
    ],
    [
      "ECS rolls back on its own alarm, then ours arrives: one rollback, with the alarm named",
      "rolled_back",
      [inProgress, rollbackStarts, alarm("2026-11-20T09:21:31.000Z"), rollbackDone],
      [],
      "alarm shop-prod-web-5xx fired",
    ],
    [
      "our rollback fails too",
      "failed",
      [inProgress, completed, alarm("2026-11-20T09:20:00.000Z"), ecs("FAILED", OUR_ROLLBACK, "2026-11-20T09:25:00.000Z", "tasks failed to start")],
      ["redeploy-previous"],
      "the rollback failed too",
    ],
    [
      "ECS rolls our rollback back (a flapping alarm): failed, and says the rejected image runs",
      "failed",
      [inProgress, completed, watchAlarm(), reRollback, reRollbackDone],
      ["redeploy-previous"],
      "the rejected image runs there again",
    ],
    [
      "the re-rollback's COMPLETED before its IN_PROGRESS is never taken for ours",
      "failed",
      [inProgress, completed, watchAlarm(), reRollbackDone, reRollback],
      ["redeploy-previous"],
      "ECS rolled the rollback (ecs-svc/9000000000000000001) back",
    ],
    [
      "a newer image claims the service while ours rolls back: followed, then rolled back",
      "rolled_back",
      [inProgress, completed, watchAlarm(), newer, ecs("COMPLETED", OUR_ROLLBACK, "2026-11-20T09:20:31.000Z")],
      ["redeploy-previous"],
      "alarm shop-prod-web-5xx fired",
    ],
    [
      "the newer image replaces our rollback before it completes: failed, with the alarm",
      "failed",
      [inProgress, completed, watchAlarm(), newer, newerStarts],
      ["redeploy-previous"],
      "alarm shop-prod-web-5xx fired: Threshold Crossed: 2 out of the last 2 datapoints were greater than the threshold (10.0); the rollback did not complete: the newer image 4e5d6c7",
    ],
    [
      "a newer image during ECS's own rollback: ECS's rollback is still recognised",
      "rolled_back",
      [inProgress, failed, newer, rollbackStarts, rollbackDone],
      [],
      "circuit breaker",
    ],
    [
      "its build failed after pushing, during the rollout: stopped and rolled back",
      "rolled_back",
      [inProgress, rejected("2026-11-20T09:15:00.000Z"), rollbackStarts, rollbackDone],
      ["stop-deployment"],
      "its build shop-web #129 failed in POST_BUILD",
    ],
    [
      "its build failed after pushing, after the watch window too: the replaced revision comes back",
      "rolled_back",
      [inProgress, completed, rejected("2026-11-20T09:40:00.000Z"), ecs("COMPLETED", OUR_ROLLBACK, "2026-11-20T09:41:00.000Z")],
      ["redeploy-previous"],
      "its build shop-web #129 failed",
    ],
    [
      "its build's failure after the image was verified changes nothing (final)",
      "verified",
      [inProgress, completed, sweep("2026-11-20T09:23:00.000Z"), rejected("2026-11-20T09:40:00.000Z")],
      [],
    ],
    [
      "the watch ends while its build still runs: it waits, and is verified once the build succeeded",
      "verified",
      [inProgress, completed, sweepAfterBuild("2026-11-20T09:23:00.000Z", "running"), sweepAfterBuild("2026-11-20T09:24:00.000Z", "accepted")],
      [],
    ],
    [
      "a build still running never lets the deadline time a completed rollout out",
      "completed",
      [inProgress, completed, sweepAfterBuild("2026-11-20T09:50:00.000Z", "running")],
      [],
    ],
    [
      "its build failed after pushing, and only the sweep learnt it: the replaced revision comes back",
      "rolled_back",
      [inProgress, completed, sweepAfterBuild("2026-11-20T09:23:00.000Z", "rejected"), ecs("COMPLETED", OUR_ROLLBACK, "2026-11-20T09:24:00.000Z")],
      ["redeploy-previous"],
      "its build shop-web #129 failed",
    ],
    [
      "no build speaks for the image (pushed by hand): verified at the window's end",
      "verified",
      [inProgress, completed, sweepAfterBuild("2026-11-20T09:23:00.000Z", "none")],
      [],
    ],
    ["no outcome before the deadline", "timed_out", [inProgress, sweep("2026-11-20T09:44:05.000Z")], [], "deadline"],
    [
      "a rollback that does not finish before its own deadline (start + the 30-minute budget)",
      "timed_out",
      [inProgress, failed, sweep("2026-11-20T09:45:00.000Z"), sweep("2026-11-20T09:51:30.000Z")],
      [],
      "rollback did not finish",
    ],
    [
      "another deployment of the service that Stevedore did not start",
      "superseded",
      [inProgress, ecs("IN_PROGRESS", "ecs-svc/777", "2026-11-20T09:15:00.000Z", "ECS deployment ecs-svc/777 in progress.")],
      [],
      "which Stevedore did not start",
    ],
    [
      "events of an older deployment are ignored",
      "started",
      [
        ecs("IN_PROGRESS", "ecs-svc/111", "2026-11-20T09:00:00.000Z", "ECS deployment ecs-svc/111 in progress."),
        ecs("COMPLETED", "ecs-svc/111", "2026-11-20T09:05:00.000Z"),
      ],
      [],
    ],
    [
      "a newer image supersedes it; its later events change nothing",
      "superseded",
      [inProgress, { kind: "superseded", at: "2026-11-20T09:15:00.000Z", by: "4e5d6c7 (abc)" }, completed, sweep("2026-11-20T10:00:00.000Z")],
      [],
    ],
  ])("%s → %s", (...[, status, facts, actions, reason]) => {
    const result = run(started(), facts);
    expect(result.record.status).toBe(status);
    expect(result.actions).toEqual(actions);
    if (reason) expect(result.record.reason).toContain(reason);
    if (isFinal(status as DeploymentRecord["status"])) expect(finalMessages(result.records)).toEqual([`deployment.${status}`]);
  });

  describe("the gap between Stevedore's alarm check and ECS's start", () => {
    const checked = started({ alarmsCheckedAt: "2026-11-20T09:14:05.500Z" });

    it("rolls back for an alarm that went off after the check, though before ECS started (ECS ignores it)", () => {
      const result = run(checked, [alarm("2026-11-20T09:14:06.000Z"), rollbackStarts, rollbackDone]);
      expect(result.actions).toEqual(["stop-deployment"]);
      expect(result.record).toMatchObject({ status: "rolled_back", reason: expect.stringContaining("alarm shop-prod-web-5xx fired") });
    });

    it("ignores an alarm that went off before the check (it was firing then: refused or warned about)", () => {
      expect(run(checked, [alarm("2026-11-20T09:14:05.000Z")]).record.status).toBe("started");
    });

    it("never verifies while a guarding alarm that went off after the check fires, whenever it went off", () => {
      const done = run(checked, [inProgress, completed]).record;
      const firing = (since: string) => sweep("2026-11-20T09:23:00.000Z", WALL, [{ name: "shop-prod-web-5xx", state: "ALARM", since }]);
      expect(decide(done, firing("2026-11-20T09:14:06.000Z")).actions).toEqual([expect.objectContaining({ type: "redeploy-previous" })]);
      expect(decide(done, firing("2026-11-20T09:22:55.000Z")).record.status).toBe("completed"); // after the window: held, not verified
      expect(decide(done, firing("2026-11-20T09:14:05.000Z")).record.status).toBe("verified"); // firing at the check, warned about
    });
  });

  it("verifies when CodeBuild could not be asked about the image's build, with a warning that says so", () => {
    const { record } = run(started(), [inProgress, completed, sweepAfterBuild("2026-11-20T09:23:00.000Z", "unknown")]);
    expect(record.status).toBe("verified");
    expect(record.warnings).toEqual([
      {
        at: "2026-11-20T09:23:00.000Z",
        message:
          "could not ask CodeBuild whether the build of shop-web that pushed this image succeeded (AccessDeniedException: not authorized); verified on its watch window alone",
      },
    ]);
  });

  it("sets the watch window from ECS's COMPLETED time, and verifies with no window at once", () => {
    expect(run(started(), [completed]).record.watchUntil).toBe("2026-11-20T09:22:51.903Z");
    expect(run(started({ watchSeconds: 0 }), [completed]).record.status).toBe("verified");
  });

  it("rolls back a timed-out rollout when the environment says so", () => {
    const result = run(started({ onTimeout: "rollback" }), [inProgress, sweep("2026-11-20T09:50:00.000Z")]);
    expect(result.record.status).toBe("timed_out");
    expect(result.actions).toEqual(["stop-deployment"]);
  });

  it("fails, never verifies, a deployment whose watch window saw an alarm with nothing to roll back to", () => {
    const result = run(started({ replacesTaskDefinition: undefined }), [completed, alarm("2026-11-20T09:20:00.000Z"), sweep("2026-11-20T10:00:00.000Z")]);
    expect(result.record).toMatchObject({ status: "failed", reason: expect.stringContaining("no earlier revision") });
  });

  it("resumes an abandoned claim only after its lease", () => {
    const pending = started({ status: "pending", ecsDeploymentId: undefined, startedAt: undefined, leaseUntil: 5_000 });
    expect(decide(pending, sweep("2026-11-20T09:15:00.000Z", 4_999)).actions).toEqual([]);
    expect(decide(pending, sweep("2026-11-20T09:15:00.000Z", 5_001)).actions).toEqual([{ type: "resume" }]);
  });

  describe("rolling back on an alarm", () => {
    const inWindow = run(started(), [inProgress, completed]).record;

    it("writes the decision before ECS is asked, so a second alarm at once does not roll back twice", () => {
      const first = decide(inWindow, alarm("2026-11-20T09:20:00.000Z"));
      expect(first.record).toMatchObject({ status: "rolling_back", rollback: { action: "redeploy-previous", leaseUntil: WALL + 60_000 } });
      expect(first.actions).toEqual([{ type: "redeploy-previous", taskDefinition: PREVIOUS, reason: expect.stringContaining("shop-prod-web-5xx") }]);
      const second = decide(first.record, alarm("2026-11-20T09:20:01.000Z", "shop-prod-web-5xx", WALL + 1000));
      expect(second.actions).toEqual([]);
    });

    it("acts again when the decision was never confirmed and its lease is over (its invocation died)", () => {
      const decided = decide(inWindow, alarm("2026-11-20T09:20:00.000Z")).record;
      const later = WALL + 61_000;
      expect(decide(decided, alarm("2026-11-20T09:21:00.000Z", "shop-prod-web-5xx", later)).actions).toEqual([
        expect.objectContaining({ type: "redeploy-previous" }),
      ]);
      expect(decide(decided, sweep("2026-11-20T09:21:00.000Z", later)).actions).toEqual([expect.objectContaining({ type: "redeploy-previous" })]);
      const confirmed = decide(decided, { kind: "rollback-started", at: "2026-11-20T09:20:02.000Z", reason: "x", rollbackDeploymentId: OUR_ROLLBACK }).record;
      expect(decide(confirmed, sweep("2026-11-20T09:21:00.000Z", later)).actions).toEqual([]);
    });

    it("takes the next deployment as our rollback even before ECS's answer confirmed it", () => {
      const decided = decide(inWindow, alarm("2026-11-20T09:20:00.000Z")).record;
      // The UpdateService our rollback makes says only "in progress", not "rolling back".
      const result = run(decided, [
        ecs("IN_PROGRESS", OUR_ROLLBACK, "2026-11-20T09:20:01.000Z", `ECS deployment ${OUR_ROLLBACK} in progress.`),
        ecs("COMPLETED", OUR_ROLLBACK, "2026-11-20T09:22:00.000Z"),
      ]);
      expect(result.record).toMatchObject({ status: "rolled_back", rollbackDeploymentId: OUR_ROLLBACK });
    });

    it("never verifies an image an alarm fired on in its window, even if that alarm's event is late", () => {
      const readings = [{ name: "shop-prod-web-5xx", state: "ALARM", since: "2026-11-20T09:21:00.000Z" }];
      const outcome = decide(inWindow, sweep("2026-11-20T09:23:00.000Z", WALL, readings));
      expect(outcome.record.status).toBe("rolling_back");
      expect(outcome.actions).toEqual([expect.objectContaining({ type: "redeploy-previous" })]);
    });

    it("verifies despite an alarm already firing before the deployment started", () => {
      const outcome = decide(
        inWindow,
        sweep("2026-11-20T09:24:00.000Z", WALL, [{ name: "shop-prod-web-5xx", state: "ALARM", since: "2026-11-20T09:00:00.000Z" }]),
      );
      expect(outcome.record.status).toBe("verified");
    });

    it("holds the verdict while an alarm that went off after the window fires, and verifies once it cleared", () => {
      const firing = decide(
        inWindow,
        sweep("2026-11-20T09:24:00.000Z", WALL, [{ name: "shop-prod-web-5xx", state: "ALARM", since: "2026-11-20T09:23:00.000Z" }]),
      );
      expect(firing).toEqual({ record: inWindow, actions: [] });
      const cleared = decide(
        inWindow,
        sweep("2026-11-20T09:30:00.000Z", WALL, [{ name: "shop-prod-web-5xx", state: "OK", since: "2026-11-20T09:29:00.000Z" }]),
      );
      expect(cleared.record.status).toBe("verified");
    });

    it("ignores an alarm event from before this deployment started (delivered late)", () => {
      expect(decide(inWindow, alarm("2026-11-20T09:10:00.000Z")).record).toBe(inWindow);
    });

    it("gives a rollback that starts late a deadline of its own", () => {
      const late = run(started(), [inProgress, ecs("COMPLETED", OURS, "2026-11-20T09:40:00.000Z")]).record;
      const rolling = decide(late, alarm("2026-11-20T09:43:00.000Z")).record;
      expect(rolling.deadline).toBe("2026-11-20T10:13:00.000Z"); // 09:43 + the 30-minute budget
      expect(decide(rolling, sweep("2026-11-20T09:50:00.000Z")).record.status).toBe("rolling_back");
    });
  });

  it("ignores ECS events for its own deployment while still pending (ECS cannot know it yet)", () => {
    const pending = started({ status: "pending", ecsDeploymentId: undefined, startedAt: undefined });
    expect(decide(pending, ecs("IN_PROGRESS", "ecs-svc/123", "2026-11-20T09:14:08.000Z")).record).toBe(pending);
  });

  it("keeps each ECS warning once, and none on a finished deployment", () => {
    const warning: Fact = { kind: "warning", at: "2026-11-20T09:19:01.377Z", message: "ECS service task start impaired" };
    const once = run(started(), [warning, warning]).record;
    expect(once.warnings).toEqual([{ at: warning.at, message: warning.message }]);
    const done = run(started(), [completed, sweep("2026-11-20T10:00:00.000Z"), warning]).record;
    expect(done.warnings).toEqual([]);
  });

  it("returns the very same record when nothing changes, so callers write nothing", () => {
    const record = started();
    expect(decide(record, inProgress).record).toBe(record);
    expect(decide(record, alarm("2026-11-20T09:16:00.000Z", "other")).record).toBe(record);
  });

  describe("whatever order ECS delivers one rollout's events in", () => {
    const permutations = <T>(items: T[]): T[][] =>
      items.length <= 1 ? [items] : items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));

    it.each(
      permutations([inProgress, failed, rollbackStarts, rollbackDone]).map(
        (p) => [p.map((f) => (f.kind === "ecs" ? `${f.event}:${f.deploymentId.slice(-4)}` : f.kind)).join(" "), p] as const,
      ),
    )("a circuit-breaker rollback ends rolled back with one final message: %s", (_order, facts) => {
      const result = run(started(), [...facts, ...facts]); // and each delivered twice
      expect(result.record.status).toBe("rolled_back");
      expect(finalMessages(result.records)).toEqual(["deployment.rolled_back"]);
    });

    it.each(
      permutations([inProgress, completed, sweep("2026-11-20T09:30:00.000Z")]).map(
        (p) => [p.map((f) => (f.kind === "ecs" ? f.event : f.kind)).join(" "), p] as const,
      ),
    )("a clean rollout is never verified before it completed, and says so once: %s", (_order, facts) => {
      const result = run(started(), [...facts, sweep("2026-11-20T09:31:00.000Z")]);
      expect(result.record.status).toBe("verified");
      expect(finalMessages(result.records)).toEqual(["deployment.verified"]);
    });
  });
});

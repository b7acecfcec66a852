// Records as the deploy handlers write them, for notifier tests.
import type { BuildRecord, DeploymentRecord, DeploymentStatus } from "../../shared/records/model";

export const DIGEST = "sha256:4b1d09c2e8aa7f3c6d5e4b3a2f1e0d9c8b7a69584736251403f2e1d0c9b8a796";

export function deployment(overrides: Partial<DeploymentRecord> = {}): DeploymentRecord {
  const pushedAt = "2026-03-02T09:10:00.000Z";
  return {
    kind: "deployment",
    id: "d-3f9c2a1b4e5d",
    app: "shop-web",
    env: "staging",
    region: "eu-west-1",
    cluster: "shop-staging",
    service: "web",
    targetKey: "eu-west-1/shop-staging/web",
    repository: "shop/web",
    repositoryUri: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/web",
    digest: DIGEST,
    tag: "3f9c2a1",
    commit: "3f9c2a1d8e7b6a5c4d3e2f1a0b9c8d7e6f5a4b3c",
    pushedAt,
    pushKey: `${pushedAt}#${DIGEST}`,
    trigger: "push",
    triggerRef: "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    status: "pending",
    history: [{ status: "pending", at: "2026-03-02T09:10:05.000Z" }],
    warnings: [],
    createdAt: "2026-03-02T09:10:05.000Z",
    updatedAt: "2026-03-02T09:10:05.000Z",
    deadline: "2026-03-02T09:30:05.000Z",
    watchSeconds: 300,
    onTimeout: "report",
    alarms: ["shop-staging-web-5xx"],
    replacesTaskDefinition: "arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-web-staging:41",
    taskDefinitionArn: "arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-web-staging:42",
    version: 1,
    ...overrides,
  };
}

const TIMES: Partial<Record<DeploymentStatus, string>> = {
  started: "2026-03-02T09:10:08.000Z",
  completed: "2026-03-02T09:14:20.000Z",
  rolling_back: "2026-03-02T09:16:00.000Z",
};

/** `record` moved to `status` the way the state machine writes it: history, timestamps, reason. */
export function moved(record: DeploymentRecord, status: DeploymentStatus, reason?: string, at = TIMES[status] ?? "2026-03-02T09:19:50.000Z"): DeploymentRecord {
  return {
    ...record,
    status,
    reason,
    history: [...record.history, { status, at, ...(reason ? { reason } : {}) }],
    updatedAt: at,
    ...(status === "started" ? { startedAt: at, ecsDeploymentId: "ecs-svc/1234567890123456789" } : {}),
    ...(status === "completed" ? { completedAt: at, watchUntil: "2026-03-02T09:19:20.000Z" } : {}),
    version: record.version + 1,
  };
}

export function build(overrides: Partial<BuildRecord> = {}): BuildRecord {
  return {
    kind: "build",
    app: "shop-web",
    project: "shop-web",
    buildId: "shop-web:0f5d6b32-8a4c-4c0e-9a59-8d1f3f7c2b11",
    buildNumber: 118,
    status: "FAILED",
    phase: "BUILD",
    phaseContext: "COMMAND_EXECUTION_ERROR: Error while executing command: npm test. Reason: exit status 1",
    logsUrl: "https://eu-west-1.console.aws.amazon.com/codesuite/codebuild/123456789012/projects/shop-web/build/shop-web%3A0f5d6b32/log",
    commit: "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d",
    repository: "shop/web",
    at: "2026-03-02T08:55:12.000Z",
    eventId: "8b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
    ...overrides,
  };
}

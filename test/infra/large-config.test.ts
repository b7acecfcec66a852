// The stack at the size it must hold: 200 services on 4 clusters, a family each, guarding alarms,
// 50 repositories and build projects (test/support/large-config.ts), packaged offline by osls
// with a 27-character stage.
// Every role and every rule pattern is measured as AWS counts them and kept within AWS's quotas,
// and the patterns, narrowed to fit, still let in every configured resource's events and no
// other account's.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../shared/config/load";
import type { PipelineConfig } from "../../shared/config/model";
import { matches, validatePattern } from "../../sandbox/pattern";
import { inAccount } from "../../sandbox/stack";
import { EVENT_PATTERN_CHARS, IAM_QUOTAS, patternChars, roleSizes } from "../support/aws-quotas";
import { LARGE, writeLargeConfig } from "../support/large-config";
import { osls } from "../support/osls";

type Json = any; // the generated template

const ACCOUNT = "123456789012";
/** As long a stage as the example is packaged with: the stage's name is in every role's own ARNs. */
const STAGE = "customer-acceptance-testing";
const OTHER_ACCOUNT = "210987654321";
const sorted = <T>(values: Iterable<T>): T[] => [...values].sort();

describe("osls package of a 200-service config (offline)", () => {
  let dir: string;
  let config: PipelineConfig;
  let resources: Record<string, Json>;
  /** Rule patterns by the function they invoke, as CloudFormation resolves them in ACCOUNT. */
  let rules: { fn: string; pattern: Json }[];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "stevedore-large-"));
    const file = writeLargeConfig(dir);
    config = loadConfig(file);
    const run = osls(["package", "--stage", STAGE, "--package", join(dir, "out")], { STEVEDORE_CONFIG: file });
    if (run.status !== 0) throw new Error(`osls package failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
    resources = JSON.parse(readFileSync(join(dir, "out", "cloudformation-template-update-stack.json"), "utf8")).Resources;
    rules = Object.values(resources)
      .filter((r: Json) => r.Type === "AWS::Events::Rule" && r.Properties.EventPattern)
      .map((r: Json) => ({
        fn: r.Properties.Targets[0].Arn["Fn::GetAtt"][0] as string,
        pattern: inAccount(r.Properties.EventPattern, ACCOUNT),
      }));
  }, 240_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const envs = () => config.apps.flatMap((app) => app.environments);
  const targets = () => envs().flatMap((env) => env.targets);
  const ruleOf = (fn: string, source: string): Json => rules.find((r) => r.fn === fn && r.pattern.source[0] === source)!.pattern;
  const ecsEvent = (cluster: string, service: string, account = ACCOUNT) => ({
    ...JSON.parse(readFileSync(join(__dirname, "..", "events", "ecs-deployment-in-progress.json"), "utf8")),
    account,
    resources: [`arn:aws:ecs:eu-west-1:${account}:service/${cluster}/${service}`],
  });

  it("is the size the issue names: 200 services, 4 clusters, a family each, alarms", () => {
    expect(targets()).toHaveLength(LARGE.services);
    expect(new Set(targets().map((t) => t.cluster)).size).toBe(LARGE.clusters);
    expect(envs().every((env) => env.alarms.length > 0)).toBe(true);
    expect(config.apps).toHaveLength(LARGE.apps);
  });

  it("keeps every role's policies within IAM's quotas, measured as IAM counts", () => {
    const sizes = roleSizes(resources, "eu-west-1", STAGE);
    expect(sizes).toHaveLength(8);
    for (const role of sizes) {
      expect(role.inline).toBeLessThanOrEqual(IAM_QUOTAS.inlineChars);
      for (const managed of role.managed) expect(managed).toBeLessThanOrEqual(IAM_QUOTAS.managedChars);
      expect(role.managed.length).toBeLessThanOrEqual(IAM_QUOTAS.managedPerRole);
    }
    // The deploying roles do need managed policies at this size: the split is exercised.
    expect(Math.max(...sizes.map((r) => r.managed.length))).toBeGreaterThan(0);
  });

  it("still lists every service, family and task role by its own name (no wildcard but the partition)", () => {
    const statements = Object.values(resources)
      .filter((r: Json) => r.Type === "AWS::IAM::ManagedPolicy" || r.Type === "AWS::IAM::Role")
      .flatMap((r: Json) => [
        ...(r.Properties.Policies ?? []).flatMap((p: Json) => p.PolicyDocument.Statement),
        ...(r.Properties.PolicyDocument?.Statement ?? []),
      ]);
    const granted = (action: string) =>
      sorted(new Set(statements.filter((s: Json) => s.Action.includes(action)).flatMap((s: Json) => s.Resource.map((r: Json) => r["Fn::Sub"] ?? r))));
    const prefix = "arn:*:ecs:eu-west-1:${AWS::AccountId}:";
    expect(granted("ecs:UpdateService")).toEqual(sorted(new Set(targets().map((t) => `${prefix}service/${t.cluster}/${t.service}`))));
    expect(granted("ecs:RegisterTaskDefinition")).toHaveLength(LARGE.services);
    expect(granted("ecs:RegisterTaskDefinition").every((arn) => /:task-definition\/[a-z-]+:\*$/.test(arn))).toBe(true);
    expect(granted("iam:PassRole").every((arn) => !arn.includes("*"))).toBe(true);
  });

  it("keeps every rule's pattern within EventBridge's quota, and valid", () => {
    expect(rules.length).toBe(6);
    for (const { pattern } of rules) {
      expect(patternChars(pattern, "eu-west-1")).toBeLessThanOrEqual(EVENT_PATTERN_CHARS);
      expect(validatePattern(pattern)).toEqual([]);
    }
  });

  it("lets every configured service's ECS events in, and no other account's or cluster's", () => {
    const changed = ruleOf("OnDashdeploymentDashchangedLambdaFunction", "aws.ecs");
    const warmUp = ruleOf("OnDashalarmLambdaFunction", "aws.ecs");
    for (const t of targets()) {
      expect(matches(changed, ecsEvent(t.cluster, t.service))).toBe(true);
      expect(matches(warmUp, ecsEvent(t.cluster, t.service))).toBe(true);
      expect(matches(changed, ecsEvent(t.cluster, t.service, OTHER_ACCOUNT))).toBe(false);
    }
    expect(matches(changed, ecsEvent("data-platform", "etl"))).toBe(false);
  });

  it("lets every guarding alarm, repository, build project and approving app in, and no other account's", () => {
    const alarm = ruleOf("OnDashalarmLambdaFunction", "aws.cloudwatch");
    const pushed = ruleOf("OnDashimageDashpushedLambdaFunction", "aws.ecr");
    const built = ruleOf("OnDashbuildDashfinishedLambdaFunction", "aws.codebuild");
    const decided = ruleOf("OnDashapprovalLambdaFunction", "stevedore");
    const event = (source: string, detailType: string, detail: Json, account = ACCOUNT) => ({ source, "detail-type": detailType, account, detail });
    for (const name of envs().flatMap((env) => env.alarms)) {
      expect(matches(alarm, event("aws.cloudwatch", "CloudWatch Alarm State Change", { alarmName: name, state: { value: "ALARM" } }))).toBe(true);
      expect(matches(alarm, event("aws.cloudwatch", "CloudWatch Alarm State Change", { alarmName: name, state: { value: "ALARM" } }, OTHER_ACCOUNT))).toBe(
        false,
      );
    }
    for (const app of config.apps) {
      expect(matches(pushed, event("aws.ecr", "ECR Image Action", { "action-type": "PUSH", result: "SUCCESS", "repository-name": app.repository }))).toBe(true);
      expect(matches(built, event("aws.codebuild", "CodeBuild Build State Change", { "project-name": app.buildProject, "build-status": "FAILED" }))).toBe(true);
      const manual = app.environments.some((env) => env.promote?.approval === "manual");
      expect(matches(decided, event("stevedore", "Stevedore Promotion Decision", { app: app.name }))).toBe(manual);
    }
    expect(matches(pushed, event("aws.ecr", "ECR Image Action", { "action-type": "PUSH", result: "SUCCESS", "repository-name": "data/etl" }))).toBe(false);
  });
});

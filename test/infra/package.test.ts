// `osls package` of the fixture config (and, with a long stage, of the example), offline and without credentials, then checks on what
// would be deployed: the CloudFormation template (event patterns, IAM, table, dead letters)
// and the zips (one per function, each with its bundle and the compiled config).
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { inflateRawSync } from "node:zlib";
import { compileConfig, parseCompiledConfig } from "../../shared/config/compiled";
import { loadConfig } from "../../shared/config/load";
import type { PipelineConfig } from "../../shared/config/model";
import { renderTarget } from "../../shared/render/task-definition";
import { EVENT_PATTERN_CHARS, IAM_QUOTAS, patternChars, roleSizes } from "../support/aws-quotas";
import { FIXTURE_CONFIG, FIXTURE_TEMPLATES } from "../support/config";
import { osls } from "../support/osls";

const ROOT = process.cwd();
const FUNCTIONS = ["on-image-pushed", "on-build-finished", "on-deployment-changed", "on-alarm", "sweep", "notify", "promote", "on-approval"];
/** Invoked asynchronously by EventBridge; notify and promote read the table's stream. */
const ASYNC_FUNCTIONS = FUNCTIONS.filter((f) => f !== "notify" && f !== "promote");
const DLQ_ARN = { "Fn::GetAtt": ["DeadLetterQueue", "Arn"] };

type Json = any; // the generated template: shapes are asserted below

/** Entries of a zip file by name: enough of the format for what osls and serverless-esbuild write. */
function readZip(file: string): Map<string, Buffer> {
  const zip = readFileSync(file);
  let eocd = zip.length - 22;
  while (eocd >= 0 && zip.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error(`${file}: not a zip`);
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const entries = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`${file}: bad central directory`);
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const localHeader = zip.readUInt32LE(at + 42);
    const name = zip.toString("utf8", at + 46, at + 46 + nameLength);
    const dataStart = localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28);
    const data = zip.subarray(dataStart, dataStart + compressedSize);
    if (!name.endsWith("/")) entries.set(name, method === 8 ? inflateRawSync(data) : Buffer.from(data));
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

const sorted = <T>(values: Iterable<T>): T[] => [...values].sort();
const subText = (value: Json): string => (typeof value === "string" ? value : value["Fn::Sub"]);

/** What the example config should produce, derived from it independently of infra/stack.cjs. */
function expectations(config: PipelineConfig) {
  const envs = config.apps.flatMap((a) => a.environments);
  const targets = envs.flatMap((e) => e.targets);
  const image = {
    repository: "r",
    repositoryUri: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/r",
    digest: `sha256:${"1".repeat(64)}`,
  };
  const rendered = targets.map((t) => {
    const r = renderTarget(t, image);
    if (!r.ok) throw new Error(r.problems.join("; "));
    return r.input;
  });
  return {
    region: envs[0]!.region,
    repositories: sorted(new Set(config.apps.map((a) => a.repository))),
    projects: sorted(new Set(config.apps.flatMap((a) => (a.buildProject ? [a.buildProject] : [])))),
    alarms: sorted(new Set(envs.flatMap((e) => e.alarms))),
    services: sorted(new Set(targets.map((t) => `${t.cluster}/${t.service}`))),
    guardedServices: sorted(
      new Set(
        envs
          .filter((e) => e.alarms.length > 0)
          .flatMap((e) => e.targets)
          .map((t) => `${t.cluster}/${t.service}`),
      ),
    ),
    approvalApps: sorted(config.apps.filter((a) => a.environments.some((e) => e.promote?.approval === "manual")).map((a) => a.name)),
    families: sorted(new Set(rendered.map((r) => r.family as string))),
    roles: sorted(new Set(rendered.flatMap((r) => [r.taskRoleArn, r.executionRoleArn].filter((x): x is string => !!x)))),
  };
}

describe("osls package (example config, offline)", () => {
  let out: string;
  let template: Json;
  let resources: Record<string, Json>;
  let statements: Json[];
  let expected: ReturnType<typeof expectations>;
  let config: PipelineConfig;
  let compiledText: string;

  const functionId = (name: string) =>
    `${name
      .split("-")
      .map((p, i) => (i === 0 ? p[0]!.toUpperCase() + p.slice(1) : p))
      .join("Dash")}LambdaFunction`;
  const rulesOf = (name: string): Json[] =>
    Object.values(resources).filter(
      (r: Json) => r.Type === "AWS::Events::Rule" && r.Properties.Targets.some((t: Json) => t.Arn["Fn::GetAtt"]?.[0] === functionId(name)),
    );

  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), "stevedore-package-"));
    const run = osls(["package", "--stage", "test", "--package", out], { STEVEDORE_CONFIG: FIXTURE_CONFIG });
    if (run.status !== 0) throw new Error(`osls package failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
    template = JSON.parse(readFileSync(join(out, "cloudformation-template-update-stack.json"), "utf8"));
    resources = template.Resources;
    statements = Object.values(resources)
      .filter((r: Json) => r.Type === "AWS::IAM::Role" || r.Type === "AWS::IAM::Policy" || r.Type === "AWS::IAM::ManagedPolicy")
      .flatMap((r: Json) => [
        ...(r.Properties.Policies ?? []).flatMap((p: Json) => p.PolicyDocument.Statement),
        ...(r.Properties.PolicyDocument?.Statement ?? []),
      ]);
    config = loadConfig(FIXTURE_CONFIG);
    compiledText = compileConfig(config);
    expected = expectations(config);
  }, 180_000);

  afterAll(() => {
    if (out) rmSync(out, { recursive: true, force: true });
    // serverless-esbuild removes its scratch folder but leaves the parent: drop it when empty.
    try {
      rmdirSync(join(ROOT, ".esbuild"));
    } catch {
      // not empty (another run is using it) or already gone
    }
  });

  describe("packages", () => {
    it("makes one zip per function and nothing else", () => {
      expect(sorted(readdirSync(out).filter((f) => f.endsWith(".zip")))).toEqual(sorted(FUNCTIONS.map((f) => `${f}.zip`)));
    });

    it.each(FUNCTIONS)("%s.zip holds exactly its ESM bundle and the compiled config, at the path its environment names", (name) => {
      const entries = readZip(join(out, `${name}.zip`));
      const compiled = resources[functionId(name)].Properties.Environment.Variables.STEVEDORE_COMPILED_CONFIG as string;
      expect(sorted(entries.keys())).toEqual(sorted([`functions/${name}.mjs`, compiled]));
      // Exactly what the config compiles to, and it reads back to the config itself.
      const packed = entries.get(compiled)!.toString("utf8");
      expect(packed).toBe(compiledText);
      expect(parseCompiledConfig(packed, compiled)).toEqual({ ...config, file: FIXTURE_CONFIG });
      const bundle = entries.get(`functions/${name}.mjs`)!.toString("utf8");
      expect(bundle.startsWith('import { createRequire } from "module"; const require = createRequire(import.meta.url);')).toBe(true);
      expect(bundle).toMatch(/export\s*\{[^}]*\bhandler\b/);
    });

    it("points every function at its bundle, with the compiled config's path relative to the task root", () => {
      for (const name of FUNCTIONS) {
        const fn = resources[functionId(name)].Properties;
        expect(fn).toMatchObject({
          Handler: `functions/${name}.handler`,
          Runtime: "nodejs22.x",
          Architectures: ["arm64"],
          MemorySize: 512,
        });
        expect(fn.Environment.Variables).toMatchObject({
          STEVEDORE_COMPILED_CONFIG: expect.stringMatching(/^\.build\/config\/stevedore-[0-9a-f]{12}\.json$/),
          RECORDS_TABLE: { Ref: "RecordsTable" },
          LOG_LEVEL: "INFO",
        });
        expect(fn.Environment.Variables.STEVEDORE_CONFIG).toBeUndefined();
      }
    });
  });

  describe("event rules", () => {
    it("narrows ECR pushes to the configured repositories", () => {
      const [rule] = rulesOf("on-image-pushed");
      expect(rule.Properties.EventPattern).toEqual({
        account: [{ Ref: "AWS::AccountId" }],
        source: ["aws.ecr"],
        "detail-type": ["ECR Image Action"],
        detail: { "action-type": ["PUSH"], result: ["SUCCESS"], "repository-name": expected.repositories },
      });
      expect(expected.repositories).toEqual(["shop/web", "shop/worker"]);
    });

    it("narrows CodeBuild events to the configured projects and final states", () => {
      const [rule] = rulesOf("on-build-finished");
      expect(rule.Properties.State).toBe("ENABLED");
      expect(rule.Properties.EventPattern.detail["project-name"]).toEqual(expected.projects);
      expect(sorted(rule.Properties.EventPattern.detail["build-status"])).toEqual(["FAILED", "FAULT", "STOPPED", "SUCCEEDED", "TIMED_OUT"]);
    });

    it("narrows ECS events to the configured services (the account is matched by `account`)", () => {
      const [rule] = rulesOf("on-deployment-changed");
      const pattern = rule.Properties.EventPattern;
      expect(sorted(pattern["detail-type"])).toEqual(["ECS Deployment State Change", "ECS Service Action"]);
      expect(sorted(pattern.resources.map((r: Json) => r.wildcard))).toEqual(expected.services.map((s) => `arn:aws:ecs:${expected.region}:*:service/${s}`));
      expect(expected.services).toHaveLength(6);
    });

    it("narrows alarm events to the configured alarms going into ALARM", () => {
      const [rule] = rulesOf("on-alarm").filter((r) => r.Properties.EventPattern.source[0] === "aws.cloudwatch");
      expect(rule.Properties.State).toBe("ENABLED");
      expect(rule.Properties.EventPattern.detail).toEqual({ alarmName: expected.alarms, state: { value: ["ALARM"] } });
    });

    it("wakes on-alarm when a rollout of a guarded service starts or completes, nothing else", () => {
      const rules = rulesOf("on-alarm");
      expect(rules).toHaveLength(2);
      const [rule] = rules.filter((r) => r.Properties.EventPattern.source[0] === "aws.ecs");
      expect(rule.Properties.State).toBe("ENABLED");
      expect(rule.Properties.EventPattern).toEqual({
        account: [{ Ref: "AWS::AccountId" }],
        source: ["aws.ecs"],
        "detail-type": ["ECS Deployment State Change"],
        detail: { eventName: ["SERVICE_DEPLOYMENT_IN_PROGRESS", "SERVICE_DEPLOYMENT_COMPLETED"] },
        resources: expected.guardedServices.map((s) => ({ wildcard: `arn:aws:ecs:${expected.region}:*:service/${s}` })),
      });
      // Every service of the example is guarded by an alarm.
      expect(expected.guardedServices).toEqual(expected.services);
    });

    it("matches only this account's events, in every rule", () => {
      const patterns = FUNCTIONS.flatMap((name) => rulesOf(name))
        .map((r) => r.Properties.EventPattern)
        .filter(Boolean);
      expect(patterns.length).toBeGreaterThanOrEqual(6);
      for (const pattern of patterns) expect(pattern.account).toEqual([{ Ref: "AWS::AccountId" }]);
    });

    it("sweeps every minute", () => {
      expect(rulesOf("sweep")[0].Properties.ScheduleExpression).toBe("rate(1 minute)");
    });

    it("takes promotion decisions only for apps with a manual-approval environment", () => {
      const [rule] = rulesOf("on-approval");
      expect(rule.Properties.State).toBe("ENABLED");
      expect(rule.Properties.EventPattern).toEqual({
        account: [{ Ref: "AWS::AccountId" }],
        source: ["stevedore"],
        "detail-type": ["Stevedore Promotion Decision"],
        detail: { app: expected.approvalApps },
      });
      expect(expected.approvalApps).toEqual(["shop-worker"]);
    });

    it("triggers nothing else: stream consumers have no rule", () => {
      expect(rulesOf("notify")).toHaveLength(0);
      expect(rulesOf("promote")).toHaveLength(0);
    });
  });

  describe("IAM: a role per function", () => {
    /** Every statement a function's role holds: its inline policies and its managed policies. */
    const roleOf = (name: string): string => resources[functionId(name)].Properties.Role["Fn::GetAtt"][0];
    const statementsOf = (name: string): Json[] => {
      const role = resources[roleOf(name)].Properties;
      return [
        ...role.Policies.flatMap((p: Json) => p.PolicyDocument.Statement),
        ...(role.ManagedPolicyArns ?? []).flatMap((ref: Json) => resources[ref.Ref].Properties.PolicyDocument.Statement),
      ];
    };
    const actionsOf = (name: string): string[] => sorted(new Set(statementsOf(name).flatMap((s) => [s.Action].flat())));
    const resourcesFor = (name: string, action: string): string[] =>
      sorted(
        new Set(
          statementsOf(name)
            .filter((s) => [s.Action].flat().includes(action))
            .flatMap((s) => [s.Resource].flat().map(subText)),
        ),
      );
    const DEPLOYERS = ["on-image-pushed", "on-build-finished", "sweep", "promote", "on-approval"];
    const ROLLERS_BACK = ["on-build-finished", "on-alarm", "sweep"];

    it("gives each function a role of its own, and osls no shared role", () => {
      const roles = FUNCTIONS.map(roleOf);
      expect(new Set(roles).size).toBe(FUNCTIONS.length);
      for (const role of roles) {
        expect(resources[role].Type).toBe("AWS::IAM::Role");
        expect(resources[role].Properties.AssumeRolePolicyDocument.Statement).toEqual([
          { Effect: "Allow", Principal: { Service: ["lambda.amazonaws.com"] }, Action: ["sts:AssumeRole"] },
        ]);
      }
      expect(resources.IamRoleLambdaExecution).toBeUndefined();
    });

    it("never grants a wildcard action", () => {
      expect(statements.length).toBeGreaterThan(30);
      for (const statement of statements) {
        for (const action of [statement.Action].flat()) expect(action).not.toMatch(/\*/);
        expect(statement.NotAction).toBeUndefined();
        expect(statement.NotResource).toBeUndefined();
        expect(statement.Effect).toBe("Allow");
      }
    });

    it('grants on Resource "*" only two reads that have no resource type: DescribeAlarms (composite alarms) and ListTaskDefinitions (ARNs only)', () => {
      const anywhere = statements.filter((statement) => [statement.Resource].flat().includes("*")).flatMap((statement) => [statement.Action].flat());
      expect(sorted(new Set(anywhere))).toEqual(["cloudwatch:DescribeAlarms", "ecs:ListTaskDefinitions"]);
    });

    it.each([
      ["on-deployment-changed", []],
      ["notify", ["ssm:GetParameter", "secretsmanager:GetSecretValue", "dynamodb:GetRecords"]],
      ["on-alarm", ["ecs:StopServiceDeployment", "ecs:UpdateService"]],
    ])("%s holds what it calls and nothing that deploys", (name, extra) => {
      const actions = actionsOf(name);
      for (const action of extra) expect(actions).toContain(action);
      for (const action of ["ecs:RegisterTaskDefinition", "iam:PassRole", "ecs:TagResource"]) expect(actions).not.toContain(action);
      if (name !== "on-alarm") expect(actions.filter((a) => a.startsWith("ecs:"))).toEqual([]);
    });

    it("lets only the stream readers read the stream, and only notify read secrets", () => {
      for (const name of FUNCTIONS) {
        expect(actionsOf(name).includes("dynamodb:GetRecords")).toBe(name === "notify" || name === "promote");
        expect(actionsOf(name).includes("ssm:GetParameter")).toBe(name === "notify");
      }
      expect(statementsOf("promote").find((s) => [s.Action].flat().includes("dynamodb:GetRecords")).Resource).toEqual([
        { "Fn::GetAtt": ["RecordsTable", "StreamArn"] },
      ]);
    });

    it("lets every function write its own logs only", () => {
      for (const name of FUNCTIONS) {
        expect(resourcesFor(name, "logs:PutLogEvents")).toEqual([
          `arn:*:logs:${expected.region}:\${AWS::AccountId}:log-group:/aws/lambda/stevedore-test-${name}:*`,
        ]);
        expect(resources[functionId(name).replace("LambdaFunction", "LogGroup")].Properties.LogGroupName).toBe(`/aws/lambda/stevedore-test-${name}`);
      }
    });

    it("passes only the example's task and execution roles, only to ECS tasks, and only from functions that deploy", () => {
      for (const name of FUNCTIONS) {
        const passes = statementsOf(name).filter((s) => [s.Action].flat().includes("iam:PassRole"));
        if (!DEPLOYERS.includes(name)) {
          expect(passes).toEqual([]);
          continue;
        }
        expect(passes.every((s) => [s.Action].flat().length === 1)).toBe(true);
        expect(
          passes.every((s) => JSON.stringify(s.Condition) === JSON.stringify({ StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } })),
        ).toBe(true);
        expect(resourcesFor(name, "iam:PassRole")).toEqual(expected.roles);
      }
      expect(expected.roles).toContain("arn:aws:iam::123456789012:role/shop-web-staging-task");
    });

    it("updates and describes only the example's services, and stops only their deployments", () => {
      const serviceArns = expected.services.map((s) => `arn:*:ecs:${expected.region}:\${AWS::AccountId}:service/${s}`);
      for (const name of FUNCTIONS) {
        const deploys = DEPLOYERS.includes(name);
        const rollsBack = ROLLERS_BACK.includes(name);
        expect(resourcesFor(name, "ecs:UpdateService")).toEqual(deploys || rollsBack ? serviceArns : []);
        expect(resourcesFor(name, "ecs:DescribeServices")).toEqual(deploys ? serviceArns : []);
        // On the deployments of the configured services, and on the services themselves in case
        // AWS also authorizes it against the service (a list the role holds anyway).
        expect(resourcesFor(name, "ecs:StopServiceDeployment")).toEqual(
          rollsBack
            ? sorted([...serviceArns, ...expected.services.map((s) => `arn:*:ecs:${expected.region}:\${AWS::AccountId}:service-deployment/${s}/*`)])
            : [],
        );
      }
    });

    it("registers only the example's task definition families, and tags only as it registers", () => {
      const familyArns = expected.families.map((f) => `arn:*:ecs:${expected.region}:\${AWS::AccountId}:task-definition/${f}:*`);
      for (const name of DEPLOYERS) {
        expect(resourcesFor(name, "ecs:RegisterTaskDefinition")).toEqual(familyArns);
        // Tags are read on exactly the families it may register, in the same statement (policy size).
        expect(resourcesFor(name, "ecs:ListTagsForResource")).toEqual(familyArns);
        const [tag, ...others] = statementsOf(name).filter((s) => [s.Action].flat().includes("ecs:TagResource"));
        expect(others).toEqual([]);
        expect(tag.Action).toEqual(["ecs:TagResource"]);
        expect(tag.Resource.map(subText)).toEqual([`arn:*:ecs:${expected.region}:\${AWS::AccountId}:task-definition/*`]);
        expect(tag.Condition).toEqual({ StringEquals: { "ecs:CreateAction": "RegisterTaskDefinition" } });
      }
    });

    it("reads only the configured build projects and notification secrets", () => {
      for (const name of ["on-build-finished", "sweep"]) {
        expect(resourcesFor(name, "codebuild:BatchGetBuilds").map((p) => p.split(":project/")[1])).toEqual(expected.projects);
        expect(resourcesFor(name, "codebuild:ListBuildsForProject")).toEqual(resourcesFor(name, "codebuild:BatchGetBuilds"));
      }
      expect(resourcesFor("notify", "ssm:GetParameter").map((p) => p.split(":parameter/")[1])).toEqual([
        "aws/reference/secretsmanager/stevedore/shop/audit-webhook-secret",
        "stevedore/shop/audit-webhook-url",
        "stevedore/shop/slack-webhook-url",
      ]);
      expect(resourcesFor("notify", "secretsmanager:GetSecretValue")).toEqual([
        `arn:*:secretsmanager:${expected.region}:\${AWS::AccountId}:secret:stevedore/shop/audit-webhook-secret-??????`,
      ]);
    });

    it("touches only its own table and indexes", () => {
      for (const statement of statements.filter((s) => [s.Action].flat().some((a: string) => a.startsWith("dynamodb:")))) {
        for (const resource of [statement.Resource].flat()) {
          const ok = resource["Fn::GetAtt"]?.[0] === "RecordsTable" || /^\$\{RecordsTable\.Arn\}\/index\/(byApp|due)$/.test(resource["Fn::Sub"] ?? "");
          expect(ok).toBe(true);
        }
      }
      for (const name of FUNCTIONS) {
        expect(statementsOf(name).find((s) => [s.Action].flat().includes("dynamodb:Query")).Resource).toEqual(
          expect.arrayContaining([{ "Fn::Sub": "${RecordsTable.Arn}/index/byApp" }, { "Fn::Sub": "${RecordsTable.Arn}/index/due" }]),
        );
      }
    });

    it("keeps every role within IAM's quotas, measured as IAM counts", () => {
      const sizes = roleSizes(resources, expected.region, "test");
      expect(sizes).toHaveLength(FUNCTIONS.length);
      for (const role of sizes) {
        expect(role.inline).toBeLessThanOrEqual(IAM_QUOTAS.inlineChars);
        for (const managed of role.managed) expect(managed).toBeLessThanOrEqual(IAM_QUOTAS.managedChars);
        expect(role.managed.length).toBeLessThanOrEqual(IAM_QUOTAS.managedPerRole);
      }
    });
  });

  describe("records table", () => {
    it("streams new and old images, with both indexes, point-in-time recovery and encryption", () => {
      const table = resources.RecordsTable;
      expect(table.Type).toBe("AWS::DynamoDB::Table");
      const p = table.Properties;
      expect(p.BillingMode).toBe("PAY_PER_REQUEST");
      expect(p.KeySchema).toEqual([
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ]);
      expect(p.StreamSpecification).toEqual({ StreamViewType: "NEW_AND_OLD_IMAGES" });
      expect(p.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(p.SSESpecification).toEqual({ SSEEnabled: true });
      const indexes = Object.fromEntries(p.GlobalSecondaryIndexes.map((i: Json) => [i.IndexName, i]));
      expect(indexes.byApp.KeySchema).toEqual([
        { AttributeName: "gsi1pk", KeyType: "HASH" },
        { AttributeName: "gsi1sk", KeyType: "RANGE" },
      ]);
      expect(indexes.due.KeySchema).toEqual([
        { AttributeName: "duePk", KeyType: "HASH" },
        { AttributeName: "dueAt", KeyType: "RANGE" },
      ]);
      for (const index of Object.values(indexes) as Json[]) expect(index.Projection).toEqual({ ProjectionType: "ALL" });
    });
  });

  describe("dead letters", () => {
    it("keeps failures 14 days, encrypted, and lets only this stack's rules write to it", () => {
      expect(resources.DeadLetterQueue.Properties).toEqual({ MessageRetentionPeriod: 1209600, SqsManagedSseEnabled: true });
      const [statement] = resources.DeadLetterQueuePolicy.Properties.PolicyDocument.Statement;
      expect(statement).toMatchObject({ Principal: { Service: "events.amazonaws.com" }, Action: "sqs:SendMessage", Resource: DLQ_ARN });
      expect(JSON.stringify(statement.Condition)).toContain(":rule/stevedore-test-*");
      expect(unparkable(resources)).toEqual([]);
    });

    it("sends failed async invocations to it after two retries (none for the sweeper)", () => {
      for (const name of ASYNC_FUNCTIONS) {
        const config = Object.values(resources).find(
          (r: Json) => r.Type === "AWS::Lambda::EventInvokeConfig" && r.Properties.FunctionName.Ref === functionId(name),
        ) as Json;
        expect(config.Properties.DestinationConfig).toEqual({ OnFailure: { Destination: DLQ_ARN } });
        expect(config.Properties.MaximumRetryAttempts).toBe(name === "sweep" ? 0 : 2);
        for (const rule of rulesOf(name)) {
          const [target] = rule.Properties.Targets;
          expect(target.DeadLetterConfig).toEqual({ Arn: DLQ_ARN });
          expect(target.RetryPolicy).toBeDefined();
        }
      }
    });

    it("parks stream batches that exhaust retries, reporting failures item by item", () => {
      const mappings = Object.values(resources).filter((r: Json) => r.Type === "AWS::Lambda::EventSourceMapping") as Json[];
      expect(sorted(mappings.map((m) => m.Properties.FunctionName["Fn::GetAtt"][0]))).toEqual([functionId("notify"), functionId("promote")]);
      for (const { Properties: p } of mappings) {
        expect(p.EventSourceArn).toEqual({ "Fn::GetAtt": ["RecordsTable", "StreamArn"] });
        expect(p).toMatchObject({ BisectBatchOnFunctionError: true, FunctionResponseTypes: ["ReportBatchItemFailures"] });
        expect(p.MaximumRetryAttempts).toBeGreaterThan(0);
        expect(p.DestinationConfig).toEqual({ OnFailure: { Destination: DLQ_ARN } });
      }
      const filterOf = (name: string) =>
        mappings
          .find((m) => m.Properties.FunctionName["Fn::GetAtt"][0] === functionId(name))!
          .Properties.FilterCriteria.Filters.map((f: Json) => JSON.parse(f.Pattern));
      const [promote] = filterOf("promote");
      expect(promote.dynamodb.NewImage).toEqual({ kind: { S: ["deployment"] }, status: { S: ["verified"] } });
      expect(promote.dynamodb.OldImage).toEqual({ status: { S: [{ "anything-but": ["verified"] }] } });
      const [notify] = filterOf("notify");
      expect(sorted(notify.dynamodb.NewImage.kind.S)).toEqual(["build", "deployment", "promotion"]);
    });
  });
});

/** Names of the template's EventBridge rules that its dead-letter queue's policy would not let park events. */
function unparkable(resources: Record<string, Json>): string[] {
  const [statement] = resources.DeadLetterQueuePolicy.Properties.PolicyDocument.Statement;
  const parts = statement.Condition.ArnLike["aws:SourceArn"]["Fn::Join"][1] as Json[];
  const namePattern = String(parts.at(-1)).replace(/^:rule\//, "");
  const matcher = new RegExp(`^${namePattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);
  return Object.values(resources)
    .filter((r: Json) => r.Type === "AWS::Events::Rule")
    .map((r: Json) => String(r.Properties.Name))
    .filter((name) => !matcher.test(name));
}

describe("osls package of examples/stevedore.yml with a 27-character stage (osls hashes the longest rule names)", () => {
  const STAGE = "customer-acceptance-testing"; // 27 characters
  let out: string;
  let resources: Record<string, Json>;

  beforeAll(() => {
    expect(STAGE).toHaveLength(27);
    out = mkdtempSync(join(tmpdir(), "stevedore-long-stage-"));
    const run = osls(["package", "--stage", STAGE, "--package", out], { STEVEDORE_CONFIG: "examples/stevedore.yml" });
    if (run.status !== 0) throw new Error(`osls package failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
    resources = JSON.parse(readFileSync(join(out, "cloudformation-template-update-stack.json"), "utf8")).Resources;
  }, 180_000);

  afterAll(() => {
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it("lets every rule, hashed names included, park its undeliverable events in the dead-letter queue", () => {
    const names = Object.values(resources)
      .filter((r: Json) => r.Type === "AWS::Events::Rule")
      .map((r: Json) => String(r.Properties.Name));
    // The case this is about: some names no longer start with stevedore-<stage>-.
    expect(names.some((n) => !n.startsWith(`stevedore-${STAGE}-`))).toBe(true);
    expect(names.every((n) => n.length <= 64)).toBe(true);
    expect(unparkable(resources)).toEqual([]);
  });

  it("keeps every role's policies and every rule's pattern within AWS's quotas, measured as AWS counts them", () => {
    const roles = roleSizes(resources, "eu-west-1", STAGE);
    expect(roles).toHaveLength(FUNCTIONS.length);
    for (const role of roles) {
      expect(role.inline).toBeLessThanOrEqual(IAM_QUOTAS.inlineChars);
      for (const managed of role.managed) expect(managed).toBeLessThanOrEqual(IAM_QUOTAS.managedChars);
      expect(role.managed.length).toBeLessThanOrEqual(IAM_QUOTAS.managedPerRole);
    }
    const patterns = Object.values(resources)
      .filter((r: Json) => r.Type === "AWS::Events::Rule" && r.Properties.EventPattern)
      .map((r: Json) => r.Properties.EventPattern);
    expect(patterns.length).toBeGreaterThanOrEqual(6);
    for (const pattern of patterns) expect(patternChars(pattern, "eu-west-1")).toBeLessThanOrEqual(EVENT_PATTERN_CHARS);
  });
});

describe("osls package refuses what must never be deployed", () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "stevedore-bad-config-"));
    cpSync(FIXTURE_TEMPLATES, join(dir, "templates"), { recursive: true });
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("fails on an invalid config with the loader's message, naming the file and the path", () => {
    const file = join(dir, "broken.yml");
    const text = readFileSync(FIXTURE_CONFIG, "utf8").replace("    repository: shop/web\n", "    repositry: shop/web\n");
    writeFileSync(file, text);
    const run = osls(["package", "--stage", "test", "--package", join(dir, "out")], { STEVEDORE_CONFIG: file });
    const output = `${run.stdout}\n${run.stderr}`;
    expect(run.status).not.toBe(0);
    expect(output).toContain(`${relative(ROOT, file)} is not a valid Stevedore config`);
    expect(output).toContain('apps.shop-web.repositry: unknown key; did you mean "repository"?');
  }, 120_000);

  it("fails when the targets span regions, since EventBridge rules only see their own region", () => {
    const file = join(dir, "two-regions.yml");
    const text = readFileSync(FIXTURE_CONFIG, "utf8").replace(
      "      - name: production\n        region: eu-west-1\n        promote: { approval: auto }",
      "      - name: production\n        region: us-east-1\n        promote: { approval: auto }",
    );
    expect(text).toContain("region: us-east-1");
    writeFileSync(file, text);
    const run = osls(["package", "--stage", "test", "--package", join(dir, "out2")], { STEVEDORE_CONFIG: file });
    expect(run.status).not.toBe(0);
    expect(`${run.stdout}\n${run.stderr}`).toMatch(/environments span several regions: eu-west-1 \(.*\); us-east-1 \(shop-web\/production\)/);
  }, 120_000);
});

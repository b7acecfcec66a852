// The sandbox's IAM (sandbox/iam.ts): what each call is authorized against, how a role's
// statements are evaluated, and the roles of the real stack (as osls resolves serverless.yml)
// allowing what each function calls and refusing what it must not do.
import { allows, deployProblems, refusal, requiredPermissions, rolesOf, scopedAlarms, type Lookups, type Statement } from "../iam";
import { resolveStack, WORLD_CONFIG } from "../stack";

const ACCOUNT = "123456789012";
const KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const at: Lookups = {
  account: ACCOUNT,
  region: "eu-west-1",
  nextRevision: (family) => (family === "shop-web-staging" ? 4 : 1),
  secretArn: (id) => (id === "shop/hook" ? `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:shop/hook-AbCdEf` : undefined),
  // Stored under a customer-managed key: these two; everything else under the AWS managed keys.
  decryptionKey: (name) =>
    name === "/stevedore/shop/cmk-url"
      ? { keyId: KEY, via: "ssm" }
      : name === "/aws/reference/secretsmanager/shop/cmk-hook"
        ? { keyId: KEY, via: "secretsmanager" }
        : undefined,
};
const ECS = "AmazonEC2ContainerServiceV20141113";
const arn = (svc: string, resource: string) => `arn:aws:${svc}:eu-west-1:${ACCOUNT}:${resource}`;

describe("what a call is authorized against", () => {
  it.each([
    [
      "DescribeServices, per service",
      ECS,
      "DescribeServices",
      { cluster: "shop-prod", services: ["web", `${arn("ecs", "service/shop-prod/worker")}`] },
      [
        { action: "ecs:DescribeServices", resource: arn("ecs", "service/shop-prod/web") },
        { action: "ecs:DescribeServices", resource: arn("ecs", "service/shop-prod/worker") },
      ],
    ],
    [
      "RegisterTaskDefinition: the new revision, each role passed to tasks, tagging on creation",
      ECS,
      "RegisterTaskDefinition",
      {
        family: "shop-web-staging",
        taskRoleArn: "arn:aws:iam::123456789012:role/task",
        executionRoleArn: "arn:aws:iam::123456789012:role/exec",
        tags: [{ key: "a", value: "b" }],
      },
      [
        { action: "ecs:RegisterTaskDefinition", resource: arn("ecs", "task-definition/shop-web-staging:4") },
        { action: "iam:PassRole", resource: "arn:aws:iam::123456789012:role/task", context: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
        { action: "iam:PassRole", resource: "arn:aws:iam::123456789012:role/exec", context: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
        { action: "ecs:TagResource", resource: arn("ecs", "task-definition/shop-web-staging:4"), context: { "ecs:CreateAction": "RegisterTaskDefinition" } },
      ],
    ],
    [
      "UpdateService with a lifecycle hook: its role passed to ECS",
      ECS,
      "UpdateService",
      {
        cluster: "shop-prod",
        service: "web",
        deploymentConfiguration: { lifecycleHooks: [{ roleArn: "arn:aws:iam::123456789012:role/hooks" }] },
      },
      [
        { action: "ecs:UpdateService", resource: arn("ecs", "service/shop-prod/web") },
        { action: "iam:PassRole", resource: "arn:aws:iam::123456789012:role/hooks", context: { "iam:PassedToService": "ecs.amazonaws.com" } },
      ],
    ],
    [
      "TransactWriteItems: each item as its own write",
      "DynamoDB_20120810",
      "TransactWriteItems",
      {
        TransactItems: [{ Put: { TableName: "t" } }, { Update: { TableName: "t" } }, { ConditionCheck: { TableName: "t" } }],
      },
      [
        { action: "dynamodb:PutItem", resource: arn("dynamodb", "table/t") },
        { action: "dynamodb:UpdateItem", resource: arn("dynamodb", "table/t") },
        { action: "dynamodb:ConditionCheckItem", resource: arn("dynamodb", "table/t") },
      ],
    ],
    [
      "Query of an index",
      "DynamoDB_20120810",
      "Query",
      { TableName: "t", IndexName: "due" },
      [{ action: "dynamodb:Query", resource: arn("dynamodb", "table/t/index/due") }],
    ],
    [
      "a Secrets Manager reference: the parameter and the secret",
      "AmazonSSM",
      "GetParameter",
      { Name: "/aws/reference/secretsmanager/shop/hook", WithDecryption: true },
      [
        { action: "ssm:GetParameter", resource: arn("ssm", "parameter/aws/reference/secretsmanager/shop/hook") },
        { action: "secretsmanager:GetSecretValue", resource: arn("secretsmanager", "secret:shop/hook-AbCdEf") },
      ],
    ],
    [
      "a SecureString under a customer-managed key: kms:Decrypt on the key, through Parameter Store",
      "AmazonSSM",
      "GetParameter",
      { Name: "/stevedore/shop/cmk-url", WithDecryption: true },
      [
        { action: "ssm:GetParameter", resource: arn("ssm", "parameter/stevedore/shop/cmk-url") },
        { action: "kms:Decrypt", resource: KEY, context: { "kms:ViaService": "ssm.eu-west-1.amazonaws.com" } },
      ],
    ],
    [
      "the same, not decrypted: no KMS call",
      "AmazonSSM",
      "GetParameter",
      { Name: "/stevedore/shop/cmk-url" },
      [{ action: "ssm:GetParameter", resource: arn("ssm", "parameter/stevedore/shop/cmk-url") }],
    ],
    [
      "a secret under a customer-managed key: kms:Decrypt through Secrets Manager",
      "AmazonSSM",
      "GetParameter",
      { Name: "/aws/reference/secretsmanager/shop/cmk-hook", WithDecryption: true },
      [
        { action: "ssm:GetParameter", resource: arn("ssm", "parameter/aws/reference/secretsmanager/shop/cmk-hook") },
        { action: "secretsmanager:GetSecretValue", resource: arn("secretsmanager", "secret:shop/cmk-hook-??????") },
        { action: "kms:Decrypt", resource: KEY, context: { "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com" } },
      ],
    ],
    [
      "BatchGetBuilds: each build's project",
      "CodeBuild_20161006",
      "BatchGetBuilds",
      { ids: ["shop-web:1234"] },
      [{ action: "codebuild:BatchGetBuilds", resource: arn("codebuild", "project/shop-web") }],
    ],
  ])("%s", (_, prefix, operation, body, expected) => {
    expect(requiredPermissions(prefix, operation, body, at)).toEqual(expected);
  });

  it("refuses a call it has no model for, rather than letting it through unchecked", () => {
    expect(() => requiredPermissions(ECS, "DeleteService", {}, at)).toThrow(/no authorization model for ecs:DeleteService/);
    expect(() => requiredPermissions("AWSLambda", "Invoke", {}, at)).toThrow(/no authorization model/);
  });
});

describe("evaluating a role's statements", () => {
  const pass: Statement = {
    Effect: "Allow",
    Action: ["iam:PassRole"],
    Resource: ["arn:aws:iam::123456789012:role/shop-*"],
    Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
  };
  const services: Statement = { Effect: "Allow", Action: ["ecs:UpdateService"], Resource: [arn("ecs", "service/shop-prod/web")] };

  it.each([
    ["the exact resource", [services], { action: "ecs:UpdateService", resource: arn("ecs", "service/shop-prod/web") }, true],
    ["another service", [services], { action: "ecs:UpdateService", resource: arn("ecs", "service/shop-prod/web-canary") }, false],
    ["another action on the resource", [services], { action: "ecs:DeleteService", resource: arn("ecs", "service/shop-prod/web") }, false],
    [
      "a role matched by a wildcard, to the right service",
      [pass],
      { action: "iam:PassRole", resource: "arn:aws:iam::123456789012:role/shop-task", context: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
      true,
    ],
    [
      "the same role passed to another service",
      [pass],
      { action: "iam:PassRole", resource: "arn:aws:iam::123456789012:role/shop-task", context: { "iam:PassedToService": "lambda.amazonaws.com" } },
      false,
    ],
    ["a condition key the request does not carry", [pass], { action: "iam:PassRole", resource: "arn:aws:iam::123456789012:role/shop-task" }, false],
    [
      "an explicit Deny over an Allow",
      [services, { ...services, Effect: "Deny" as const }],
      { action: "ecs:UpdateService", resource: arn("ecs", "service/shop-prod/web") },
      false,
    ],
    ["no statement at all", [], { action: "ecs:UpdateService", resource: arn("ecs", "service/shop-prod/web") }, false],
  ])("%s", (_, statements, permission, expected) => {
    expect(allows(statements as Statement[], permission)).toBe(expected);
  });

  it('lets a role scoped to alarm ARNs see those metric alarms only (composite alarms need "*")', () => {
    const scoped = scopedAlarms([{ Effect: "Allow", Action: ["cloudwatch:DescribeAlarms"], Resource: [arn("cloudwatch", "alarm:shop-*")] }]);
    expect(scoped?.(arn("cloudwatch", "alarm:shop-prod-5xx"))).toBe(true);
    expect(scoped?.(arn("cloudwatch", "alarm:billing-5xx"))).toBe(false);
    expect(scopedAlarms([{ Effect: "Allow", Action: ["cloudwatch:DescribeAlarms"], Resource: ["*"] }])).toBeUndefined();
    expect(scopedAlarms([])).toBeUndefined();
  });

  it("words a refusal as AWS does, naming the role, the action and the resource", () => {
    expect(refusal({ name: "NotifyRole", statements: [] }, "notify", [{ action: "ecs:UpdateService", resource: arn("ecs", "service/a/b") }], ACCOUNT)).toBe(
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/NotifyRole/notify is not authorized to perform: ecs:UpdateService on resource: ${arn("ecs", "service/a/b")} because no identity-based policy allows the ecs:UpdateService action`,
    );
  });
});

describe("the stack's own roles (serverless.yml as osls resolves it)", () => {
  const stack = resolveStack(WORLD_CONFIG);
  const values = {
    "RecordsTable.Arn": arn("dynamodb", "table/records"),
    "RecordsTable.StreamArn": arn("dynamodb", "table/records/stream/x"),
    "DeadLetterQueue.Arn": arn("sqs", "dlq"),
  };
  const roles = rolesOf(stack.functions, stack.resources!, { region: "eu-west-1", account: ACCOUNT, values });
  const may = (fn: string, prefix: string, operation: string, body: Record<string, unknown>) =>
    requiredPermissions(prefix, operation, body, at).every((p) => allows(roles[fn]!.statements, p));

  it.each([
    [
      "on-image-pushed",
      ECS,
      "RegisterTaskDefinition",
      {
        family: "shop-web-staging",
        taskRoleArn: "arn:aws:iam::123456789012:role/shop-web-staging-task",
        executionRoleArn: "arn:aws:iam::123456789012:role/shop-staging-ecs-execution",
        tags: [{ key: "k", value: "v" }],
      },
      true,
    ],
    ["on-image-pushed", ECS, "RegisterTaskDefinition", { family: "billing-api", tags: [] }, false],
    ["on-image-pushed", ECS, "RegisterTaskDefinition", { family: "shop-web-staging", taskRoleArn: "arn:aws:iam::123456789012:role/admin" }, false],
    ["on-image-pushed", ECS, "UpdateService", { cluster: "shop-staging", service: "web" }, true],
    ["on-image-pushed", ECS, "UpdateService", { cluster: "shop-staging", service: "billing" }, false],
    ["on-alarm", ECS, "StopServiceDeployment", { serviceDeploymentArn: arn("ecs", "service-deployment/shop-prod/web/abc") }, true],
    ["on-alarm", ECS, "StopServiceDeployment", { serviceDeploymentArn: arn("ecs", "service-deployment/shop-prod/billing/abc") }, false],
    ["on-alarm", ECS, "RegisterTaskDefinition", { family: "shop-web-staging" }, false],
    ["notify", ECS, "UpdateService", { cluster: "shop-staging", service: "web" }, false],
    ["notify", "AmazonSSM", "GetParameter", { Name: "/stevedore/shop/slack-webhook-url" }, true],
    ["on-deployment-changed", "AmazonSSM", "GetParameter", { Name: "/stevedore/shop/slack-webhook-url" }, false],
    ["sweep", "CodeBuild_20161006", "ListBuildsForProject", { projectName: "shop-web" }, true],
    ["promote", "CodeBuild_20161006", "ListBuildsForProject", { projectName: "shop-web" }, false],
  ])("%s: %s.%s %j → allowed %s", (fn, prefix, operation, body, expected) => {
    expect(may(fn, prefix, operation, body)).toBe(expected);
  });

  it("refuses notify a notification parameter under a customer-managed key the config does not name (no kms:Decrypt granted)", () => {
    const underKey: Lookups = { ...at, decryptionKey: (name) => (name === "/stevedore/shop/slack-webhook-url" ? { keyId: KEY, via: "ssm" } : undefined) };
    const needs = requiredPermissions("AmazonSSM", "GetParameter", { Name: "/stevedore/shop/slack-webhook-url", WithDecryption: true }, underKey);
    expect(needs.map((p) => p.action)).toEqual(["ssm:GetParameter", "kms:Decrypt"]);
    expect(needs.filter((p) => !allows(roles.notify!.statements, p))).toEqual([needs[1]]);
  });

  it("would deploy: stream readers may read the stream, and every function may park its failures", () => {
    expect(
      deployProblems(stack.functions as Record<string, any>, roles, {
        stream: values["RecordsTable.StreamArn"],
        deadLetterQueue: values["DeadLetterQueue.Arn"],
      }),
    ).toEqual([]);
  });

  it("would not deploy a stream reader whose role cannot read the stream", () => {
    const notify = { ...roles.notify!, statements: roles.notify!.statements.filter((s) => !s.Action.includes("dynamodb:GetRecords")) };
    expect(
      deployProblems(
        { notify: stack.functions.notify as Record<string, any> },
        { notify },
        { stream: values["RecordsTable.StreamArn"], deadLetterQueue: values["DeadLetterQueue.Arn"] },
      ),
    ).toEqual(expect.arrayContaining([expect.stringContaining("notify: its role does not allow dynamodb:GetRecords")]));
  });
});

// What the stack needs to know about the pipeline config, computed offline when osls resolves
// `${file(./infra/stack.cjs):…}` in serverless.yml: the region, the EventBridge patterns narrowed
// to the configured resources, the least-privilege IAM statements and the compiled config every
// package carries (shared/config/compiled.ts). The config is loaded by our own TypeScript loader,
// so a config that fails `npm run validate` fails `osls package` and `osls deploy` with the same
// message: a bad config never reaches a deployment.
"use strict";

const { join, relative, resolve, sep } = require("node:path");
const { require: tsRequire } = require("tsx/cjs/api");

const { configPath, loadConfig } = tsRequire("../shared/config/load.ts", __filename);
const { writeCompiledConfig } = tsRequire("../shared/config/compiled.ts", __filename);
const { builtins, renderWith } = tsRequire("../shared/render/task-definition.ts", __filename);

const SERVICE_DIR = resolve(__dirname, "..");
/** Where the compiled config is written for packaging (ignored by git, like all build output). */
const COMPILED_DIR = join(SERVICE_DIR, ".build", "config");

/** Logical ids of serverless.yml's resources that the statements point at. */
const RECORDS_TABLE = "RecordsTable";
const RECORDS_INDEXES = ["byApp", "due"];
const DEAD_LETTER_QUEUE = "DeadLetterQueue";

/** The final states of a CodeBuild build: the only ones on-build-finished acts on. */
const FINAL_BUILD_STATUSES = ["SUCCEEDED", "FAILED", "FAULT", "STOPPED", "TIMED_OUT"];

/** Only used to render templates offline; no value of it ends up in a statement. */
const SAMPLE_IMAGE = {
  repository: "sample/repository",
  repositoryUri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/sample/repository",
  digest: `sha256:${"0".repeat(64)}`,
  tag: "sample",
  commit: "0000000",
};

/**
 * An error osls prints as is: it shows `error.stack` of what a resolver throws, so the stack is
 * replaced by the message (ours already names the file, the path and the fix).
 */
class StackError extends Error {
  constructor(message) {
    super(message);
    this.name = "StackError";
    this.stack = message;
  }
}

function partitionOf(region) {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

/** A Fn::Sub text with our literal parts escaped (`${` would otherwise start a substitution). */
function sub(...parts) {
  return { "Fn::Sub": parts.map((p) => (typeof p === "string" ? p : p.literal.replaceAll("${", "${!"))).join("") };
}
const lit = (literal) => ({ literal });

const unique = (values) => [...new Set(values)].sort();

function loadPipeline(path) {
  try {
    return loadConfig(path);
  } catch (error) {
    // ConfigError lists every problem with its file and path: exactly what the user must see.
    if (error && error.name === "ConfigError") throw new StackError(error.message);
    throw error;
  }
}

/** The stack's region: the one region every target lives in (loadConfig refuses several). */
function stackRegion(config, requested, file) {
  const regions = [...new Set(config.apps.flatMap((app) => app.environments.map((env) => env.region)))];
  const region = regions[0];
  if (requested && requested !== region) {
    throw new StackError(
      `--region ${requested} does not match ${file}, whose targets are all in ${region}: EventBridge ` +
        `would never deliver their events to a stack in ${requested}. Deploy to ${region}.`,
    );
  }
  return region;
}

/** serverless.yml's service and its default stage (`${opt:stage, 'dev'}`). */
const SERVICE = "stevedore";
const DEFAULT_STAGE = "dev";

/**
 * What the names of this stack's EventBridge rules all start with, for the dead-letter queue's
 * policy. osls names a rule `<service>-<stage>-<function>-rule-<n>`, and a name over 64
 * characters (a stage of 26 or more) becomes its first 25 characters and an md5
 * (osls: event-bridge/utils.js, hashName): the first 25 characters of `<service>-<stage>-` are
 * what every rule name keeps, hashed or not. A longer prefix would leave hashed rules unable to
 * park their undeliverable events.
 */
function ruleNamePrefix(stage) {
  return `${SERVICE}-${stage}-`.slice(0, 25);
}

/** Everything the resolver answers, computed once per config path, --region and --stage. */
function compute(options = {}) {
  const path = configPath();
  const config = loadPipeline(path);
  const file = relative(process.cwd(), config.file) || config.file;
  const region = stackRegion(config, options.region, file);
  const partition = partitionOf(region);

  const apps = config.apps;
  const environments = apps.flatMap((app) => app.environments);
  const targets = environments.flatMap((env) => env.targets);

  const repositories = unique(apps.map((app) => app.repository));
  const projects = unique(apps.map((app) => app.buildProject).filter(Boolean));
  const alarms = unique(environments.flatMap((env) => env.alarms));
  const services = unique(targets.map((t) => `${t.cluster}/${t.service}`));
  const guardedServices = unique(environments.filter((env) => env.alarms.length > 0).flatMap((env) => env.targets).map((t) => `${t.cluster}/${t.service}`));
  // Only these apps ever have a promotion waiting for a person (approval: manual).
  const approvalApps = unique(apps.filter((app) => app.environments.some((env) => env.promote?.approval === "manual")).map((app) => app.name));

  // Families and roles come from rendering every target the way a deployment will.
  const families = new Set();
  const roles = new Set();
  for (const target of targets) {
    const rendered = renderWith(target.template, { ...target.variables, ...builtins(target, SAMPLE_IMAGE) });
    if (!rendered.ok) throw new StackError(`${file}: ${rendered.problems.join("; ")}`);
    families.add(rendered.input.family);
    for (const key of ["taskRoleArn", "executionRoleArn"]) {
      if (rendered.input[key]) roles.add(rendered.input[key]);
    }
  }

  // Functions read the config compiled from what was just validated (shared/config/compiled.ts):
  // the templates are inside it, so the package carries that one file.
  const compiledFile = relative(SERVICE_DIR, writeCompiledConfig(config, COMPILED_DIR, SERVICE_DIR)).split(sep).join("/");

  // ── EventBridge patterns ──────────────────────────────────────────────────────────────────
  const none = ["(none configured)"]; // a rule must list something; it is disabled then
  // ECS events name the service only in resources[0]; the account is matched by `account`.
  const serviceResources = (list) => list.map((s) => ({ wildcard: `arn:${partition}:ecs:${region}:*:service/${s}` }));
  // Every pattern names this account: an event bus can carry other accounts' events (a
  // cross-account rule, an organisation's bus), and none of them may deploy or roll back here.
  const thisAccount = [{ Ref: "AWS::AccountId" }];
  const patterns = {
    imagePushed: {
      account: thisAccount,
      source: ["aws.ecr"],
      "detail-type": ["ECR Image Action"],
      detail: { "action-type": ["PUSH"], result: ["SUCCESS"], "repository-name": repositories },
    },
    buildFinished: {
      account: thisAccount,
      source: ["aws.codebuild"],
      "detail-type": ["CodeBuild Build State Change"],
      detail: { "project-name": projects.length ? projects : none, "build-status": FINAL_BUILD_STATUSES },
    },
    deploymentChanged: {
      account: thisAccount,
      source: ["aws.ecs"],
      "detail-type": ["ECS Deployment State Change", "ECS Service Action"],
      resources: serviceResources(services),
    },
    alarm: {
      account: thisAccount,
      source: ["aws.cloudwatch"],
      "detail-type": ["CloudWatch Alarm State Change"],
      detail: { alarmName: alarms.length ? alarms : none, state: { value: ["ALARM"] } },
    },
    // A rollout of a guarded service starting or ending wakes on-alarm (shared/rollback/warm-up.ts).
    alarmWarmUp: {
      account: thisAccount,
      source: ["aws.ecs"],
      "detail-type": ["ECS Deployment State Change"],
      detail: { eventName: ["SERVICE_DEPLOYMENT_IN_PROGRESS", "SERVICE_DEPLOYMENT_COMPLETED"] },
      resources: guardedServices.length ? serviceResources(guardedServices) : none,
    },
    promotionDecision: {
      account: thisAccount,
      source: ["stevedore"],
      "detail-type": ["Stevedore Promotion Decision"],
      detail: { app: approvalApps.length ? approvalApps : none },
    },
  };
  const enabled = { buildFinished: projects.length > 0, alarm: alarms.length > 0, alarmWarmUp: guardedServices.length > 0, promotionDecision: approvalApps.length > 0 };

  // ── IAM: every action named, every resource derived from the config ─────────────────────
  const arn = (service, rest) => sub(`arn:\${AWS::Partition}:${service}:${region}:\${AWS::AccountId}:`, ...rest);
  const statements = [];
  const allow = (Sid, Action, Resource, Condition) => {
    if (Resource.length === 0) return; // IAM rejects an empty Resource; nothing configured, nothing granted
    statements.push({ Sid, Effect: "Allow", Action, Resource, ...(Condition ? { Condition } : {}) });
  };

  const serviceArns = services.map((s) => arn("ecs", [lit(`service/${s}`)]));
  allow("DeployConfiguredServices", ["ecs:UpdateService", "ecs:DescribeServices"], serviceArns);
  // StopServiceDeployment authorizes against both the service and the service deployment.
  allow("RollBackConfiguredServices", ["ecs:StopServiceDeployment"], [
    ...serviceArns,
    ...services.map((s) => arn("ecs", [lit(`service-deployment/${s}/*`)])),
  ]);
  const taskDefinitionArns = unique([...families]).map((f) => arn("ecs", [lit(`task-definition/${f}:*`)]));
  // RegisterTaskDefinition supports resource-level permissions (resource type task-definition*).
  // ListTagsForResource on the same revisions: a deployment whose invocation died between
  // registering and recording a revision finds it again by its provenance tags (one statement:
  // the family list is the biggest part of the policy at 200 services).
  allow("RegisterConfiguredFamilies", ["ecs:RegisterTaskDefinition", "ecs:ListTagsForResource"], taskDefinitionArns);
  // Provenance tags are set at registration; tagging anything else stays denied.
  allow("TagOnRegistration", ["ecs:TagResource"], taskDefinitionArns, {
    StringEquals: { "ecs:CreateAction": "RegisterTaskDefinition" },
  });
  // The newest revision ARNs of a family, for the same search (ListTaskDefinitions has no
  // resource type, so "*"; it returns ARNs only).
  allow("FindRegisteredRevisions", ["ecs:ListTaskDefinitions"], ["*"]);
  // No ecs:DescribeTaskDefinition: no function calls it, and it has no resource type (IAM would
  // need Resource "*", i.e. every task definition's environment in the account).
  allow("PassTaskRoles", ["iam:PassRole"], unique([...roles]), {
    StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" },
  });
  // Lifecycle hooks (blue-green, linear, canary) name a role that ECS assumes to invoke them;
  // UpdateService passes it to ECS itself, not to tasks.
  const hookRoles = unique(environments.flatMap((env) => (env.strategy.lifecycleHooks ?? []).map((hook) => hook.roleArn)));
  allow("PassLifecycleHookRoles", ["iam:PassRole"], hookRoles, {
    StringEquals: { "iam:PassedToService": "ecs.amazonaws.com" },
  });
  // DescribeAlarms on Resource "*": AWS documents that composite alarms are only returned then,
  // and scoped to alarm ARNs it silently leaves them out, so a guarding composite alarm would
  // read as missing (and never as firing). It is a read of alarm names and states, nothing more.
  if (alarms.length > 0) allow("ReadGuardingAlarms", ["cloudwatch:DescribeAlarms"], ["*"]);
  // An image's push time (and its tags now), which orders images whichever trigger brings one.
  allow("ReadConfiguredImages", ["ecr:DescribeImages"], repositories.map((r) => arn("ecr", [lit(`repository/${r}`)])));
  // ListBuildsForProject: the sweeper asks CodeBuild whether the build that pushed an image still
  // runs or failed, when the build's own event has not come (late, lost, or a push by hand).
  allow("ReadConfiguredBuilds", ["codebuild:BatchGetBuilds", "codebuild:ListBuildsForProject"], projects.map((p) => arn("codebuild", [lit(`project/${p}`)])));

  const parameters = [];
  const secrets = [];
  for (const destination of Object.values(config.destinations)) {
    for (const ref of destination.type === "webhook" ? [destination.url, destination.secret] : [destination.url]) {
      if (ref.store === "ssm") {
        parameters.push(ref.name.startsWith("arn:") ? ref.name : arn("ssm", [lit(`parameter/${ref.name.replace(/^\//, "")}`)]));
      } else {
        // shared/notify/secrets.ts reads secrets through Parameter Store's Secrets Manager
        // reference (one small client instead of two), which also needs GetSecretValue on the secret.
        const secretRegion = /^arn:[^:]+:secretsmanager:([a-z0-9-]+):/.exec(ref.id)?.[1] ?? region;
        parameters.push(sub(`arn:\${AWS::Partition}:ssm:${secretRegion}:\${AWS::AccountId}:`, lit(`parameter/aws/reference/secretsmanager/${ref.id}`)));
        // Secret ARNs end in a random 6-character suffix the config does not know.
        secrets.push(ref.id.startsWith("arn:") ? ref.id : arn("secretsmanager", [lit(`secret:${ref.id}-??????`)]));
      }
    }
  }
  const key = (r) => (typeof r === "string" ? r : r["Fn::Sub"]);
  const dedupe = (list) => [...new Map(list.map((r) => [key(r), r])).values()];
  allow("ReadNotificationParameters", ["ssm:GetParameter"], dedupe(parameters));
  allow("ReadNotificationSecrets", ["secretsmanager:GetSecretValue"], dedupe(secrets));
  // A customer-managed key encrypting a destination's parameters or secrets: Decrypt on it, and
  // only as Parameter Store or Secrets Manager uses it on our behalf, never directly.
  const kmsKeys = unique(Object.values(config.destinations).map((d) => d.kmsKey).filter(Boolean));
  allow("DecryptNotificationSecrets", ["kms:Decrypt"], kmsKeys, {
    StringEquals: { "kms:ViaService": unique(kmsKeys.map((k) => k.split(":")[3]).flatMap((r) => [`ssm.${r}.amazonaws.com`, `secretsmanager.${r}.amazonaws.com`])) },
  });

  // This stack's own resources (logical ids from serverless.yml). TransactWriteItems has no IAM
  // action of its own: each item in a transaction is authorized as its PutItem, UpdateItem or
  // ConditionCheckItem. Stream reads are granted by osls with the stream event source.
  allow("WriteRecords", ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"], [
    { "Fn::GetAtt": [RECORDS_TABLE, "Arn"] },
  ]);
  allow("QueryRecords", ["dynamodb:Query"], [
    { "Fn::GetAtt": [RECORDS_TABLE, "Arn"] },
    ...RECORDS_INDEXES.map((index) => ({ "Fn::Sub": `\${${RECORDS_TABLE}.Arn}/index/${index}` })),
  ]);
  allow("ParkFailures", ["sqs:SendMessage"], [{ "Fn::GetAtt": [DEAD_LETTER_QUEUE, "Arn"] }]);

  return {
    region,
    deadLetterRulePrefix: ruleNamePrefix(options.stage ?? DEFAULT_STAGE),
    compiledConfigPath: compiledFile,
    packagePatterns: ["!**", compiledFile],
    patterns,
    enabled,
    iamStatements: statements,
    // For tests and people reading `osls print`: what the statements were derived from.
    resolved: {
      repositories, projects, alarms, services, guardedServices, approvalApps,
      families: unique([...families]), roles: unique([...roles]), hookRoles,
    },
  };
}

const cache = new Map();

/**
 * osls calls this once per `${file(./infra/stack.cjs):…}` reference; the work is done once.
 * A failure is remembered too: osls lists every reference that failed, and the full message
 * once is enough.
 */
module.exports = async ({ options } = {}) => {
  const key = `${configPath()}\0${options?.region ?? ""}\0${options?.stage ?? ""}`;
  let entry = cache.get(key);
  if (!entry) {
    try {
      entry = { value: compute(options) };
    } catch (error) {
      const shown = relative(process.cwd(), resolve(configPath())) || configPath();
      entry = { error, repeated: new StackError(`${shown}: rejected (its problems are listed once, in this list)`) };
      cache.set(key, entry);
      throw error;
    }
    cache.set(key, entry);
  }
  if (entry.error) throw entry.repeated;
  return entry.value;
};
module.exports.compute = compute;

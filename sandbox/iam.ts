// IAM as the sandbox enforces it. Every AWS call a function makes is authorized against that
// function's role in the stack osls resolves (infra/iam.ts writes the roles): the action, the
// resource the call acts on and the condition keys the stack's statements use, evaluated as IAM
// evaluates identity policies (an explicit Deny wins; otherwise some Allow must match the
// action, the resource and every condition). A missing or over-tight permission then fails the
// end-to-end tests and the fault matrix the way AccessDenied fails a deployment on AWS.
//
// What each call is authorized against follows the Service Authorization Reference: the
// resource types of the action, and for calls that pass a role or tag on creation, the
// dependent actions (iam:PassRole with iam:PassedToService, ecs:TagResource with
// ecs:CreateAction). Calls by the scenario itself (a person with admin rights) are not checked.
import { resolve, type Resolution } from "../infra/template";
import { CLOUDWATCH_PREFIX } from "./aws/cloudwatch";
import { CODEBUILD_PREFIX } from "./aws/codebuild";
import { DYNAMODB_PREFIX } from "./aws/dynamodb";
import { ECR_PREFIX } from "./aws/ecr";
import { ECS_PREFIX } from "./aws/ecs";
import { EVENTBRIDGE_PREFIX } from "./aws/eventbridge";
import { AwsError } from "./aws/server";
import { type DecryptionKey, SSM_PREFIX } from "./aws/ssm";

type Json = Record<string, any>; // request bodies and CloudFormation fragments

export interface Statement {
  Effect: "Allow" | "Deny";
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** One permission a call needs: an action on a resource, with the request's condition keys. */
export interface Permission {
  action: string;
  resource: string;
  context?: Record<string, string | string[]>;
}

/** What the sandbox knows that an ARN depends on. */
export interface Lookups {
  account: string;
  region: string;
  /** The revision RegisterTaskDefinition will give a family. */
  nextRevision(family: string): number;
  /** The ARN (with its random suffix) of a secret named by name or ARN, if it exists. */
  secretArn(id: string): string | undefined;
  /** The customer-managed key decrypting a GetParameter name uses, and the service that asks KMS (see LocalSsm). */
  decryptionKey(name: string): DecryptionKey | undefined;
}

/** The IAM service prefix of each sandbox API (by its X-Amz-Target prefix). */
const SERVICE_OF: Record<string, string> = {
  [ECS_PREFIX]: "ecs",
  [ECR_PREFIX]: "ecr",
  [DYNAMODB_PREFIX]: "dynamodb",
  [SSM_PREFIX]: "ssm",
  [CLOUDWATCH_PREFIX]: "cloudwatch",
  [CODEBUILD_PREFIX]: "codebuild",
  [EVENTBRIDGE_PREFIX]: "events",
};

const SECRET_REFERENCE = "/aws/reference/secretsmanager/";

/** The permissions a call needs. A call this does not know is refused: nothing unchecked. */
export function requiredPermissions(prefix: string, operation: string, body: Json, at: Lookups): Permission[] {
  const service = SERVICE_OF[prefix];
  if (!service) throw new AwsError("AccessDeniedException", `sandbox IAM: no authorization model for ${prefix}.${operation}`);
  const action = `${service}:${operation}`;
  const arn = (svc: string, resource: string) => `arn:aws:${svc}:${at.region}:${at.account}:${resource}`;
  const on = (...resources: string[]): Permission[] => resources.map((resource) => ({ action, resource }));
  const clusterOf = (value: unknown) =>
    String(value ?? "default")
      .split("/")
      .pop()!;
  const serviceName = (value: unknown) => String(value).split("/").pop()!;

  switch (action) {
    case "ecs:DescribeServices":
      return on(...((body.services ?? []) as string[]).map((s) => arn("ecs", `service/${clusterOf(body.cluster)}/${serviceName(s)}`)));
    case "ecs:UpdateService": {
      const permissions = on(arn("ecs", `service/${clusterOf(body.cluster)}/${serviceName(body.service)}`));
      // Lifecycle hooks name a role ECS assumes to invoke them: it is passed to ECS.
      for (const hook of (body.deploymentConfiguration?.lifecycleHooks ?? []) as Json[]) {
        if (hook.roleArn) permissions.push({ action: "iam:PassRole", resource: String(hook.roleArn), context: { "iam:PassedToService": "ecs.amazonaws.com" } });
      }
      return permissions;
    }
    case "ecs:RegisterTaskDefinition": {
      const resource = arn("ecs", `task-definition/${String(body.family)}:${at.nextRevision(String(body.family))}`);
      const permissions = on(resource);
      for (const role of [body.taskRoleArn, body.executionRoleArn]) {
        if (role) permissions.push({ action: "iam:PassRole", resource: String(role), context: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } });
      }
      if (Array.isArray(body.tags) && body.tags.length > 0) {
        permissions.push({ action: "ecs:TagResource", resource, context: { "ecs:CreateAction": "RegisterTaskDefinition" } });
      }
      return permissions;
    }
    case "ecs:ListTaskDefinitions":
      return on("*");
    case "ecs:ListTagsForResource":
      return on(String(body.resourceArn));
    case "ecs:StopServiceDeployment":
      return on(String(body.serviceDeploymentArn));
    case "ecr:DescribeImages":
      return on(arn("ecr", `repository/${String(body.repositoryName)}`));
    case "codebuild:BatchGetBuilds":
      return on(...((body.ids ?? []) as string[]).map((id) => arn("codebuild", `project/${id.split(":")[0]}`)));
    case "codebuild:ListBuildsForProject":
      return on(arn("codebuild", `project/${String(body.projectName)}`));
    case "cloudwatch:DescribeAlarms":
      // On "*"; a caller scoped to alarm ARNs gets a partial answer instead (scopedAlarms).
      return on("*");
    case "ssm:GetParameter": {
      const name = String(body.Name);
      const parameter = name.startsWith("arn:") ? name : arn("ssm", `parameter/${name.replace(/^\//, "")}`);
      const permissions = on(parameter);
      const path = name.startsWith("arn:") ? `/${name.split(":parameter/")[1] ?? ""}` : name;
      if (path.startsWith(SECRET_REFERENCE)) {
        const id = path.slice(SECRET_REFERENCE.length);
        permissions.push({ action: "secretsmanager:GetSecretValue", resource: at.secretArn(id) ?? arn("secretsmanager", `secret:${id}-??????`) });
      }
      // Decrypting with a customer-managed key: the service calls KMS with the caller's
      // credentials, so the caller's role needs kms:Decrypt on the key, through that service.
      const key = body.WithDecryption === true ? at.decryptionKey(name) : undefined;
      if (key) permissions.push({ action: "kms:Decrypt", resource: key.keyId, context: { "kms:ViaService": `${key.via}.${at.region}.amazonaws.com` } });
      return permissions;
    }
    case "dynamodb:GetItem":
    case "dynamodb:PutItem":
    case "dynamodb:UpdateItem":
    case "dynamodb:DeleteItem":
      return on(arn("dynamodb", `table/${String(body.TableName)}`));
    case "dynamodb:Query":
      return on(arn("dynamodb", `table/${String(body.TableName)}${body.IndexName ? `/index/${String(body.IndexName)}` : ""}`));
    case "dynamodb:TransactWriteItems":
      // No action of its own: each item is authorized as the write it is.
      return ((body.TransactItems ?? []) as Json[]).map((item) => {
        const [kind, write] = Object.entries(item)[0] as [string, Json];
        const itemAction = { Put: "PutItem", Update: "UpdateItem", Delete: "DeleteItem", ConditionCheck: "ConditionCheckItem" }[kind];
        return { action: `dynamodb:${itemAction}`, resource: arn("dynamodb", `table/${String(write.TableName)}`) };
      });
    case "events:PutEvents":
      return on(arn("events", `event-bus/${String(body.Entries?.[0]?.EventBusName ?? "default")}`));
    default:
      throw new AwsError("AccessDeniedException", `sandbox IAM: no authorization model for ${action}`);
  }
}

/**
 * DescribeAlarms by a role allowed it only on some alarm ARNs: AWS answers with the metric
 * alarms among those and never a composite alarm (composite alarms need the action on "*"), so a
 * guarding composite alarm reads as missing. Returns which alarm ARNs such a role may see, or
 * undefined when the role is allowed on "*" or not at all (then the usual check decides).
 */
export function scopedAlarms(statements: Statement[]): ((alarmArn: string) => boolean) | undefined {
  const action = "cloudwatch:DescribeAlarms";
  if (allows(statements, { action, resource: "*" })) return undefined;
  const scoped = statements.some((s) => s.Effect === "Allow" && s.Action.some((a) => glob(a, action)));
  return scoped ? (alarmArn) => allows(statements, { action, resource: alarmArn }) : undefined;
}

const globs = new Map<string, RegExp>();

/** IAM's glob: `*` any run of characters, `?` one character, case-sensitive. */
function glob(pattern: string, value: string): boolean {
  let regex = globs.get(pattern);
  if (!regex) {
    // Compiled once per pattern: every call of every function is checked against them.
    regex = new RegExp(
      `^${pattern
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .replace(/\*/g, ".*")
        .replace(/\?/g, ".")}$`,
      "s",
    );
    globs.set(pattern, regex);
  }
  return regex.test(value);
}

function conditionHolds(condition: Statement["Condition"], context: Permission["context"] = {}): boolean {
  for (const [operator, keys] of Object.entries(condition ?? {})) {
    for (const [key, wanted] of Object.entries(keys)) {
      const given = context[key];
      // A key absent from the request fails every operator but the ...IfExists forms (unused here).
      if (given === undefined) return false;
      const values = [wanted].flat();
      const test = { StringEquals: (w: string, g: string) => w === g, StringLike: glob, ArnEquals: (w: string, g: string) => w === g, ArnLike: glob }[operator];
      if (!test) throw new Error(`sandbox IAM: condition operator ${operator} is not modelled`);
      if (![given].flat().some((g) => values.some((w) => test(w, g)))) return false;
    }
  }
  return true;
}

/** Whether a role's statements allow `permission`, as IAM evaluates identity policies. */
export function allows(statements: Statement[], permission: Permission): boolean {
  const applies = (s: Statement) =>
    s.Action.some((a) => glob(a, permission.action)) && s.Resource.some((r) => glob(r, permission.resource)) && conditionHolds(s.Condition, permission.context);
  if (statements.some((s) => s.Effect === "Deny" && applies(s))) return false;
  return statements.some((s) => s.Effect === "Allow" && applies(s));
}

/** The first permission of a call its role does not allow, as AWS words the refusal; or undefined. */
export function refusal(role: { name: string; statements: Statement[] }, fn: string, permissions: Permission[], account: string): string | undefined {
  const denied = permissions.find((p) => !allows(role.statements, p));
  if (!denied) return undefined;
  return (
    `User: arn:aws:sts::${account}:assumed-role/${role.name}/${fn} is not authorized to perform: ${denied.action} on resource: ${denied.resource} ` +
    `because no identity-based policy allows the ${denied.action} action`
  );
}

/**
 * Each function's role as CloudFormation would create it from the resolved stack: its inline and
 * managed policies, with the intrinsics resolved in the sandbox's account and region (the
 * stack's own resources by `at.values`: `RecordsTable.Arn`…).
 */
export function rolesOf(
  functions: Record<string, { role?: unknown }>,
  resources: Record<string, Json>,
  at: Resolution,
): Record<string, { name: string; statements: Statement[] }> {
  const statementsOf = (document: Json): Statement[] =>
    (document.Statement as Json[]).map((s) => {
      const r = resolve(s, at) as Json;
      return { Effect: r.Effect, Action: [r.Action].flat(), Resource: [r.Resource].flat(), ...(r.Condition ? { Condition: r.Condition } : {}) };
    });
  const roles: Record<string, { name: string; statements: Statement[] }> = {};
  for (const [fn, definition] of Object.entries(functions)) {
    const id = typeof definition.role === "string" ? definition.role : undefined;
    const role = id ? resources[id] : undefined;
    if (!id || role?.Type !== "AWS::IAM::Role") throw new Error(`sandbox IAM: ${fn} has no role of its own in the stack`);
    roles[fn] = {
      name: id,
      statements: [
        ...((role.Properties.Policies ?? []) as Json[]).flatMap((p) => statementsOf(p.PolicyDocument)),
        ...((role.Properties.ManagedPolicyArns ?? []) as Json[]).flatMap((ref) => statementsOf((resources[ref.Ref] as Json).Properties.PolicyDocument)),
      ],
    };
  }
  return roles;
}

/**
 * What CloudFormation and Lambda check when the stack is created: a stream's event source
 * mapping needs its function's role to read the stream, and an on-failure destination needs it
 * to send there. Returns what would make the deployment fail.
 */
export function deployProblems(
  functions: Record<string, Json>,
  roles: Record<string, { statements: Statement[] }>,
  arns: { stream: string; deadLetterQueue: string },
): string[] {
  const problems: string[] = [];
  for (const [fn, definition] of Object.entries(functions)) {
    const role = roles[fn];
    if (!role) continue;
    const need = (action: string, resource: string, why: string) => {
      if (!allows(role.statements, { action, resource })) problems.push(`${fn}: its role does not allow ${action} on ${resource} (${why})`);
    };
    const streams = ((definition.events ?? []) as Json[]).filter((e) => e.stream);
    for (const action of ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"]) {
      if (streams.length > 0) need(action, arns.stream, "Lambda reads the records stream with it");
    }
    const parks = definition.destinations?.onFailure || streams.some((e) => e.stream.destinations?.onFailure);
    if (parks) need("sqs:SendMessage", arns.deadLetterQueue, "Lambda parks failures in the dead-letter queue with it");
  }
  return problems;
}

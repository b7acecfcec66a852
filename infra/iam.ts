// Each function's own role, least privilege, every resource derived from the config. A role's
// inline policies may hold 10,240 characters in all and a managed policy 6,144 (IAM counts them
// without whitespace, after CloudFormation resolves them); at 200 services the resource lists
// alone take tens of thousands. So a role's statements fill its inline policy first and then as
// many managed policies of its own as they need, a long resource list split across them, and the
// stack is refused with the figures when a role would need more than IAM lets one role have.
import type { Destination } from "../shared/config/model";
import { StackError } from "./errors";
import { FUNCTIONS, type Capability, type StackFunction } from "./functions";
import type { Inventory } from "./inventory";
import { IAM, iamLength } from "./quotas";
import { arn, getAtt, keyOf, literal, partitionOf, resolve, sub, uniqueValues, type Resolution, type Value } from "./template";

export interface Statement {
  Sid: string;
  Effect: "Allow";
  Action: string[];
  Resource: Value[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** Logical ids of serverless.yml's resources that the statements point at. */
const RECORDS_TABLE = "RecordsTable";
const RECORDS_INDEXES = ["byApp", "due"];
const DEAD_LETTER_QUEUE = "DeadLetterQueue";

const statement = (Sid: string, Action: string[], Resource: Value[], Condition?: Statement["Condition"]): Statement[] =>
  Resource.length === 0 ? [] : [{ Sid, Effect: "Allow", Action, Resource: uniqueValues(Resource), ...(Condition ? { Condition } : {}) }];

/** What each capability needs: every action named, every resource from the config. */
export function capabilityStatements(inventory: Inventory): Record<Capability, Statement[]> {
  const { region } = inventory;
  const ecs = (resource: string) => arn("ecs", region, resource);
  const services = inventory.services.map((s) => ecs(`service/${s}`));
  const families = inventory.families.map((f) => ecs(`task-definition/${f}:*`));
  const deploy = [
    ...statement("DeployConfiguredServices", ["ecs:DescribeServices", "ecs:UpdateService"], services),
    // RegisterTaskDefinition supports resource-level permissions (resource type task-definition).
    // ListTagsForResource on the same revisions: a deployment whose invocation died between
    // registering and recording a revision finds it again by its provenance tags.
    ...statement("RegisterConfiguredFamilies", ["ecs:ListTagsForResource", "ecs:RegisterTaskDefinition"], families),
    // Provenance tags are set at registration. ecs:CreateAction limits this to tags given in a
    // RegisterTaskDefinition call, which the statement above limits to the configured families:
    // any other tagging stays denied, and no list of families is repeated here.
    ...statement("TagOnRegistration", ["ecs:TagResource"], [ecs("task-definition/*")], {
      StringEquals: { "ecs:CreateAction": "RegisterTaskDefinition" },
    }),
    // The newest revision ARNs of a family, for the same search (ListTaskDefinitions has no
    // resource type, so "*"; it returns ARNs only). No ecs:DescribeTaskDefinition: no function
    // calls it, and on "*" it would read every task definition's environment in the account.
    ...statement("FindRegisteredRevisions", ["ecs:ListTaskDefinitions"], ["*"]),
    ...statement("PassTaskRoles", ["iam:PassRole"], inventory.taskRoles, {
      StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" },
    }),
    // Lifecycle hooks (blue-green, linear, canary) name a role that ECS assumes to invoke them;
    // UpdateService passes it to ECS itself, not to tasks.
    ...statement("PassLifecycleHookRoles", ["iam:PassRole"], inventory.hookRoles, {
      StringEquals: { "iam:PassedToService": "ecs.amazonaws.com" },
    }),
    // Resource "*": AWS documents that composite alarms are only returned then, and scoped to
    // alarm ARNs it silently leaves them out, so a guarding composite alarm would read as missing
    // (and never as firing). It is a read of alarm names and states, nothing more.
    ...(inventory.alarms.length > 0 ? statement("ReadGuardingAlarms", ["cloudwatch:DescribeAlarms"], ["*"]) : []),
    // An image's push time (and its tags now), which orders images whichever trigger brings one.
    ...statement(
      "ReadConfiguredImages",
      ["ecr:DescribeImages"],
      inventory.repositories.map((r) => arn("ecr", region, `repository/${r}`)),
    ),
  ];
  const rollBack = [
    // UpdateService to the previous revision when ECS cannot stop the deployment itself.
    // StopServiceDeployment on the services as well: it costs an action, not a list, and holds
    // whether IAM checks the service besides the service deployment.
    ...statement("RollBackConfiguredServices", ["ecs:StopServiceDeployment", "ecs:UpdateService"], services),
    // The service deployment it is given, whose ARN names its cluster and service: a configured
    // service's deployments, and no others.
    ...statement(
      "StopConfiguredDeployments",
      ["ecs:StopServiceDeployment"],
      inventory.services.map((s) => ecs(`service-deployment/${s}/*`)),
    ),
  ];
  // ListBuildsForProject: the sweeper asks CodeBuild whether the build that pushed an image still
  // runs or failed, when the build's own event has not come (late, lost, or a push by hand).
  const readBuilds = statement(
    "ReadConfiguredBuilds",
    ["codebuild:BatchGetBuilds", "codebuild:ListBuildsForProject"],
    inventory.buildProjects.map((p) => arn("codebuild", region, `project/${p}`)),
  );
  return { deploy, rollBack, readBuilds, readSecrets: secretStatements(inventory.destinations, region), readStream: [] };
}

function secretStatements(destinations: Destination[], region: string): Statement[] {
  const parameters: Value[] = [];
  const secrets: Value[] = [];
  for (const destination of destinations) {
    for (const ref of destination.type === "webhook" ? [destination.url, destination.secret] : [destination.url]) {
      if (ref.store === "ssm") {
        parameters.push(ref.name.startsWith("arn:") ? ref.name : arn("ssm", region, `parameter/${ref.name.replace(/^\//, "")}`));
      } else {
        // shared/notify/secrets.ts reads secrets through Parameter Store's Secrets Manager
        // reference (one small client instead of two), which also needs GetSecretValue on the secret.
        const secretRegion = /^arn:[^:]+:secretsmanager:([a-z0-9-]+):/.exec(ref.id)?.[1] ?? region;
        parameters.push(arn("ssm", secretRegion, `parameter/aws/reference/secretsmanager/${ref.id}`));
        // Secret ARNs end in a random 6-character suffix the config does not know.
        secrets.push(ref.id.startsWith("arn:") ? ref.id : arn("secretsmanager", region, `secret:${ref.id}-??????`));
      }
    }
  }
  // A customer-managed key encrypting a destination's parameters or secrets: Decrypt on it, and
  // only as Parameter Store or Secrets Manager uses it on our behalf, never directly.
  const kmsKeys = [...new Set(destinations.flatMap((d) => (d.kmsKey ? [d.kmsKey] : [])))].sort();
  const viaServices = [...new Set(kmsKeys.map((k) => k.split(":")[3]!))].flatMap((r) => [`ssm.${r}.amazonaws.com`, `secretsmanager.${r}.amazonaws.com`]).sort();
  return [
    ...statement("ReadNotificationParameters", ["ssm:GetParameter"], parameters),
    ...statement("ReadNotificationSecrets", ["secretsmanager:GetSecretValue"], secrets),
    ...statement("DecryptNotificationSecrets", ["kms:Decrypt"], kmsKeys, { StringEquals: { "kms:ViaService": viaServices } }),
  ];
}

/** What every function needs of the stack's own resources, and a stream reader of the stream. */
function ownStatements(fn: StackFunction, functionName: string, region: string): Statement[] {
  const table = getAtt(RECORDS_TABLE, "Arn");
  return [
    // Lambda writes the function's logs with its role; osls creates the log group itself.
    ...statement("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [arn("logs", region, `log-group:/aws/lambda/${functionName}:*`)]),
    // TransactWriteItems has no IAM action of its own: each item in a transaction is authorized
    // as its PutItem, UpdateItem or ConditionCheckItem.
    ...statement("WriteRecords", ["dynamodb:ConditionCheckItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], [table]),
    ...statement("QueryRecords", ["dynamodb:Query"], [table, ...RECORDS_INDEXES.map((index) => sub(`\${${RECORDS_TABLE}.Arn}`, literal(`/index/${index}`)))]),
    // Failed asynchronous invocations, and stream batches out of retries, go to the dead-letter
    // queue: Lambda sends them with the function's role.
    ...statement("ParkFailures", ["sqs:SendMessage"], [getAtt(DEAD_LETTER_QUEUE, "Arn")]),
    ...(fn.capabilities.includes("readStream")
      ? statement(
          "ReadRecordsStream",
          ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"],
          [getAtt(RECORDS_TABLE, "StreamArn")],
        )
      : []),
  ];
}

/** Statements on the same resources under the same condition become one (the sweeper's services). */
function merged(statements: Statement[]): Statement[] {
  const byTarget = new Map<string, Statement>();
  for (const s of statements) {
    const key = `${s.Resource.map(keyOf).join("\n")}\0${JSON.stringify(s.Condition ?? null)}`;
    const seen = byTarget.get(key);
    if (seen) seen.Action = [...new Set([...seen.Action, ...s.Action])].sort();
    else byTarget.set(key, { ...s, Action: [...s.Action] });
  }
  return [...byTarget.values()];
}

export interface RoleSize {
  function: string;
  role: string;
  /** Characters of its inline policy, as IAM counts them. */
  inline: number;
  /** Characters of each of its managed policies. */
  managed: number[];
}

export interface Roles {
  /** CloudFormation resources: a role per function and its managed policies. */
  resources: Record<string, unknown>;
  sizes: RoleSize[];
}

const document = (statements: Statement[]) => ({ Version: "2012-10-17", Statement: statements });

/** The longest values the stack's own ARNs can resolve to, for measuring. */
export function measuringResolution(region: string, stage: string): Resolution {
  const stack = `stevedore-${stage}`;
  const table = `arn:${partitionOf(region)}:dynamodb:${region}:123456789012:table/${stack}-${RECORDS_TABLE}-${"X".repeat(13)}`;
  return {
    region,
    values: {
      [`${RECORDS_TABLE}.Arn`]: table,
      [`${RECORDS_TABLE}.StreamArn`]: `${table}/stream/2026-01-01T00:00:00.000`,
      [`${DEAD_LETTER_QUEUE}.Arn`]: `arn:${partitionOf(region)}:sqs:${region}:123456789012:${stack}-${DEAD_LETTER_QUEUE}-${"X".repeat(13)}`,
    },
  };
}

export function rolesOf(inventory: Inventory, stage: string): Roles {
  const byCapability = capabilityStatements(inventory);
  const resolution = measuringResolution(inventory.region, stage);
  const sizeOf = (statements: Statement[]) => iamLength(resolve(document(statements), resolution));
  const resources: Record<string, unknown> = {};
  const sizes: RoleSize[] = [];

  for (const fn of FUNCTIONS) {
    const functionName = `stevedore-${stage}-${fn.name}`;
    const statements = merged([...ownStatements(fn, functionName, inventory.region), ...fn.capabilities.flatMap((c) => byCapability[c])]);
    const [inline = [], ...managed] = packed(statements, sizeOf);
    if (managed.length > IAM.managedPoliciesPerRole) {
      throw new StackError(
        `the role of ${fn.name} needs ${managed.length} managed policies besides its inline policy (IAM allows ${IAM.managedPoliciesPerRole} per role): ` +
          "the config names too many services, task definition families or roles for one stack; split it into several stacks",
      );
    }
    const policyIds = managed.map((_, i) => `${fn.role}Policy${i + 1}`);
    managed.forEach((part, i) => {
      resources[policyIds[i]!] = {
        Type: "AWS::IAM::ManagedPolicy",
        Properties: { Description: `Stevedore ${stage}: what ${fn.name} may do (part ${i + 2} of ${managed.length + 1})`, PolicyDocument: document(part) },
      };
    });
    resources[fn.role] = {
      Type: "AWS::IAM::Role",
      Properties: {
        Description: `Stevedore ${stage}: ${fn.name}`,
        AssumeRolePolicyDocument: document([{ Effect: "Allow", Principal: { Service: ["lambda.amazonaws.com"] }, Action: ["sts:AssumeRole"] } as never]),
        Policies: [{ PolicyName: fn.name, PolicyDocument: document(inline) }],
        ...(policyIds.length ? { ManagedPolicyArns: policyIds.map((id) => ({ Ref: id })) } : {}),
      },
    };
    sizes.push({ function: fn.name, role: fn.role, inline: sizeOf(inline), managed: managed.map(sizeOf) });
  }
  return { resources, sizes };
}

/**
 * The statements in order, in policies of IAM's sizes: the inline policy first, then managed
 * ones. A statement that does not fit where it comes is split by its resources, as many as fit
 * going there and the rest to the next policy.
 */
export function packed(statements: Statement[], sizeOf: (statements: Statement[]) => number): Statement[][] {
  const policies: Statement[][] = [[]];
  const capacity = () => (policies.length === 1 ? IAM.inlinePolicyChars : IAM.managedPolicyChars);
  for (const whole of statements) {
    let rest: Statement | undefined = whole;
    while (rest) {
      const current = policies.at(-1)!;
      const fits = (resources: Value[]) => sizeOf([...current, { ...rest!, Resource: resources }]) <= capacity();
      if (fits(rest.Resource)) {
        current.push(rest);
        rest = undefined;
        continue;
      }
      // The most resources that fit here (sizes grow with each resource: a binary search).
      let low = 0;
      let high = rest.Resource.length - 1;
      while (low < high) {
        const middle = Math.ceil((low + high) / 2);
        if (fits(rest.Resource.slice(0, middle))) low = middle;
        else high = middle - 1;
      }
      if (low > 0) {
        current.push({ ...rest, Resource: rest.Resource.slice(0, low) });
        rest = { ...rest, Resource: rest.Resource.slice(low) };
      } else if (current.length === 0) {
        throw new StackError(`an IAM statement (${rest.Sid}) does not fit one policy even with one resource`);
      }
      policies.push([]);
    }
  }
  return policies.filter((policy, i) => i === 0 || policy.length > 0);
}

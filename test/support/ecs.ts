// ECS and CloudWatch as aws-sdk-client-mock fakes with just enough state to answer like AWS:
// registrations get the next revision of their family, UpdateService starts a new PRIMARY
// deployment. Tests then assert the exact commands the product sent.
import { CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import {
  DescribeServicesCommand,
  ECSClient,
  ListTagsForResourceCommand,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type Deployment,
  type LoadBalancer,
  type Service,
  type Tag,
} from "@aws-sdk/client-ecs";
import { mockClient } from "aws-sdk-client-mock";

export const ACCOUNT = "123456789012";
export const REGION = "eu-west-1";

export const taskDefinitionArn = (family: string, revision: number) => `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${family}:${revision}`;

export interface FakeService {
  cluster: string;
  service: string;
  taskDefinition: string;
  status?: string;
  controller?: string;
  deployments?: Deployment[];
  /** Default: one load balancer with the advanced configuration blue-green needs. */
  loadBalancers?: LoadBalancer[];
}

/** A service ready for any strategy: ECS can shift its traffic between two target groups. */
export const BLUE_GREEN_READY: LoadBalancer = {
  targetGroupArn: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/blue/0123456789abcdef`,
  containerName: "web",
  containerPort: 8080,
  advancedConfiguration: {
    alternateTargetGroupArn: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/green/fedcba9876543210`,
    productionListenerRule: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:listener-rule/app/shop/0123/4567/89ab`,
    roleArn: `arn:aws:iam::${ACCOUNT}:role/ecs-infrastructure-load-balancers`,
  },
};

export function fakeAws(options: { services: FakeService[]; alarms?: Record<string, string> }) {
  const ecs = mockClient(ECSClient);
  const cloudwatch = mockClient(CloudWatchClient);
  const services = new Map(options.services.map((s) => [`${s.cluster}/${s.service}`, { ...s }]));
  const revisions = new Map<string, number>();
  let deployments = 0;

  const describe = (s: FakeService): Service => ({
    serviceName: s.service,
    clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${s.cluster}`,
    status: s.status ?? "ACTIVE",
    taskDefinition: s.taskDefinition,
    deploymentController: { type: (s.controller ?? "ECS") as "ECS" },
    loadBalancers: s.loadBalancers ?? [BLUE_GREEN_READY],
    deploymentConfiguration: { maximumPercent: 200, minimumHealthyPercent: 100 },
    deployments: s.deployments ?? [
      {
        id: "ecs-svc/1000000000000000001",
        status: "PRIMARY",
        rolloutState: "COMPLETED",
        taskDefinition: s.taskDefinition,
        createdAt: new Date("2026-11-01T00:00:00Z"),
      },
    ],
  });

  ecs.on(DescribeServicesCommand).callsFake((input: { cluster: string; services: string[] }) => {
    const found = input.services.map((name) => services.get(`${input.cluster}/${name}`)).filter((s): s is FakeService => !!s);
    return {
      services: found.map(describe),
      failures: input.services
        .filter((name) => !services.has(`${input.cluster}/${name}`))
        .map((name) => ({ arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${input.cluster}/${name}`, reason: "MISSING" })),
    };
  });
  const tagsOf = new Map<string, Tag[]>();
  ecs.on(RegisterTaskDefinitionCommand).callsFake((input: { family: string; tags?: Tag[] }) => {
    const revision = (revisions.get(input.family) ?? 41) + 1;
    revisions.set(input.family, revision);
    tagsOf.set(taskDefinitionArn(input.family, revision), input.tags ?? []);
    return { taskDefinition: { ...input, taskDefinitionArn: taskDefinitionArn(input.family, revision), revision } };
  });
  // The revisions registered here (the services' earlier ones are not listed), newest first.
  ecs.on(ListTaskDefinitionsCommand).callsFake((input: { familyPrefix: string; sort?: string; maxResults?: number }) => {
    const newest = revisions.get(input.familyPrefix) ?? 41;
    const arns = Array.from({ length: newest - 41 }, (_, i) => taskDefinitionArn(input.familyPrefix, newest - i));
    return { taskDefinitionArns: (input.sort === "DESC" ? arns : arns.reverse()).slice(0, input.maxResults ?? 100) };
  });
  ecs.on(ListTagsForResourceCommand).callsFake((input: { resourceArn: string }) => ({ tags: tagsOf.get(input.resourceArn) ?? [] }));
  ecs.on(UpdateServiceCommand).callsFake((input: { cluster: string; service: string; taskDefinition: string }) => {
    const s = services.get(`${input.cluster}/${input.service}`);
    if (!s) throw Object.assign(new Error("Service not found."), { name: "ServiceNotFoundException", $fault: "client" });
    deployments++;
    const id = `ecs-svc/${String(2000000000000000000n + BigInt(deployments))}`;
    const previous = (s.deployments ?? describe(s).deployments ?? []).map((d) => ({ ...d, status: "ACTIVE" }));
    s.deployments = [
      { id, status: "PRIMARY", rolloutState: "IN_PROGRESS", taskDefinition: input.taskDefinition, createdAt: new Date("2026-11-20T09:14:07.000Z") },
      ...previous,
    ];
    s.taskDefinition = input.taskDefinition;
    return {
      service: {
        ...describe(s),
        currentServiceDeployment: `arn:aws:ecs:${REGION}:${ACCOUNT}:service-deployment/${input.cluster}/${input.service}/${id.slice(8)}`,
      },
    };
  });
  cloudwatch.on(DescribeAlarmsCommand).callsFake((input: { AlarmNames: string[] }) => ({
    MetricAlarms: input.AlarmNames.filter((n) => n in (options.alarms ?? {})).map((n) => ({
      AlarmName: n,
      StateValue: options.alarms?.[n],
      StateReason: `${n} is ${options.alarms?.[n]}`,
    })),
  }));

  return {
    ecs,
    cloudwatch,
    services,
    /** The inputs of every command of one kind, in order. */
    inputs<I>(command: abstract new (input: I) => unknown): I[] {
      return [...ecs.calls(), ...cloudwatch.calls()]
        .map((call) => call.args[0] as unknown as { input: I; constructor: unknown })
        .filter((c) => c.constructor === command)
        .map((c) => c.input);
    },
    /** Names of the write calls made to ECS. */
    ecsWrites(): string[] {
      return ecs
        .calls()
        .map((c) => (c.args[0] as object).constructor.name)
        .filter((name) => /^(Register|Update|Stop|Create|Delete)/.test(name));
    },
    restore() {
      ecs.restore();
      cloudwatch.restore();
    },
  };
}

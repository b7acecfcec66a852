// ECS calls. Each function sends one kind of command and returns our own types.
import {
  DescribeServicesCommand,
  ECSClient,
  ListTagsForResourceCommand,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  StopServiceDeploymentCommand,
  UpdateServiceCommand,
  type DeploymentConfiguration,
  type RegisterTaskDefinitionCommandInput,
} from "@aws-sdk/client-ecs";
import { clientFor } from "../aws/clients";
import { call } from "../aws/errors";
import { TerminalAwsError } from "../errors";

export interface EcsDeployment {
  id: string;
  status: string;
  taskDefinition?: string;
  rolloutState?: string;
  rolloutStateReason?: string;
  createdAt?: string;
  updatedAt?: string;
}

export interface ServiceState {
  cluster: string;
  service: string;
  status: "ACTIVE" | "DRAINING" | "INACTIVE" | "MISSING";
  taskDefinition?: string;
  controller: string;
  deployments: EcsDeployment[];
  deploymentConfiguration?: DeploymentConfiguration;
  /** The ARN StopServiceDeployment needs for the newest deployment. */
  currentServiceDeployment?: string;
  /** What ECS shifts traffic with in a blue-green, linear or canary deployment. */
  traffic: Traffic;
}

export interface Traffic {
  loadBalancers: { targetGroupArn?: string; alternateTargetGroupArn?: string; productionListenerRule?: string; roleArn?: string }[];
  /** Service Connect is on in the service's current (PRIMARY) deployment. */
  serviceConnect: boolean;
}

const ecs = (region: string) => clientFor(ECSClient, region);

/** The services of one cluster, ten per call (the API's limit); missing ones come back MISSING. */
export async function describeServices(region: string, cluster: string, services: string[]): Promise<Map<string, ServiceState>> {
  const found = new Map<string, ServiceState>();
  for (let i = 0; i < services.length; i += 10) {
    const batch = services.slice(i, i + 10);
    const out = await call("DescribeServices", () => ecs(region).send(new DescribeServicesCommand({ cluster, services: batch })));
    for (const s of out.services ?? []) {
      if (!s.serviceName) continue;
      found.set(s.serviceName, {
        cluster,
        service: s.serviceName,
        status: (s.status as ServiceState["status"]) ?? "ACTIVE",
        taskDefinition: s.taskDefinition,
        controller: s.deploymentController?.type ?? "ECS",
        deployments: (s.deployments ?? []).map((d) => ({
          id: d.id ?? "",
          status: d.status ?? "",
          taskDefinition: d.taskDefinition,
          rolloutState: d.rolloutState,
          rolloutStateReason: d.rolloutStateReason,
          createdAt: d.createdAt?.toISOString(),
          updatedAt: d.updatedAt?.toISOString(),
        })),
        deploymentConfiguration: s.deploymentConfiguration,
        currentServiceDeployment: s.currentServiceDeployment,
        traffic: {
          loadBalancers: (s.loadBalancers ?? []).map((lb) => ({
            targetGroupArn: lb.targetGroupArn,
            alternateTargetGroupArn: lb.advancedConfiguration?.alternateTargetGroupArn,
            productionListenerRule: lb.advancedConfiguration?.productionListenerRule,
            roleArn: lb.advancedConfiguration?.roleArn,
          })),
          serviceConnect: s.deployments?.find((d) => d.status === "PRIMARY")?.serviceConnectConfiguration?.enabled === true,
        },
      });
    }
  }
  for (const service of services) {
    if (!found.has(service)) {
      found.set(service, { cluster, service, status: "MISSING", controller: "ECS", deployments: [], traffic: { loadBalancers: [], serviceConnect: false } });
    }
  }
  return found;
}

/** ECS sustains about one RegisterTaskDefinition a second (burst 20) per account and region. */
export const REGISTRATION_LIMIT = { perSecond: 1, burst: 20 } as const;

/**
 * A token bucket per region keeps one fan-out under REGISTRATION_LIMIT instead of collecting
 * throttling errors; the SDK's adaptive retries cover what other processes spend of the same budget.
 */
class TokenBucket {
  private tokens: number;
  private last = Date.now();
  private queue: Promise<void> = Promise.resolve();
  constructor(
    private readonly capacity: number,
    private readonly perSecond: number,
  ) {
    this.tokens = capacity;
  }
  take(): Promise<void> {
    const turn = this.queue.then(async () => {
      const now = Date.now();
      this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.perSecond);
      this.last = now;
      if (this.tokens < 1) {
        await new Promise((resolve) => setTimeout(resolve, ((1 - this.tokens) / this.perSecond) * 1000));
        this.tokens = 1;
        this.last = Date.now();
      }
      this.tokens -= 1;
    });
    this.queue = turn;
    return turn;
  }
}

const registrationBuckets = new Map<string, TokenBucket>();

export async function registerTaskDefinition(region: string, input: RegisterTaskDefinitionCommandInput): Promise<string> {
  const bucket = registrationBuckets.get(region) ?? new TokenBucket(REGISTRATION_LIMIT.burst, REGISTRATION_LIMIT.perSecond);
  registrationBuckets.set(region, bucket);
  await bucket.take();
  const out = await call("RegisterTaskDefinition", () => ecs(region).send(new RegisterTaskDefinitionCommand(input)));
  const arn = out.taskDefinition?.taskDefinitionArn;
  if (!arn) throw new TerminalAwsError("RegisterTaskDefinition", "NoArn", "ECS returned no task definition ARN");
  return arn;
}

/** What identifies the revisions registered for one image's deployment to one environment. */
export interface RegistrationOf {
  family: string;
  digest: string;
  pushedAt: string;
  env: string;
}

/** How many of a family's newest revisions are looked at for one registered by a dead invocation. */
const NEWEST_REVISIONS = 3;

/**
 * The revision an invocation that died registered for `of` before it could record it, if it is
 * among the family's newest (found by its provenance tags). Only for abandoned claims: a
 * deployment that resumes uses it instead of registering again, a newer image that takes over
 * names it in the record it supersedes. Otherwise no revision would name it.
 */
export async function registeredEarlier(region: string, of: RegistrationOf): Promise<string | undefined> {
  const listed = await call("ListTaskDefinitions", () =>
    ecs(region).send(new ListTaskDefinitionsCommand({ familyPrefix: of.family, sort: "DESC", maxResults: NEWEST_REVISIONS })),
  );
  for (const arn of listed.taskDefinitionArns ?? []) {
    const { tags = [] } = await call("ListTagsForResource", () => ecs(region).send(new ListTagsForResourceCommand({ resourceArn: arn })));
    const tag = (key: string) => tags.find((t) => t.key === `stevedore:${key}`)?.value;
    if (tag("digest") === of.digest && tag("pushed") === of.pushedAt && tag("env") === of.env) return arn;
  }
  return undefined;
}

export interface StartedDeployment {
  /** The `ecs-svc/…` id that ECS's deployment events carry. */
  ecsDeploymentId: string;
  /** The ARN StopServiceDeployment needs. */
  serviceDeploymentArn?: string;
  /** When ECS created it, by ECS's clock (the one its events are stamped with). */
  createdAt?: string;
}

export async function updateService(
  region: string,
  request: { cluster: string; service: string; taskDefinition: string; deploymentConfiguration?: DeploymentConfiguration },
): Promise<StartedDeployment> {
  const out = await call("UpdateService", () => ecs(region).send(new UpdateServiceCommand(request)));
  const primary = out.service?.deployments?.find((d) => d.status === "PRIMARY");
  if (!primary?.id) throw new TerminalAwsError("UpdateService", "NoDeployment", "ECS returned no PRIMARY deployment");
  return { ecsDeploymentId: primary.id, serviceDeploymentArn: out.service?.currentServiceDeployment, createdAt: primary.createdAt?.toISOString() };
}

export async function stopServiceDeployment(region: string, serviceDeploymentArn: string): Promise<void> {
  await call("StopServiceDeployment", () =>
    ecs(region).send(
      new StopServiceDeploymentCommand({
        serviceDeploymentArn,
        stopType: "ROLLBACK",
      }),
    ),
  );
}

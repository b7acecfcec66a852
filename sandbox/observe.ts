// What a world saw, in the terms the invariants judge: taken from the local ECS (which image was
// PRIMARY when, what completed), the webhook receiver's log, the AWS call log and what the
// scenario did. The records table only says which deployments exist and their statuses (for
// invariant 4); whether those statuses are true is judged against ECS and the messages.
import { LABEL } from "../shared/notify/message";
import type { Notifications, Observation, ObservedMessage, ObservedService } from "./invariants";
import { isWrite, type World } from "./world";

const STATUS_OF_LABEL = new Map(Object.entries(LABEL).map(([status, label]) => [label, status]));

/** The status words of a Slack title "shop-web → staging: deployed and verified". */
export const slackLabel = (title: string): string => title.replace(/^.*?: /, "");

/** The deployment status a Slack title announces, if it announces one. */
export const statusOfSlackTitle = (title: string): string | undefined => STATUS_OF_LABEL.get(slackLabel(title));

export function observe(world: World, expected: Record<string, string>, badInput: boolean): Observation {
  const services: ObservedService[] = world.config.apps.flatMap((app) =>
    app.environments.flatMap((env) =>
      env.targets.map((t) => ({
        key: `${t.cluster}/${t.service}`,
        seed: world.seedDigests.get(app.repository) ?? "",
        alarms: env.alarms,
        primaries: world.ecs.primaryHistory(t.cluster, t.service).map((p) => ({ at: p.at, images: p.images.map(digestOf), cause: p.cause })),
        completed: world.ecs.completedHistory(t.cluster, t.service).flatMap((c) => c.images.map(digestOf)),
      })),
    ),
  );
  return {
    // Every image ECR holds, whoever pushed it (a person or a build), in ECR's own push order.
    pushes: world.ecr.pushes().map(({ repository, image }) => ({ digest: image.digest, repository, bad: world.ecs.isBadImage(image.digest) })),
    alarms: world.happenings.filter((h) => h.state === "ALARM").map((h) => ({ name: h.alarm, at: h.at })),
    services,
    expected,
    ...observeNotifications(world),
    writes: world.calls.filter((c) => c.function && c.status < 300 && isWrite(c.operation)).map((c) => c.operation),
    registered: world.ecs
      .revisions()
      .filter((r) => r.tags.some((t) => t.key === "stevedore:digest"))
      .map((r) => r.arn),
    badInput,
    sweptTo: world.clock.iso(),
  };
}

/** Only the deployments and who heard what: all the settle loop needs, and cheap to take often. */
export function observeNotifications(world: World): Notifications {
  return {
    deployments: world.deployments().map((d) => ({
      id: d.id,
      key: `${d.cluster}/${d.service}`,
      app: d.app,
      env: d.env,
      digest: d.digest,
      status: d.status,
      deadline: d.deadline,
      taskDefinition: d.taskDefinitionArn,
    })),
    messages: world.webhook.messages.map((m): ObservedMessage => {
      if (m.kind === "webhook") {
        const deployment = (m.body as { deployment?: { id?: string } }).deployment;
        return { destination: m.destination, deploymentId: deployment?.id, status: m.event?.replace(/^deployment\./, ""), deliveryId: m.deliveryId };
      }
      return {
        destination: m.destination,
        deploymentId: /Deployment (d-[0-9a-f]{12})/.exec(JSON.stringify(m.body))?.[1],
        status: statusOfSlackTitle(m.title),
      };
    }),
    destinations: Object.fromEntries(
      world.config.apps.flatMap((app) =>
        app.environments.map((env) => [
          `${app.name}/${env.name}`,
          env.notify.map((name) => ({ name, kind: world.config.destinations[name]?.type === "webhook" ? ("webhook" as const) : ("slack" as const) })),
        ]),
      ),
    ),
  };
}

function digestOf(image: string): string {
  return image.split("@")[1] ?? image;
}

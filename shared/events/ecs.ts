import * as z from "zod/mini";
import { envelope, timestamp } from "./common";

/**
 * "ECS Deployment State Change". `deploymentId` is the `ecs-svc/…` id UpdateService returns.
 * A rollback started by ECS arrives as IN_PROGRESS for a new deployment id whose reason says so.
 */
export const ecsDeploymentStateChange = envelope(
  "ECS Deployment State Change",
  "aws.ecs",
  z.looseObject({
    eventType: z.string(),
    eventName: z.string(),
    deploymentId: z.string().check(z.minLength(1), z.maxLength(200)),
    updatedAt: timestamp,
    reason: z.optional(z.string()),
  }),
);

/** "ECS Service Action": task start impaired, placement failures and the like. */
export const ecsServiceAction = envelope(
  "ECS Service Action",
  "aws.ecs",
  z.looseObject({
    eventType: z.string(),
    eventName: z.string(),
    clusterArn: z.optional(z.string()),
    createdAt: z.optional(timestamp),
    reason: z.optional(z.string()),
  }),
);

export const ecsEvent = z.union([ecsDeploymentStateChange, ecsServiceAction]);

export type EcsDeploymentStateChange = z.output<typeof ecsDeploymentStateChange>;
export type EcsServiceAction = z.output<typeof ecsServiceAction>;

/** Region, cluster and service out of a service ARN, and the target key (`region/cluster/service`) records use. */
export function parseServiceArn(arn: string): { region: string; cluster: string; service: string; key: string } | null {
  const m = /^arn:aws[a-z-]*:ecs:([a-z0-9-]+):\d{12}:service\/([A-Za-z0-9_-]+)\/([A-Za-z0-9_-]+)$/.exec(arn);
  if (!m) return null;
  const [, region, cluster, service] = m as unknown as [string, string, string, string];
  return { region, cluster, service, key: `${region}/${cluster}/${service}` };
}

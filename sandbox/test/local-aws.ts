// A small local AWS for the sandbox's own tests: ECS and CloudWatch behind one LocalAwsServer,
// the real SDK clients pointed at it, a stepped Clock (time moves only when a test moves it), and
// every event the services emit.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { ECSClient } from "@aws-sdk/client-ecs";
import { CLOUDWATCH_PREFIX, LocalCloudWatch } from "../aws/cloudwatch";
import { ECS_PREFIX, LocalEcs, type EcsTiming } from "../aws/ecs";
import { LocalAwsServer } from "../aws/server";
import { Clock } from "../clock";
import type { AwsEvent } from "../events";

export interface World {
  clock: Clock;
  ecs: LocalEcs;
  cloudwatch: LocalCloudWatch;
  ecsClient: ECSClient;
  cwClient: CloudWatchClient;
  /** Every event emitted so far, in order. */
  events: AwsEvent[];
  /** Every X-Amz-Target the server received. */
  targets: string[];
  /** The first event (from `from` on) that matches, moving sandbox time on up to `ms`. */
  waitFor(match: (event: AwsEvent) => boolean, ms?: number, from?: number): Promise<AwsEvent>;
  /** Moves sandbox time on by `ms`, firing what falls due. */
  pass(ms: number): Promise<void>;
  close(): Promise<void>;
}

export interface WorldOptions {
  timing?: Partial<EcsTiming>;
  registrationLimit?: { perSecond: number; burst: number };
}

export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const clock = new Clock({ start: Date.parse("2026-11-20T09:00:00.000Z"), running: false });
  const events: AwsEvent[] = [];
  const emit = (event: AwsEvent) => events.push(event);
  const ecs = new LocalEcs({ clock, emit, timing: options.timing, registrationLimit: options.registrationLimit });
  const cloudwatch = new LocalCloudWatch({ clock, emit });
  cloudwatch.onStateChange((name, state) => ecs.alarmChanged(name, state));
  const targets: string[] = [];
  const server = new LocalAwsServer()
    .register(ECS_PREFIX, ecs.handle)
    .register(CLOUDWATCH_PREFIX, cloudwatch.handle)
    .observe((request) => targets.push(`${request.prefix}.${request.operation}`));
  const endpoint = await server.listen();
  const config = {
    endpoint,
    region: "eu-west-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1,
  };
  const ecsClient = new ECSClient(config);
  const cwClient = new CloudWatchClient(config);
  return {
    clock,
    ecs,
    cloudwatch,
    ecsClient,
    cwClient,
    events,
    targets,
    async waitFor(match, ms = 60 * 60_000, from = 0) {
      const until = clock.now() + ms;
      for (;;) {
        const found = events.slice(from).find(match);
        if (found) return found;
        if (clock.now() > until || !(await clock.step())) {
          throw new Error(
            `no matching event within ${ms / 1000} s of sandbox time; got:\n${events.map((e) => `${e["detail-type"]} ${JSON.stringify(e.detail)}`).join("\n")}`,
          );
        }
      }
    },
    pass: (ms) => clock.advance(ms),
    async close() {
      clock.stop();
      ecsClient.destroy();
      cwClient.destroy();
      await server.close();
    },
  };
}

/** A sample event from test/events/. */
export function fixture(name: string): AwsEvent {
  return JSON.parse(readFileSync(join(__dirname, "..", "..", "test", "events", `${name}.json`), "utf8")) as AwsEvent;
}

/** The shape of a JSON value: its keys all the way down, with the type of every leaf. */
export function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.length === 0 ? [] : [shape(value[0])];
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, shape((value as Record<string, unknown>)[k])]),
    );
  }
  return typeof value;
}

export const DIGEST_GOOD = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
export const DIGEST_NEW = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
export const DIGEST_BAD = "sha256:badbadbadbadbadbadbadbadbadbadbadbadbadbadbadbadbadbadbadbadbadb";
export const REPOSITORY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/web";

/** A RegisterTaskDefinition body for the image with this digest. */
export function webDefinition(digest: string, family = "shop-prod-web") {
  return {
    family,
    networkMode: "awsvpc" as const,
    requiresCompatibilities: ["FARGATE" as const],
    cpu: "256",
    memory: "512",
    executionRoleArn: "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
    containerDefinitions: [{ name: "web", image: `${REPOSITORY}@${digest}`, essential: true, portMappings: [{ containerPort: 8080 }] }],
    tags: [{ key: "stevedore:digest", value: digest }],
  };
}

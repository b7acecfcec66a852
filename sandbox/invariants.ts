// The invariants every sandbox run is judged by. They read what the sandbox itself saw (ECS's
// history of which image was PRIMARY, what the webhook receiver got, the AWS calls made) and
// what the scenario did (pushes, bad images, alarms): never Stevedore's own opinion of itself.
// They are pure functions of an Observation, so that a test can hand them a wrong outcome and
// see them catch it.

import { isFinal } from "../shared/records/model";

export interface ObservedPrimary {
  /** Sandbox time. */
  at: number;
  images: string[];
  /** How the image became PRIMARY: an UpdateService, or one of ECS's own rollbacks. */
  cause: string;
}

export interface ObservedService {
  /** `cluster/service` */
  key: string;
  /** The digest it ran before the scenario. */
  seed: string;
  /** The alarms guarding it. */
  alarms: string[];
  /** Every change of PRIMARY, in order (the first is the seed). */
  primaries: ObservedPrimary[];
  /** Digests ECS completed rolling out on it. */
  completed: string[];
}

export interface ObservedMessage {
  destination: string;
  /** The deployment it is about, as the message names it. */
  deploymentId?: string;
  /** deployment.<status> (webhook event), or the status read from the Slack title. */
  status?: string;
  deliveryId?: string;
}

export interface ObservedDeployment {
  id: string;
  /** `cluster/service` */
  key: string;
  app: string;
  env: string;
  digest: string;
  status: string;
  deadline: string;
  /** The task definition revision the record names (the one its UpdateService asked for). */
  taskDefinition?: string;
}

/** What the settle loop waits on (see world-thread.ts): the deployments, and who heard what. */
export type Notifications = Pick<Observation, "deployments" | "messages" | "destinations">;

export interface Observation {
  /** In push order: what was pushed, and whether it is an image that cannot run. */
  pushes: { digest: string; repository: string; bad: boolean }[];
  /** Alarms the scenario set to ALARM (sandbox time). */
  alarms: { name: string; at: number }[];
  services: ObservedService[];
  /** What each service must run at the end, per the scenario: the newest good image, or the last good one. */
  expected: Record<string, string>;
  /** Every deployment record, after the sweeper ran past their deadlines. */
  deployments: ObservedDeployment[];
  messages: ObservedMessage[];
  /** Destinations each environment notifies: `app/env` → names. */
  destinations: Record<string, { name: string; kind: "slack" | "webhook" }[]>;
  /** The AWS writes made, by operation. */
  writes: string[];
  /** Every task definition revision Stevedore registered (ECS's own list, by its provenance tags). */
  registered: string[];
  /** The scenario fed Stevedore only bad input: nothing may be written. */
  badInput: boolean;
  /** How far the sweeper has run (sandbox ISO time). */
  sweptTo: string;
}

export interface Verdict {
  invariant: 1 | 2 | 3 | 4 | 5 | 6;
  name: string;
  held: boolean;
  detail: string;
}

export const INVARIANTS = {
  1: "the service ends on the newest good image, or on the last good one after a rollback",
  2: "an older image never becomes PRIMARY after a newer one did",
  3: "each deployment gets exactly one final notification, and it tells the truth about what the service runs at rest",
  4: "no deployment is left without a final status once the sweeper ran past its deadline",
  5: "bad input makes no AWS write",
  6: "every task definition revision Stevedore registered is named in a deployment record",
} as const;

export function judge(o: Observation): Verdict[] {
  return [endsRight(o), neverOlderAfterNewer(o), oneTruthfulFinalWord(o), nothingLeftOpen(o), badInputWritesNothing(o), noOrphanRevision(o)];
}

function verdict(invariant: Verdict["invariant"], problems: string[]): Verdict {
  return { invariant, name: INVARIANTS[invariant], held: problems.length === 0, detail: problems.join("; ") };
}

const running = (s: ObservedService) => s.primaries.at(-1)?.images[0];

function endsRight(o: Observation): Verdict {
  const problems = Object.entries(o.expected).flatMap(([key, digest]) => {
    const service = o.services.find((s) => s.key === key);
    const now = service ? running(service) : undefined;
    return now === digest ? [] : [`${key} runs ${short(now)}, expected ${short(digest)}`];
  });
  return verdict(1, problems);
}

function neverOlderAfterNewer(o: Observation): Verdict {
  const age = new Map(o.pushes.map((p, i) => [p.digest, i]));
  const bad = new Set(o.pushes.filter((p) => p.bad).map((p) => p.digest));
  const problems: string[] = [];
  for (const service of o.services) {
    let newest = -1; // the seed is older than every push
    for (const [i, p] of service.primaries.entries()) {
      const image = p.images[0] ?? "";
      const rank = image === service.seed ? -1 : (age.get(image) ?? -1);
      if (rank < newest && !isRollback(o, service, i, bad)) {
        problems.push(`${service.key}: ${short(image)} became PRIMARY after the newer ${short(o.pushes[newest]?.digest)}`);
      }
      newest = Math.max(newest, rank);
    }
  }
  return verdict(2, problems);
}

/**
 * A return to an older image is a rollback when ECS made it (circuit breaker, alarms, a stopped
 * deployment), or when it returns to the image PRIMARY just before, away from an image that could
 * not run or while a guarding alarm had gone off.
 */
function isRollback(o: Observation, service: ObservedService, index: number, bad: Set<string>): boolean {
  const p = service.primaries[index] as ObservedPrimary;
  if (p.cause !== "update" && p.cause !== "create") return true;
  const left = service.primaries[index - 1]?.images[0];
  const before = service.primaries[index - 2]?.images[0];
  const alarmed = o.alarms.some((a) => service.alarms.includes(a.name) && a.at <= p.at);
  return before !== undefined && p.images[0] === before && (alarmed || (left !== undefined && bad.has(left)));
}

/** The messages at `destination` about `deployment` that announce a final status. */
export function finalMessages(o: Notifications, deployment: ObservedDeployment, destination: string): ObservedMessage[] {
  return o.messages.filter((m) => m.destination === destination && m.deploymentId === deployment.id && isFinal(m.status));
}

function oneTruthfulFinalWord(o: Observation): Verdict {
  const problems: string[] = [];
  for (const d of o.deployments) {
    const service = o.services.find((s) => s.key === d.key);
    for (const destination of o.destinations[`${d.app}/${d.env}`] ?? []) {
      const about = finalMessages(o, d, destination.name);
      // A signed webhook's receiver deduplicates by delivery id; Slack shows every post.
      const finals = destination.kind === "webhook" ? [...new Map(about.map((m) => [m.deliveryId, m])).values()] : about;
      if (finals.length !== 1) {
        problems.push(
          `${d.id} (${d.key}) got ${finals.length} final messages at ${destination.name}${finals.length ? `: ${finals.map((m) => m.status).join(", ")}` : ""}`,
        );
        continue;
      }
      const said = finals[0]?.status as string;
      const lie = service ? untrue(said, d, service, o) : undefined;
      if (lie) problems.push(`${d.id} (${d.key}) was reported ${said} at ${destination.name}, but ${lie}`);
    }
  }
  return verdict(3, problems);
}

/** Why a final word contradicts what ECS did and what was pushed, or undefined when it matches. */
function untrue(said: string, d: ObservedDeployment, service: ObservedService, o: Observation): string | undefined {
  const wasRollingBack = o.messages.some((m) => m.deploymentId === d.id && m.status === "rolling_back");
  if (wasRollingBack && !["rolled_back", "failed", "timed_out"].includes(said))
    return "it was being rolled back, and a rollback ends rolled back, failed or timed out";
  if (said === "verified") {
    if (!service.completed.includes(d.digest)) return "ECS never completed rolling it out";
    if (rolledBackFrom(o, service, d.digest)) return "ECS rolled it back (a rollback reported as success)";
  }
  if (said === "rolled_back") {
    if (!service.primaries.some((p) => p.images[0] === d.digest)) return "it never ran there";
    // What runs at rest, not what ran at some point: ECS can roll a rollback back again.
    if (running(service) === d.digest) return "the service runs it at rest (the rollback did not hold)";
  }
  if (said === "superseded") {
    const pushed = o.pushes.findIndex((p) => p.digest === d.digest);
    const repository = o.pushes[pushed]?.repository;
    if (!o.pushes.slice(pushed + 1).some((p) => p.repository === repository)) return "no newer image was pushed";
  }
  return undefined;
}

/** Whether the service, after running `digest`, was rolled back away from it. */
function rolledBackFrom(o: Observation, service: ObservedService, digest: string): boolean {
  const bad = new Set(o.pushes.filter((p) => p.bad).map((p) => p.digest));
  return service.primaries.some((p, i) => i > 0 && service.primaries[i - 1]?.images[0] === digest && isRollback(o, service, i, bad));
}

function nothingLeftOpen(o: Observation): Verdict {
  const open = o.deployments.filter((d) => !isFinal(d.status) && d.deadline < o.sweptTo);
  return verdict(
    4,
    open.map((d) => `${d.id} (${d.key}) is still ${d.status}, past its deadline ${d.deadline}`),
  );
}

function badInputWritesNothing(o: Observation): Verdict {
  return verdict(5, o.badInput && o.writes.length > 0 ? [`${o.writes.length} AWS writes: ${[...new Set(o.writes)].join(", ")}`] : []);
}

/** A revision no record names is one nobody can trace, and may become its family's newest. */
function noOrphanRevision(o: Observation): Verdict {
  const named = new Set(o.deployments.map((d) => d.taskDefinition));
  return verdict(
    6,
    o.registered.filter((arn) => !named.has(arn)).map((arn) => `${arn.replace(/^.*task-definition\//, "")} is named by no deployment record`),
  );
}

function short(digest: string | undefined): string {
  return digest ? digest.replace(/^sha256:/, "").slice(0, 12) : "nothing";
}

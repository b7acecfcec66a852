// Deployment records: the audit trail, the source of every notification (through the table's
// stream), and the memory that makes consumers tolerate duplicated and reordered events.
//
// One table, two kinds of partitions:
//   TARGET#<region/cluster/service>  HEAD                 which image this service belongs to now
//   TARGET#<region/cluster/service>  DEPLOY#<pushKey>     one deployment of one image to it
//   APP#<app>                        BUILD#<build id>     a build that failed (nothing deployed)
//   APP#<app>                        PROMOTION#<id>       a promotion waiting for approval
// Index "byApp" (gsi1pk = APP#<app>, gsi1sk = <env>#<pushKey>#<target>) lists an app's
// deployments and finds every target of one image in one environment. Index "due"
// (duePk = DUE#<app>, dueAt) holds only unfinished deployments: what the sweeper must look at.

export type Trigger = "push" | "build" | "promotion" | "manual";

export type DeploymentStatus =
  | "pending" // claimed; ECS not asked yet
  | "started" // UpdateService accepted; ECS deployment id known
  | "completed" // ECS completed it; alarms still watched until watchUntil
  | "rolling_back" // ECS or Stevedore is rolling it back
  | "verified" // final: completed and nothing rolled it back in the watch window
  | "failed" // final: it could not be deployed
  | "rolled_back" // final: it ran and was rolled back
  | "timed_out" // final: no outcome before the deadline
  | "superseded" // final: a newer image took the service first
  | "refused"; // final: not started (a guarding alarm was already firing)

export const FINAL_STATUSES: readonly DeploymentStatus[] = ["verified", "failed", "rolled_back", "timed_out", "superseded", "refused"];

/** Whether a status is final; anything else (undefined, a word from a message) is not. */
export function isFinal(status: string | undefined): boolean {
  return (FINAL_STATUSES as readonly (string | undefined)[]).includes(status);
}

export interface StatusChange {
  status: DeploymentStatus;
  at: string;
  reason?: string;
}

export interface Warning {
  at: string;
  message: string;
}

/** The image a deployment or a promotion is about, as ECR has it. */
export interface ImageFields {
  repository: string;
  repositoryUri: string;
  digest: string;
  tag?: string;
  commit?: string;
  /** When the image was pushed: the order of images on a service. */
  pushedAt: string;
  /** `<pushedAt>#<digest>`: sorts by push time, unique per image. */
  pushKey: string;
}

export interface DeploymentRecord extends ImageFields {
  kind: "deployment";
  /** Short stable id (`d-` + 12 hex), shown in messages and accepted by the CLI. */
  id: string;
  app: string;
  env: string;
  region: string;
  cluster: string;
  service: string;
  targetKey: string;

  trigger: Trigger;
  /** The EventBridge event id, build id or parent deployment id that started it. */
  triggerRef?: string;
  buildUrl?: string;
  promotedFrom?: { env: string; deploymentId: string };

  status: DeploymentStatus;
  reason?: string;
  history: StatusChange[];
  warnings: Warning[];

  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  completedAt?: string;
  finishedAt?: string;
  watchUntil?: string;
  /**
   * When an unfinished deployment times out: `deadlineSeconds` after ECS accepted the rollout
   * (before that, after the invocation that claimed it began), never after the triggering event's
   * time, which may be long past (a late event, a dead-letter replay, a late approval).
   */
  deadline: string;
  /** The environment's budget from ECS's acceptance to an outcome. */
  deadlineSeconds?: number;
  watchSeconds: number;
  onTimeout: "report" | "rollback";
  alarms: string[];
  /**
   * When Stevedore read the guarding alarms before claiming the service (its wall clock): an
   * alarm going off from then on counts against this deployment, though ECS, which only sees
   * alarms that go off after the rollout started, would ignore it.
   */
  alarmsCheckedAt?: string;

  replacesTaskDefinition?: string;
  taskDefinitionArn?: string;
  ecsDeploymentId?: string;
  serviceDeploymentArn?: string;
  /** The deployment ECS (or we) started to roll ours back. */
  rollbackDeploymentId?: string;
  /**
   * Our own decision to roll back, written before ECS is asked: exactly one alarm (or sweep)
   * acts on it, and if that invocation dies before ECS confirmed, another takes over after the
   * lease (wall-clock ms).
   */
  rollback?: { action: "stop-deployment" | "redeploy-previous"; reason: string; requestedAt: string; leaseUntil: number; confirmedAt?: string };
  /**
   * Wall-clock ms until which the invocation that claimed this deployment may still be working
   * on it (its own deadline). A `pending` record past its lease was abandoned: it is resumed.
   */
  leaseUntil?: number;
  /**
   * A newer image that claimed the service while this one was rolled back: this rollback is still
   * followed to its end (ECS's events go to the newer record, which passes them on).
   */
  supersededBy?: string;
  /** The record key (recordKeyOf) of the rolling-back record this one overtook (see `supersededBy`). */
  overtook?: string;
  /**
   * Set when a person's decision (a re-approval) deploys the image again after an earlier
   * attempt on this service ended: each decision gets its own record (see recordKeyOf).
   */
  attempt?: string;
  /** A deployment we did not start that COMPLETED after ours started (events can overtake). */
  foreignCompletion?: { id: string; at: string };
  /** Optimistic lock: every write checks it, so two Lambdas cannot both move one record. */
  version: number;
}

/** The pointer that says which image a service belongs to now. */
export interface Head {
  digest: string;
  pushKey: string;
  recordSk: string;
  recordId: string;
  /**
   * Wall-clock ms until which the owner may be calling UpdateService. A newer image waits for
   * it, so that an older image's UpdateService can never land after a newer one's.
   */
  lockUntil?: number;
}

/** What the records say of one service: the head, and the record it points to. */
export interface TargetState {
  head?: Head;
  /** The record the head points to. */
  record?: DeploymentRecord;
}

export interface BuildRecord {
  kind: "build";
  app: string;
  project: string;
  buildId: string;
  buildNumber?: number;
  status: "FAILED" | "STOPPED" | "FAULT" | "TIMED_OUT";
  /** The phase that failed and what CodeBuild said about it. */
  phase?: string;
  phaseContext?: string;
  logsUrl?: string;
  commit?: string;
  repository?: string;
  /** The image the build pushed before it failed (its exported IMAGE_DIGEST), if it got that far. */
  digest?: string;
  at: string;
  /** The EventBridge event id. */
  eventId: string;
}

/**
 * What the newest build that pushed an image said about it. A build that failed after pushing
 * rejects the image: no deployment of it may start, and one under way is rolled back. A later
 * build of the same project that pushed the same digest (a retried build, a cached one) and
 * succeeded accepts it again. Not a record: nothing is announced about it.
 */
export interface BuildVerdict {
  repository: string;
  digest: string;
  verdict: "accepted" | "rejected";
  project: string;
  buildId: string;
  /** CodeBuild's per-project build number: a lower one never overrides a higher one's word. */
  buildNumber?: number;
  /** Why the image was rejected ("its build shop-web #12 failed in POST_BUILD after pushing this image"). */
  reason?: string;
  at: string;
}

export type PromotionStatus = "awaiting_approval" | "approved" | "rejected" | "expired";

/** A verified image waiting for a person to let it into the next environment. */
export interface PromotionRecord extends ImageFields {
  kind: "promotion";
  /** `p-` + 12 hex, what `stevedore approve <id>` takes. */
  id: string;
  app: string;
  from: string;
  to: string;
  /** The verified deployments of the source environment this promotion comes from. */
  sourceDeploymentIds: string[];
  status: PromotionStatus;
  reason?: string;
  requestedAt: string;
  expiresAt: string;
  decidedAt?: string;
  decidedBy?: string;
  history: { status: PromotionStatus; at: string; by?: string; reason?: string }[];
  version: number;
}

export type StoredRecord = DeploymentRecord | BuildRecord | PromotionRecord;

/**
 * A final word that no destination retry could deliver: the destination refused it (a 4xx), or
 * its URL or signing secret cannot be read. Kept once per record, event and destination, where
 * `stevedore history` shows it; not a record (nothing is announced about it).
 */
export interface Undelivered {
  app: string;
  /** The record it was about: a deployment's or promotion's id, a build's id. */
  recordId: string;
  event: string;
  destination: string;
  reason: string;
  at: string;
  /** Where the record's item is (its table keys), for `stevedore redeliver`. */
  item: { pk: string; sk: string };
}

export const keys = {
  target: (targetKey: string) => `TARGET#${targetKey}`,
  head: "HEAD",
  deployment: (recordKey: string) => `DEPLOY#${recordKey}`,
  app: (app: string) => `APP#${app}`,
  build: (buildId: string) => `BUILD#${buildId}`,
  promotion: (id: string) => `PROMOTION#${id}`,
  byApp: (env: string, pushKey: string, targetKey: string) => `${env}#${pushKey}#${targetKey}`,
  due: (app: string) => `DUE#${app}`,
  /** Final words delivered to some destinations while another was down (see notify.ts). */
  delivered: (app: string) => `DELIVERED#${app}`,
  /** Final words that could not be delivered, one partition per app (see Undelivered). */
  undelivered: (app: string) => `UNDELIVERED#${app}`,
  /** What the builds said about one image: one item per repository and digest. */
  image: (repository: string, digest: string) => `IMAGE#${repository}@${digest}`,
  verdict: "BUILD-VERDICT",
};

/** Where a deployment record lives in its target's partition: its push, and its attempt if any. */
export function recordKeyOf(record: Pick<DeploymentRecord, "pushKey" | "attempt">): string {
  return record.attempt ? `${record.pushKey}#${record.attempt}` : record.pushKey;
}

export function pushKeyOf(pushedAt: string, digest: string): string {
  return `${pushedAt}#${digest}`;
}

/** The push time a pushKey starts with. */
export function pushedAtOfKey(pushKey: string): string {
  return pushKey.slice(0, pushKey.lastIndexOf("#"));
}

export function shortDigest(digest: string): string {
  return digest.replace(/^sha256:/, "").slice(0, 12);
}

/** `arn:...:task-definition/shop-web-staging:42` → 42 */
export function revisionOf(taskDefinitionArn: string | undefined): number | undefined {
  const m = taskDefinitionArn ? /:(\d+)$/.exec(taskDefinitionArn) : null;
  return m ? Number(m[1]) : undefined;
}

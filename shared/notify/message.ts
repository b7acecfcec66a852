// What people must hear about one change of one record (a DynamoDB stream record's old and new
// images). Pure: the same pair always gives the same notifications, with the same delivery ids,
// so a stream retry or a duplicate can be deduplicated by every receiver.
//
// Only the record fields named here reach a message: records never carry template variables,
// environment values or webhook URLs, and this file must keep it that way.
import { withoutUndefined } from "../objects";
import {
  revisionOf,
  shortDigest,
  type BuildRecord,
  type DeploymentRecord,
  type DeploymentStatus,
  type PromotionRecord,
  type PromotionStatus,
  type StoredRecord,
  type Trigger,
} from "../records/model";

export type Severity = "info" | "success" | "warning" | "failure";

/** The statuses people hear about; pending is noise. */
export const NOTIFIED_STATUSES = [
  "started",
  "completed",
  "rolling_back",
  "verified",
  "failed",
  "rolled_back",
  "timed_out",
  "superseded",
  "refused",
] as const satisfies readonly DeploymentStatus[];
export type NotifiedStatus = (typeof NOTIFIED_STATUSES)[number];

export type NotificationEvent = `deployment.${NotifiedStatus}` | "deployment.warning" | "build.failed" | "build.stopped" | `promotion.${PromotionStatus}`;

export interface DeploymentFacts {
  id: string;
  app: string;
  env: string;
  region: string;
  cluster: string;
  service: string;
  repository: string;
  tag?: string;
  digest: string;
  shortDigest: string;
  commit?: string;
  revision?: number;
  status: DeploymentStatus;
  trigger: Trigger;
  /** The environment a promotion came from. */
  promotedFrom?: string;
  /** "push", "build", "manual", "promotion from staging". */
  triggeredBy: string;
  durationSeconds?: number;
  /** Human readable, e.g. "4m 12s". */
  duration?: string;
  reason?: string;
  watchUntil?: string;
}

export interface BuildFacts {
  app: string;
  project: string;
  buildId: string;
  buildNumber?: number;
  status: BuildRecord["status"];
  phase?: string;
  reason?: string;
  commit?: string;
  repository?: string;
  /** The image the build pushed before it failed, if it got that far. */
  digest?: string;
}

export interface PromotionFacts {
  id: string;
  app: string;
  from: string;
  to: string;
  repository: string;
  tag?: string;
  digest: string;
  shortDigest: string;
  commit?: string;
  status: PromotionStatus;
  expiresAt: string;
  decidedBy?: string;
  reason?: string;
  /** What a person runs to decide, while it waits. */
  approveCommand?: string;
  rejectCommand?: string;
}

export interface Links {
  ecsConsole?: string;
  buildLogs?: string;
}

interface NotificationBase {
  event: NotificationEvent;
  /** Stable across retries and duplicates: receivers dedupe on it. */
  deliveryId: string;
  severity: Severity;
  title: string;
  summary: string;
  /** When the change happened (not when the message is sent). */
  at: string;
  links: Links;
}

export interface DeploymentNotification extends NotificationBase {
  kind: "deployment";
  deployment: DeploymentFacts;
}

export interface BuildNotification extends NotificationBase {
  kind: "build";
  build: BuildFacts;
}

export interface PromotionNotification extends NotificationBase {
  kind: "promotion";
  promotion: PromotionFacts;
}

export type Notification = DeploymentNotification | BuildNotification | PromotionNotification;

type KindOf<K extends StoredRecord["kind"]> = Extract<StoredRecord, { kind: K }>;

/** One entry per record kind; items that are not records (heads, verdicts) say nothing. */
const RULES: { [K in StoredRecord["kind"]]: (oldImage: KindOf<K> | undefined, newImage: KindOf<K>) => Notification[] } = {
  deployment: deploymentChanges,
  build: buildChanges,
  promotion: promotionChanges,
};

export function changesToNotify(oldImage: StoredRecord | undefined, newImage: StoredRecord | undefined): Notification[] {
  if (!newImage || !Object.hasOwn(RULES, newImage.kind)) return [];
  const rule = RULES[newImage.kind] as (o: StoredRecord | undefined, n: StoredRecord) => Notification[];
  return rule(oldImage?.kind === newImage.kind ? oldImage : undefined, newImage);
}

// ── deployments ───────────────────────────────────────────────────────────────────────────

const SEVERITY: Record<NotifiedStatus, Severity> = {
  started: "info",
  completed: "info",
  rolling_back: "warning",
  verified: "success",
  failed: "failure",
  rolled_back: "failure",
  timed_out: "failure",
  superseded: "warning",
  refused: "warning",
};

// Failures say so in words: a rollback must never read like "the service is stable, all good".
export const LABEL: Record<NotifiedStatus, string> = {
  started: "deploying",
  completed: "rolled out, watching alarms",
  rolling_back: "rolling back",
  verified: "deployed and verified",
  failed: "deployment failed",
  rolled_back: "rolled back, deployment failed",
  timed_out: "timed out, deployment failed",
  superseded: "superseded by a newer image",
  refused: "refused, not deployed",
};

function isNotified(status: DeploymentStatus): status is NotifiedStatus {
  return (NOTIFIED_STATUSES as readonly DeploymentStatus[]).includes(status);
}

function deploymentChanges(oldImage: DeploymentRecord | undefined, record: DeploymentRecord): Notification[] {
  const out: Notification[] = [];
  const seenWarnings = oldImage?.warnings?.length ?? 0;
  (record.warnings ?? []).slice(seenWarnings).forEach((warning, i) => {
    out.push(warningNotification(record, warning.message, warning.at, seenWarnings + i));
  });
  if (record.status !== oldImage?.status && isNotified(record.status)) out.push(statusNotification(record, record.status));
  // Chronological, so a warning raised before the status change is read before it.
  return out.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

function statusNotification(record: DeploymentRecord, status: NotifiedStatus): DeploymentNotification {
  const change = [...(record.history ?? [])].reverse().find((h) => h.status === status);
  const at = change?.at ?? record.updatedAt;
  const reason = change?.reason ?? record.reason;
  const since = status === "started" ? undefined : (record.startedAt ?? record.createdAt);
  const durationSeconds = since ? secondsBetween(since, at) : undefined;
  const facts = deploymentFacts(record, {
    reason,
    durationSeconds,
    watchUntil: status === "completed" ? record.watchUntil : undefined,
  });
  return {
    kind: "deployment",
    event: `deployment.${status}`,
    deliveryId: `${record.id}:${status}`,
    severity: SEVERITY[status],
    title: `${record.app} → ${record.env}: ${LABEL[status]}`,
    summary: withReason(statusSentence(record, status), reason),
    at,
    deployment: facts,
    links: deploymentLinks(record),
  };
}

function warningNotification(record: DeploymentRecord, message: string, at: string, index: number): DeploymentNotification {
  return {
    kind: "deployment",
    event: "deployment.warning",
    deliveryId: `${record.id}:warning:${index}`,
    severity: "warning",
    title: `${record.app} → ${record.env}: warning`,
    summary: withReason(`Deploying ${imageLabel(record)} to ${targetOf(record)} needs attention.`, message),
    at,
    deployment: deploymentFacts(record, { reason: message }),
    links: deploymentLinks(record),
  };
}

function statusSentence(r: DeploymentRecord, status: NotifiedStatus): string {
  const image = imageLabel(r);
  const target = targetOf(r);
  switch (status) {
    case "started":
      return `ECS started deploying ${image} to ${target}.`;
    case "completed":
      return `ECS finished rolling out ${image} to ${target}; ${watchText(r.watchUntil) ?? "watching its alarms"} before calling it verified.`;
    case "rolling_back":
      return `${image} on ${target} is being rolled back.`;
    case "verified":
      return `${image} runs on ${target} and no alarm fired in the watch window.`;
    case "failed":
      return `${image} could not be deployed to ${target}.`;
    case "rolled_back":
      return `${image} was rolled back on ${target}: it is not running there.`;
    case "timed_out":
      return `${image} reached no outcome on ${target} before its deadline.`;
    case "superseded":
      return `${image} did not finish on ${target}: a newer image took the service first.`;
    case "refused":
      return `${image} was not deployed to ${target}.`;
  }
}

function deploymentFacts(
  r: DeploymentRecord,
  extra: { reason?: string | undefined; durationSeconds?: number | undefined; watchUntil?: string | undefined },
): DeploymentFacts {
  return withoutUndefined({
    id: r.id,
    app: r.app,
    env: r.env,
    region: r.region,
    cluster: r.cluster,
    service: r.service,
    repository: r.repository,
    tag: r.tag,
    digest: r.digest,
    shortDigest: shortDigest(r.digest),
    commit: r.commit,
    revision: revisionOf(r.taskDefinitionArn),
    status: r.status,
    trigger: r.trigger,
    promotedFrom: r.trigger === "promotion" ? r.promotedFrom?.env : undefined,
    triggeredBy: triggerText(r),
    durationSeconds: extra.durationSeconds,
    duration: extra.durationSeconds === undefined ? undefined : formatElapsed(extra.durationSeconds),
    reason: extra.reason,
    watchUntil: extra.watchUntil,
  });
}

function deploymentLinks(r: DeploymentRecord): Links {
  const region = encodeURIComponent(r.region);
  return withoutUndefined({
    ecsConsole:
      `https://${region}.console.aws.amazon.com/ecs/v2/clusters/${encodeURIComponent(r.cluster)}` +
      `/services/${encodeURIComponent(r.service)}/deployments?region=${region}`,
    buildLogs: r.buildUrl,
  });
}

/** `shop/web:3f9c2a1 (sha256:4b1d09c2e8aa)`; by digest alone when the push had no tag. */
export function imageLabel(r: Pick<DeploymentRecord, "repository" | "tag" | "digest">): string {
  return r.tag ? `${r.repository}:${r.tag} (${shortDigest(r.digest)})` : `${r.repository}@sha256:${shortDigest(r.digest)}`;
}

function targetOf(r: DeploymentRecord): string {
  return `${r.cluster}/${r.service} (${r.region})`;
}

function triggerText(r: DeploymentRecord): string {
  return r.trigger === "promotion" && r.promotedFrom ? `promotion from ${r.promotedFrom.env}` : r.trigger;
}

/** "watching alarms until 09:32 UTC" */
export function watchText(watchUntil: string | undefined): string | undefined {
  const t = watchUntil ? new Date(watchUntil) : undefined;
  if (!t || Number.isNaN(t.getTime())) return undefined;
  return `watching alarms until ${t.toISOString().slice(11, 16)} UTC`;
}

// ── builds ────────────────────────────────────────────────────────────────────────────────

const BUILD_OUTCOME: Record<BuildRecord["status"], string> = {
  FAILED: "failed",
  STOPPED: "was stopped",
  FAULT: "failed (CodeBuild fault)",
  TIMED_OUT: "timed out",
};

// A build record is written once, when the build failed; later writes to it are not news.
function buildChanges(oldImage: BuildRecord | undefined, record: BuildRecord): Notification[] {
  if (oldImage) return [];
  const build = record.buildNumber === undefined ? record.project : `${record.project} #${record.buildNumber}`;
  const phase = record.phase ? ` in phase ${record.phase}` : "";
  const notification: BuildNotification = {
    kind: "build",
    // Somebody stopped it: not a failure of the code, and receivers may want to tell the two apart.
    event: record.status === "STOPPED" ? "build.stopped" : "build.failed",
    deliveryId: `build:${record.buildId}`,
    severity: "failure",
    title: `${record.app}: build ${build} ${BUILD_OUTCOME[record.status]}`,
    summary: withReason(
      `CodeBuild ${build} ${BUILD_OUTCOME[record.status]}${phase}; ${
        record.digest
          ? `it had pushed image ${shortDigest(record.digest)}, which Stevedore deploys nowhere and rolls back wherever its push already started it.`
          : "Stevedore deploys nothing from this build."
      }`,
      record.phaseContext,
    ),
    at: record.at,
    build: withoutUndefined({
      app: record.app,
      project: record.project,
      buildId: record.buildId,
      buildNumber: record.buildNumber,
      status: record.status,
      phase: record.phase,
      reason: record.phaseContext,
      commit: record.commit,
      repository: record.repository,
      digest: record.digest,
    }),
    links: withoutUndefined({ buildLogs: record.logsUrl }),
  };
  return [notification];
}

// ── promotions ────────────────────────────────────────────────────────────────────────────

const PROMOTION: Record<PromotionStatus, { severity: Severity; label: string }> = {
  awaiting_approval: { severity: "info", label: "waiting for approval" },
  approved: { severity: "info", label: "approved, deploying" },
  rejected: { severity: "warning", label: "rejected, not deployed" },
  expired: { severity: "warning", label: "approval expired, not deployed" },
};

function promotionChanges(oldImage: PromotionRecord | undefined, record: PromotionRecord): Notification[] {
  if (record.status === oldImage?.status) return [];
  const change = [...(record.history ?? [])].reverse().find((h) => h.status === record.status);
  const waiting = record.status === "awaiting_approval";
  const image = imageLabel(record);
  const sentence = waiting
    ? `${image} is verified in ${record.from} and waits for approval to go to ${record.to} (until ${record.expiresAt.slice(0, 16).replace("T", " ")} UTC).`
    : `${image}: promotion from ${record.from} to ${record.to} ${PROMOTION[record.status].label}${change?.by ? ` by ${change.by}` : ""}.`;
  const notification: PromotionNotification = {
    kind: "promotion",
    event: `promotion.${record.status}`,
    deliveryId: `${record.id}:${record.status}`,
    severity: PROMOTION[record.status].severity,
    title: `${record.app} → ${record.to}: ${PROMOTION[record.status].label}`,
    summary: withReason(sentence, change?.reason ?? record.reason),
    at: change?.at ?? record.requestedAt,
    promotion: withoutUndefined({
      id: record.id,
      app: record.app,
      from: record.from,
      to: record.to,
      repository: record.repository,
      tag: record.tag,
      digest: record.digest,
      shortDigest: shortDigest(record.digest),
      commit: record.commit,
      status: record.status,
      expiresAt: record.expiresAt,
      decidedBy: record.decidedBy,
      reason: change?.reason ?? record.reason,
      approveCommand: waiting ? `npm run stevedore -- approve ${record.app} ${record.id}` : undefined,
      rejectCommand: waiting ? `npm run stevedore -- reject ${record.app} ${record.id}` : undefined,
    }),
    links: {},
  };
  return [notification];
}

// ── small pieces ──────────────────────────────────────────────────────────────────────────

function withReason(sentence: string, reason: string | undefined): string {
  return reason?.trim() ? `${sentence} Reason: ${reason.trim()}` : sentence;
}

function secondsBetween(from: string, to: string): number | undefined {
  const seconds = Math.round((Date.parse(to) - Date.parse(from)) / 1000);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

/** 45 → "45s", 252 → "4m 12s", 3780 → "1h 3m" */
export function formatElapsed(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

// The sweeper: what no event will close. Run every minute; its clock is the schedule's time.
//   completed past its watch window      → verified, unless a guarding alarm fired in the window
//                                          and its own event was not handled yet (then: rollback),
//                                          and, for an app CodeBuild builds, unless the build that
//                                          pushed the image failed (then: rollback) or still runs
//   unfinished past its deadline         → timed out (and rolled back if onTimeout: rollback)
//   a rollback decided but not confirmed → decided again once its lease is over
//   pending past its claim's lease       → resumed (the invocation that claimed it died)
//   a promotion nobody decided in time   → expired
import type { App, PipelineConfig } from "../config/model";
import { describeAlarms } from "../deploy/alarms";
import { buildsOfImage, refDeploys, refReason, rejectionReason } from "../deploy/codebuild";
import { TerminalAwsError } from "../errors";
import { deployImage } from "../deploy/deploy";
import type { Lease } from "../lambda";
import type { ScheduledEvent } from "../events/schedule";
import { CONCURRENCY, mapLimit } from "../limit";
import { logger } from "../log";
import { expire } from "../promote/promote";
import { advance } from "../records/advance";
import { recordKeyOf, type DeploymentRecord, type PromotionRecord } from "../records/model";
import type { AlarmReading, BuildWord } from "../records/state";
import { getRecord, queryDue, readVerdict } from "../records/store";
import { rollBack, type RollbackAction } from "../rollback/rollback";

export interface SweepResult {
  looked: number;
  changed: { id: string; status: string }[];
  /** Records whose step failed this time (throttled, say); the next sweep tries them again. */
  failed?: { id: string; error: string }[];
}

export async function sweep(event: ScheduledEvent, config: PipelineConfig, lease: Lease): Promise<SweepResult> {
  const now = event.time;
  const due = await queryDue(now);
  const readings = await alarmReadings(
    due.filter((r): r is DeploymentRecord => r.kind === "deployment" && r.status === "completed" && !!r.watchUntil && r.watchUntil <= now),
  );
  const changed: SweepResult["changed"] = [];
  const failed: NonNullable<SweepResult["failed"]> = [];
  // The services of one image verify in the same sweep: its build's word is asked for once.
  const words = new Map<string, Promise<BuildWord>>();
  const wordOf = async (record: DeploymentRecord): Promise<BuildWord | undefined> => {
    const app = config.apps.find((a) => a.name === record.app);
    const project = app?.buildProject;
    if (!app || !project || record.status !== "completed" || !record.watchUntil || record.watchUntil > now) return undefined;
    const key = [app.name, record.repository, record.digest, record.pushedAt].join("\n");
    if (!words.has(key)) words.set(key, buildWord(record, app, project, now));
    return words.get(key);
  };
  await mapLimit(due, CONCURRENCY, async (item) => {
    // One record's failure stays its own: the others are still swept, and the next sweep (a
    // minute later) tries it again; a rollback interrupted so has given its lease back.
    try {
      const status = await sweepOne(item, now, readings, wordOf, config, lease);
      if (status) changed.push({ id: item.id, status });
    } catch (error) {
      failed.push({ id: item.id, error: (error as Error).message ?? String(error) });
      logger.error(`sweep: ${item.id} failed this time; the next sweep tries again`, { recordId: item.id, error: (error as Error).message });
    }
  });
  if (changed.length > 0) logger.info(`sweep: ${changed.length} change(s)`, { changed });
  return { looked: due.length, changed, ...(failed.length > 0 ? { failed } : {}) };
}

/** Sweeps one due record; its new status when the sweep changed it. */
async function sweepOne(
  item: DeploymentRecord | PromotionRecord,
  now: string,
  readings: Map<string, AlarmReading[]>,
  wordOf: (record: DeploymentRecord) => Promise<BuildWord | undefined>,
  config: PipelineConfig,
  lease: Lease,
): Promise<string | undefined> {
  if (item.kind === "promotion") return (await expire(item, now)) ? "expired" : undefined;
  const outcome = await advance(item, {
    kind: "sweep",
    at: now,
    wallNow: Date.now(),
    leaseUntil: lease.until(),
    alarms: readings.get(item.region),
    build: await wordOf(item),
  });
  let record = outcome.record;
  // Only the sweep that wrote a decision acts on it (sweeps may overlap). Resuming writes
  // through its own claim, so it needs no write here.
  for (const action of outcome.actions) {
    if (action.type === "resume") record = await resume(record, config, lease);
    else if (outcome.written) record = await rollBack(record, action as RollbackAction, now);
  }
  const moved = record.status !== item.status && (outcome.written || outcome.actions.some((a) => a.type === "resume"));
  return moved ? record.status : undefined;
}

/**
 * For an app CodeBuild builds (`project`), what the build that pushed the image of a record about
 * to be verified said: the verdict its event left, or else CodeBuild's own account (the event may
 * be late, or the image was pushed by hand). Asked only at the end of a watch window.
 */
async function buildWord(record: DeploymentRecord, app: App, project: string, now: string): Promise<BuildWord> {
  const verdict = await readVerdict(record.repository, record.digest);
  if (verdict) return { project, verdict };
  let seen;
  try {
    seen = await buildsOfImage(record.region, project, record.digest, record.pushedAt);
  } catch (error) {
    if (error instanceof TerminalAwsError) return { project, unknown: error.message };
    throw error;
  }
  const { finished, running } = seen;
  if (!finished) return { project, running };
  // A build that succeeded, but of a ref that does not deploy (a pull request), rejects it too.
  const reason =
    finished.status !== "SUCCEEDED"
      ? rejectionReason(project, finished.buildNumber, finished.status, finished.failedPhase)
      : !refDeploys(finished.ref, app.branches)
        ? refReason(project, finished.buildNumber, finished.ref, app)
        : undefined;
  return {
    project,
    verdict: {
      repository: record.repository,
      digest: record.digest,
      verdict: reason ? "rejected" : "accepted",
      project,
      buildId: finished.id,
      buildNumber: finished.buildNumber,
      at: now,
      ...(reason ? { reason } : {}),
    },
  };
}

/** The states of the alarms guarding the deployments about to be verified: one call per region. */
async function alarmReadings(records: DeploymentRecord[]): Promise<Map<string, AlarmReading[]>> {
  const byRegion = new Map<string, Set<string>>();
  for (const r of records) for (const alarm of r.alarms) byRegion.set(r.region, (byRegion.get(r.region) ?? new Set()).add(alarm));
  const readings = new Map<string, AlarmReading[]>();
  for (const [region, names] of byRegion) readings.set(region, await describeAlarms(region, [...names]));
  return readings;
}

/** Starts an abandoned claim again, through the same path as the event that made it. */
async function resume(record: DeploymentRecord, config: PipelineConfig, lease: Lease): Promise<DeploymentRecord> {
  const env = config.apps.find((a) => a.name === record.app)?.environments.find((e) => e.name === record.env);
  const target = env?.targets.find((t) => t.key === record.targetKey);
  if (!env || !target) {
    return (await advance(record, { kind: "start-failed", at: record.updatedAt, reason: `${record.targetKey} is no longer configured` })).record;
  }
  logger.warn(`resuming ${record.id} on ${record.targetKey}: the invocation that claimed it stopped before ECS was asked`, { recordId: record.id });
  await deployImage(
    {
      image: { repository: record.repository, repositoryUri: record.repositoryUri, digest: record.digest, tag: record.tag, commit: record.commit },
      pushedAt: record.pushedAt,
      at: record.createdAt,
      trigger: record.trigger,
      triggerRef: record.triggerRef ?? record.id,
      buildUrl: record.buildUrl,
      promotedFrom: record.promotedFrom,
    },
    [{ ...env, targets: [target] }],
    lease,
  );
  // What the resumed rollout made of the record (started, failed, or still pending when busy):
  // the sweep's result and log must show that, not the abandoned claim it found.
  return (await getRecord(record.targetKey, recordKeyOf(record))) ?? record;
}

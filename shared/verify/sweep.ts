// The sweeper: what no event will close. Run every minute; its clock is the schedule's time.
//   completed past its watch window      → verified
//   unfinished past its deadline         → timed out (and rolled back if onTimeout: rollback)
//   pending past its claim's lease       → resumed (the invocation that claimed it died)
//   a promotion nobody decided in time   → expired
import type { PipelineConfig } from "../config/model";
import { deployImage, type DeployOptions } from "../deploy/deploy";
import type { ScheduledEvent } from "../events/schedule";
import { mapLimit } from "../limit";
import { logger } from "../log";
import { expire } from "../promote/promote";
import { advance } from "../records/advance";
import type { DeploymentRecord } from "../records/model";
import { queryDue } from "../records/store";
import { rollBack } from "../rollback/rollback";

export interface SweepResult {
  looked: number;
  changed: { id: string; status: string }[];
}

export async function sweep(event: ScheduledEvent, config: PipelineConfig, options: DeployOptions): Promise<SweepResult> {
  const now = event.time;
  const due = await queryDue(now);
  const changed: SweepResult["changed"] = [];
  await mapLimit(due, 8, async (item) => {
    if (item.kind === "promotion") {
      if (await expire(item, now)) changed.push({ id: item.id, status: "expired" });
      return;
    }
    const outcome = await advance(item, { kind: "sweep", at: now, wallNow: Date.now() });
    let record = outcome.record;
    for (const action of outcome.actions) {
      record = action.type === "resume" ? await resume(record, config, options) : await rollBack(record, action, now);
    }
    if (record.status !== item.status) changed.push({ id: record.id, status: record.status });
  });
  if (changed.length > 0) logger.info(`sweep: ${changed.length} change(s)`, { changed });
  return { looked: due.length, changed };
}

/** Starts an abandoned claim again, through the same path as the event that made it. */
async function resume(record: DeploymentRecord, config: PipelineConfig, options: DeployOptions): Promise<DeploymentRecord> {
  const env = config.apps.find((a) => a.name === record.app)?.environments.find((e) => e.name === record.env);
  const target = env?.targets.find((t) => t.key === record.targetKey);
  if (!env || !target) {
    return (await advance(record, { kind: "start-failed", at: record.updatedAt, reason: `${record.targetKey} is no longer configured` })).record;
  }
  logger.warn(`resuming ${record.id} on ${record.targetKey}: the invocation that claimed it stopped before ECS was asked`, { recordId: record.id });
  await deployImage({
    image: { repository: record.repository, repositoryUri: record.repositoryUri, digest: record.digest, tag: record.tag, commit: record.commit },
    pushedAt: record.pushedAt,
    at: record.createdAt,
    trigger: record.trigger,
    triggerRef: record.triggerRef ?? record.id,
    buildUrl: record.buildUrl,
    promotedFrom: record.promotedFrom,
  }, [{ ...env, targets: [target] }], options);
  return record;
}

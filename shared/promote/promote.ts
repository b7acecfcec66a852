// A verified image goes on to the environments fed by its environment, by the same digest:
// at once (approval: auto) or once a person approves it (approval: manual).
import { createHash } from "node:crypto";
import type { App, Environment, PipelineConfig } from "../config/model";
import { deployImage, type ImageArrival, type TargetOutcome } from "../deploy/deploy";
import type { Lease } from "../lambda";
import { pushedImage } from "../deploy/ecr";
import type { PromotionDecision } from "../events/approval";
import { logger } from "../log";
import { addSeconds } from "../records/state";
import type { DeploymentRecord, PromotionRecord } from "../records/model";
import { create, getPromotion, readTarget, save } from "../records/store";
import { decidePromotion } from "./decide";

export type PromoteResult =
  | { ignored: string }
  | { waiting: string }
  | { promoted: { to: string; approval: "auto" | "manual"; promotionId?: string; deployed?: TargetOutcome[] }[] };

/** Called for a deployment that just became verified. */
export async function promoteVerified(record: DeploymentRecord, config: PipelineConfig, lease: Lease): Promise<PromoteResult> {
  const app = config.apps.find((a) => a.name === record.app);
  const source = app?.environments.find((e) => e.name === record.env);
  if (!app || !source) return ignored(`${record.app}/${record.env} is no longer configured`);
  const next = app.environments.filter((e) => e.promote?.from === record.env);
  if (next.length === 0) return ignored(`nothing is promoted from ${record.app}/${record.env}`);

  // The image moves on once every service of the environment runs it verified. Each service's
  // own head is read (strongly consistent): the byApp index lags, and two services verifying at
  // the same moment would each miss the other there, and nothing would ever promote.
  const states = await Promise.all(source.targets.map((t) => (t.key === record.targetKey ? { record } : readTarget(t.key))));
  const records = states.map((s) => s.record).filter((r): r is DeploymentRecord => r?.digest === record.digest);
  const verified = records.filter((r) => r.status === "verified");
  if (verified.length < source.targets.length) {
    const waiting = `${verified.length} of ${source.targets.length} services of ${record.env} verified ${record.tag ?? record.digest}`;
    logger.info(`promotion waits: ${waiting}`, { recordId: record.id });
    return { waiting };
  }
  const sources = verified.map((r) => r.id).sort();
  const at = record.finishedAt ?? record.updatedAt;
  const promoted = await Promise.all(
    next.map(async (env) => {
      if (env.promote?.approval === "manual") {
        const promotion = promotionRecord(app, env, record, sources, at);
        // Conditional: every service's verification gets here, one request is made.
        const created = await create(promotion);
        logger.info(`promotion ${promotion.id} to ${env.name} ${created ? "waits for approval" : "was already requested"}`, { recordId: record.id });
        return { to: env.name, approval: "manual" as const, promotionId: promotion.id };
      }
      const deployed = await deployImage({ ...arrivalOf(record, at, record.id), tagsNow: await tagsNow(record) }, [env], lease);
      return { to: env.name, approval: "auto" as const, deployed };
    }),
  );
  return { promoted };
}

/** Called for a person's decision on a waiting promotion. */
export async function applyPromotionDecision(event: PromotionDecision, config: PipelineConfig, lease: Lease): Promise<PromoteResult> {
  const { app: appName, promotionId, decision, by, reason } = event.detail;
  let promotion = await getPromotion(appName, promotionId);
  if (!promotion) return ignored(`no promotion ${promotionId} for ${appName}`);
  const env = config.apps.find((a) => a.name === appName)?.environments.find((e) => e.name === promotion?.to);
  if (!env) return ignored(`${appName}/${promotion.to} is no longer configured`);

  const next = decidePromotion(promotion, { kind: decision, at: event.time, by, reason });
  if (next !== promotion) {
    if (!(await save(next, promotion.version))) return ignored(`promotion ${promotionId} changed meanwhile; send the decision again if it still applies`);
    promotion = next;
  }
  // An approved promotion is (re)deployed even on a repeated decision: if the invocation that
  // approved it died before deploying, this is what finishes the job (deploying is idempotent).
  if (promotion.status !== "approved") return ignored(`promotion ${promotionId} is ${promotion.status}`);
  const deployed = await deployImage(
    {
      image: {
        repository: promotion.repository,
        repositoryUri: promotion.repositoryUri,
        digest: promotion.digest,
        tag: promotion.tag,
        commit: promotion.commit,
      },
      pushedAt: promotion.pushedAt,
      tagsNow: await tagsNow(promotion),
      at: promotion.decidedAt ?? event.time,
      trigger: "promotion",
      triggerRef: promotion.id,
      // Each decision its own attempt: approving again after a refused deployment (the alarm has
      // cleared) deploys anew, while a repeated delivery of one decision stays one deployment.
      attempt: `a${createHash("sha256").update(event.id).digest("hex").slice(0, 8)}`,
      promotedFrom: { env: promotion.from, deploymentId: promotion.sourceDeploymentIds[0] ?? promotion.id },
    },
    [env],
    lease,
  );
  return { promoted: [{ to: env.name, approval: "manual", promotionId, deployed }] };
}

/** The sweeper's part: a promotion nobody decided on in time expires. */
export async function expire(promotion: PromotionRecord, at: string): Promise<boolean> {
  const next = decidePromotion(promotion, { kind: "expire", at });
  return next !== promotion && save(next, promotion.version);
}

/** The tags ECR gives the image now: they order it against an image pushed in the same second. */
async function tagsNow(image: Pick<DeploymentRecord, "repositoryUri" | "repository" | "digest">): Promise<string[] | undefined> {
  return (await pushedImage(image))?.tags;
}

function arrivalOf(record: DeploymentRecord, at: string, sourceId: string): ImageArrival {
  return {
    image: { repository: record.repository, repositoryUri: record.repositoryUri, digest: record.digest, tag: record.tag, commit: record.commit },
    pushedAt: record.pushedAt,
    at,
    trigger: "promotion",
    triggerRef: sourceId,
    buildUrl: record.buildUrl,
    promotedFrom: { env: record.env, deploymentId: record.id },
  };
}

function promotionRecord(app: App, env: Environment, record: DeploymentRecord, sources: string[], at: string): PromotionRecord {
  const promote = env.promote as NonNullable<Environment["promote"]>;
  return {
    kind: "promotion",
    id: `p-${createHash("sha256").update(`${app.name}\n${env.name}\n${record.pushKey}`).digest("hex").slice(0, 12)}`,
    app: app.name,
    from: record.env,
    to: env.name,
    repository: record.repository,
    repositoryUri: record.repositoryUri,
    digest: record.digest,
    tag: record.tag,
    commit: record.commit,
    pushedAt: record.pushedAt,
    pushKey: record.pushKey,
    sourceDeploymentIds: sources,
    status: "awaiting_approval",
    requestedAt: at,
    expiresAt: addSeconds(at, promote.expiresAfterSeconds),
    history: [{ status: "awaiting_approval", at }],
    version: 1,
  };
}

function ignored(reason: string): PromoteResult {
  logger.info(`promotion: ${reason}`);
  return { ignored: reason };
}

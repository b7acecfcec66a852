// A CodeBuild build finished → deploy the image it pushed, or tell people why it failed.
import type { App, PipelineConfig } from "../config/model";
import type { CodebuildStateChange } from "../events/codebuild";
import { TerminalAwsError } from "../errors";
import { logger } from "../log";
import type { BuildRecord } from "../records/model";
import { createBuild, readTarget } from "../records/store";
import { mapLimit } from "../limit";
import { decideAndRollBack } from "../rollback/rollback";
import { exportedVariables } from "./codebuild";
import { deployImage, type DeployOptions } from "./deploy";
import { imageOf, parseImageUri } from "./image";
import { matchBuild, pushFed } from "./plan";
import type { TriggerResult } from "./push";

const FAILED = ["FAILED", "STOPPED", "FAULT", "TIMED_OUT"] as const;

export type BuildResult = TriggerResult | { reported: string[]; rolledBack?: string[] };

export async function onBuildFinished(event: CodebuildStateChange, config: PipelineConfig, options: DeployOptions): Promise<BuildResult> {
  const d = event.detail;
  const project = d["project-name"];
  const ignored = (reason: string): BuildResult => {
    logger.info(`build ignored: ${reason}`, { eventId: event.id, project, buildId: d["build-id"] });
    return { ignored: reason };
  };
  const apps = matchBuild(config, project);
  if (apps.length === 0) return ignored(`project ${project} builds no configured app`);
  const status = d["build-status"];
  const info = d["additional-information"];

  if ((FAILED as readonly string[]).includes(status)) {
    const failedPhase = info?.phases?.find((p) => p["phase-status"] && p["phase-status"] !== "SUCCEEDED");
    // The image is pushed in BUILD: a build that fails or is stopped after it may already have
    // had its image deployed by the push event. That image must not stay.
    const pushed = info?.phases?.some((p) => p["phase-type"] === "BUILD" && p["phase-status"] === "SUCCEEDED")
      ? await pushedImage(event.region, d["build-id"]) : undefined;
    const reported: string[] = [];
    for (const app of apps) {
      const record: BuildRecord = {
        kind: "build",
        app: app.name,
        project,
        buildId: d["build-id"],
        buildNumber: info?.["build-number"],
        status: status as BuildRecord["status"],
        phase: failedPhase?.["phase-type"],
        phaseContext: failedPhase?.["phase-context"]?.filter((c) => c.trim() !== ":" && c.trim() !== "").join("; ") || undefined,
        logsUrl: info?.logs?.["deep-link"],
        commit: info?.["source-version"],
        repository: app.repository,
        at: event.time,
        eventId: event.id,
      };
      // Conditional: the same build reported twice stays one record and one message.
      if (await createBuild(record)) reported.push(app.name);
    }
    logger.warn(`build ${status}: ${project}`, { buildId: d["build-id"], phase: failedPhase?.["phase-type"], apps: reported });
    const rolledBack = pushed
      ? await rejectImage(apps, pushed, `its build ${project}${info?.["build-number"] === undefined ? "" : ` #${info["build-number"]}`} ${status === "STOPPED" ? "was stopped" : "failed"}${failedPhase?.["phase-type"] ? ` in ${failedPhase["phase-type"]}` : ""} after pushing this image`, event.time, options)
      : [];
    return rolledBack.length > 0 ? { reported, rolledBack } : { reported };
  }
  if (status !== "SUCCEEDED") return ignored(`build status ${status} is not final`);

  let vars: Record<string, string>;
  try {
    vars = await exportedVariables(event.region, d["build-id"]);
  } catch (error) {
    if (error instanceof TerminalAwsError) return ignored(`cannot read the build's exported variables: ${error.message}`);
    throw error;
  }
  const uri = parseImageUri(vars.IMAGE_URI ?? "");
  const digest = vars.IMAGE_DIGEST;
  if (!uri || !digest || !/^sha256:[a-f0-9]{64}$/.test(digest)) {
    return ignored(`the build did not export IMAGE_URI and IMAGE_DIGEST (got ${JSON.stringify({ IMAGE_URI: vars.IMAGE_URI, IMAGE_DIGEST: vars.IMAGE_DIGEST })}); see buildspec.yml's exported-variables`);
  }
  const deployable = apps.filter((app) => app.repository === uri.repository);
  if (deployable.length === 0) {
    return ignored(`the build pushed ${uri.repository}, but ${apps.map((a) => `${a.name} deploys ${a.repository}`).join(", ")}`);
  }
  const tag = uri.tag;
  const matching = deployable.filter((app) => app.tags === null || (tag !== undefined && app.tags.test(tag)));
  if (matching.length === 0) return ignored(`tag ${tag ?? "(none)"} does not match the apps' tags pattern`);

  const deployed = await deployImage({
    image: imageOf(uri.repository, `${uri.registry}/${uri.repository}`, digest, tag, vars.GIT_COMMIT || info?.["source-version"]),
    pushedAt: event.time,
    at: event.time,
    trigger: "build",
    triggerRef: d["build-id"],
    buildUrl: info?.logs?.["deep-link"],
  }, matching.flatMap(pushFed), options);
  return { deployed };
}

/** The digest a build exported (IMAGE_DIGEST), if it got that far; undefined when it did not. */
async function pushedImage(region: string, buildId: string): Promise<string | undefined> {
  try {
    const digest = (await exportedVariables(region, buildId)).IMAGE_DIGEST;
    return digest && /^sha256:[a-f0-9]{64}$/.test(digest) ? digest : undefined;
  } catch (error) {
    if (error instanceof TerminalAwsError) return undefined;
    throw error;
  }
}

/**
 * Rolls back every deployment of `digest` still on its way (started, or completed and watched)
 * in the environments the apps' pushes feed, as an alarm would. The record's reason says why.
 * Returns the ids of the records whose rollback this invocation decided.
 */
async function rejectImage(apps: App[], digest: string, reason: string, at: string, options: DeployOptions): Promise<string[]> {
  const targets = apps.flatMap(pushFed).flatMap((env) => env.targets);
  const decided: string[] = [];
  await mapLimit(targets, 8, async (target) => {
    const { record } = await readTarget(target.key);
    if (!record || record.digest !== digest) return;
    const { record: after, decided: rolledBack } = await decideAndRollBack(record, { kind: "rejected", at, reason, wallNow: Date.now(), leaseUntil: options.lease() }, at);
    if (rolledBack) decided.push(after.id);
  });
  if (decided.length > 0) logger.warn(`rolled back ${decided.length} deployment(s) of ${digest}: ${reason}`, { digest, records: decided });
  return decided;
}

// A CodeBuild build finished → deploy the image it pushed, or tell people why it failed.
import type { PipelineConfig } from "../config/model";
import type { CodebuildStateChange } from "../events/codebuild";
import { TerminalAwsError } from "../errors";
import { logger } from "../log";
import type { BuildRecord } from "../records/model";
import { createBuild } from "../records/store";
import { exportedVariables } from "./codebuild";
import { deployImage, type DeployOptions } from "./deploy";
import { imageOf, parseImageUri } from "./image";
import { matchBuild, pushFed } from "./plan";
import type { TriggerResult } from "./push";

const FAILED = ["FAILED", "STOPPED", "FAULT", "TIMED_OUT"] as const;

export type BuildResult = TriggerResult | { reported: string[] };

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
    return { reported };
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

// A CodeBuild build finished → deploy the image it pushed, or tell people why it failed.
import type { App, PipelineConfig } from "../config/model";
import type { CodebuildStateChange } from "../events/codebuild";
import { RetryableAwsError, TerminalAwsError } from "../errors";
import { logger } from "../log";
import type { BuildRecord, BuildVerdict } from "../records/model";
import { createBuild, readTarget, recordVerdict } from "../records/store";
import { CONCURRENCY, mapLimit } from "../limit";
import { decideAndRollBack } from "../rollback/rollback";
import { buildRef, exportedVariables, refDeploys, refReason, rejectionReason } from "./codebuild";
import { deployImage } from "./deploy";
import type { Lease } from "../lambda";
import { pushedImage } from "./ecr";
import { imageOf, parseImageUri } from "./image";
import { matchBuild, pushFed } from "./plan";
import type { TriggerResult } from "./push";

const FAILED = ["FAILED", "STOPPED", "FAULT", "TIMED_OUT"] as const;
/** How long a rejection waits for a deployment of the image that is being started (its claim holds the service for one UpdateService). */
const STARTING_WAIT_MS = 5000;

export type BuildResult = TriggerResult | { reported: string[]; rolledBack?: string[] } | { refused: string; rolledBack?: string[] };

export async function onBuildFinished(event: CodebuildStateChange, config: PipelineConfig, lease: Lease): Promise<BuildResult> {
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
      ? await exportedImage(event.region, d["build-id"])
      : undefined;
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
        digest: pushed && (pushed.repository ?? app.repository) === app.repository ? pushed.digest : undefined,
        at: event.time,
        eventId: event.id,
      };
      // Conditional: the same build reported twice stays one record and one message.
      if (await createBuild(record)) reported.push(app.name);
    }
    logger.warn(`build ${status}: ${project}`, { buildId: d["build-id"], phase: failedPhase?.["phase-type"], apps: reported });
    if (!pushed) return { reported };
    const reason = rejectionReason(project, info?.["build-number"], status, failedPhase?.["phase-type"]);
    const rolledBack = await rejectImage(apps, pushed, { project, buildId: d["build-id"], buildNumber: info?.["build-number"], reason, at: event.time }, lease);
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
    return ignored(
      `the build did not export IMAGE_URI and IMAGE_DIGEST (got ${JSON.stringify({ IMAGE_URI: vars.IMAGE_URI, IMAGE_DIGEST: vars.IMAGE_DIGEST })}); see buildspec.yml's exported-variables`,
    );
  }
  const deployable = apps.filter((app) => app.repository === uri.repository);
  if (deployable.length === 0) {
    return ignored(`the build pushed ${uri.repository}, but ${apps.map((a) => `${a.name} deploys ${a.repository}`).join(", ")}`);
  }
  const tag = uri.tag;
  const matching = deployable.filter((app) => app.tags === null || (tag !== undefined && app.tags.test(tag)));
  if (matching.length === 0) return ignored(`tag ${tag ?? "(none)"} does not match the apps' tags pattern`);

  // Only builds of the branches an app names deploy it (a pull request, from a fork too, must
  // never reach an environment). A build of another ref rejects the image it pushed, as a failed
  // build does: its push may already have started a deployment (a buildspec edited in the pull
  // request can push under a deploying tag), which is rolled back.
  const ref = buildRef(info?.["source-version"], vars.GIT_REF);
  const deploying = matching.filter((app) => refDeploys(ref, app.branches));
  if (deploying.length === 0) {
    const reason = refReason(project, info?.["build-number"], ref, matching[0] as App);
    const rolledBack = await rejectImage(
      matching,
      { digest, repository: uri.repository },
      { project, buildId: d["build-id"], buildNumber: info?.["build-number"], reason, at: event.time },
      lease,
    );
    logger.info(`build not deployed: ${reason}`, { buildId: d["build-id"], digest, rolledBack });
    return rolledBack.length > 0 ? { refused: reason, rolledBack } : { refused: reason };
  }

  // This build's success lifts the rejection of an earlier build that pushed the same digest
  // (a retried build, a fully cached one); it cannot lift a later build's.
  await recordVerdict({
    repository: uri.repository,
    digest,
    verdict: "accepted",
    project,
    buildId: d["build-id"],
    buildNumber: info?.["build-number"],
    at: event.time,
  });
  // ECR's push time, as the push event's path uses: the build's finish time is not when its image
  // was pushed (an older build whose post-build step is slow finishes after a newer one).
  const image = imageOf(uri.repository, `${uri.registry}/${uri.repository}`, digest, tag, vars.GIT_COMMIT || info?.["source-version"]);
  const pushed = await pushedImage(image);
  if (!pushed) return ignored(`ECR no longer has the image ${uri.repository}@${digest} the build exported`);
  const deployed = await deployImage(
    {
      image,
      pushedAt: pushed.pushedAt,
      tagsNow: pushed.tags,
      at: event.time,
      trigger: "build",
      triggerRef: d["build-id"],
      buildUrl: info?.logs?.["deep-link"],
    },
    deploying.flatMap(pushFed),
    lease,
  );
  return { deployed };
}

/** The image a build exported (IMAGE_DIGEST, and IMAGE_URI's repository), if it got that far. */
async function exportedImage(region: string, buildId: string): Promise<{ digest: string; repository?: string } | undefined> {
  try {
    const vars = await exportedVariables(region, buildId);
    const digest = vars.IMAGE_DIGEST;
    if (!digest || !/^sha256:[a-f0-9]{64}$/.test(digest)) return undefined;
    return { digest, repository: parseImageUri(vars.IMAGE_URI ?? "")?.repository };
  } catch (error) {
    if (error instanceof TerminalAwsError) return undefined;
    throw error;
  }
}

/**
 * A build failed after pushing `image`: records the rejection (from then on no deployment of the
 * image can claim a service), then rolls back every deployment of it already on its way
 * (started, or completed and watched) in the environments the apps' pushes feed, as an alarm
 * would. A deployment still being started is waited for (then the event is retried): its claim
 * came before the rejection, so its UpdateService may yet land. Returns the ids of the records
 * whose rollback this invocation decided.
 */
async function rejectImage(
  apps: App[],
  image: { digest: string; repository?: string },
  build: Omit<BuildVerdict, "repository" | "digest" | "verdict">,
  lease: Lease,
): Promise<string[]> {
  const repositories = [...new Set(apps.map((a) => a.repository))].filter((r) => image.repository === undefined || r === image.repository);
  const standing: string[] = [];
  for (const repository of repositories) {
    // A later build of the project that succeeded with the same digest has the last word.
    if (await recordVerdict({ repository, digest: image.digest, verdict: "rejected", ...build })) standing.push(repository);
  }
  const targets = apps
    .filter((a) => standing.includes(a.repository))
    .flatMap(pushFed)
    .flatMap((env) => env.targets);
  const decided: string[] = [];
  await mapLimit(targets, CONCURRENCY, async (target) => {
    let { record } = await readTarget(target.key);
    // A claim whose lease ran out is not waited for: its invocation died, and the sweeper's
    // resumption of it is refused by the rejection just recorded.
    const starting = () => !!record && record.digest === image.digest && record.status === "pending" && (record.leaseUntil ?? 0) > Date.now();
    for (const giveUpAt = Date.now() + STARTING_WAIT_MS; starting(); ) {
      if (Date.now() > giveUpAt)
        throw new RetryableAwsError("reject", "DeploymentStarting", `${target.key} is still being started; the rollback of its deployment waits for it`);
      await new Promise((resolve) => setTimeout(resolve, 250));
      ({ record } = await readTarget(target.key));
    }
    if (!record || record.digest !== image.digest) return;
    const { record: after, decided: rolledBack } = await decideAndRollBack(
      record,
      { kind: "rejected", at: build.at, reason: build.reason as string, wallNow: Date.now(), leaseUntil: lease.until() },
      build.at,
    );
    if (rolledBack) decided.push(after.id);
  });
  if (decided.length > 0)
    logger.warn(`rolled back ${decided.length} deployment(s) of ${image.digest}: ${build.reason}`, { digest: image.digest, records: decided });
  return decided;
}

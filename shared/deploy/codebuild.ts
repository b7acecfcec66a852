// The image a build pushed: CodeBuild's event does not carry it reliably, the build's exported
// variables do (buildspec.yml sets IMAGE_URI, IMAGE_DIGEST and GIT_COMMIT).
import { BatchGetBuildsCommand, CodeBuildClient, ListBuildsForProjectCommand, type Build } from "@aws-sdk/client-codebuild";
import { clientFor } from "../aws/clients";
import { call } from "../aws/errors";
import { TerminalAwsError } from "../errors";

export async function exportedVariables(region: string, buildId: string): Promise<Record<string, string>> {
  const out = await call("BatchGetBuilds", () => clientFor(CodeBuildClient, region).send(new BatchGetBuildsCommand({ ids: [buildId] })));
  const build = out.builds?.[0];
  if (!build) throw new TerminalAwsError("BatchGetBuilds", "BuildNotFound", `build ${buildId} not found`);
  return variablesOf(build);
}

function variablesOf(build: Build): Record<string, string> {
  return Object.fromEntries((build.exportedEnvironmentVariables ?? []).map((v) => [v.name ?? "", v.value ?? ""]));
}

/** "its build shop-web #12 failed in POST_BUILD after pushing this image" */
export function rejectionReason(project: string, buildNumber: number | undefined, status: string, phase: string | undefined): string {
  const build = buildNumber === undefined ? project : `${project} #${buildNumber}`;
  return `its build ${build} ${status === "STOPPED" ? "was stopped" : "failed"}${phase ? ` in ${phase}` : ""} after pushing this image`;
}

/** What CodeBuild says now about the builds of a project that may have pushed an image. */
export interface BuildsOfImage {
  /** The newest finished build that exported the image's digest. */
  finished?: { id: string; buildNumber?: number; status: string; failedPhase?: string };
  /** A build still running that started before the push: it may be the one that pushed it. */
  running?: string;
}

/**
 * How many of a project's newest builds are looked at: the build that pushed an image being
 * verified ran minutes ago, and one BatchGetBuilds takes up to 100 ids.
 */
const RECENT_BUILDS = 20;

export async function buildsOfImage(region: string, project: string, digest: string, pushedAt: string): Promise<BuildsOfImage> {
  const client = clientFor(CodeBuildClient, region);
  // Newest first is the default order; asking for an order fails once a project has over 100 builds.
  const listed = await call("ListBuildsForProject", () => client.send(new ListBuildsForProjectCommand({ projectName: project })));
  const ids = (listed.ids ?? []).slice(0, RECENT_BUILDS);
  if (ids.length === 0) return {};
  const out = await call("BatchGetBuilds", () => client.send(new BatchGetBuildsCommand({ ids })));
  const builds = [...(out.builds ?? [])].sort((a, b) => (b.buildNumber ?? 0) - (a.buildNumber ?? 0));
  const finished = builds.find((b) => b.buildStatus !== "IN_PROGRESS" && variablesOf(b).IMAGE_DIGEST === digest);
  if (finished) {
    return {
      finished: {
        id: finished.id ?? "",
        buildNumber: finished.buildNumber,
        status: finished.buildStatus ?? "UNKNOWN",
        failedPhase: finished.phases?.find((p) => p.phaseStatus && p.phaseStatus !== "SUCCEEDED")?.phaseType,
      },
    };
  }
  const running = builds.find((b) => b.buildStatus === "IN_PROGRESS" && b.startTime !== undefined && b.startTime.getTime() <= Date.parse(pushedAt));
  return running ? { running: running.id } : {};
}

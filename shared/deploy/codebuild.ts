// The image a build pushed: CodeBuild's event does not carry it reliably, the build's exported
// variables do (buildspec.yml sets IMAGE_URI, IMAGE_DIGEST and GIT_COMMIT).
import { BatchGetBuildsCommand, CodeBuildClient, ListBuildsForProjectCommand, type Build } from "@aws-sdk/client-codebuild";
import { clientFor } from "../aws/clients";
import { call } from "../aws/errors";
import { TerminalAwsError } from "../errors";

/** The variables a build exported. `build`: its id, or its ARN as the build's event names it. */
export async function exportedVariables(region: string, buildIdOrArn: string): Promise<Record<string, string>> {
  const buildId = buildIdOf(buildIdOrArn);
  const out = await call("BatchGetBuilds", () => clientFor(CodeBuildClient, region).send(new BatchGetBuildsCommand({ ids: [buildId] })));
  const build = out.builds?.[0];
  if (!build) throw new TerminalAwsError("BatchGetBuilds", "BuildNotFound", `build ${buildId} not found`);
  return variablesOf(build);
}

/**
 * `arn:aws:codebuild:eu-west-1:123456789012:build/shop-web:0d6e…` → `shop-web:0d6e…`: the event
 * names a build by its ARN, and BatchGetBuilds is documented to take build ids.
 */
export function buildIdOf(build: string): string {
  const arn = /^arn:[^:]+:codebuild:[^:]*:\d{12}:build\/(.+)$/.exec(build);
  return arn ? (arn[1] as string) : build;
}

function variablesOf(build: Build): Record<string, string> {
  return Object.fromEntries((build.exportedEnvironmentVariables ?? []).map((v) => [v.name ?? "", v.value ?? ""]));
}

/** "its build shop-web #12 failed in POST_BUILD after pushing this image" */
export function rejectionReason(project: string, buildNumber: number | undefined, status: string, phase: string | undefined): string {
  const build = buildNumber === undefined ? project : `${project} #${buildNumber}`;
  return `its build ${build} ${status === "STOPPED" ? "was stopped" : "failed"}${phase ? ` in ${phase}` : ""} after pushing this image`;
}

/** What a build was built from. */
export type BuildRef =
  | { kind: "branch" | "tag"; name: string }
  | { kind: "pull-request"; number: string }
  /** Neither CodeBuild nor the build named a ref (a build started by hand at a commit). */
  | { kind: "unknown"; sourceVersion?: string };

/**
 * The ref a build built. CodeBuild's own source version wins where it names one: a pull
 * request's build reports `pr/<number>` whatever its (possibly edited) buildspec exports, and a
 * build started for a branch or tag names it. A webhook push build reports the commit; then the
 * webhook's trigger (`branch/<name>`, `tag/<name>`, `pr/<number>`), which buildspec.yml exports
 * as GIT_REF from CODEBUILD_WEBHOOK_TRIGGER, says which push it was.
 */
export function buildRef(sourceVersion: string | undefined, exportedRef: string | undefined): BuildRef {
  return refOf(sourceVersion) ?? refOf(exportedRef) ?? { kind: "unknown", ...(sourceVersion ? { sourceVersion } : {}) };
}

function refOf(version: string | undefined): BuildRef | undefined {
  const v = version?.trim();
  if (!v || /^[0-9a-f]{7,40}$/.test(v)) return undefined; // a commit names no ref
  const pr = /^(?:pr\/|refs\/pull\/)(\d+)(?:\/(?:head|merge))?$/.exec(v);
  if (pr) return { kind: "pull-request", number: pr[1] as string };
  const tag = /^(?:refs\/tags\/|tag\/)(.+)$/.exec(v);
  if (tag) return { kind: "tag", name: tag[1] as string };
  return { kind: "branch", name: v.replace(/^(?:refs\/heads\/|branch\/)/, "") };
}

/** Whether a build of `ref` may deploy an app that names `branches`. */
export function refDeploys(ref: BuildRef, branches: string[]): boolean {
  return ref.kind === "branch" && branches.includes(ref.name);
}

/** "its build shop-web #12 was of pull request #7, and apps.shop-web.branches lets only main deploy" */
export function refReason(project: string, buildNumber: number | undefined, ref: BuildRef, app: { name: string; branches: string[] }): string {
  const build = buildNumber === undefined ? project : `${project} #${buildNumber}`;
  const of =
    ref.kind === "pull-request"
      ? `pull request #${ref.number}`
      : ref.kind === "unknown"
        ? `no branch (CodeBuild names none${ref.sourceVersion ? `, only the source version ${ref.sourceVersion}` : ""}; see buildspec.yml's GIT_REF)`
        : `${ref.kind} ${ref.name}`;
  return `its build ${build} was of ${of}, and apps.${app.name}.branches lets only ${app.branches.join(", ")} deploy`;
}

/** What CodeBuild says now about the builds of a project that may have pushed an image. */
export interface BuildsOfImage {
  /** The newest finished build that exported the image's digest. */
  finished?: { id: string; buildNumber?: number; status: string; failedPhase?: string; ref: BuildRef };
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
        ref: buildRef(finished.sourceVersion, variablesOf(finished).GIT_REF),
      },
    };
  }
  const running = builds.find((b) => b.buildStatus === "IN_PROGRESS" && b.startTime !== undefined && b.startTime.getTime() <= Date.parse(pushedAt));
  return running ? { running: running.id } : {};
}

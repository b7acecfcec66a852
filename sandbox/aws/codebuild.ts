// CodeBuild for the sandbox: a build runs buildspec.yml's story over virtual time — submitted,
// queued, BUILD (where `docker buildx --push` pushes the image to the local ECR, so ECR's push
// event comes first, as it does in AWS), POST_BUILD, COMPLETED — and ends with a "CodeBuild
// Build State Change" event shaped like AWS's (test/events/codebuild-build-*.json). What the
// buildspec exports (IMAGE_URI, IMAGE_DIGEST, GIT_COMMIT) is read back with BatchGetBuilds, the
// way shared/deploy/codebuild.ts does, because the event does not carry it.
import { madeUpId } from "../random";
import type { Clock } from "../clock";
import { SECOND } from "../clock";
import { awsEvent, type Emit, type EventOrigin } from "../events";
import type { LocalEcr } from "./ecr";
import { AwsError, type AwsRequest, type AwsResponse } from "./server";

export const CODEBUILD_PREFIX = "CodeBuild_20161006";

/** The phases a sandbox build can fail in (buildspec.yml aborts the build on a failure there). */
export type FailingPhase = "PRE_BUILD" | "BUILD" | "POST_BUILD";
export type BuildStatus = "IN_PROGRESS" | "SUCCEEDED" | "FAILED";

export interface CodeBuildOptions {
  clock: Clock;
  emit: Emit;
  ecr: LocalEcr;
  account?: string;
  region?: string;
  /** Also emit the IN_PROGRESS state change when a build starts, as CodeBuild does. Default true. */
  inProgressEvents?: boolean;
}

export interface ProjectOptions {
  /** The ECR repository the project pushes to (its ECR_REPOSITORY variable). */
  repository: string;
  /** The source repository's URL, for the event's `source.location`. */
  sourceLocation?: string;
  /** The project's DEPLOY_BRANCHES (buildspec.yml): other refs push to nodeploy- tags. Default main. */
  deployBranches?: string[];
}

/** Virtual milliseconds each stretch of a build takes. */
export interface BuildDurations {
  /** From SUBMITTED to the first command (queue, provisioning, source download). Default 3 s. */
  queued?: number;
  preBuild?: number;
  /** The docker build and push. Default 121 s. */
  build?: number;
  postBuild?: number;
}

export interface BuildRequest {
  /** The resolved git commit, 40 hex characters. */
  commit: string;
  outcome: "SUCCEEDED" | "FAILED";
  /** Where a FAILED build fails. Default BUILD. */
  failIn?: FailingPhase;
  /** The failing command's context (CodeBuild's phase-context message). */
  reason?: string;
  /**
   * What a webhook started the build for (CODEBUILD_WEBHOOK_TRIGGER): `branch/<name>`,
   * `tag/<name>` or `pr/<number>`. Default `branch/main`, unless `sourceVersion` is given.
   */
  trigger?: string;
  /** The source version a build started by hand (StartBuild) was asked for. */
  sourceVersion?: string;
  /**
   * The image tag; by default what buildspec.yml gives it: the commit's first 7 characters for a
   * branch in DEPLOY_BRANCHES, `nodeploy-<ref>-<7 characters>` for any other ref. Set it to play
   * a buildspec edited in a pull request.
   */
  tag?: string;
  /** A multi-arch image of this many platforms. */
  platforms?: number;
  durations?: BuildDurations;
}

interface Phase {
  phaseType: string;
  phaseStatus?: "SUCCEEDED" | "FAILED";
  startTime: number;
  endTime?: number;
  contexts?: { statusCode: string; message: string }[];
}

interface Build {
  id: string;
  arn: string;
  uuid: string;
  project: Project;
  buildNumber: number;
  commit: string;
  /** What CodeBuild reports as the build's source version: `pr/<number>` for a pull request, else the commit or the version asked for. */
  sourceVersion: string;
  status: BuildStatus;
  currentPhase: string;
  startTime: number;
  endTime?: number;
  phases: Phase[];
  exported: Record<string, string>;
  done: Promise<BuildView>;
  /**
   * The build's own schedule in virtual ms. Phases are stamped from it rather than from when a
   * timer happened to fire, so their durations are exactly the ones asked for.
   */
  cursor: number;
}

interface Project {
  name: string;
  repository: string;
  sourceLocation: string;
  deployBranches: string[];
  builds: number;
}

/** A build as BatchGetBuilds answers it (times in epoch seconds, as on the wire). */
export type BuildView = Record<string, unknown> & {
  id: string;
  arn: string;
  buildStatus: BuildStatus;
  exportedEnvironmentVariables?: { name: string; value: string }[];
};

const DEFAULTS: Required<BuildDurations> = { queued: 3 * SECOND, preBuild: 4 * SECOND, build: 121 * SECOND, postBuild: 37 * SECOND };

const FAILED_COMMAND: Record<FailingPhase, string> = {
  PRE_BUILD: 'docker login --username AWS --password-stdin "$REGISTRY" <<< "$PASSWORD" || exit 1',
  BUILD: 'docker buildx build --platform "$IMAGE_PLATFORM" --file "$DOCKERFILE" --provenance=false --tag "$IMAGE_URI" --push "$DOCKER_CONTEXT" || exit 1',
  POST_BUILD: 'echo "exporting IMAGE_URI=$IMAGE_URI" && ./scripts/smoke.sh',
};

export class LocalCodeBuild {
  readonly account: string;
  readonly region: string;
  private readonly clock: Clock;
  private readonly emit: Emit;
  private readonly ecr: LocalEcr;
  private readonly inProgressEvents: boolean;
  private readonly projects = new Map<string, Project>();
  private readonly builds = new Map<string, Build>();

  constructor(options: CodeBuildOptions) {
    this.clock = options.clock;
    this.emit = options.emit;
    this.ecr = options.ecr;
    this.account = options.account ?? options.ecr.account;
    this.region = options.region ?? options.ecr.region;
    this.inProgressEvents = options.inProgressEvents ?? true;
  }

  // ── control ─────────────────────────────────────────────────────────────────────────────

  createProject(name: string, options: ProjectOptions): void {
    if (!/^[A-Za-z0-9][A-Za-z0-9\-_]{1,254}$/.test(name)) throw new AwsError("InvalidInputException", `Invalid project name: ${name}`);
    if (this.projects.has(name)) throw new AwsError("ResourceAlreadyExistsException", `Project already exists: ${name}`);
    this.projects.set(name, {
      name,
      repository: options.repository,
      sourceLocation: options.sourceLocation ?? `https://github.com/example-org/${name}.git`,
      deployBranches: options.deployBranches ?? ["main"],
      builds: 0,
    });
  }

  /**
   * Starts a build of `commit` and returns its id (`<project>:<uuid>`, what BatchGetBuilds takes;
   * the event's `build-id` is its ARN). The build runs over virtual time; `finished(id)` resolves
   * when its final event has been emitted.
   */
  build(project: string, request: BuildRequest): string {
    const p = this.projects.get(project);
    if (!p) throw new AwsError("ResourceNotFoundException", `Project cannot be found: ${this.projectArn(project)}`);
    if (!/^[0-9a-f]{40}$/.test(request.commit)) throw new TypeError(`commit must be 40 lowercase hex characters, got '${request.commit}'`);
    const uuid = madeUpId({ project, request, at: this.clock.now() });
    const id = `${project}:${uuid}`;
    let resolve!: (view: BuildView) => void;
    const done = new Promise<BuildView>((r) => (resolve = r));
    const start = this.clock.now();
    const build: Build = {
      id,
      arn: `arn:aws:codebuild:${this.region}:${this.account}:build/${id}`,
      uuid,
      project: p,
      buildNumber: ++p.builds,
      commit: request.commit,
      sourceVersion: /^pr\/\d+$/.test(request.trigger ?? "") ? (request.trigger as string) : (request.sourceVersion ?? request.commit),
      status: "IN_PROGRESS",
      currentPhase: "SUBMITTED",
      startTime: start,
      phases: [{ phaseType: "SUBMITTED", phaseStatus: "SUCCEEDED", startTime: start, endTime: start, contexts: [] }],
      exported: {},
      done,
      cursor: start,
    };
    this.builds.set(id, build);
    if (this.inProgressEvents) this.announce(build);
    void this.run(build, request).then(() => resolve(this.view(build)));
    return id;
  }

  /** Resolves with the build as BatchGetBuilds shows it, once its final event is out. */
  finished(id: string): Promise<BuildView> {
    const build = this.builds.get(id) ?? [...this.builds.values()].find((b) => b.arn === id);
    if (!build) return Promise.reject(new Error(`no build ${id}`));
    return build.done;
  }

  /** A build by its id or ARN, as BatchGetBuilds answers it. */
  describe(id: string): BuildView | undefined {
    const build = this.builds.get(id) ?? [...this.builds.values()].find((b) => b.arn === id);
    return build && this.view(build);
  }

  // ── the build itself ────────────────────────────────────────────────────────────────────

  private async run(build: Build, request: BuildRequest): Promise<void> {
    const durations = { ...DEFAULTS, ...request.durations };
    const failIn = request.outcome === "FAILED" ? (request.failIn ?? "BUILD") : undefined;
    // As buildspec.yml: GIT_REF is the webhook's trigger, else the version the build was started for.
    const gitRef = request.trigger ?? request.sourceVersion ?? "branch/main";
    const deploys = build.project.deployBranches.some((b) => [`branch/${b}`, `refs/heads/${b}`, b].includes(gitRef));
    const slug =
      gitRef
        .replace(/[^A-Za-z0-9_.-]/g, "-")
        .replace(/-+$/, "")
        .slice(0, 100) || "unknown";
    const tag = request.tag ?? (deploys ? request.commit.slice(0, 7) : `nodeploy-${slug}-${request.commit.slice(0, 7)}`);
    const repositoryUri = this.ecr.repositoryUri(build.project.repository);

    await this.advance(build, durations.queued);

    // pre_build only shows in the phase list when it fails (AWS's events for this buildspec list
    // SUBMITTED, BUILD, POST_BUILD, COMPLETED); it is where IMAGE_URI and GIT_COMMIT are set.
    if (failIn === "PRE_BUILD") {
      await this.phase(build, "PRE_BUILD", durations.preBuild, request.reason ?? failure("PRE_BUILD"));
      return this.complete(build, "FAILED");
    }
    build.exported.IMAGE_URI = `${repositoryUri}:${tag}`;
    build.exported.GIT_COMMIT = request.commit;
    build.exported.GIT_REF = gitRef;

    if (failIn === "BUILD") {
      await this.phase(build, "BUILD", durations.build, request.reason ?? failure("BUILD"));
      return this.complete(build, "FAILED");
    }
    const built = await this.phase(build, "BUILD", durations.build, undefined, () => {
      // As buildspec.yml: a retried build of a commit whose tag exists exports that image again.
      const existing = this.ecr.find(build.project.repository, tag);
      build.exported.IMAGE_DIGEST = existing
        ? existing.digest
        : this.ecr.push(build.project.repository, { tag, ...(request.platforms ? { platforms: request.platforms } : {}) }).digest;
    });
    if (!built) return this.complete(build, "FAILED");

    await this.phase(build, "POST_BUILD", durations.postBuild, failIn === "POST_BUILD" ? (request.reason ?? failure("POST_BUILD")) : undefined);
    return this.complete(build, failIn ? "FAILED" : "SUCCEEDED");
  }

  /**
   * One phase: runs for `duration`, then `atEnd` (where its commands' effects land). A failure
   * given, or thrown by `atEnd` (a push ECR refuses), fails the phase. Returns whether it passed.
   */
  private async phase(build: Build, type: string, duration: number, failure: string | undefined, atEnd?: () => void): Promise<boolean> {
    const phase: Phase = { phaseType: type, startTime: build.cursor };
    build.phases.push(phase);
    build.currentPhase = type;
    await this.advance(build, duration);
    if (!failure) {
      try {
        atEnd?.();
      } catch (error) {
        failure = `COMMAND_EXECUTION_ERROR: Error while executing command: ${FAILED_COMMAND.BUILD}. Reason: ${(error as Error).message}`;
      }
    }
    phase.endTime = build.cursor;
    phase.phaseStatus = failure ? "FAILED" : "SUCCEEDED";
    const m = failure ? /^([A-Z][A-Z_]+): ([\s\S]*)$/.exec(failure) : null;
    phase.contexts = [
      failure ? { statusCode: m ? (m[1] as string) : "COMMAND_EXECUTION_ERROR", message: m ? (m[2] as string) : failure } : { statusCode: "", message: "" },
    ];
    return !failure;
  }

  private async complete(build: Build, status: "SUCCEEDED" | "FAILED"): Promise<void> {
    await this.advance(build, SECOND);
    build.phases.push({ phaseType: "COMPLETED", startTime: build.cursor });
    build.currentPhase = "COMPLETED";
    build.status = status;
    build.endTime = build.cursor;
    await this.advance(build, SECOND);
    this.announce(build);
  }

  /** Moves the build's schedule on by `ms` and waits until the sandbox clock has caught up. */
  private async advance(build: Build, ms: number): Promise<void> {
    build.cursor += ms;
    await this.clock.sleep(Math.max(0, build.cursor - this.clock.now()));
  }

  private announce(build: Build): void {
    const origin: EventOrigin = { clock: this.clock, account: this.account, region: this.region };
    const complete = build.status !== "IN_PROGRESS";
    this.emit(
      awsEvent(
        origin,
        "aws.codebuild",
        "CodeBuild Build State Change",
        {
          "build-status": build.status,
          "project-name": build.project.name,
          "build-id": build.arn,
          "current-phase": build.currentPhase,
          "current-phase-context": complete ? "[: ]" : "[]",
          version: "1",
          "additional-information": {
            cache: { type: "NO_CACHE" },
            "timeout-in-minutes": 60,
            "build-complete": complete,
            "build-number": build.buildNumber,
            initiator: "GitHub-Hookshot/8a4f2c1",
            "build-start-time": eventDate(build.startTime),
            source: { buildspec: "buildspec.yml", location: build.project.sourceLocation, type: "GITHUB" },
            "source-version": build.sourceVersion,
            artifact: { location: "" },
            environment: {
              image: "aws/codebuild/amazonlinux-aarch64-standard:3.0",
              "privileged-mode": true,
              "image-pull-credentials-type": "CODEBUILD",
              "compute-type": "BUILD_GENERAL1_SMALL",
              type: "ARM_CONTAINER",
              "environment-variables": [{ name: "ECR_REPOSITORY", type: "PLAINTEXT", value: build.project.repository }],
            },
            logs: this.logs(build, "event"),
            ...(complete ? { phases: build.phases.map(eventPhase) } : {}),
          },
        },
        [build.arn],
      ),
    );
  }

  // ── API ─────────────────────────────────────────────────────────────────────────────────

  readonly handle = async (request: AwsRequest): Promise<AwsResponse> => {
    switch (request.operation) {
      case "BatchGetBuilds": {
        const ids = request.body.ids;
        if (!Array.isArray(ids) || ids.length === 0 || ids.length > 100) {
          throw new AwsError(
            "InvalidInputException",
            "1 validation error detected: Value at 'ids' failed to satisfy constraint: Member must have length between 1 and 100",
          );
        }
        const builds: BuildView[] = [];
        const buildsNotFound: string[] = [];
        for (const id of ids as string[]) {
          // Build ids only (`project:uuid`), as the API documents: an ARN is no id of a build.
          const view = this.builds.has(String(id)) ? this.describe(String(id)) : undefined;
          if (view) builds.push(view);
          else buildsNotFound.push(String(id));
        }
        return { status: 200, body: { builds, buildsNotFound } };
      }
      case "ListBuildsForProject": {
        const name = request.body.projectName;
        if (typeof name !== "string" || !name)
          throw new AwsError(
            "InvalidInputException",
            "1 validation error detected: Value null at 'projectName' failed to satisfy constraint: Member must not be null",
          );
        const project = this.projects.get(name);
        if (!project) throw new AwsError("ResourceNotFoundException", `The provided project name ${name} does not exist`);
        const order = request.body.sortOrder;
        if (order !== undefined && order !== "ASCENDING" && order !== "DESCENDING") {
          throw new AwsError(
            "InvalidInputException",
            `1 validation error detected: Value '${String(order)}' at 'sortOrder' failed to satisfy constraint: Member must satisfy enum value set: [ASCENDING, DESCENDING]`,
          );
        }
        // As documented: asking for an order fails once a project has more than 100 builds.
        if (order !== undefined && project.builds > 100)
          throw new AwsError("InvalidInputException", "Sort order cannot be specified for projects with more than 100 builds");
        const ids = [...this.builds.values()]
          .filter((b) => b.project.name === name)
          .sort((a, b) => (order === "ASCENDING" ? a.buildNumber - b.buildNumber : b.buildNumber - a.buildNumber))
          .map((b) => b.id);
        const token = request.body.nextToken;
        const start = token === undefined ? 0 : Number(token);
        if (!Number.isInteger(start) || start < 0 || start > ids.length) throw new AwsError("InvalidInputException", "Invalid next token");
        const page = ids.slice(start, start + 100);
        return { status: 200, body: { ids: page, ...(start + 100 < ids.length ? { nextToken: String(start + 100) } : {}) } };
      }
      case "StartBuild": {
        const name = request.body.projectName;
        if (typeof name !== "string" || !name)
          throw new AwsError(
            "InvalidInputException",
            "1 validation error detected: Value null at 'projectName' failed to satisfy constraint: Member must not be null",
          );
        const version = request.body.sourceVersion;
        // A branch or no version resolves to the branch's head: some commit.
        const commit =
          typeof version === "string" && /^[0-9a-f]{40}$/.test(version)
            ? version
            : madeUpId({ name, version, at: this.clock.now() }).replaceAll("-", "").padEnd(40, "0");
        const id = this.build(name, { commit, outcome: "SUCCEEDED", ...(typeof version === "string" ? { sourceVersion: version } : {}) });
        return { status: 200, body: { build: this.describe(id) } };
      }
      default:
        throw new AwsError("UnknownOperationException", `the sandbox's CodeBuild does not implement ${request.operation}`);
    }
  };

  private view(build: Build): BuildView {
    const complete = build.status !== "IN_PROGRESS";
    const repository = build.project.repository;
    return {
      id: build.id,
      arn: build.arn,
      buildNumber: build.buildNumber,
      startTime: epochSeconds(build.startTime),
      ...(build.endTime ? { endTime: epochSeconds(build.endTime) } : {}),
      currentPhase: build.currentPhase,
      buildStatus: build.status,
      sourceVersion: build.sourceVersion,
      resolvedSourceVersion: build.commit,
      projectName: build.project.name,
      phases: build.phases.map((p) => ({
        phaseType: p.phaseType,
        ...(p.phaseStatus ? { phaseStatus: p.phaseStatus } : {}),
        startTime: epochSeconds(p.startTime),
        ...(p.endTime !== undefined ? { endTime: epochSeconds(p.endTime), durationInSeconds: Math.round((p.endTime - p.startTime) / 1000) } : {}),
        ...(p.contexts ? { contexts: p.contexts } : {}),
      })),
      source: { type: "GITHUB", location: build.project.sourceLocation, buildspec: "buildspec.yml" },
      artifacts: { location: "" },
      cache: { type: "NO_CACHE" },
      environment: {
        type: "ARM_CONTAINER",
        image: "aws/codebuild/amazonlinux-aarch64-standard:3.0",
        computeType: "BUILD_GENERAL1_SMALL",
        environmentVariables: [{ name: "ECR_REPOSITORY", value: repository, type: "PLAINTEXT" }],
        privilegedMode: true,
        imagePullCredentialsType: "CODEBUILD",
      },
      logs: this.logs(build, "api"),
      timeoutInMinutes: 60,
      queuedTimeoutInMinutes: 480,
      buildComplete: complete,
      initiator: "GitHub-Hookshot/8a4f2c1",
      // Exported variables are final once the build is: CodeBuild shows them then.
      ...(complete ? { exportedEnvironmentVariables: Object.entries(build.exported).map(([name, value]) => ({ name, value })) } : {}),
    };
  }

  private logs(build: Build, style: "event" | "api"): Record<string, string> {
    const group = `/aws/codebuild/${build.project.name}`;
    const deepLink = `https://console.aws.amazon.com/cloudwatch/home?region=${this.region}#logEvent:group=${group};stream=${build.uuid}`;
    return style === "event"
      ? { "group-name": group, "stream-name": build.uuid, "deep-link": deepLink }
      : { groupName: group, streamName: build.uuid, deepLink };
  }

  private projectArn(name: string): string {
    return `arn:aws:codebuild:${this.region}:${this.account}:project/${name}`;
  }
}

/**
 * Timestamps go on the wire as the JSON protocols write them: epoch seconds. (JSON.stringify
 * turns a Date into an ISO string before any replacer sees it, which the SDK cannot read.)
 */
function epochSeconds(ms: number): number {
  return ms / 1000;
}

function failure(phase: FailingPhase): string {
  return `COMMAND_EXECUTION_ERROR: Error while executing command: ${FAILED_COMMAND[phase]}. Reason: exit status 1`;
}

function eventPhase(p: Phase): Record<string, unknown> {
  if (p.phaseType === "COMPLETED") return { "start-time": eventDate(p.startTime), "phase-type": "COMPLETED" };
  return {
    "phase-context": (p.contexts ?? []).map((c) => `${c.statusCode}: ${c.message}`),
    "start-time": eventDate(p.startTime),
    "end-time": eventDate(p.endTime ?? p.startTime),
    "duration-in-seconds": Math.round(((p.endTime ?? p.startTime) - p.startTime) / 1000),
    "phase-type": p.phaseType,
    "phase-status": p.phaseStatus,
  };
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** CodeBuild's event dates: "Nov 20, 2026 9:11:58 AM" (UTC). */
export function eventDate(ms: number): string {
  const d = new Date(ms);
  const hours = d.getUTCHours();
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()} ${hours % 12 || 12}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${hours < 12 ? "AM" : "PM"}`;
}

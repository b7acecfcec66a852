// The sandbox's ECR, CodeBuild, SSM and EventBridge behind one LocalAwsServer, exercised through
// the real SDK clients (and Stevedore's own code that uses them), with the events they emit
// checked against AWS's fixtures and against the schemas Stevedore's handlers parse them with.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  BatchGetBuildsCommand,
  ListBuildsForProjectCommand,
  CodeBuildClient,
  InvalidInputException,
  ResourceNotFoundException,
  StartBuildCommand,
} from "@aws-sdk/client-codebuild";
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from "@aws-sdk/client-eventbridge";
import { GetParameterCommand, ParameterAlreadyExists, ParameterNotFound, PutParameterCommand, SSMClient, ValidationException } from "@aws-sdk/client-ssm";
import { CODEBUILD_PREFIX, eventDate, LocalCodeBuild } from "../aws/codebuild";
import { ECR_PREFIX, LocalEcr, MEDIA_TYPES } from "../aws/ecr";
import { EVENTBRIDGE_PREFIX, LocalEventBridge } from "../aws/eventbridge";
import { LocalAwsServer } from "../aws/server";
import { LocalSsm, SSM_PREFIX } from "../aws/ssm";
import { Clock } from "../clock";
import type { AwsEvent } from "../events";
import { matches } from "../pattern";
import { main as stevedore } from "../../cli/stevedore";
import { exportedVariables } from "../../shared/deploy/codebuild";
import { promotionDecision } from "../../shared/events/approval";
import { codebuildStateChange } from "../../shared/events/codebuild";
import { ecrImageAction } from "../../shared/events/ecr";
import { clearSecretCache, resolveSecret } from "../../shared/notify/secrets";

const REGION = "eu-west-1";
const ACCOUNT = "123456789012";
const CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" };
const COMMIT = "3f9c2ab81d6e4c0f9b7a5e3d1c2b4a6f8e0d2c4b";

type Json = Record<string, unknown>;

const fixture = (name: string): AwsEvent => JSON.parse(readFileSync(join(__dirname, "..", "..", "test", "events", name), "utf8")) as AwsEvent;

/** Every key path of a JSON value with its type; array elements are merged under `[]`. */
function shape(value: unknown, path = "$"): string[] {
  if (Array.isArray(value)) return [...new Set([`${path}:array`, ...value.flatMap((v) => shape(v, `${path}[]`))])].sort();
  if (typeof value === "object" && value !== null) {
    return [`${path}:object`, ...Object.entries(value).flatMap(([k, v]) => shape(v, `${path}.${k}`))].sort();
  }
  return [`${path}:${value === null ? "null" : typeof value}`];
}

let clock: Clock;
let server: LocalAwsServer;
let endpoint: string;
let ecr: LocalEcr;
let codebuild: LocalCodeBuild;
let ssm: LocalSsm;
let eventbridge: LocalEventBridge;
const events: AwsEvent[] = [];
const targets: string[] = [];
const endpointBefore = process.env.AWS_ENDPOINT_URL;

beforeAll(async () => {
  // A running clock: with nothing holding it, a 2m43s build's phases pass at once.
  clock = new Clock();
  const emit = (event: AwsEvent) => void events.push(event);
  ecr = new LocalEcr({ clock, emit, account: ACCOUNT, region: REGION });
  codebuild = new LocalCodeBuild({ clock, emit, ecr });
  ssm = new LocalSsm({ account: ACCOUNT, region: REGION });
  eventbridge = new LocalEventBridge({ clock, emit, account: ACCOUNT, region: REGION });
  server = new LocalAwsServer()
    .register(ECR_PREFIX, ecr.handle)
    .register(CODEBUILD_PREFIX, codebuild.handle)
    .register(SSM_PREFIX, ssm.handle)
    .register(EVENTBRIDGE_PREFIX, eventbridge.handle)
    .observe((request) => void targets.push(`${request.prefix}.${request.operation}`));
  endpoint = await server.listen();
  // Stevedore's own adapters (clientFor) and the CLI find the sandbox the way a deployment would.
  process.env.AWS_ENDPOINT_URL = endpoint;
});

afterAll(async () => {
  clock.stop();
  await server.close();
  if (endpointBefore === undefined) delete process.env.AWS_ENDPOINT_URL;
  else process.env.AWS_ENDPOINT_URL = endpointBefore;
});

beforeEach(() => {
  events.length = 0;
});

/** A JSON-protocol call without an SDK (the ECR client is not a dependency of this project). */
async function ecrCall(operation: string, body: Json): Promise<{ status: number; body: Json; errorType: string | null }> {
  const response = await fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": `${ECR_PREFIX}.${operation}` },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Json, errorType: response.headers.get("x-amzn-errortype") };
}

// ── ECR ───────────────────────────────────────────────────────────────────────────────────

describe("LocalEcr", () => {
  beforeAll(() => {
    ecr.createRepository("shop/web");
    ecr.createRepository("shop/worker");
    ecr.createRepository("shop/locked", { imageTagMutability: "IMMUTABLE" });
  });

  it("announces a push with ECR's event, shaped like ecr-image-push.json and accepted by Stevedore's schema", () => {
    const pushed = ecr.push("shop/web", { tag: "3f9c2ab" });
    expect(events).toHaveLength(1);
    const [event] = events as [AwsEvent];
    const expected = fixture("ecr-image-push.json");
    expect(ecrImageAction.safeParse(event).success).toBe(true);
    expect(Object.keys(event).sort()).toEqual(Object.keys(expected).sort());
    expect(event).toMatchObject({ source: "aws.ecr", "detail-type": "ECR Image Action", account: ACCOUNT, region: REGION, resources: [] });
    expect(event.detail).toEqual({
      result: "SUCCESS",
      "repository-name": "shop/web",
      "image-digest": pushed.digest,
      "action-type": "PUSH",
      "image-tag": "3f9c2ab",
      "manifest-media-type": MEDIA_TYPES.dockerManifest,
      "artifact-media-type": MEDIA_TYPES.dockerConfig,
    });
    for (const key of Object.keys(expected.detail)) expect(event.detail).toHaveProperty([key]);
    expect(event.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(pushed.imageUri).toBe(`${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/shop/web:3f9c2ab`);
    expect(pushed.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("pushes a multi-arch image as one untagged event per platform manifest, then the tagged index", () => {
    const pushed = ecr.push("shop/worker", { tag: "9e8d7c6", platforms: 2 });
    expect(events).toHaveLength(3);
    expect(events.every((e) => ecrImageAction.safeParse(e).success)).toBe(true);
    expect(events.map((e) => e.detail["image-tag"])).toEqual([undefined, undefined, "9e8d7c6"]);
    expect(events.map((e) => e.detail["image-digest"])).toEqual([...pushed.manifests, pushed.digest]);
    expect(new Set(events.map((e) => e.detail["image-digest"])).size).toBe(3);
    expect(events.map((e) => e.detail["manifest-media-type"])).toEqual([MEDIA_TYPES.ociManifest, MEDIA_TYPES.ociManifest, MEDIA_TYPES.ociIndex]);
    // Only the tag says which of them to deploy: the stack's rule lets all three through.
    const rule = {
      source: ["aws.ecr"],
      "detail-type": ["ECR Image Action"],
      detail: { "action-type": ["PUSH"], result: ["SUCCESS"], "repository-name": ["shop/worker"] },
    };
    expect(events.filter((e) => matches(rule, e))).toHaveLength(3);
  });

  it("answers DescribeImages by tag and by digest, as buildspec.yml asks it", async () => {
    const pushed = ecr.push("shop/worker", { tag: "1a2b3c4", platforms: 2 });
    const byTag = await ecrCall("DescribeImages", { repositoryName: "shop/worker", imageIds: [{ imageTag: "1a2b3c4" }] });
    expect(byTag.status).toBe(200);
    expect(byTag.body.imageDetails).toEqual([
      expect.objectContaining({
        registryId: ACCOUNT,
        repositoryName: "shop/worker",
        imageDigest: pushed.digest,
        imageTags: ["1a2b3c4"],
        imageManifestMediaType: MEDIA_TYPES.ociIndex,
      }),
    ]);
    expect(typeof (byTag.body.imageDetails as Json[])[0]?.imagePushedAt).toBe("number"); // epoch seconds, as the SDK reads it
    const manifest = await ecrCall("DescribeImages", { repositoryName: "shop/worker", imageIds: [{ imageDigest: pushed.manifests[0] }] });
    expect(manifest.body.imageDetails).toEqual([expect.not.objectContaining({ imageTags: expect.anything() })]);
    const untagged = await ecrCall("DescribeImages", { repositoryName: "shop/worker", filter: { tagStatus: "UNTAGGED" } });
    expect((untagged.body.imageDetails as Json[]).map((d) => d.imageDigest)).toEqual(expect.arrayContaining(pushed.manifests));
  });

  it("answers BatchGetImage with the manifest, and failures for what is not there", async () => {
    const pushed = ecr.push("shop/worker", { tag: "5d6e7f8" });
    const out = await ecrCall("BatchGetImage", {
      repositoryName: "shop/worker",
      imageIds: [{ imageTag: "5d6e7f8" }, { imageTag: "nope" }, { imageTag: "5d6e7f8", imageDigest: `sha256:${"0".repeat(64)}` }],
    });
    expect(out.status).toBe(200);
    const [image] = out.body.images as [{ imageId: Json; imageManifest: string; imageManifestMediaType: string }];
    expect(image.imageId).toEqual({ imageDigest: pushed.digest, imageTag: "5d6e7f8" });
    expect(JSON.parse(image.imageManifest)).toMatchObject({ schemaVersion: 2, mediaType: MEDIA_TYPES.dockerManifest });
    expect((out.body.failures as Json[]).map((f) => f.failureCode)).toEqual(["ImageNotFound", "ImageNotFound"]);
  });

  it.each<[string, string, Json, string, RegExp]>([
    [
      "an unknown tag",
      "DescribeImages",
      { repositoryName: "shop/web", imageIds: [{ imageTag: "nope" }] },
      "ImageNotFoundException",
      /imageTag:'nope'.*'shop\/web'/,
    ],
    [
      "an unknown repository",
      "DescribeImages",
      { repositoryName: "shop/nope" },
      "RepositoryNotFoundException",
      /'shop\/nope' does not exist in the registry with id '123456789012'/,
    ],
    [
      "another registry",
      "DescribeImages",
      { repositoryName: "shop/web", registryId: "210987654321" },
      "RepositoryNotFoundException",
      /registry with id '210987654321'/,
    ],
    ["a missing repository name", "BatchGetImage", { imageIds: [{ imageTag: "x" }] }, "InvalidParameterException", /repositoryName/],
  ])("refuses %s with ECR's error shape", async (...[, operation, body, code, message]) => {
    const out = await ecrCall(operation, body);
    expect(out.status).toBe(400);
    expect(out.errorType).toBe(code);
    expect(out.body.__type).toBe(code);
    expect(out.body.message).toMatch(message);
  });

  it("refuses a push to a repository that does not exist, and announces nothing", () => {
    expect(() => ecr.push("shop/nope", { tag: "a" })).toThrow(expect.objectContaining({ code: "RepositoryNotFoundException" }));
    expect(events).toEqual([]);
  });

  it("moves a mutable tag to the new image, and refuses to move an immutable one", async () => {
    const first = ecr.push("shop/web", { tag: "latest" });
    const second = ecr.push("shop/web", { tag: "latest" });
    expect(second.digest).not.toBe(first.digest);
    const old = await ecrCall("DescribeImages", { repositoryName: "shop/web", imageIds: [{ imageDigest: first.digest }] });
    expect((old.body.imageDetails as Json[])[0]?.imageTags).toBeUndefined();

    ecr.push("shop/locked", { tag: "v1" });
    events.length = 0;
    expect(() => ecr.push("shop/locked", { tag: "v1" })).toThrow(expect.objectContaining({ code: "ImageTagAlreadyExistsException" }));
    expect(events).toEqual([]);
  });

  // The ECR client is not a dependency here; when osls happens to bring it, its model settles it.
  const ecrModel = join(process.cwd(), "node_modules/@aws-sdk/client-ecr/dist-cjs/index.js");
  (existsSync(ecrModel) ? it : it.skip)("speaks the X-Amz-Target prefix the ECR SDK sends", () => {
    expect(readFileSync(ecrModel, "utf8")).toContain(`serviceTarget: "${ECR_PREFIX}"`);
  });
});

// ── CodeBuild ─────────────────────────────────────────────────────────────────────────────

describe("LocalCodeBuild", () => {
  const client = () => new CodeBuildClient({ endpoint, region: REGION, credentials: CREDENTIALS, maxAttempts: 1 });

  beforeAll(() => {
    ecr.createRepository("shop/api");
    codebuild.createProject("shop-api", { repository: "shop/api" });
  });

  it("builds over virtual time, pushes the image, and ends with an event shaped like codebuild-build-succeeded.json", async () => {
    const id = codebuild.build("shop-api", { commit: COMMIT, outcome: "SUCCEEDED" });
    const done = await codebuild.finished(id);
    const started = (done.startTime as number) * 1000;
    // CodeBuild says IN_PROGRESS, ECR announces the push during BUILD, then the final state.
    expect(events.map((e) => `${e.source} ${String(e.detail["build-status"] ?? e.detail["action-type"])}`)).toEqual([
      "aws.codebuild IN_PROGRESS",
      "aws.ecr PUSH",
      "aws.codebuild SUCCEEDED",
    ]);
    const final = events[2] as AwsEvent;
    const expected = fixture("codebuild-build-succeeded.json");
    expect(codebuildStateChange.safeParse(final).success).toBe(true);
    expect(shape(final)).toEqual(shape(expected));
    expect(final.resources).toEqual([final.detail["build-id"]]);
    expect(final.detail["build-id"]).toBe(`arn:aws:codebuild:${REGION}:${ACCOUNT}:build/${id}`);
    const info = final.detail["additional-information"] as Json & { phases: Json[] };
    expect(info["source-version"]).toBe(COMMIT);
    expect(info.phases.map((p) => [p["phase-type"], p["phase-status"], p["phase-context"]])).toEqual([
      ["SUBMITTED", "SUCCEEDED", []],
      ["BUILD", "SUCCEEDED", [": "]],
      ["POST_BUILD", "SUCCEEDED", [": "]],
      ["COMPLETED", undefined, undefined],
    ]);
    expect(info.phases.map((p) => p["duration-in-seconds"])).toEqual([0, 121, 37, undefined]);
    // About 2m43s of sandbox time passed; the event is stamped with it.
    expect(Date.parse(final.time) - started).toBeGreaterThanOrEqual(160_000);
    expect(info["build-start-time"]).toBe(eventDate(started));
  });

  it("exports IMAGE_URI, IMAGE_DIGEST, GIT_COMMIT and GIT_REF pointing at the pushed image, as Stevedore reads them", async () => {
    const commit = "0123456789abcdef0123456789abcdef01234567";
    const id = codebuild.build("shop-api", { commit, outcome: "SUCCEEDED" });
    await codebuild.finished(id);
    const push = events.find((e) => e.source === "aws.ecr") as AwsEvent;
    const final = events.at(-1) as AwsEvent;
    // shared/deploy/codebuild.ts, through AWS_ENDPOINT_URL, with the event's build ARN.
    const variables = await exportedVariables(REGION, final.detail["build-id"] as string);
    expect(variables).toEqual({
      IMAGE_URI: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/shop/api:0123456`,
      IMAGE_DIGEST: push.detail["image-digest"],
      GIT_COMMIT: commit,
      GIT_REF: "branch/main",
    });
    expect(push.detail["image-tag"]).toBe("0123456");
    expect(ecr.find("shop/api", "0123456")?.digest).toBe(variables.IMAGE_DIGEST);
  });

  it("reports a pull request's build as pr/<number> and pushes its image under a nodeploy- tag, as buildspec.yml does", async () => {
    const commit = "0123456789abcdef0123456789abcdef01234567";
    const id = codebuild.build("shop-api", { commit, outcome: "SUCCEEDED", trigger: "pr/12" });
    await codebuild.finished(id);
    const push = events.find((e) => e.source === "aws.ecr") as AwsEvent;
    const final = events.at(-1) as AwsEvent;

    expect((final.detail["additional-information"] as Json)["source-version"]).toBe("pr/12");
    expect(codebuild.describe(id)).toMatchObject({ sourceVersion: "pr/12", resolvedSourceVersion: commit });
    expect(push.detail["image-tag"]).toBe("nodeploy-pr-12-0123456");
    expect(await exportedVariables(REGION, final.detail["build-id"] as string)).toMatchObject({
      GIT_REF: "pr/12",
      IMAGE_URI: expect.stringMatching(/:nodeploy-pr-12-0123456$/),
    });
  });

  it("exports the image already pushed when a commit is built again, and pushes nothing", async () => {
    const commit = "fedcba9876543210fedcba9876543210fedcba98";
    const first = await codebuild.finished(codebuild.build("shop-api", { commit, outcome: "SUCCEEDED" }));
    events.length = 0;
    const again = await codebuild.finished(codebuild.build("shop-api", { commit, outcome: "SUCCEEDED" }));
    expect(events.map((e) => e.source)).toEqual(["aws.codebuild", "aws.codebuild"]);
    expect(again.exportedEnvironmentVariables).toEqual(first.exportedEnvironmentVariables);
    expect(again.buildNumber).toBe((first.buildNumber as number) + 1);
  });

  it.each<["PRE_BUILD" | "BUILD" | "POST_BUILD", string[], boolean]>([
    ["PRE_BUILD", ["SUBMITTED", "PRE_BUILD", "COMPLETED"], false],
    ["BUILD", ["SUBMITTED", "BUILD", "COMPLETED"], false],
    ["POST_BUILD", ["SUBMITTED", "BUILD", "POST_BUILD", "COMPLETED"], true],
  ])("fails in %s with that phase FAILED and its context", async (...[phase, phases, pushed]) => {
    const commit = { PRE_BUILD: "1", BUILD: "2", POST_BUILD: "3" }[phase].repeat(40);
    const id = codebuild.build("shop-api", { commit, outcome: "FAILED", failIn: phase });
    const view = await codebuild.finished(id);
    const final = events.at(-1) as AwsEvent;
    expect(codebuildStateChange.safeParse(final).success).toBe(true);
    expect(shape(final)).toEqual(shape(fixture("codebuild-build-failed.json")));
    expect(final.detail["build-status"]).toBe("FAILED");
    const info = final.detail["additional-information"] as Json & { phases: Json[] };
    expect(info.phases.map((p) => p["phase-type"])).toEqual(phases);
    const failed = info.phases.find((p) => p["phase-status"] === "FAILED") as Json;
    expect(failed["phase-type"]).toBe(phase);
    expect(failed["phase-context"]).toEqual([expect.stringMatching(/^COMMAND_EXECUTION_ERROR: Error while executing command: .+\. Reason: exit status 1$/)]);
    expect(events.some((e) => e.source === "aws.ecr")).toBe(pushed);
    expect(view.buildStatus).toBe("FAILED");
    const apiPhase = (view.phases as { phaseType: string; phaseStatus?: string; contexts?: { statusCode: string }[] }[]).find((p) => p.phaseType === phase);
    expect(apiPhase).toMatchObject({ phaseStatus: "FAILED", contexts: [{ statusCode: "COMMAND_EXECUTION_ERROR" }] });
  });

  it("fails the build with the reason given", async () => {
    const id = codebuild.build("shop-api", {
      commit: COMMIT,
      outcome: "FAILED",
      reason: "COMMAND_EXECUTION_ERROR: Error while executing command: npm test. Reason: exit status 1",
    });
    await codebuild.finished(id);
    const info = (events.at(-1) as AwsEvent).detail["additional-information"] as { phases: Json[] };
    expect(info.phases[1]?.["phase-context"]).toEqual(["COMMAND_EXECUTION_ERROR: Error while executing command: npm test. Reason: exit status 1"]);
  });

  it("answers BatchGetBuilds by build id (project:uuid), as documented, and lists anything else, an ARN too, in buildsNotFound", async () => {
    const id = codebuild.build("shop-api", { commit: COMMIT, outcome: "SUCCEEDED" });
    const running = await client().send(new BatchGetBuildsCommand({ ids: [id] }));
    expect(running.builds?.[0]).toMatchObject({ id, buildStatus: "IN_PROGRESS", buildComplete: false, projectName: "shop-api", sourceVersion: COMMIT });
    expect(running.builds?.[0]?.exportedEnvironmentVariables).toBeUndefined();
    expect(running.builds?.[0]?.startTime).toBeInstanceOf(Date);
    const done = await codebuild.finished(id);
    const out = await client().send(new BatchGetBuildsCommand({ ids: [id, done.arn, "shop-api:00000000-0000-0000-0000-000000000000"] }));
    expect(out.builds?.map((b) => [b.id, b.buildStatus])).toEqual([[id, "SUCCEEDED"]]);
    expect(out.buildsNotFound).toEqual([done.arn, "shop-api:00000000-0000-0000-0000-000000000000"]);
    expect(targets).toContain(`${CODEBUILD_PREFIX}.BatchGetBuilds`);
  });

  it("refuses BatchGetBuilds without ids as the SDK's InvalidInputException", async () => {
    await expect(client().send(new BatchGetBuildsCommand({ ids: [] }))).rejects.toBeInstanceOf(InvalidInputException);
  });

  it("lists a project's builds newest first, 100 a page, and refuses an order once it has more than 100 (as documented)", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 101; i++) ids.push(codebuild.build("shop-api", { commit: COMMIT, outcome: "SUCCEEDED" }));
    await Promise.all(ids.map((id) => codebuild.finished(id)));

    const first = await client().send(new ListBuildsForProjectCommand({ projectName: "shop-api" }));
    expect(first.ids).toHaveLength(100);
    expect(first.ids?.[0]).toBe(ids.at(-1));
    const second = await client().send(new ListBuildsForProjectCommand({ projectName: "shop-api", nextToken: first.nextToken }));
    const listed = [...(first.ids ?? []), ...(second.ids ?? [])];
    expect(listed.filter((id) => ids.includes(id))).toEqual([...ids].reverse()); // earlier tests' builds follow these
    expect(second.nextToken).toBeUndefined();
    await expect(client().send(new ListBuildsForProjectCommand({ projectName: "shop-api", sortOrder: "DESCENDING" }))).rejects.toBeInstanceOf(
      InvalidInputException,
    );
    await expect(client().send(new ListBuildsForProjectCommand({ projectName: "nope" }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it("starts a build with StartBuild, and refuses an unknown project as ResourceNotFoundException", async () => {
    const out = await client().send(new StartBuildCommand({ projectName: "shop-api", sourceVersion: COMMIT }));
    expect(out.build).toMatchObject({ projectName: "shop-api", buildStatus: "IN_PROGRESS", sourceVersion: COMMIT });
    await codebuild.finished(out.build?.id as string);
    await expect(client().send(new StartBuildCommand({ projectName: "nope" }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});

// ── SSM and Secrets Manager ───────────────────────────────────────────────────────────────

describe("LocalSsm", () => {
  const client = () => new SSMClient({ endpoint, region: REGION, credentials: CREDENTIALS, maxAttempts: 1 });

  beforeEach(() => clearSecretCache());

  it("stores and reads parameters through the SDK, SecureStrings decrypted only on request", async () => {
    const put = await client().send(
      new PutParameterCommand({ Name: "/stevedore/slack/deploys", Value: "https://hooks.slack.test/T/B/x", Type: "SecureString" }),
    );
    expect(put).toMatchObject({ Version: 1, Tier: "Standard" });
    const plain = await client().send(new GetParameterCommand({ Name: "/stevedore/slack/deploys", WithDecryption: true }));
    expect(plain.Parameter).toMatchObject({ Name: "/stevedore/slack/deploys", Type: "SecureString", Value: "https://hooks.slack.test/T/B/x", Version: 1 });
    expect(plain.Parameter?.LastModifiedDate).toBeInstanceOf(Date);
    expect(plain.Parameter?.ARN).toBe(`arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/stevedore/slack/deploys`);
    const sealed = await client().send(new GetParameterCommand({ Name: "/stevedore/slack/deploys" }));
    expect(sealed.Parameter?.Value).not.toContain("hooks.slack.test");
    const byArn = await client().send(new GetParameterCommand({ Name: plain.Parameter?.ARN, WithDecryption: true }));
    expect(byArn.Parameter?.Value).toBe("https://hooks.slack.test/T/B/x");
    expect(targets).toContain(`${SSM_PREFIX}.GetParameter`);
  });

  it("refuses to overwrite without Overwrite, as the SDK's ParameterAlreadyExists", async () => {
    await client().send(new PutParameterCommand({ Name: "once", Value: "1", Type: "String" }));
    await expect(client().send(new PutParameterCommand({ Name: "once", Value: "2", Type: "String" }))).rejects.toBeInstanceOf(ParameterAlreadyExists);
    const out = await client().send(new PutParameterCommand({ Name: "once", Value: "2", Type: "String", Overwrite: true }));
    expect(out.Version).toBe(2);
  });

  it("answers an unknown name with the SDK's ParameterNotFound", async () => {
    const error = await client()
      .send(new GetParameterCommand({ Name: "/nope" }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ParameterNotFound);
    expect((error as ParameterNotFound).$metadata.httpStatusCode).toBe(400);
  });

  it("serves Secrets Manager secrets as /aws/reference/secretsmanager/<id>, by name or ARN", async () => {
    const arn = ssm.putSecret("stevedore/webhook-signing", "whsec_sandbox");
    expect(arn).toMatch(new RegExp(`^arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:stevedore/webhook-signing-[A-Za-z]{6}$`));
    const out = await client().send(new GetParameterCommand({ Name: "/aws/reference/secretsmanager/stevedore/webhook-signing", WithDecryption: true }));
    expect(out.Parameter).toMatchObject({ Type: "SecureString", Value: "whsec_sandbox", ARN: arn });
    const byArn = await client().send(new GetParameterCommand({ Name: `/aws/reference/secretsmanager/${arn}`, WithDecryption: true }));
    expect(byArn.Parameter?.Value).toBe("whsec_sandbox");
    await expect(client().send(new GetParameterCommand({ Name: "/aws/reference/secretsmanager/stevedore/webhook-signing" }))).rejects.toBeInstanceOf(
      ValidationException,
    );
    await expect(client().send(new GetParameterCommand({ Name: "/aws/reference/secretsmanager/nope", WithDecryption: true }))).rejects.toBeInstanceOf(
      ParameterNotFound,
    );
  });

  it("names the customer-managed key decrypting a name uses, and the service that calls KMS for it (IAM checks kms:Decrypt by it)", () => {
    const key = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    ssm.putParameter("/under/key", "v", "SecureString", key);
    ssm.putParameter("/managed", "v");
    ssm.putParameter("/plain", "v", "String", key);
    ssm.putSecret("under/key", "s", key);
    ssm.putSecret("managed", "s");
    expect(ssm.decryptionKey("/under/key")).toEqual({ keyId: key, via: "ssm" });
    expect(ssm.decryptionKey(`arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/under/key`)).toEqual({ keyId: key, via: "ssm" });
    expect(ssm.decryptionKey("/managed")).toBeUndefined(); // the AWS managed key: no grant needed
    expect(ssm.decryptionKey("/plain")).toBeUndefined(); // a String is not encrypted
    expect(ssm.decryptionKey("/aws/reference/secretsmanager/under/key")).toEqual({ keyId: key, via: "secretsmanager" });
    expect(ssm.decryptionKey("/aws/reference/secretsmanager/managed")).toBeUndefined();
  });

  it("round-trips what shared/notify/secrets.ts reads, from either store", async () => {
    ssm.putParameter("/stevedore/webhook/url", "http://127.0.0.1:1/webhook/audit");
    ssm.putSecret("stevedore/slack", "https://hooks.slack.test/T/B/y");
    await expect(resolveSecret({ store: "ssm", name: "/stevedore/webhook/url" })).resolves.toBe("http://127.0.0.1:1/webhook/audit");
    await expect(resolveSecret({ store: "secretsmanager", id: "stevedore/slack" })).resolves.toBe("https://hooks.slack.test/T/B/y");
    await expect(resolveSecret({ store: "ssm", name: "/stevedore/missing" })).rejects.toMatchObject({ code: "ParameterNotFound" });
  });
});

// ── EventBridge ───────────────────────────────────────────────────────────────────────────

describe("LocalEventBridge", () => {
  const client = () => new EventBridgeClient({ endpoint, region: REGION, credentials: CREDENTIALS, maxAttempts: 1 });
  const entry = (overrides: Partial<PutEventsRequestEntry> = {}): PutEventsRequestEntry => ({
    Source: "stevedore",
    DetailType: "Stevedore Promotion Decision",
    Detail: JSON.stringify({ app: "shop-worker", promotionId: "p-0a1b2c3d4e5f", decision: "approve", by: "alice" }),
    ...overrides,
  });

  it("delivers what `stevedore approve` sends as an event Stevedore's schema accepts", async () => {
    const lines: string[] = [];
    await expect(stevedore(["approve", "shop-worker", "p-0a1b2c3d4e5f", "--by", "alice"], (l) => lines.push(l))).resolves.toBe(0);
    expect(lines.join("\n")).toMatch(/Approved shop-worker p-0a1b2c3d4e5f as alice/);
    expect(events).toHaveLength(1);
    const [event] = events as [AwsEvent];
    expect(promotionDecision.safeParse(event).success).toBe(true);
    expect(event).toMatchObject({ source: "stevedore", "detail-type": "Stevedore Promotion Decision", account: ACCOUNT, region: REGION, resources: [] });
    expect(event.detail).toMatchObject({ app: "shop-worker", promotionId: "p-0a1b2c3d4e5f", decision: "approve", by: "alice" });
    expect(targets).toContain(`${EVENTBRIDGE_PREFIX}.PutEvents`);
  });

  it("fails bad entries one by one, with AWS's error codes, and sends the others", async () => {
    const out = await client().send(
      new PutEventsCommand({
        Entries: [
          entry(),
          entry({ Source: undefined }),
          entry({ Source: "aws.ecr" }),
          entry({ Detail: "{not json" }),
          entry({ Detail: "[1, 2]" }),
          entry({ DetailType: "" }),
          entry({ EventBusName: "other-bus" }),
          entry({
            EventBusName: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default`,
            Resources: ["arn:aws:ecs:eu-west-1:123456789012:service/shop-prod/web"],
            Time: new Date("2026-11-20T09:00:00Z"),
          }),
        ],
      }),
    );
    expect(out.FailedEntryCount).toBe(6);
    expect(out.Entries?.map((e) => e.ErrorCode ?? "ok")).toEqual([
      "ok",
      "InvalidArgument",
      "NotAuthorizedForSourceException",
      "MalformedDetail",
      "MalformedDetail",
      "InvalidArgument",
      "InvalidArgument",
      "ok",
    ]);
    expect(out.Entries?.[1]?.ErrorMessage).toBe("Parameter Source is not valid. Reason: Source is a required argument.");
    expect(events.map((e) => e.id)).toEqual([out.Entries?.[0]?.EventId, out.Entries?.[7]?.EventId]);
    expect(events[1]).toMatchObject({ time: "2026-11-20T09:00:00Z", resources: ["arn:aws:ecs:eu-west-1:123456789012:service/shop-prod/web"] });
  });

  it.each<[string, number]>([
    ["no entries", 0],
    ["more than 10 entries", 11],
  ])("refuses %s as a ValidationException", async (...[, count]) => {
    const error = await client()
      .send(new PutEventsCommand({ Entries: Array.from({ length: count }, () => entry()) }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "ValidationException", $metadata: { httpStatusCode: 400 } });
    expect(events).toEqual([]);
  });

  it("refuses a call over 256 KB", async () => {
    const big = JSON.stringify({ blob: "x".repeat(140 * 1024) });
    const error = await client()
      .send(new PutEventsCommand({ Entries: [entry({ Detail: big }), entry({ Detail: big })] }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "ValidationException", message: "Total size of the entries in the request is over the limit." });
  });
});

// Which ref a build built, from what CodeBuild and the buildspec say, and whether it may deploy.
import { buildIdOf, buildRef, refDeploys, refReason, type BuildRef } from "../../shared/deploy/codebuild";

const COMMIT = "3f9c2ab81d6e4c0f9b7a5e3d1c2b4a6f8e0d2c4b";

describe("buildRef", () => {
  it.each<[string, string | undefined, string | undefined, BuildRef]>([
    ["a webhook push build: the commit, then the trigger buildspec.yml exports", COMMIT, "branch/main", { kind: "branch", name: "main" }],
    ["a webhook push to a branch with a slash", COMMIT, "branch/release/2026.12", { kind: "branch", name: "release/2026.12" }],
    ["a webhook pull request build (CodeBuild reports pr/N)", "pr/7", undefined, { kind: "pull-request", number: "7" }],
    ["a pull request whose edited buildspec exports a deploying ref: CodeBuild's word wins", "pr/7", "branch/main", { kind: "pull-request", number: "7" }],
    ["a pull request's trigger after a commit source version", COMMIT, "pr/7", { kind: "pull-request", number: "7" }],
    ["a webhook tag push", COMMIT, "tag/v1.2.0", { kind: "tag", name: "v1.2.0" }],
    ["a build started for a branch by name", "main", undefined, { kind: "branch", name: "main" }],
    ["a build started for a full ref", "refs/heads/main", undefined, { kind: "branch", name: "main" }],
    ["a build started for a tag ref", "refs/tags/v1", undefined, { kind: "tag", name: "v1" }],
    ["a build started at a commit, nothing exported", COMMIT, undefined, { kind: "unknown", sourceVersion: COMMIT }],
    ["nothing at all", undefined, undefined, { kind: "unknown" }],
  ])("%s", (_name, sourceVersion, exported, expected) => {
    expect(buildRef(sourceVersion, exported)).toEqual(expected);
  });
});

describe("refDeploys", () => {
  it.each<[BuildRef, string[], boolean]>([
    [{ kind: "branch", name: "main" }, ["main"], true],
    [{ kind: "branch", name: "release" }, ["main", "release"], true],
    [{ kind: "branch", name: "feature-x" }, ["main"], false],
    [{ kind: "branch", name: "mainline" }, ["main"], false],
    [{ kind: "pull-request", number: "7" }, ["main"], false],
    [{ kind: "tag", name: "main" }, ["main"], false],
    [{ kind: "unknown" }, ["main"], false],
  ])("%j with branches %j → %s", (ref, branches, expected) => {
    expect(refDeploys(ref, branches)).toBe(expected);
  });
});

describe("refReason", () => {
  it.each<[BuildRef, string]>([
    [{ kind: "pull-request", number: "7" }, "its build shop-web #12 was of pull request #7, and apps.shop-web.branches lets only main deploy"],
    [{ kind: "branch", name: "feature-x" }, "its build shop-web #12 was of branch feature-x, and apps.shop-web.branches lets only main deploy"],
    [
      { kind: "unknown", sourceVersion: COMMIT },
      `its build shop-web #12 was of no branch (CodeBuild names none, only the source version ${COMMIT}; see buildspec.yml's GIT_REF), and apps.shop-web.branches lets only main deploy`,
    ],
  ])("names the build, the ref and the branches that deploy: %j", (ref, expected) => {
    expect(refReason("shop-web", 12, ref, { name: "shop-web", branches: ["main"] })).toBe(expected);
  });
});

describe("buildIdOf", () => {
  it.each([
    ["arn:aws:codebuild:eu-west-1:123456789012:build/shop-web:0d6e1f3a-2b4c-4d5e-8f60-718293a4b5c6", "shop-web:0d6e1f3a-2b4c-4d5e-8f60-718293a4b5c6"],
    ["arn:aws-cn:codebuild:cn-north-1:123456789012:build/shop-web:0d6e1f3a-2b4c-4d5e-8f60-718293a4b5c6", "shop-web:0d6e1f3a-2b4c-4d5e-8f60-718293a4b5c6"],
    ["shop-web:0d6e1f3a-2b4c-4d5e-8f60-718293a4b5c6", "shop-web:0d6e1f3a-2b4c-4d5e-8f60-718293a4b5c6"],
  ])("the event's %s → BatchGetBuilds' %s", (given, id) => {
    expect(buildIdOf(given)).toBe(id);
  });
});

// buildspec.yml's own commands, run by bash as CodeBuild runs them (one shell, phase after
// phase), with `aws` and `docker` stubbed on PATH: what it pushes and exports, and when it
// refuses to export an image that another commit built.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { load } from "js-yaml";

const COMMIT = "3f9c2ab81d6e4c0f9b7a5e3d1c2b4a6f8e0d2c4b";
const OTHER_COMMIT = "3f9c2ab0000000000000000000000000000000ff"; // the same 7 characters
const EXISTING = `sha256:${"e".repeat(64)}`;
const PUSHED = `sha256:${"a".repeat(64)}`;

const spec = load(readFileSync("buildspec.yml", "utf8")) as { phases: Record<string, { commands: string[] }> };
const script =
  ["pre_build", "build"]
    .flatMap((phase) => spec.phases[phase]?.commands ?? [])
    // CodeBuild stops at the first failing command of a phase with on-failure: ABORT.
    .map((command) => `${command}\n[ $? -eq 0 ] || exit $?`)
    .join("\n") + '\necho "EXPORT IMAGE_URI=$IMAGE_URI IMAGE_DIGEST=$IMAGE_DIGEST GIT_COMMIT=$GIT_COMMIT GIT_REF=$GIT_REF"\n';

/** `aws` and `docker` as shell scripts that answer from the case's files and log their calls. */
function stubs(dir: string): void {
  writeFileSync(
    join(dir, "aws"),
    `#!/usr/bin/env bash
echo "aws $*" >> "$STUB/calls"
case "$*" in
  *get-login-password*) echo password ;;
  *describe-images*) if [[ -f "$STUB/pushed" ]]; then cat "$STUB/pushed"; elif [[ -f "$STUB/existing" ]]; then cat "$STUB/existing"; else echo "An error occurred (ImageNotFoundException)" >&2; exit 254; fi ;;
esac
`,
  );
  writeFileSync(
    join(dir, "docker"),
    `#!/usr/bin/env bash
echo "docker $*" >> "$STUB/calls"
case "$*" in
  login*) cat > /dev/null ;;
  "buildx imagetools inspect"*) [[ -f "$STUB/revision" ]] && cat "$STUB/revision" ;;
  "buildx build"*) echo "${PUSHED}" > "$STUB/pushed" ;;
esac
`,
  );
  chmodSync(join(dir, "aws"), 0o755);
  chmodSync(join(dir, "docker"), 0o755);
}

/** `env`: CodeBuild's variables for the build (default: a webhook push to main). */
function build(setup: { existing?: string; revision?: string; env?: Record<string, string> }) {
  const dir = mkdtempSync(join(tmpdir(), "buildspec-"));
  try {
    stubs(dir);
    if (setup.existing) writeFileSync(join(dir, "existing"), `${setup.existing}\n`);
    if (setup.revision !== undefined) writeFileSync(join(dir, "revision"), `${setup.revision}\n`);
    const run = spawnSync("bash", ["-c", script], {
      encoding: "utf8",
      env: {
        PATH: `${dir}:${process.env.PATH}`,
        STUB: dir,
        ECR_REPOSITORY: "shop/web",
        AWS_REGION: "eu-west-1",
        CODEBUILD_RESOLVED_SOURCE_VERSION: COMMIT,
        IMAGE_PLATFORM: "linux/arm64",
        DOCKERFILE: "Dockerfile",
        DOCKER_CONTEXT: ".",
        CODEBUILD_BUILD_ARN: "arn:aws:codebuild:eu-west-1:123456789012:build/shop-web:0d6e1f3a-2b4c-4d5e-8f60-718293a4b5c6",
        ...(setup.env ?? { CODEBUILD_WEBHOOK_TRIGGER: "branch/main", CODEBUILD_SOURCE_VERSION: COMMIT }),
      },
    });
    const calls = (() => {
      try {
        return readFileSync(join(dir, "calls"), "utf8").trim().split("\n");
      } catch {
        return [];
      }
    })();
    return { status: run.status, stdout: run.stdout, stderr: run.stderr, calls, built: calls.some((c) => c.startsWith("docker buildx build")) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const URI = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/web:3f9c2ab";

describe("buildspec.yml", () => {
  it("builds and pushes a new commit, labelled with the full commit, and exports what ECR holds", () => {
    const result = build({});
    expect(result.status).toBe(0);
    expect(result.built).toBe(true);
    expect(result.calls.find((c) => c.startsWith("docker buildx build"))).toContain(`--label org.opencontainers.image.revision=${COMMIT}`);
    expect(result.stdout).toContain(`EXPORT IMAGE_URI=${URI} IMAGE_DIGEST=${PUSHED} GIT_COMMIT=${COMMIT} GIT_REF=branch/main`);
  });

  it("reuses the image its tag names when that image's revision label is this very commit (a retried build)", () => {
    const result = build({ existing: EXISTING, revision: COMMIT });
    expect(result.status).toBe(0);
    expect(result.built).toBe(false);
    expect(result.stdout).toContain(`EXPORT IMAGE_URI=${URI} IMAGE_DIGEST=${EXISTING} GIT_COMMIT=${COMMIT} GIT_REF=branch/main`);
  });

  it.each([
    ["another commit with the same 7 characters built it", OTHER_COMMIT, OTHER_COMMIT],
    ["it carries no revision label (pushed by hand, or the tag was moved)", "", "unknown"],
  ])("refuses to export the image its tag names when %s: nothing built, nothing exported", (...[, revision, named]) => {
    const result = build({ existing: EXISTING, revision });
    expect(result.status).not.toBe(0);
    expect(result.built).toBe(false);
    expect(result.stdout).not.toContain("EXPORT");
    expect(result.stderr).toContain(`${URI} already names ${EXISTING}, an image of commit '${named}', not ${COMMIT}`);
  });

  describe("only the branches that deploy get a tag an app deploys", () => {
    const TAGGED = (tag: string) => `123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/web:${tag}`;
    it.each([
      ["a webhook push to main", "3f9c2ab", { CODEBUILD_WEBHOOK_TRIGGER: "branch/main", CODEBUILD_SOURCE_VERSION: COMMIT }, "branch/main"],
      ["a build started for main by hand", "3f9c2ab", { CODEBUILD_SOURCE_VERSION: "refs/heads/main" }, "refs/heads/main"],
      [
        "a push to a branch DEPLOY_BRANCHES names",
        "3f9c2ab",
        { CODEBUILD_WEBHOOK_TRIGGER: "branch/release", DEPLOY_BRANCHES: "main release" },
        "branch/release",
      ],
      ["a pull request", "nodeploy-pr-12-3f9c2ab", { CODEBUILD_WEBHOOK_TRIGGER: "pr/12", CODEBUILD_SOURCE_VERSION: "pr/12" }, "pr/12"],
      [
        "a push to a feature branch",
        "nodeploy-branch-feature-new-cart-3f9c2ab",
        { CODEBUILD_WEBHOOK_TRIGGER: "branch/feature/new-cart", CODEBUILD_SOURCE_VERSION: COMMIT },
        "branch/feature/new-cart",
      ],
      ["a tag push", "nodeploy-tag-v1.2.0-3f9c2ab", { CODEBUILD_WEBHOOK_TRIGGER: "tag/v1.2.0" }, "tag/v1.2.0"],
      ["a build that names no ref", "nodeploy-unknown-3f9c2ab", {}, ""],
    ])("%s → tag %s", (_name, tag, env, ref) => {
      const result = build({ env: env as Record<string, string> });
      expect(result.status).toBe(0);
      expect(result.calls.find((c) => c.startsWith("docker buildx build"))).toContain(`--tag ${TAGGED(tag)}`);
      expect(result.stdout).toContain(`EXPORT IMAGE_URI=${TAGGED(tag)} IMAGE_DIGEST=${PUSHED} GIT_COMMIT=${COMMIT} GIT_REF=${ref}\n`);
    });

    it("exports GIT_REF, which Stevedore reads", () => {
      const spec = load(readFileSync("buildspec.yml", "utf8")) as { env: { "exported-variables": string[] } };
      expect(spec.env["exported-variables"]).toEqual(["IMAGE_URI", "IMAGE_DIGEST", "GIT_COMMIT", "GIT_REF"]);
    });
  });
});

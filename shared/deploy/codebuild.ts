// The image a build pushed: CodeBuild's event does not carry it reliably, the build's exported
// variables do (buildspec.yml sets IMAGE_URI, IMAGE_DIGEST and GIT_COMMIT).
import { BatchGetBuildsCommand, CodeBuildClient } from "@aws-sdk/client-codebuild";
import { clientFor } from "../aws/clients";
import { call } from "../aws/errors";
import { TerminalAwsError } from "../errors";

export async function exportedVariables(region: string, buildId: string): Promise<Record<string, string>> {
  const out = await call("BatchGetBuilds", () => clientFor(CodeBuildClient, region).send(new BatchGetBuildsCommand({ ids: [buildId] })));
  const build = out.builds?.[0];
  if (!build) throw new TerminalAwsError("BatchGetBuilds", "BuildNotFound", `build ${buildId} not found`);
  return Object.fromEntries((build.exportedEnvironmentVariables ?? []).map((v) => [v.name ?? "", v.value ?? ""]));
}

// Which builds may deploy: the branches an app names (default main), and the tag buildspec.yml
// gives the image of any other ref, which no app's tags pattern may match.

export const DEFAULT_BRANCH = "main";

/** buildspec.yml tags a build of a ref that does not deploy `nodeploy-<ref>-<short commit>`. */
export const NODEPLOY_PREFIX = "nodeploy-";
export const NODEPLOY_SAMPLE_TAG = `${NODEPLOY_PREFIX}pr-12-3f9c2ab`;

/** Why a `branches` entry is not a branch name git would accept, or null. */
export function branchTrouble(branch: string): string | null {
  if (/^refs\//.test(branch)) return `write the branch name alone ("${branch.replace(/^refs\/(?:heads\/)?/, "")}"), not the ref`;
  if (/[*?[]/.test(branch)) return "branches are exact branch names, not patterns: list each branch that deploys";
  if (/[\s~^:\\]|\.\.|@\{|\/\/|^[/.]|[/.]$|\.lock$|[\x00-\x1f\x7f]/.test(branch)) return `"${branch}" is not a valid git branch name`;
  return null;
}

// Image references: how ECR names an image, and what we can tell from a tag.
import type { Image } from "../render/task-definition";

const IMAGE_URI =
  /^(\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?)\/([a-z0-9._\/-]+?)(?::([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$/;

export function repositoryUri(account: string, region: string, repository: string): string {
  return `${account}.dkr.ecr.${region}.amazonaws.com/${repository}`;
}

/** `123….dkr.ecr.eu-west-1.amazonaws.com/shop/web:3f9c2ab` → its parts, or null. */
export function parseImageUri(uri: string): { registry: string; repository: string; tag?: string; digest?: string } | null {
  const m = IMAGE_URI.exec(uri.trim());
  if (!m) return null;
  return { registry: m[1] as string, repository: m[2] as string, tag: m[3], digest: m[4] };
}

/** Tags that are commit hashes (as buildspec.yml makes them) double as the commit. */
export function commitFromTag(tag: string | undefined): string | undefined {
  return tag && /^[0-9a-f]{7,40}$/.test(tag) ? tag : undefined;
}

export function imageOf(repository: string, uri: string, digest: string, tag?: string, commit?: string): Image {
  return { repository, repositoryUri: uri, digest, tag, commit: commit ?? commitFromTag(tag) };
}

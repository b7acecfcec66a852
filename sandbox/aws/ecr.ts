// ECR for the sandbox: repositories and images held in memory, pushed through a control call
// (what `docker push` does) and read back through the API the product and buildspec.yml use
// (DescribeImages, BatchGetImage). A push emits "ECR Image Action" events exactly as ECR does:
// kebab-case fields, empty `resources`, `image-tag` only when the manifest was tagged, and for a
// multi-arch image one untagged event per platform manifest before the tagged index's.
import { createHash } from "node:crypto";
import { madeUpId } from "../random";
import type { Clock } from "../clock";
import { awsEvent, type Emit, type EventOrigin } from "../events";
import { AwsError, type AwsRequest, type AwsResponse } from "./server";

export const ECR_PREFIX = "AmazonEC2ContainerRegistry_V20150921";

export const MEDIA_TYPES = {
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
} as const;

const PLATFORMS = [
  { os: "linux", architecture: "arm64" },
  { os: "linux", architecture: "amd64" },
  { os: "linux", architecture: "arm", variant: "v7" },
  { os: "linux", architecture: "ppc64le" },
  { os: "linux", architecture: "s390x" },
  { os: "linux", architecture: "386" },
];

export interface EcrOptions {
  clock: Clock;
  emit: Emit;
  account?: string;
  region?: string;
}

export interface RepositoryOptions {
  /** IMMUTABLE refuses to move a tag to another image, as ECR does. Default MUTABLE. */
  imageTagMutability?: "MUTABLE" | "IMMUTABLE";
}

export interface PushOptions {
  tag?: string;
  /** The pushed manifest's digest; by default the sha256 of the generated manifest. */
  digest?: string;
  /** A multi-arch image: this many platform manifests (pushed untagged), then the tagged index. */
  platforms?: number;
  /** The image config's media type (ECR's `artifact-media-type`). */
  artifactMediaType?: string;
  /** The manifest's media type of a single-platform push. Default Docker v2. */
  manifestMediaType?: string;
}

export interface PushResult {
  /** The digest the tag points at (the index's, for a multi-arch push). */
  digest: string;
  /** `<registry>/<repository>:<tag>`, or `…@<digest>` when untagged. */
  imageUri: string;
  /** The same as imageUri. */
  uri: string;
  repositoryUri: string;
  tag?: string;
  /** The platform manifests of a multi-arch push, in push order. */
  manifests: string[];
}

export interface StoredImage {
  digest: string;
  tags: string[];
  pushedAt: number;
  manifest: string;
  manifestMediaType: string;
  artifactMediaType?: string;
  sizeInBytes: number;
}

interface Repository {
  name: string;
  createdAt: number;
  mutability: "MUTABLE" | "IMMUTABLE";
  images: Map<string, StoredImage>;
}

interface ImageId {
  imageDigest?: string;
  imageTag?: string;
}

export class LocalEcr {
  readonly account: string;
  readonly region: string;
  private readonly clock: Clock;
  private readonly emit: Emit;
  private readonly repositories = new Map<string, Repository>();

  constructor(options: EcrOptions) {
    this.clock = options.clock;
    this.emit = options.emit;
    this.account = options.account ?? "123456789012";
    this.region = options.region ?? "eu-west-1";
  }

  /** `<account>.dkr.ecr.<region>.amazonaws.com` */
  get registry(): string {
    return `${this.account}.dkr.ecr.${this.region}.${this.region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com"}`;
  }

  repositoryUri(name: string): string {
    return `${this.registry}/${name}`;
  }

  // ── control ─────────────────────────────────────────────────────────────────────────────

  createRepository(name: string, options: RepositoryOptions = {}): string {
    if (!/^(?=.{2,256}$)[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/.test(name)) {
      throw new AwsError(
        "InvalidParameterException",
        `Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''`,
      );
    }
    if (this.repositories.has(name)) {
      throw new AwsError("RepositoryAlreadyExistsException", `The repository with name '${name}' already exists in the registry with id '${this.account}'`);
    }
    this.repositories.set(name, { name, createdAt: this.clock.now(), mutability: options.imageTagMutability ?? "MUTABLE", images: new Map() });
    return this.repositoryUri(name);
  }

  /**
   * What `docker push` does: stores the image (and, multi-arch, its platform manifests) and emits
   * one "ECR Image Action" per manifest. Throws RepositoryNotFoundException for a repository that
   * was never created (ECR does not create repositories on push), ImageTagAlreadyExistsException
   * when an immutable tag would move.
   */
  push(repository: string, options: PushOptions = {}): PushResult {
    const repo = this.repository(repository);
    const { tag } = options;
    if (tag !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) {
      throw new AwsError("InvalidParameterException", `Invalid parameter at 'imageTag' failed to satisfy constraint: '${tag}' is not a valid image tag`);
    }
    if (options.digest !== undefined && !/^sha256:[a-f0-9]{64}$/.test(options.digest)) {
      throw new AwsError("InvalidParameterException", `Invalid parameter at 'imageDigest': '${options.digest}' is not a sha256 digest`);
    }
    const platforms = Math.max(0, Math.floor(options.platforms ?? 0));
    if (platforms > PLATFORMS.length) throw new RangeError(`at most ${PLATFORMS.length} platforms`);

    const manifests: StoredImage[] = [];
    for (const platform of PLATFORMS.slice(0, platforms)) {
      manifests.push(this.image(imageManifest(MEDIA_TYPES.ociManifest, MEDIA_TYPES.ociConfig, platform), MEDIA_TYPES.ociManifest, MEDIA_TYPES.ociConfig));
    }
    const top =
      platforms > 0
        ? this.image(indexManifest(manifests, PLATFORMS), MEDIA_TYPES.ociIndex, undefined, options.digest)
        : this.image(
            imageManifest(options.manifestMediaType ?? MEDIA_TYPES.dockerManifest, options.artifactMediaType ?? MEDIA_TYPES.dockerConfig),
            options.manifestMediaType ?? MEDIA_TYPES.dockerManifest,
            options.artifactMediaType ?? MEDIA_TYPES.dockerConfig,
            options.digest,
          );

    if (tag !== undefined) {
      const holder = [...repo.images.values()].find((image) => image.tags.includes(tag));
      if (holder && holder.digest !== top.digest) {
        if (repo.mutability === "IMMUTABLE") {
          throw new AwsError(
            "ImageTagAlreadyExistsException",
            `The image tag '${tag}' already exists in the '${repository}' repository and cannot be overwritten because the repository is immutable.`,
          );
        }
        holder.tags = holder.tags.filter((t) => t !== tag); // a mutable tag moves to the new image
      }
    }

    for (const manifest of manifests) {
      this.store(repo, manifest, undefined);
      this.announce(repository, manifest, undefined);
    }
    const stored = this.store(repo, top, tag);
    this.announce(repository, stored, tag);

    const imageUri = tag === undefined ? `${this.repositoryUri(repository)}@${stored.digest}` : `${this.repositoryUri(repository)}:${tag}`;
    return {
      digest: stored.digest,
      imageUri,
      uri: imageUri,
      repositoryUri: this.repositoryUri(repository),
      ...(tag === undefined ? {} : { tag }),
      manifests: manifests.map((m) => m.digest),
    };
  }

  /** The image a tag or digest names, or undefined. */
  find(repository: string, reference: string): StoredImage | undefined {
    const repo = this.repositories.get(repository);
    if (!repo) return undefined;
    return reference.startsWith("sha256:") ? repo.images.get(reference) : [...repo.images.values()].find((i) => i.tags.includes(reference));
  }

  images(repository: string): StoredImage[] {
    return [...this.repository(repository).images.values()];
  }

  /** Every image pushed to any repository (by a person or a build), in push order. */
  pushes(): { repository: string; image: StoredImage }[] {
    return [...this.repositories.values()]
      .flatMap((repo) => [...repo.images.values()].map((image) => ({ repository: repo.name, image })))
      .sort((a, b) => a.image.pushedAt - b.image.pushedAt);
  }

  // ── API ─────────────────────────────────────────────────────────────────────────────────

  readonly handle = async (request: AwsRequest): Promise<AwsResponse> => {
    switch (request.operation) {
      case "DescribeImages":
        return ok(this.describeImages(request.body));
      case "BatchGetImage":
        return ok(this.batchGetImage(request.body));
      case "DescribeRepositories":
        return ok(this.describeRepositories(request.body));
      case "CreateRepository": {
        const name = requiredString(request.body, "repositoryName");
        const mutability = request.body.imageTagMutability === "IMMUTABLE" ? "IMMUTABLE" : "MUTABLE";
        this.createRepository(name, { imageTagMutability: mutability });
        return ok({ repository: this.repositoryView(this.repository(name)) });
      }
      default:
        throw new AwsError("UnknownOperationException", `the sandbox's ECR does not implement ${request.operation}`);
    }
  };

  private describeImages(body: Record<string, unknown>): unknown {
    const repo = this.repository(requiredString(body, "repositoryName"), body.registryId);
    const ids = body.imageIds as ImageId[] | undefined;
    let images: StoredImage[];
    if (ids && ids.length > 0) {
      images = ids.map((id) => {
        const image = this.lookup(repo, id);
        if (!image) throw new AwsError("ImageNotFoundException", notFoundMessage(id, repo.name, this.account));
        return image;
      });
    } else {
      const status = (body.filter as { tagStatus?: string } | undefined)?.tagStatus ?? "ANY";
      images = [...repo.images.values()].filter((i) => status === "ANY" || (status === "TAGGED") === i.tags.length > 0);
    }
    return { imageDetails: images.map((image) => this.detail(repo, image)) };
  }

  private batchGetImage(body: Record<string, unknown>): unknown {
    const repo = this.repository(requiredString(body, "repositoryName"), body.registryId);
    const ids = body.imageIds as ImageId[] | undefined;
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > 100) {
      throw new AwsError("InvalidParameterException", "imageIds must hold 1 to 100 image ids");
    }
    const images: unknown[] = [];
    const failures: unknown[] = [];
    for (const id of ids) {
      if (!id.imageDigest && !id.imageTag) {
        failures.push({ imageId: id, failureCode: "MissingDigestAndTag", failureReason: "Invalid request parameters: both tag and digest cannot be null" });
        continue;
      }
      const image = this.lookup(repo, id);
      if (!image) {
        const mismatch = id.imageDigest && id.imageTag && repo.images.has(id.imageDigest);
        failures.push(
          mismatch
            ? { imageId: id, failureCode: "ImageTagDoesNotMatchDigest", failureReason: "Invalid request parameters: image tag does not match digest" }
            : { imageId: id, failureCode: "ImageNotFound", failureReason: "Requested image not found" },
        );
        continue;
      }
      images.push({
        registryId: this.account,
        repositoryName: repo.name,
        imageId: { imageDigest: image.digest, ...(id.imageTag ? { imageTag: id.imageTag } : {}) },
        imageManifest: image.manifest,
        imageManifestMediaType: image.manifestMediaType,
      });
    }
    return { images, failures };
  }

  private describeRepositories(body: Record<string, unknown>): unknown {
    const names = body.repositoryNames as string[] | undefined;
    const repos = names?.length ? names.map((n) => this.repository(n, body.registryId)) : [...this.repositories.values()];
    return { repositories: repos.map((r) => this.repositoryView(r)) };
  }

  private repositoryView(repo: Repository): unknown {
    return {
      repositoryArn: `arn:aws:ecr:${this.region}:${this.account}:repository/${repo.name}`,
      registryId: this.account,
      repositoryName: repo.name,
      repositoryUri: this.repositoryUri(repo.name),
      createdAt: epochSeconds(repo.createdAt),
      imageTagMutability: repo.mutability,
    };
  }

  private detail(repo: Repository, image: StoredImage): unknown {
    return {
      registryId: this.account,
      repositoryName: repo.name,
      imageDigest: image.digest,
      ...(image.tags.length > 0 ? { imageTags: [...image.tags] } : {}),
      imageSizeInBytes: image.sizeInBytes,
      // ECR keeps push times to the whole second (it answers e.g. 1718737639.000000000), so two
      // pushes within one second tie, as they do in AWS.
      imagePushedAt: Math.floor(image.pushedAt / 1000),
      imageManifestMediaType: image.manifestMediaType,
      ...(image.artifactMediaType ? { artifactMediaType: image.artifactMediaType } : {}),
    };
  }

  // ── internals ───────────────────────────────────────────────────────────────────────────

  private repository(name: string, registryId?: unknown): Repository {
    const registry = typeof registryId === "string" && registryId ? registryId : this.account;
    const repo = registry === this.account ? this.repositories.get(name) : undefined;
    if (!repo) throw new AwsError("RepositoryNotFoundException", `The repository with name '${name}' does not exist in the registry with id '${registry}'`);
    return repo;
  }

  private lookup(repo: Repository, id: ImageId): StoredImage | undefined {
    const byDigest = id.imageDigest ? repo.images.get(id.imageDigest) : undefined;
    const byTag = id.imageTag ? [...repo.images.values()].find((i) => i.tags.includes(id.imageTag as string)) : undefined;
    if (id.imageDigest && id.imageTag) return byDigest && byDigest === byTag ? byDigest : undefined;
    return byDigest ?? byTag;
  }

  private image(manifest: string, manifestMediaType: string, artifactMediaType: string | undefined, digest?: string): StoredImage {
    return {
      digest: digest ?? `sha256:${createHash("sha256").update(manifest).digest("hex")}`,
      tags: [],
      pushedAt: this.clock.now(),
      manifest,
      manifestMediaType,
      ...(artifactMediaType ? { artifactMediaType } : {}),
      sizeInBytes: 20_000_000 + parseInt(createHash("sha256").update(manifest).digest("hex").slice(0, 6), 16),
    };
  }

  /** Stores an image, or adds the tag to the one already stored under its digest. */
  private store(repo: Repository, image: StoredImage, tag: string | undefined): StoredImage {
    const stored = repo.images.get(image.digest) ?? image;
    repo.images.set(stored.digest, stored);
    if (tag !== undefined && !stored.tags.includes(tag)) stored.tags.push(tag);
    return stored;
  }

  private announce(repository: string, image: StoredImage, tag: string | undefined): void {
    const origin: EventOrigin = { clock: this.clock, account: this.account, region: this.region };
    this.emit(
      awsEvent(
        origin,
        "aws.ecr",
        "ECR Image Action",
        {
          result: "SUCCESS",
          "repository-name": repository,
          "image-digest": image.digest,
          "action-type": "PUSH",
          ...(image.artifactMediaType ? { "artifact-media-type": image.artifactMediaType } : {}),
          ...(tag === undefined ? {} : { "image-tag": tag }),
          "manifest-media-type": image.manifestMediaType,
        },
        [],
      ),
    );
  }
}

function imageManifest(mediaType: string, configMediaType: string, platform?: object): string {
  // Made-up blobs, the same in a replay of the run (their digests name the image; see random.ts).
  const blob = () =>
    `sha256:${createHash("sha256")
      .update(madeUpId({ blob: mediaType, platform }))
      .digest("hex")}`;
  return JSON.stringify({
    schemaVersion: 2,
    mediaType,
    config: { mediaType: configMediaType, size: 1469, digest: blob() },
    layers: [0, 1, 2].map((i) => ({
      mediaType: mediaType === MEDIA_TYPES.ociManifest ? "application/vnd.oci.image.layer.v1.tar+gzip" : "application/vnd.docker.image.rootfs.diff.tar.gzip",
      size: 1_000_000 * (i + 1),
      digest: blob(),
    })),
    ...(platform ? { annotations: { "org.opencontainers.image.platform": JSON.stringify(platform) } } : {}),
  });
}

function indexManifest(manifests: StoredImage[], platforms: object[]): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociIndex,
    manifests: manifests.map((m, i) => ({ mediaType: m.manifestMediaType, digest: m.digest, size: m.manifest.length, platform: platforms[i] })),
  });
}

function notFoundMessage(id: ImageId, repository: string, registry: string): string {
  const digest = id.imageDigest ? `'${id.imageDigest}'` : "'null'";
  const tag = id.imageTag ? `'${id.imageTag}'` : "'null'";
  return `The image with imageId {imageDigest:${digest}, imageTag:${tag}} does not exist within the repository with name '${repository}' in the registry with id '${registry}'`;
}

function requiredString(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== "string" || value === "") {
    throw new AwsError("InvalidParameterException", `Invalid parameter at '${name}' failed to satisfy constraint: 'Member must not be null'`);
  }
  return value;
}

/**
 * Timestamps go on the wire as the JSON protocols write them: epoch seconds. (JSON.stringify
 * turns a Date into an ISO string before any replacer sees it, which the SDK cannot read.)
 */
function epochSeconds(ms: number): number {
  return ms / 1000;
}

function ok(body: unknown): AwsResponse {
  return { status: 200, body };
}

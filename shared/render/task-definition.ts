// Target + image → the RegisterTaskDefinition input: built-in variables, the template, the
// ECS rules, and the tags that let anyone trace a revision back to its image and trigger.
import type { RegisterTaskDefinitionCommandInput, Tag } from "@aws-sdk/client-ecs";
import type { Target } from "../config/model";
import { checkTaskDefinition, PROVENANCE_TAG_KEYS } from "./rules";
import { render, type JsonObject, type TaskDefinitionTemplate, type VariableValue } from "./placeholders";

/** The image being deployed, always addressed by digest. */
export interface Image {
  repository: string;
  /** `123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/web` */
  repositoryUri: string;
  digest: string;
  tag?: string;
  commit?: string;
}

/** Variables every template may use without defining them. */
export const BUILTIN_VARIABLES = ["image", "digest", "tag", "commit", "app", "env", "region", "cluster", "service", "repository"] as const;

export function pinnedImage(image: Image): string {
  return `${image.repositoryUri}@${image.digest}`;
}

/**
 * An image to render a template with before any image exists (validating a config, listing what
 * the stack grants): every built-in gets a value of the right shape, none of them a real one.
 */
export function sampleImage(region: string): Image {
  return {
    repository: "sample/repository",
    repositoryUri: `123456789012.dkr.ecr.${region}.amazonaws.com/sample/repository`,
    digest: `sha256:${"0".repeat(64)}`,
    tag: "sample",
    commit: "0000000",
  };
}

export function builtins(target: Target, image: Image): Record<string, string> {
  return {
    image: pinnedImage(image),
    digest: image.digest,
    tag: image.tag ?? "",
    commit: image.commit ?? "",
    app: target.app,
    env: target.env,
    region: target.region,
    cluster: target.cluster,
    service: target.service,
    repository: image.repository,
  };
}

export type RenderedTarget = { ok: true; input: RegisterTaskDefinitionCommandInput } | { ok: false; problems: string[] };

/** Renders a target's template for an image and checks it against the rules ECS enforces. */
export function renderTarget(target: Target, image: Image): RenderedTarget {
  return renderWith(target.template, { ...target.variables, ...builtins(target, image) });
}

export function renderWith(template: TaskDefinitionTemplate, variables: Record<string, VariableValue>): RenderedTarget {
  const result = render(template, variables);
  if (!result.ok) {
    return { ok: false, problems: [`${template.file}: missing variables ${result.missing.join(", ")}`] };
  }
  const problems = checkTaskDefinition(result.taskDefinition).map((p) => `${template.file}: ${p}`);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, input: result.taskDefinition as unknown as RegisterTaskDefinitionCommandInput };
}

/** Provenance tags, added to whatever tags the template carries (ours win on a clash). */
export function provenanceTags(input: RegisterTaskDefinitionCommandInput, values: Partial<Record<(typeof PROVENANCE_TAG_KEYS)[number], string>>): Tag[] {
  const ours = Object.entries(values)
    .filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== "")
    .map(([key, value]) => ({ key: `stevedore:${key}`, value: tagValue(value) }));
  const kept = (input.tags ?? []).filter((tag) => !ours.some((o) => o.key === tag.key));
  return [...kept, ...ours];
}

/**
 * ECS tag values: up to 256 characters among letters, digits, spaces and `+ - = . _ : / @`
 * (ECS's pattern is `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`: `\s` would let tabs and newlines through).
 * Counted in code points, so that a cut never splits a surrogate pair.
 */
function tagValue(value: string): string {
  return Array.from(value.replace(/[^\p{L}\p{Z}\p{N}+\-=._:/@]/gu, "_"))
    .slice(0, 256)
    .join("");
}

/** A stable text for a rendered definition: equal texts can share one registration. */
export function canonical(input: RegisterTaskDefinitionCommandInput | JsonObject): string {
  return JSON.stringify(sortKeys(input));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

// What the stack is derived from: every resource the pipeline config names, rendered the way a
// deployment renders it. The patterns (infra/patterns.ts) and the IAM policies (infra/iam.ts)
// are computed from this alone, so that both always agree with what the functions will touch.
import type { Destination, PipelineConfig } from "../shared/config/model";
import { builtins, renderWith, sampleImage } from "../shared/render/task-definition";
import { StackError } from "./errors";

export interface Inventory {
  region: string;
  repositories: string[];
  buildProjects: string[];
  alarms: string[];
  /** `cluster/service` of every target. */
  services: string[];
  /** `cluster/service` of the targets of environments an alarm guards. */
  guardedServices: string[];
  /** Apps with an environment whose promotions wait for a person (approval: manual). */
  approvalApps: string[];
  families: string[];
  /** Task and execution roles the rendered task definitions name (passed to ECS tasks). */
  taskRoles: string[];
  /** Roles of blue-green / linear / canary lifecycle hooks (passed to ECS itself). */
  hookRoles: string[];
  destinations: Destination[];
}

const unique = (values: Iterable<string>): string[] => [...new Set(values)].sort();

export function inventoryOf(config: PipelineConfig, file: string): Inventory {
  const environments = config.apps.flatMap((app) => app.environments);
  const targets = environments.flatMap((env) => env.targets);
  const key = (t: { cluster: string; service: string }) => `${t.cluster}/${t.service}`;

  const families = new Set<string>();
  const taskRoles = new Set<string>();
  for (const target of targets) {
    // Rendered only for the names it holds (family, roles); no value of the sample image ends up in a statement.
    const rendered = renderWith(target.template, { ...target.variables, ...builtins(target, sampleImage(target.region)) });
    if (!rendered.ok) throw new StackError(`${file}: ${rendered.problems.join("; ")}`);
    families.add(String(rendered.input.family));
    for (const role of [rendered.input.taskRoleArn, rendered.input.executionRoleArn]) if (role) taskRoles.add(role);
  }

  return {
    region: environments[0]?.region ?? "",
    repositories: unique(config.apps.map((app) => app.repository)),
    buildProjects: unique(config.apps.flatMap((app) => (app.buildProject ? [app.buildProject] : []))),
    alarms: unique(environments.flatMap((env) => env.alarms)),
    services: unique(targets.map(key)),
    guardedServices: unique(environments.filter((env) => env.alarms.length > 0).flatMap((env) => env.targets.map(key))),
    approvalApps: unique(config.apps.filter((app) => app.environments.some((env) => env.promote?.approval === "manual")).map((app) => app.name)),
    families: unique(families),
    taskRoles: unique(taskRoles),
    hookRoles: unique(environments.flatMap((env) => (env.strategy.lifecycleHooks ?? []).map((hook) => hook.roleArn))),
    destinations: Object.values(config.destinations),
  };
}

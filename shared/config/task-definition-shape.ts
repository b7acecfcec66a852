// A rendered task definition checked against the RegisterTaskDefinition input shape of the ECS
// model the SDK ships (@aws-sdk/client-ecs's schemas): member names at every depth, their types,
// and the enums ECS enforces. The SDK serializes only the members it knows and drops the rest
// silently, so a misspelled `healthcheck` would register a task without a health check.
// Used by the config loader, that is at `npm run validate` and at package time: never in a
// Lambda bundle (functions read the compiled config).
import * as ecs from "@aws-sdk/client-ecs";
import { closest } from "./closest";

/**
 * A schema as the SDK's static schemas write them: a number for a simple type (0 string,
 * 1 number, 2 boolean, 4 timestamp, 15 document; `64 | t` a list and `128 | t` a map of t), or
 * an array: [3, ns, name, traits, memberNames, memberSchemas, required] for a structure,
 * [1, ns, name, traits, member] for a list, [2, ns, name, traits, key, value] for a map. A member
 * schema may be wrapped in a thunk and in a [schema, traits] pair.
 */
type Schema = number | unknown[] | (() => Schema);

const STRUCTURE = 3;
const LIST = 1;
const MAP = 2;
const LIST_OF = 64;
const MAP_OF = 128;

/** The members ECS checks against an enum, by "Structure.member" in the model. */
const ENUMS: Record<string, Record<string, string>> = {
  "RegisterTaskDefinitionRequest.networkMode": ecs.NetworkMode,
  "RegisterTaskDefinitionRequest.requiresCompatibilities": ecs.Compatibility,
  "RegisterTaskDefinitionRequest.pidMode": ecs.PidMode,
  "RegisterTaskDefinitionRequest.ipcMode": ecs.IpcMode,
  "PortMapping.protocol": ecs.TransportProtocol,
  "PortMapping.appProtocol": ecs.ApplicationProtocol,
  "ContainerDependency.condition": ecs.ContainerCondition,
  "EnvironmentFile.type": ecs.EnvironmentFileType,
  "FirelensConfiguration.type": ecs.FirelensConfigurationType,
  "LogConfiguration.logDriver": ecs.LogDriver,
  "Ulimit.name": ecs.UlimitName,
  "ResourceRequirement.type": ecs.ResourceType,
  "RuntimePlatform.cpuArchitecture": ecs.CPUArchitecture,
  "RuntimePlatform.operatingSystemFamily": ecs.OSFamily,
  "TaskDefinitionPlacementConstraint.type": ecs.TaskDefinitionPlacementConstraintType,
  "ProxyConfiguration.type": ecs.ProxyConfigurationType,
  "ContainerDefinition.versionConsistency": ecs.VersionConsistency,
  "DockerVolumeConfiguration.scope": ecs.Scope,
  "Device.permissions": ecs.DeviceCgroupPermission,
  "EFSVolumeConfiguration.transitEncryption": ecs.EFSTransitEncryption,
  "EFSAuthorizationConfig.iam": ecs.EFSAuthorizationConfigIAM,
};

/** Every problem, as "path: what is wrong; what to write". Empty when the shape is right. */
export function checkTaskDefinitionShape(taskDefinition: unknown): string[] {
  const problems: string[] = [];
  walk(ecs.RegisterTaskDefinitionRequest$ as Schema, taskDefinition, "", "", problems);
  return problems;
}

function resolve(schema: Schema): Schema {
  let s = schema;
  while (typeof s === "function") s = s();
  // A member written as [schema, traits]: a pair whose head is itself a schema, not a tag.
  if (Array.isArray(s) && s.length === 2 && typeof s[0] !== "number") return resolve(s[0] as Schema);
  return s;
}

function walk(schemaIn: Schema, value: unknown, path: string, enumKey: string, problems: string[]): void {
  const schema = resolve(schemaIn);
  const at = path || "the task definition";
  if (typeof schema === "number") return simple(schema, value, at, enumKey, problems);
  const [kind] = schema as [number];
  if (kind === STRUCTURE) {
    const [, , name, , members, memberSchemas] = schema as [number, string, string, number, string[], Schema[]];
    if (!isPlainObject(value)) return void problems.push(`${at}: must be an object (${name})`);
    for (const [key, child] of Object.entries(value)) {
      const index = members.indexOf(key);
      if (index < 0) {
        problems.push(`${join(path, key)}: ECS's ${name} has no member "${key}" (the SDK would drop it silently)${suggest(key, members)}`);
        continue;
      }
      walk(memberSchemas[index] as Schema, child, join(path, key), `${name}.${key}`, problems);
    }
    return;
  }
  if (kind === LIST) {
    if (!Array.isArray(value)) return void problems.push(`${at}: must be a list`);
    value.forEach((item, i) => walk((schema as Schema[])[4] as Schema, item, `${path}[${i}]`, enumKey, problems));
    return;
  }
  if (kind === MAP) {
    if (!isPlainObject(value)) return void problems.push(`${at}: must be an object of names to values`);
    for (const [key, item] of Object.entries(value)) walk((schema as Schema[])[5] as Schema, item, join(path, key), enumKey, problems);
  }
}

function simple(code: number, value: unknown, at: string, enumKey: string, problems: string[]): void {
  if (code & LIST_OF) {
    if (!Array.isArray(value)) return void problems.push(`${at}: must be a list`);
    value.forEach((item, i) => simple(code & ~LIST_OF, item, `${at}[${i}]`, enumKey, problems));
    return;
  }
  if (code & MAP_OF) {
    if (!isPlainObject(value)) return void problems.push(`${at}: must be an object of names to values`);
    for (const [key, item] of Object.entries(value)) simple(code & ~MAP_OF, item, `${at}.${key}`, "", problems);
    return;
  }
  const expected = code === 0 ? "string" : code === 1 ? "number" : code === 2 ? "boolean" : undefined;
  if (expected && typeof value !== expected) {
    const hint =
      expected === "string" ? ` (quote it: "${String(value)}")` : expected === "number" ? " (write it without quotes)" : " (true or false, without quotes)";
    return void problems.push(`${at}: must be a ${expected}, got ${JSON.stringify(value)}${hint}`);
  }
  const allowed = ENUMS[enumKey];
  if (allowed && typeof value === "string" && !Object.values(allowed).includes(value)) {
    const values = Object.values(allowed);
    problems.push(`${at}: "${value}" is not one of ${values.map((v) => `"${v}"`).join(", ")}${suggest(value, values)}`);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** "; did you mean "healthCheck"?" for a near miss, else "". */
function suggest(word: string, candidates: string[]): string {
  const guess = closest(word, candidates);
  return guess === undefined ? "" : `; did you mean "${guess}"?`;
}

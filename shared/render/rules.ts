// Rules RegisterTaskDefinition would reject, checked before any API call so that a bad
// template fails at `npm run validate` (or at least before anything is written), with the
// path of the offending field and what to write instead.
import { isObject, type Json, type JsonObject } from "./placeholders";

/** Valid Fargate task memory (MiB) for each task cpu value (units), from the ECS documentation. */
const FARGATE_MEMORY: Record<number, number[]> = {
  256: [512, 1024, 2048],
  512: range(1024, 4096, 1024),
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
  8192: range(16384, 61440, 4096),
  16384: range(32768, 122880, 8192),
};

const NAME = /^[A-Za-z0-9_-]{1,255}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const SECRET_SOURCE = /^(arn:aws[a-z-]*:(ssm:[a-z0-9-]+:\d{12}:parameter\/.+|secretsmanager:[a-z0-9-]+:\d{12}:secret:.+)|\/?[A-Za-z0-9_.\-/]{1,2048})$/;

/** The tags Stevedore sets on every revision it registers, as `stevedore:<key>` (provenanceTags). */
export const PROVENANCE_TAG_KEYS = ["app", "env", "digest", "pushed", "tag", "commit", "trigger", "replaces"] as const;
/** ECS's tag restrictions: 50 per resource, keys of 1 to 128 and values of up to 256 characters. */
const MAX_TAGS = 50;
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
/** ECS service quotas: containers per task definition (not adjustable), and a definition's JSON size. */
const MAX_CONTAINERS = 10;
const MAX_DEFINITION_BYTES = 64 * 1024;
/** What Stevedore's own tags can add to a definition's JSON: every key, with a value of 256 bytes. */
const PROVENANCE_BYTES = JSON.stringify(PROVENANCE_TAG_KEYS.map((key) => ({ key: `stevedore:${key}`, value: "x".repeat(256) }))).length;

/** Returns every problem found, each as "path: what is wrong; what to do". Empty means valid. */
export function checkTaskDefinition(td: JsonObject): string[] {
  const problems: string[] = [];
  const say = (path: string, message: string) => problems.push(`${path}: ${message}`);

  if (typeof td.family !== "string" || !NAME.test(td.family)) {
    say("family", "required: up to 255 letters, digits, hyphens and underscores");
  }
  for (const key of ["taskRoleArn", "executionRoleArn"] as const) {
    const value = td[key];
    if (value !== undefined && (typeof value !== "string" || !ROLE_ARN.test(value))) {
      say(key, `"${String(value)}" is not an IAM role ARN (arn:aws:iam::123456789012:role/name)`);
    }
  }

  const fargate = Array.isArray(td.requiresCompatibilities) && td.requiresCompatibilities.includes("FARGATE");
  const taskCpu = td.cpu === undefined ? undefined : cpuUnits(td.cpu);
  const taskMemory = td.memory === undefined ? undefined : memoryMiB(td.memory);
  // The API types task-level cpu and memory as strings and rejects a JSON number
  // ("NUMBER_VALUE can not be converted to a String"); a number here comes from an unquoted variable.
  for (const key of ["cpu", "memory"] as const) {
    if (typeof td[key] === "number") {
      say(key, `must be a string, got the number ${td[key]} (quote the variable's value: "${td[key]}")`);
    }
  }
  if (taskCpu === null) say("cpu", `"${String(td.cpu)}" is not a cpu value: write units ("1024") or vCPUs ("1 vCPU")`);
  if (taskMemory === null) say("memory", `"${String(td.memory)}" is not a memory value: write MiB ("2048") or GB ("2 GB")`);

  if (fargate) {
    if (td.networkMode !== "awsvpc") say("networkMode", 'Fargate tasks need "awsvpc"');
    if (taskCpu === undefined || taskMemory === undefined) {
      say("cpu/memory", "Fargate tasks need both task-level cpu and memory");
    } else if (taskCpu !== null && taskMemory !== null) {
      const allowed = FARGATE_MEMORY[taskCpu];
      if (!allowed) {
        say("cpu", `${taskCpu} is not a Fargate cpu size; use one of ${Object.keys(FARGATE_MEMORY).join(", ")}`);
      } else if (!allowed.includes(taskMemory)) {
        say("memory", `${taskMemory} MiB is not valid with cpu ${taskCpu} on Fargate; use ${describeSizes(allowed)}`);
      }
    }
  }

  checkTags(td.tags, say);
  const bytes = Buffer.byteLength(JSON.stringify(td));
  if (bytes + PROVENANCE_BYTES > MAX_DEFINITION_BYTES) {
    problems.push(
      `the task definition is ${bytes} bytes of JSON, and Stevedore's tags can add ${PROVENANCE_BYTES}; ECS takes at most ${MAX_DEFINITION_BYTES}: move large values (long environment lists, scripts) into an environment file or a secret`,
    );
  }

  const containers = td.containerDefinitions;
  if (!Array.isArray(containers) || containers.length === 0) {
    say("containerDefinitions", "at least one container is required");
    return problems;
  }
  if (containers.length > MAX_CONTAINERS) {
    say("containerDefinitions", `${containers.length} containers; ECS allows ${MAX_CONTAINERS} in a task definition (a quota that cannot be raised)`);
  }
  const names = new Set<string>();
  let essential = 0;
  let cpuSum = 0;
  let memorySum = 0;
  const volumes = Array.isArray(td.volumes) ? td.volumes : [];
  const volumeNames = new Set(volumes.map((v) => (isObject(v) ? v.name : undefined)));
  containers.forEach((container, i) => {
    const at = `containerDefinitions[${i}]`;
    if (!isObject(container)) return say(at, "must be an object");
    const { name, image } = container;
    if (typeof name !== "string" || !NAME.test(name)) say(`${at}.name`, "required: letters, digits, hyphens, underscores");
    else if (names.has(name)) say(`${at}.name`, `"${name}" is used by two containers; names must be unique`);
    else names.add(name);
    if (typeof image !== "string" || image.trim() === "") say(`${at}.image`, "required: the image to run");
    if (container.essential !== false) essential++;

    for (const field of ["cpu", "memory", "memoryReservation"] as const) {
      const value = container[field];
      // describe-task-definition returns "cpu": 0 for a container without a cpu share: 0 is valid.
      if (value !== undefined && !(field === "cpu" ? isWholeNumber(value) : isPositiveInteger(value))) {
        say(`${at}.${field}`, `must be a whole number, got ${JSON.stringify(value)} (write the variable without quotes)`);
      }
    }
    const memory = isPositiveInteger(container.memory) ? container.memory : undefined;
    const reservation = isPositiveInteger(container.memoryReservation) ? container.memoryReservation : undefined;
    // Present but mistyped is reported above: saying "needs memory" too would send people looking for a missing field.
    if (taskMemory === undefined && container.memory === undefined && container.memoryReservation === undefined) {
      say(at, "needs memory or memoryReservation when the task has no task-level memory");
    }
    if (memory !== undefined && memory < 6) say(`${at}.memory`, "must be at least 6 MiB");
    if (memory !== undefined && reservation !== undefined && reservation > memory) {
      say(`${at}.memoryReservation`, "must not exceed memory");
    }
    cpuSum += isPositiveInteger(container.cpu) ? container.cpu : 0;
    memorySum += memory ?? reservation ?? 0;

    if (Array.isArray(container.portMappings)) {
      container.portMappings.forEach((mapping, j) => {
        for (const field of ["containerPort", "hostPort"] as const) {
          const port = isObject(mapping) ? mapping[field] : undefined;
          // hostPort 0 asks for a dynamic host port (bridge mode); describe-task-definition returns it.
          const valid = field === "hostPort" ? isWholeNumber(port) : isPositiveInteger(port);
          if (port !== undefined && !(valid && (port as number) <= 65535)) {
            say(`${at}.portMappings[${j}].${field}`, `must be a port number, got ${JSON.stringify(port)}`);
          }
        }
        // ECS: "When networkMode=awsvpc, the host ports and container ports in port mappings must match."
        if (td.networkMode === "awsvpc" && isObject(mapping) && mapping.hostPort !== undefined && mapping.hostPort !== mapping.containerPort) {
          say(
            `${at}.portMappings[${j}].hostPort`,
            `with networkMode "awsvpc" it must equal containerPort (${JSON.stringify(mapping.containerPort)}); leave it out`,
          );
        }
      });
    }
    if (Array.isArray(container.secrets)) {
      if (td.executionRoleArn === undefined) {
        say(`${at}.secrets`, "secrets are fetched by the execution role: set executionRoleArn");
      }
      container.secrets.forEach((secret, j) => {
        const from = isObject(secret) ? secret.valueFrom : undefined;
        if (typeof from !== "string" || !SECRET_SOURCE.test(from)) {
          say(`${at}.secrets[${j}].valueFrom`, "must be an SSM parameter or Secrets Manager ARN (the value never passes through Stevedore)");
        }
      });
    }
    if (Array.isArray(container.environment)) {
      container.environment.forEach((entry, j) => {
        if (!isObject(entry) || typeof entry.name !== "string" || typeof entry.value !== "string") {
          say(`${at}.environment[${j}]`, 'must be { name, value } with a string value (quote numbers: "8080")');
        }
      });
    }
    if (Array.isArray(container.mountPoints)) {
      container.mountPoints.forEach((mount, j) => {
        const source = isObject(mount) ? mount.sourceVolume : undefined;
        // ECS: "Unknown volume '<name>'."
        if (typeof source === "string" && !volumeNames.has(source)) {
          say(`${at}.mountPoints[${j}].sourceVolume`, `"${source}" is not one of the task's volumes; add it under volumes`);
        }
      });
    }
  });
  if (fargate) {
    volumes.forEach((volume, k) => {
      // ECS: "Fargate compatible task definitions do not support sourcePath".
      if (isObject(volume) && isObject(volume.host) && volume.host.sourcePath !== undefined) {
        say(
          `volumes[${k}].host.sourcePath`,
          "Fargate tasks cannot mount a path of the host; leave host out (a bind mount on the task's own storage) or use an EFS volume",
        );
      }
    });
  }
  containers.forEach((container, i) => {
    if (!isObject(container) || !Array.isArray(container.dependsOn)) return;
    container.dependsOn.forEach((dep, j) => {
      const name = isObject(dep) ? dep.containerName : undefined;
      if (typeof name !== "string" || !names.has(name)) {
        say(`containerDefinitions[${i}].dependsOn[${j}].containerName`, `"${String(name)}" is not a container of this task`);
        return;
      }
      // ECS: "A dependency container with SUCCESS or COMPLETE condition cannot be an essential container".
      const condition = isObject(dep) ? dep.condition : undefined;
      const awaited = containers.find((c) => isObject(c) && c.name === name);
      if ((condition === "SUCCESS" || condition === "COMPLETE") && isObject(awaited) && awaited.essential !== false) {
        say(
          `containerDefinitions[${i}].dependsOn[${j}].condition`,
          `${condition} waits for "${name}" to exit, and an essential container's exit stops the task: set "essential": false on "${name}"`,
        );
      }
    });
  });
  if (essential === 0) say("containerDefinitions", "at least one container must be essential");
  if (typeof taskCpu === "number" && cpuSum > taskCpu) {
    say("containerDefinitions", `containers reserve ${cpuSum} cpu units, more than the task's ${taskCpu}`);
  }
  if (typeof taskMemory === "number" && memorySum > taskMemory) {
    say("containerDefinitions", `containers reserve ${memorySum} MiB, more than the task's ${taskMemory}`);
  }
  return problems;
}

/**
 * The template's own tags, as ECS will see them once Stevedore's provenance tags are added: a tag
 * ECS refuses would fail every deployment at RegisterTaskDefinition. A tag that is not a
 * { key, value } of strings is the shape check's to report (config/task-definition-shape.ts).
 */
function checkTags(tags: Json | undefined, say: (path: string, message: string) => void): void {
  if (!Array.isArray(tags)) return;
  const ours = PROVENANCE_TAG_KEYS.length;
  if (tags.length + ours > MAX_TAGS) {
    say(
      "tags",
      `${tags.length} tags, and Stevedore adds up to ${ours} of its own (stevedore:app, stevedore:digest, …); ECS allows ${MAX_TAGS} on a task definition: keep at most ${MAX_TAGS - ours}`,
    );
  }
  const keys = new Set<string>();
  tags.forEach((tag, i) => {
    if (!isObject(tag) || typeof tag.key !== "string" || (tag.value !== undefined && typeof tag.value !== "string")) return;
    const at = `tags[${i}]`;
    const { key } = tag;
    const value = tag.value ?? "";
    if (keys.has(key)) say(`${at}.key`, `"${key}" is given twice; a tag key can have one value`);
    keys.add(key);
    const length = Array.from(key).length;
    if (length < 1 || length > 128) say(`${at}.key`, `must be 1 to 128 characters, got ${length}`);
    if (Array.from(value).length > 256) say(`${at}.value`, `must be at most 256 characters, got ${Array.from(value).length}`);
    for (const [field, text] of [
      ["key", key],
      ["value", value],
    ] as const) {
      if (!TAG_TEXT.test(text)) say(`${at}.${field}`, `"${text}" has characters ECS does not allow in tags: only letters, digits, spaces and _ . : / = + - @`);
      // ECS reserves the prefix in any case, for keys and values alike.
      else if (/^aws:/i.test(text)) say(`${at}.${field}`, `"${text}" starts with aws:, which AWS reserves for its own tags`);
    }
    if (key.startsWith("stevedore:")) {
      say(`${at}.key`, `"${key}": stevedore: keys are the provenance tags Stevedore sets on every revision it registers; use another prefix`);
    }
  });
}

/** Task-level cpu: "1024", 1024, "1 vCPU", "0.25 vcpu". null when unreadable. */
export function cpuUnits(value: Json): number | null {
  const text = String(value).trim();
  const vcpu = /^(\d+(?:\.\d+)?)\s*vcpu$/i.exec(text);
  if (vcpu) return Math.round(Number(vcpu[1]) * 1024);
  return /^\d+$/.test(text) ? Number(text) : null;
}

/** Task-level memory: "2048", 2048, "2 GB", "0.5GB". null when unreadable. */
export function memoryMiB(value: Json): number | null {
  const text = String(value).trim();
  const gb = /^(\d+(?:\.\d+)?)\s*gb$/i.exec(text);
  if (gb) return Math.round(Number(gb[1]) * 1024);
  return /^\d+$/.test(text) ? Number(text) : null;
}

function isWholeNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value > 0;
}

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

function describeSizes(sizes: number[]): string {
  return sizes.length <= 4 ? sizes.join(", ") : `${sizes[0]} to ${sizes[sizes.length - 1]} in steps of ${(sizes[1] ?? 0) - (sizes[0] ?? 0)}`;
}

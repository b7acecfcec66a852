// Loads the pipeline config: YAML → strict schema → cross-checks (templates exist and parse,
// every placeholder is defined, the rendered definitions pass ECS's rules, names and ARNs are
// well formed, promotion chains make sense) → the plain model in model.ts.
// Every problem is collected and reported together, each naming the file, the path and a fix.
import { readFileSync, statSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { load as parseYaml } from "js-yaml";
import * as z from "zod/mini";
import { ConfigError } from "../errors";
import { BUILTIN_VARIABLES, renderWith, sampleImage } from "../render/task-definition";
import type { TaskDefinitionTemplate } from "../render/placeholders";
import { parseTemplate, TemplateError } from "../render/template";
import { parseDuration } from "./duration";
import type { App, Destination, Environment, PipelineConfig, SecretRef, Strategy, Target } from "./model";
import { configSchema, type AppFile, type EnvironmentFile, type StrategyFile } from "./schema";
import { branchTrouble, DEFAULT_BRANCH, NODEPLOY_SAMPLE_TAG } from "./branches";
import { describeIssue } from "./issues";
import { checkTaskDefinitionShape } from "./task-definition-shape";

/** Where the config is read from when STEVEDORE_CONFIG is not set. */
export const DEFAULT_CONFIG_PATH = "examples/stevedore.yml";

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.STEVEDORE_CONFIG || DEFAULT_CONFIG_PATH;
}

export function loadConfig(path: string): PipelineConfig {
  const file = resolve(path);
  let text: string;
  try {
    text = readTextFile(file);
  } catch (error) {
    throw new ConfigError(path, [
      error instanceof UnreadableFile
        ? error.message
        : `cannot read it (${(error as NodeJS.ErrnoException | undefined)?.code ?? String(error)}); set STEVEDORE_CONFIG to your config file's path`,
    ]);
  }
  return parseConfig(text, file);
}

/** Parses config text. Template paths are resolved against the config file's folder. */
export function parseConfig(text: string, file: string, readText: (path: string) => string = readTextFile): PipelineConfig {
  const shown = relative(process.cwd(), file) || file;
  let raw: unknown;
  try {
    raw = parseYaml(text, { filename: shown });
  } catch (error) {
    throw new ConfigError(shown, [`not valid YAML: ${(error as Error).message.split("\n")[0]}`]);
  }
  const parsed = z.safeParse(configSchema, raw);
  if (!parsed.success) {
    throw new ConfigError(
      shown,
      parsed.error.issues.flatMap((issue) => describeIssue(issue, raw, configSchema)),
    );
  }
  const checker = new Checker(dirname(file), readText);
  const config = checker.build(parsed.data, file);
  if (checker.problems.length > 0) throw new ConfigError(shown, checker.problems);
  return config;
}

/** A config or template file that is not a readable UTF-8 text file of sensible size. */
class UnreadableFile extends Error {}

/** Configs and templates are a few kB; a cap keeps `/dev/zero` or a stray log from eating memory. */
const MAX_FILE_BYTES = 1024 * 1024;

/**
 * A config or template file's text: a regular file of at most 1 MiB, in UTF-8 (a byte order mark
 * is dropped). Anything else throws UnreadableFile saying what the file is and what to do.
 */
export function readTextFile(path: string): string {
  const stat = statSync(path);
  if (!stat.isFile()) {
    const kind = stat.isDirectory() ? "a directory" : stat.isCharacterDevice() || stat.isBlockDevice() ? "a device" : stat.isFIFO() ? "a pipe" : "not a file";
    throw new UnreadableFile(`is ${kind}, not a regular file; point to the file itself`);
  }
  if (stat.size > MAX_FILE_BYTES) {
    throw new UnreadableFile(`is ${(stat.size / 1024 / 1024).toFixed(1)} MiB; a config or template is at most 1 MiB (is it the right file?)`);
  }
  const bytes = readFileSync(path);
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw new UnreadableFile("is UTF-16 text; save it as UTF-8");
  }
  if (bytes.includes(0)) throw new UnreadableFile("holds NUL bytes (binary, or UTF-16 without a byte order mark); save it as UTF-8 text");
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new UnreadableFile("is not valid UTF-8; save it as UTF-8");
  }
}

const MAX_DURATION_SECONDS = 365 * 86400;

class Checker {
  readonly problems: string[] = [];
  private readonly templates = new Map<string, TaskDefinitionTemplate | null>();
  private readonly services = new Map<string, string>();

  constructor(
    private readonly dir: string,
    private readonly readText: (path: string) => string,
  ) {}

  private problem(path: string, message: string): void {
    this.problems.push(`${path}: ${message}`);
  }

  build(file: z.infer<typeof configSchema>, path: string): PipelineConfig {
    const destinations: Record<string, Destination> = {};
    const sharedKey = file.kmsKey === undefined ? {} : this.kmsKey("kmsKey", file.kmsKey);
    for (const [name, dest] of Object.entries(file.notifications ?? {})) {
      const at = `notifications.${name}`;
      const url = this.secretRef(`${at}.url`, dest.url);
      const kms = dest.kmsKey === undefined ? sharedKey : this.kmsKey(`${at}.kmsKey`, dest.kmsKey);
      if (dest.type === "slack") {
        if (url && kms) destinations[name] = { name, type: "slack", url, ...kms };
      } else {
        const secret = this.secretRef(`${at}.secret`, dest.secret);
        if (url && secret && kms) destinations[name] = { name, type: "webhook", url, secret, ...kms };
      }
    }
    const apps = Object.entries(file.apps).map(([name, app]) => this.app(name, app, file.notifications ?? {}));
    if (apps.length === 0) this.problem("apps", "list at least one app");
    this.checkOneRegion();
    return { file: path, apps, destinations };
  }

  private app(name: string, app: AppFile, notifications: Record<string, unknown>): App {
    const at = `apps.${name}`;
    // A valid repository name too, but one no push ever carries: ECR events name the repository alone.
    const uri = /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?\/(.+)$/.exec(app.repository);
    if (uri) this.problem(`${at}.repository`, `that is the repository's URI; write just its name ("${uri[1]}")`);
    let tags: RegExp | null = null;
    if (app.tags !== undefined) {
      try {
        // Compiled alone first: "v1)|(.*" is invalid by itself but valid (and unanchored) once wrapped.
        new RegExp(app.tags);
        tags = new RegExp(`^(?:${app.tags})$`);
        const trouble = tagPatternTrouble(app.tags);
        if (trouble) this.problem(`${at}.tags`, trouble);
      } catch (error) {
        this.problem(`${at}.tags`, `not a valid regular expression (${(error as Error).message}); the whole tag must match it, e.g. "v\\d+\\.\\d+\\.\\d+"`);
      }
    }
    const branches = app.branches ?? [DEFAULT_BRANCH];
    app.branches?.forEach((branch, i) => {
      const trouble = branchTrouble(branch);
      if (trouble) this.problem(`${at}.branches[${i}]`, trouble);
    });
    // A build of a branch that does not deploy pushes its image under a nodeploy- tag
    // (buildspec.yml): the push event must not deploy it either.
    if (app.build !== undefined && (tags === null || tags.test(NODEPLOY_SAMPLE_TAG))) {
      this.problem(
        `${at}.tags`,
        `${tags === null ? "leaving tags out deploys every tag, including" : "this pattern matches"} the tags buildspec.yml gives builds of branches and pull requests that do not deploy (e.g. ${NODEPLOY_SAMPLE_TAG}); ` +
          `with a build project, write a pattern that excludes them, e.g. "[0-9a-f]{7,40}"`,
      );
    }
    const notify = app.notify ?? [];
    this.checkNotify(`${at}.notify`, notify, notifications);
    this.checkVariableNames(`${at}.variables`, app.variables);

    const names = new Set<string>();
    const environments = app.environments.map((env, i) => {
      const envAt = `${at}.environments[${i}]`;
      this.regions.push({ at: `${envAt}.region`, env: `${name}/${env.name}`, region: env.region });
      if (names.has(env.name)) this.problem(`${envAt}.name`, `"${env.name}" is already used in this app; environment names must be unique`);
      names.add(env.name);
      if (env.notify) this.checkNotify(`${envAt}.notify`, env.notify, notifications);
      this.checkVariableNames(`${envAt}.variables`, env.variables);
      // Names as written, duplicates included, so that a repeated name does not shift "the previous one".
      return this.environment(
        envAt,
        name,
        app,
        env,
        i,
        app.environments.slice(0, i + 1).map((e) => e.name),
        notify,
      );
    });
    return { name, repository: app.repository, tags, buildProject: app.build, branches, environments };
  }

  private environment(at: string, app: string, appFile: AppFile, env: EnvironmentFile, index: number, earlier: string[], appNotify: string[]): Environment {
    const targets = env.targets
      .map((target, i): Target | null => {
        const targetAt = `${at}.targets[${i}]`;
        const cluster = this.clusterName(`${targetAt}.cluster`, target.cluster, env.region);
        if (!/^[A-Za-z0-9_-]{1,255}$/.test(target.service)) {
          this.problem(`${targetAt}.service`, "must be an ECS service name: letters, digits, hyphens, underscores");
        }
        const key = `${env.region}/${cluster}/${target.service}`;
        const owner = this.services.get(key);
        if (owner) this.problem(`${targetAt}`, `service ${key} is already deployed by ${owner}; a service can have one owner`);
        this.services.set(key, targetAt);

        const templatePath = target.template ?? env.template ?? appFile.template;
        if (!templatePath) {
          this.problem(`${targetAt}.template`, "no template: set template on the target, its environment or its app");
          return null;
        }
        const template = this.template(`${target.template ? targetAt : env.template ? at : `apps.${app}`}.template`, templatePath);
        this.checkVariableNames(`${targetAt}.variables`, target.variables);
        const variables = { ...appFile.variables, ...env.variables, ...target.variables };
        if (!template) return null;
        const result: Target = {
          app,
          env: env.name,
          region: env.region,
          cluster,
          service: target.service,
          key,
          templateFile: template.file,
          template,
          variables,
        };
        this.trialRender(targetAt, result);
        return result;
      })
      .filter((t): t is Target => t !== null);

    let promote: Environment["promote"];
    if (env.promote) {
      const from = env.promote.from ?? earlier[earlier.length - 2];
      if (index === 0) this.problem(`${at}.promote`, "the first environment is fed by pushes; only later ones can be promoted to");
      else if (!from || !earlier.slice(0, -1).includes(from)) {
        this.problem(`${at}.promote.from`, `"${from}" is not an earlier environment of this app (${earlier.slice(0, -1).join(", ")})`);
      }
      promote = {
        from: from ?? "",
        approval: env.promote.approval ?? "auto",
        expiresAfterSeconds: this.duration(`${at}.promote.expiresAfter`, env.promote.expiresAfter ?? "24h"),
      };
      if (promote.expiresAfterSeconds === 0) this.problem(`${at}.promote.expiresAfter`, "must be longer than 0s: a person needs time to approve");
    }

    const deadlineSeconds = this.duration(`${at}.deadline`, env.deadline ?? "30m");
    if (deadlineSeconds === 0) this.problem(`${at}.deadline`, "must be longer than 0s");
    const before = this.problems.length;
    const strategy = this.strategy(`${at}.strategy`, env.strategy);
    const baking = bakeSeconds(strategy);
    if (this.problems.length === before && deadlineSeconds > 0 && baking >= deadlineSeconds) {
      this.problem(
        `${at}.deadline`,
        `${env.deadline ?? "30m"} is not longer than the ${strategy.type} strategy's bake times alone (${baking / 60}m): every rollout would time out; set a deadline above ${baking / 60}m plus the rollout itself`,
      );
    }
    return {
      app,
      name: env.name,
      region: env.region,
      targets,
      alarms: (env.alarms ?? []).map((alarm, i) => this.alarmName(`${at}.alarms[${i}]`, alarm, env.region)),
      // ECS ignores an alarm already firing when a deployment starts: refusing is the safe default
      // where it matters most, in production.
      whenAlarmFiring: env.whenAlarmFiring ?? (/^prod/i.test(env.name) ? "refuse" : "warn"),
      watchSeconds: this.duration(`${at}.watch`, env.watch ?? "10m"),
      deadlineSeconds,
      onTimeout: env.onTimeout ?? "report",
      strategy,
      promote,
      notify: env.notify ?? appNotify,
    };
  }

  /**
   * A duration's seconds, at most a year: "99999999999999999999d" matches the pattern, and a
   * deadline that far from now is past the last Date, so every deployment would fail on it.
   */
  private duration(at: string, text: string): number {
    const seconds = parseDuration(text);
    if (seconds > MAX_DURATION_SECONDS) {
      this.problem(at, "must be at most a year (365d); nothing in a deployment waits longer");
      return MAX_DURATION_SECONDS;
    }
    return seconds;
  }

  private template(at: string, path: string): TaskDefinitionTemplate | null {
    const file = resolve(this.dir, path);
    if (!this.templates.has(file)) {
      let template: TaskDefinitionTemplate | null = null;
      try {
        template = parseTemplate(this.readText(file), path);
        if (!template.placeholders.includes("image")) {
          this.problem(at, `${path} never uses {{ image }}, so a push would not change what runs; set a container's image to "{{ image }}"`);
        }
      } catch (error) {
        if (error instanceof TemplateError) error.problems.forEach((p) => this.problem(at, `${path}: ${p}`));
        else if (error instanceof UnreadableFile) this.problem(at, `${path} ${error.message}`);
        else
          this.problem(
            at,
            `cannot read ${path} (${(error as NodeJS.ErrnoException | undefined)?.code ?? String(error)}); paths are relative to the config file`,
          );
      }
      this.templates.set(file, template);
    }
    return this.templates.get(file) ?? null;
  }

  /** Renders with sample built-ins so that missing variables and ECS rule breaks surface now. */
  private trialRender(at: string, target: Target): void {
    const sample = sampleImage(target.region);
    const builtins = Object.fromEntries(BUILTIN_VARIABLES.map((name) => [name, name === "image" ? `${sample.repositoryUri}@${sample.digest}` : name]));
    const missing = target.template.placeholders.filter((p) => !Object.hasOwn(builtins, p) && !Object.hasOwn(target.variables, p));
    if (missing.length > 0) {
      this.problem(
        at,
        `${target.template.file} uses ${missing.map((m) => `{{ ${m} }}`).join(", ")} but ${target.env} defines no value; add them under variables`,
      );
      return;
    }
    const result = renderWith(target.template, { ...target.variables, ...builtins });
    if (!result.ok) return result.problems.forEach((p) => this.problem(at, p));
    checkTaskDefinitionShape(result.input).forEach((p) => this.problem(at, `${target.template.file}: ${p}`));
    if (target.template.placeholders.includes("image") && !(result.input.containerDefinitions ?? []).some((c) => c.image === builtins.image)) {
      this.problem(
        at,
        `${target.template.file}: no container's "image" is "{{ image }}" (it is used elsewhere only), so the image deployed would not be the one that runs; set the app container's "image" to "{{ image }}"`,
      );
    }
  }

  private strategy(at: string, file: StrategyFile | undefined): Strategy {
    if (!file) return { type: "ROLLING" };
    const minutes = (field: string, value: string | undefined): number | undefined => {
      if (value === undefined) return undefined;
      const seconds = parseDuration(value);
      if (seconds % 60 !== 0 || seconds > 1440 * 60) this.problem(`${at}.${field}`, "ECS counts bake time in whole minutes, 0 to 1440 (24h)");
      return Math.round(seconds / 60);
    };
    const type = ({ rolling: "ROLLING", "blue-green": "BLUE_GREEN", linear: "LINEAR", canary: "CANARY" } as const)[file.type];
    const strategy: Strategy = { type };
    const fieldsOf = { linear: ["stepPercent", "stepBakeTime"], canary: ["canaryPercent", "canaryBakeTime"] } as const;
    for (const [kind, fields] of Object.entries(fieldsOf)) {
      for (const field of fields) {
        if (file[field] !== undefined && file.type !== kind) this.problem(`${at}.${field}`, `only applies to type: ${kind}`);
      }
    }
    if (file.type === "rolling" && (file.bakeTime !== undefined || file.hooks)) {
      this.problem(at, "bakeTime and hooks apply to blue-green, linear and canary, not rolling");
    }
    strategy.bakeTimeMinutes = minutes("bakeTime", file.bakeTime);
    if (file.type === "linear") {
      if (file.stepPercent !== undefined && file.stepPercent < 3) this.problem(`${at}.stepPercent`, "ECS needs at least 3");
      strategy.linear = { stepPercent: file.stepPercent ?? 10, stepBakeTimeMinutes: minutes("stepBakeTime", file.stepBakeTime) ?? 6 };
    }
    if (file.type === "canary") {
      strategy.canary = { canaryPercent: file.canaryPercent ?? 5, canaryBakeTimeMinutes: minutes("canaryBakeTime", file.canaryBakeTime) ?? 10 };
    }
    if (file.hooks) {
      strategy.lifecycleHooks = file.hooks.map((hook, i) => {
        if (!/^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[\w-]+(:[\w-]+)?$/.test(hook.target)) {
          this.problem(`${at}.hooks[${i}].target`, "must be a Lambda function ARN");
        }
        if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(hook.role)) {
          this.problem(`${at}.hooks[${i}].role`, "must be an IAM role ARN");
        }
        return { hookTargetArn: hook.target, roleArn: hook.role, lifecycleStages: hook.stages };
      });
    }
    for (const key of Object.keys(strategy) as (keyof Strategy)[]) if (strategy[key] === undefined) delete strategy[key];
    return strategy;
  }

  private clusterName(at: string, value: string, region: string): string {
    const arn = /^arn:aws[a-z-]*:ecs:([a-z0-9-]+):\d{12}:cluster\/([A-Za-z0-9_-]{1,255})$/.exec(value);
    if (arn) {
      if (arn[1] !== region) this.problem(at, `the cluster is in ${arn[1]} but the environment is in ${region}`);
      return arn[2] as string;
    }
    if (value.startsWith("arn:")) this.problem(at, "not a cluster ARN (arn:aws:ecs:REGION:ACCOUNT:cluster/NAME); or write just the name");
    else if (!/^[A-Za-z0-9_-]{1,255}$/.test(value)) this.problem(at, "must be a cluster name (letters, digits, hyphens, underscores) or ARN");
    return value;
  }

  private alarmName(at: string, value: string, region: string): string {
    const arn = /^arn:aws[a-z-]*:cloudwatch:([a-z0-9-]+):\d{12}:alarm:(.{1,255})$/.exec(value);
    if (arn) {
      if (arn[1] !== region) this.problem(at, `the alarm is in ${arn[1]} but the environment is in ${region}`);
      return arn[2] as string;
    }
    if (value.startsWith("arn:")) this.problem(at, "not an alarm ARN (arn:aws:cloudwatch:REGION:ACCOUNT:alarm:NAME); or write just the name");
    else if (value.length > 255 || /[\u0000-\u001f]/.test(value)) this.problem(at, "not a CloudWatch alarm name");
    return value;
  }

  /** A key ARN: IAM grants kms:Decrypt on keys, and an alias in a policy controls nothing. */
  private kmsKey(at: string, value: string): { kmsKey: string } | null {
    if (/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/.test(value))
      return { kmsKey: value };
    this.problem(
      at,
      /alias\//.test(value)
        ? `an alias cannot be granted kms:Decrypt in IAM; write the key's ARN (aws kms describe-key --key-id ${value.replace(/^arn:[^:]+:kms:[^:]+:\d+:/, "")} --query KeyMetadata.Arn)`
        : "must be the ARN of the KMS key the parameters or secrets are encrypted with, e.g. arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    );
    return null;
  }

  private secretRef(at: string, value: string): SecretRef | null {
    let m: RegExpExecArray | null;
    if ((m = /^ssm:(\/?[A-Za-z0-9_.\-/]{1,2048})$/.exec(value))) return { store: "ssm", name: m[1] as string };
    if (/^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter\/.+$/.test(value)) return { store: "ssm", name: value };
    if ((m = /^secretsmanager:([A-Za-z0-9/_+=.@-]{1,512})$/.exec(value))) return { store: "secretsmanager", id: m[1] as string };
    if (/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/.test(value)) return { store: "secretsmanager", id: value };
    this.problem(
      at,
      /^https?:/i.test(value)
        ? "never write a webhook URL or secret into the config; store it in SSM Parameter Store (SecureString) or Secrets Manager and write ssm:/path or secretsmanager:name"
        : "must be ssm:/parameter/name, secretsmanager:secret-name, or the parameter's or secret's ARN",
    );
    return null;
  }

  private checkVariableNames(at: string, variables: Record<string, unknown> | undefined): void {
    for (const name of Object.keys(variables ?? {})) {
      if ((BUILTIN_VARIABLES as readonly string[]).includes(name)) {
        this.problem(`${at}.${name}`, `"${name}" is built in (${BUILTIN_VARIABLES.join(", ")}); rename yours`);
      }
    }
  }

  private readonly regions: { at: string; env: string; region: string }[] = [];

  /** EventBridge delivers only its own region's events: one stack serves one region. */
  private checkOneRegion(): void {
    const byRegion = new Map<string, string[]>();
    for (const r of this.regions) byRegion.set(r.region, [...(byRegion.get(r.region) ?? []), r.env]);
    if (byRegion.size < 2) return;
    const first = this.regions[0]?.region;
    const list = [...byRegion].map(([region, envs]) => `${region} (${envs.join(", ")})`).join("; ");
    this.problem(
      this.regions.find((r) => r.region !== first)?.at ?? "apps",
      `environments span several regions: ${list}. EventBridge only delivers the ECR, CodeBuild, ECS and CloudWatch events of its own region, so one Stevedore stack serves one region; keep one region per config`,
    );
  }

  private checkNotify(at: string, names: string[], notifications: Record<string, unknown>): void {
    names.forEach((name, i) => {
      if (!(name in notifications)) {
        const known = Object.keys(notifications);
        this.problem(`${at}[${i}]`, `"${name}" is not defined under notifications${known.length ? ` (defined: ${known.join(", ")})` : ""}`);
      }
    });
  }
}

/** Seconds a strategy bakes before ECS can complete a rollout (the ECS documentation's steps). */
function bakeSeconds(strategy: Strategy): number {
  const bake = strategy.bakeTimeMinutes ?? 0;
  if (strategy.type === "CANARY") return ((strategy.canary?.canaryBakeTimeMinutes ?? 10) + bake) * 60;
  if (strategy.type === "LINEAR") {
    const steps = Math.ceil(100 / (strategy.linear?.stepPercent ?? 10));
    return ((steps - 1) * (strategy.linear?.stepBakeTimeMinutes ?? 6) + bake) * 60;
  }
  return strategy.type === "BLUE_GREEN" ? bake * 60 : 0;
}

/**
 * Why a tags pattern would never match an ECR tag (letters, digits, `_ . -`, at most 128) or
 * could take super-linear time on one, or undefined. A quantified group that itself contains a
 * quantifier, as in `(a+)+b`, backtracks exponentially on a long tag that almost matches.
 */
export function tagPatternTrouble(pattern: string): string | undefined {
  if (/^\/.*\/[a-z]*$/.test(pattern)) return `write the expression without the JavaScript slashes: "${pattern.replace(/^\/(.*)\/[a-z]*$/, "$1")}"`;
  if (pattern.includes("/")) return 'ECR tags never contain "/", so this matches no tag; tags hold letters, digits, "_", "." and "-"';
  if (/^[A-Za-z0-9_.-]*\*[A-Za-z0-9_.*-]*$/.test(pattern) && !pattern.includes(".*")) {
    return `this looks like a glob, but tags is a regular expression matched against the whole tag: write "${pattern.replace(/\*/g, ".*")}"`;
  }
  if (nestedQuantifier(pattern)) {
    return 'a quantified group contains a quantifier (like (a+)+): matching a long tag can take exponential time; write it without the nesting, e.g. "a+b" for "(a+)+b"';
  }
  return undefined;
}

/**
 * Whether a quantified group holds a quantifier and no mandatory literal to separate its
 * repetitions: then one stretch of a tag can be split between repetitions in exponentially many
 * ways, as in `(a+)+` or `([a-z]+-?)+`. `(\\d+\\.)*` is safe: every repetition ends at a ".".
 */
function nestedQuantifier(pattern: string): boolean {
  // separated: the current alternative has a mandatory literal; open: an earlier alternative had none.
  interface Group {
    quantified: boolean;
    separated: boolean;
    open: boolean;
  }
  const groups: Group[] = [{ quantified: false, separated: false, open: false }];
  // The quantifier at i (a lazy "?" after it included): how long, unbounded, optional.
  const quantifierAt = (i: number): { length: number; unbounded: boolean; optional: boolean } | undefined => {
    const c = pattern[i];
    const braces = c === "{" ? /^\{(\d*)(,?)(\d*)\}/.exec(pattern.slice(i)) : null;
    const q =
      c === "+"
        ? { length: 1, unbounded: true, optional: false }
        : c === "*"
          ? { length: 1, unbounded: true, optional: true }
          : c === "?"
            ? { length: 1, unbounded: false, optional: true }
            : braces
              ? { length: braces[0].length, unbounded: braces[2] === "," && braces[3] === "", optional: (braces[1] || "0") === "0" }
              : undefined;
    if (q && pattern[i + q.length] === "?") q.length++;
    return q;
  };
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    const top = groups[groups.length - 1] as Group;
    if (c === "(") {
      groups.push({ quantified: false, separated: false, open: false });
      if (pattern[i + 1] === "?") i += pattern[i + 2] === "<" ? 3 : 2; // (?: (?= (?! (?<= (?<!
      continue;
    }
    let end = i;
    let literal = false;
    if (c === ")") {
      const inner = groups.pop() as Group;
      const separated = inner.separated && !inner.open;
      const q = quantifierAt(i + 1);
      if (q?.unbounded && inner.quantified && !separated) return true;
      const outer = groups[groups.length - 1] ?? top;
      outer.quantified ||= inner.quantified || !!q?.unbounded;
      if (separated && q === undefined) outer.separated = true;
      i += q?.length ?? 0;
      continue;
    }
    if (c === "|") {
      top.open ||= !top.separated;
      top.separated = false;
      continue;
    }
    if (c === "^" || c === "$") continue;
    if (c === "\\") {
      end = i + 1;
      literal = !/[dDwWsSbB]/.test(pattern[i + 1] ?? "");
    } else if (c === "[") {
      while (end < pattern.length && pattern[end] !== "]") end += pattern[end] === "\\" ? 2 : 1;
    } else {
      literal = c !== ".";
    }
    const q = quantifierAt(end + 1);
    if (q?.unbounded) top.quantified = true;
    if (literal && q === undefined) top.separated = true;
    i = end + (q?.length ?? 0);
  }
  return false;
}

// What the sandbox takes from serverless.yml, so that the local pipeline is built from the same
// declarations as the deployed one, not from a copy of them.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { CreateTableCommandInput } from "@aws-sdk/client-dynamodb";
import { load, Schema, Type } from "js-yaml";
import { loadConfig } from "../shared/config/load";

// CloudFormation's short-form tags (!Ref, !GetAtt, …) as their long forms.
const intrinsic = (tag: string, kinds: ("scalar" | "sequence" | "mapping")[]) =>
  kinds.map(
    (kind) =>
      new Type(`!${tag}`, {
        kind,
        construct: (data: unknown) => {
          const name = tag === "Ref" || tag === "Condition" ? tag : `Fn::${tag}`;
          return { [name]: tag === "GetAtt" && typeof data === "string" ? data.split(".") : data };
        },
      }),
  );

const CLOUDFORMATION = new Schema(
  [
    "Ref",
    "GetAtt",
    "Sub",
    "Join",
    "Select",
    "Split",
    "If",
    "Equals",
    "Not",
    "And",
    "Or",
    "FindInMap",
    "ImportValue",
    "Base64",
    "Cidr",
    "GetAZs",
    "Condition",
  ].flatMap((tag) => intrinsic(tag, ["scalar", "sequence", "mapping"])),
);

export interface ServerlessFile {
  service: string;
  provider: Record<string, unknown>;
  functions: Record<string, { handler: string; timeout?: number; events?: Record<string, unknown>[] } & Record<string, unknown>>;
  /** osls merges a list of these (a `${file(…)}` among them resolves only under osls itself). */
  resources: Resources | (Resources | string)[];
}

type Resources = { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };

export function readServerless(path = "serverless.yml"): ServerlessFile {
  return load(readFileSync(path, "utf8"), { schema: CLOUDFORMATION }) as ServerlessFile;
}

/** The records table as serverless.yml declares it, as a CreateTable request. */
export function recordsTable(tableName: string, file: ServerlessFile = readServerless()): CreateTableCommandInput {
  const resource = [file.resources]
    .flat()
    .flatMap((part) => (typeof part === "string" ? [] : [part.Resources.RecordsTable]))
    .find(Boolean);
  if (resource?.Type !== "AWS::DynamoDB::Table") throw new Error("serverless.yml declares no RecordsTable of type AWS::DynamoDB::Table");
  // CloudFormation-only properties (recovery, encryption, retention) mean nothing locally.
  const { PointInTimeRecoverySpecification: _pitr, SSESpecification: _sse, StreamSpecification: stream, ...properties } = resource.Properties;
  return {
    ...(properties as Omit<CreateTableCommandInput, "TableName">),
    TableName: tableName,
    ...(stream ? { StreamSpecification: { StreamEnabled: true, ...(stream as object) } } : {}),
  };
}

// ── serverless.yml resolved by osls itself ───────────────────────────────────────────────────

export interface ResolvedFunction {
  handler: string;
  /** The logical id of its role among the stack's resources. */
  role?: string;
  timeout?: number;
  maximumRetryAttempts?: number;
  events?: ResolvedEvent[];
}

export type ResolvedEvent =
  | { eventBridge: { pattern?: Record<string, unknown>; schedule?: string; enabled?: boolean } }
  | { stream: { type: string; batchSize?: number; maximumRetryAttempts?: number; functionResponseType?: string; filterPatterns?: Record<string, unknown>[] } };

export interface ResolvedStack {
  service: string;
  /** The pipeline config it was resolved with: the world loads the same one. */
  configFile: string;
  functions: Record<string, ResolvedFunction>;
  /** The stack's CloudFormation resources (the roles and their policies among them). */
  resources?: Record<string, Record<string, any>>;
}

/**
 * The pipeline config the sandbox's worlds run: the scenarios, the fault matrix and the benches
 * name its apps, services and alarms. examples/stevedore.yml is for people to edit, so no world
 * depends on it.
 */
export const WORLD_CONFIG = "sandbox/fixtures/stevedore.yml";

/**
 * The functions and their event sources exactly as `osls print` resolves serverless.yml (the
 * same resolution `osls deploy` uses, variables from infra/stack.cjs included). It takes a few
 * seconds, so the result is cached under .build/ by a hash of every input it depends on.
 */
export function resolveStack(configFile: string): ResolvedStack {
  const inputs = [
    "serverless.yml",
    ...readdirSync("infra")
      .sort()
      .map((f) => join("infra", f)),
    configFile,
    ...templateFiles(configFile),
  ];
  const hash = createHash("sha256").update("resolved-stack/3");
  for (const file of inputs) hash.update(file).update(readFileSync(file));
  const cache = join(".build", "sandbox", `stack-${hash.digest("hex").slice(0, 16)}.json`);
  if (existsSync(cache)) return deployedIn(JSON.parse(readFileSync(cache, "utf8")) as ResolvedStack);

  const out = spawnSync(join("node_modules", ".bin", "osls"), ["print", "--format", "json"], {
    encoding: "utf8",
    env: { ...process.env, STEVEDORE_CONFIG: configFile, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (out.status !== 0) throw new Error(`osls print failed:\n${out.stderr || out.stdout}`);
  const printed = JSON.parse(out.stdout.slice(out.stdout.indexOf("{"))) as ResolvedStack & { resources?: { Resources?: ResolvedStack["resources"] } };
  const stack: ResolvedStack = { service: printed.service, configFile, functions: printed.functions, resources: printed.resources?.Resources ?? {} };
  mkdirSync(dirname(cache), { recursive: true });
  writeFileSync(cache, JSON.stringify(stack));
  return deployedIn(stack);
}

/** The sandbox's account, what `{ Ref: AWS::AccountId }` in an event pattern resolves to. */
export const SANDBOX_ACCOUNT = "123456789012";

/**
 * What CloudFormation does to the event patterns on deploy: the account's pseudo parameter
 * becomes the account. Any other intrinsic is left as it is, and the bus refuses the pattern.
 */
export function inAccount<T>(value: T, account = SANDBOX_ACCOUNT): T {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== "object") return v;
    const entries = Object.entries(v);
    if (entries.length === 1 && entries[0]?.[0] === "Ref" && entries[0][1] === "AWS::AccountId") return account;
    return Object.fromEntries(entries.map(([k, inner]) => [k, walk(inner)]));
  };
  return walk(value) as T;
}

function deployedIn(stack: ResolvedStack): ResolvedStack {
  return { ...stack, functions: inAccount(stack.functions) };
}

function templateFiles(configFile: string): string[] {
  try {
    const config = loadConfig(configFile);
    const dir = dirname(resolve(configFile));
    return [...new Set(config.apps.flatMap((a) => a.environments.flatMap((e) => e.targets.map((t) => resolve(dir, t.templateFile)))))];
  } catch {
    return []; // an invalid config: osls print will say why
  }
}

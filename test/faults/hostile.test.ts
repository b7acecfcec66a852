// "Proof under fire": a generated corpus of hostile inputs, each of which must end in a clear
// error or a logged ignore: no crash, no hang, no unhandled rejection, no AWS write.
//
//   events     every handler (all eight, not only the event's own) fed every mutation of every
//              real-shaped event (test/faults/events.ts), with ECS, CloudWatch, CodeBuild and SSM
//              faked by aws-sdk-client-mock and the records table in a real local DynamoDB
//   configs    parseConfig fed every kind of config mistake (test/faults/configs.ts): ConfigError
//              with problems that each name a path, or nothing at all
//   templates  hostile variable VALUES through parseConfig + renderTarget: the task definition
//              keeps its shape and each value lands, once and verbatim, where its placeholder was
//
// Which cases may legitimately act: only those marked `mayAct` in events.ts (a valid push of
// shop/web with a matching tag, a valid build of shop-web); they may write, and still must not
// crash. Every other case must write nothing to AWS (no ECS/CloudWatch/CodeBuild/SSM command
// other than Describe/Get/List/BatchGet, no DynamoDB PutItem/UpdateItem/DeleteItem/
// TransactWriteItems/BatchWriteItem) and call no webhook. The controls at the end show that the
// harness does catch a write, a crash, a hang and an unhandled rejection.
import { runInThisContext } from "node:vm";
import { BatchGetBuildsCommand, CodeBuildClient } from "@aws-sdk/client-codebuild";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import type { Context } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { handler as notify } from "../../functions/notify";
import { handler as onAlarm } from "../../functions/on-alarm";
import { handler as onApproval } from "../../functions/on-approval";
import { handler as onBuildFinished } from "../../functions/on-build-finished";
import { handler as onDeploymentChanged } from "../../functions/on-deployment-changed";
import { handler as onImagePushed } from "../../functions/on-image-pushed";
import { handler as promote } from "../../functions/promote";
import { handler as sweep } from "../../functions/sweep";
import { parseConfig } from "../../shared/config/load";
import type { PipelineConfig } from "../../shared/config/model";
import { ConfigError, StevedoreError } from "../../shared/errors";
import { renderTarget, type Image } from "../../shared/render/task-definition";
import { fakeAws } from "../support/ecs";
import { fakeEcr } from "../support/ecr";
import { lambdaContext } from "../support/lambda";
import { shapeOf } from "../support/shape";
import { startDynamo, type TestDynamo } from "../support/local-dynamo";
import { acceptStops, awsError, pushEvent, QUIET_ALARMS, SERVICES, writesIn } from "../support/records";
import { BASE_TEXT, CONFIG_FILE, configWithValues, hostileConfigs, hostileValues, TEMPLATES, type ConfigCase, type ValueCase } from "./configs";
import { HANDLERS, hostileEvents, type EventCase, type HandlerName } from "./events";

const SEED = 0x0f1e2026;
/** Every handler call must settle within this. */
const BOUND_MS = 5_000;

const handlers: Record<HandlerName, (event: unknown, context: Context) => Promise<unknown>> = {
  "on-image-pushed": onImagePushed,
  "on-build-finished": onBuildFinished,
  "on-deployment-changed": onDeploymentChanged,
  "on-alarm": onAlarm,
  sweep,
  notify,
  promote,
  "on-approval": onApproval,
};

// ── what the runner watches ────────────────────────────────────────────────────────────

/**
 * Jest gives each test file its own copy of `process`; listeners on it never hear the real
 * process's events. The real one is the global of the main context.
 */
const realProcess = runInThisContext("process") as NodeJS.Process;
const escaped: { kind: "unhandledRejection" | "uncaughtException"; error: unknown }[] = [];
const onUnhandled = (error: unknown) => escaped.push({ kind: "unhandledRejection", error });
const onUncaught = (error: unknown) => escaped.push({ kind: "uncaughtException", error });

/** Text that only a programming error (or a runtime limit) produces, never a sentence of ours. */
const PROGRAMMING_ERROR =
  /\b(TypeError|RangeError|ReferenceError|SyntaxError|InternalError|EvalError)\b|Cannot read propert|Cannot set propert|Cannot convert|is not a function|is not iterable|undefined or null|Maximum call stack|Invalid time value|Invalid array length|Do not know how to serialize|circular structure|\[object Object\]/;

/** Read-only commands; anything else sent to a faked AWS client is a write. */
const READ_ONLY = /^(Describe|Get|List|BatchGet|Query|Scan)/;

let db: TestDynamo;
let aws: ReturnType<typeof fakeAws>;
// Every image asked about exists: the corpus's made-up pushes reach the deploy path.
fakeEcr({ anyImage: "2026-11-20T09:14:05Z" });
const codebuild = mockClient(CodeBuildClient);
const ssm = mockClient(SSMClient);
const exported = new Map<string, Record<string, string>>();
let webhookCalls = 0;
const realFetch = globalThis.fetch;

// Logger lines (JSON on stdout) are captured per case: an ERROR line is where a stream consumer
// reports a record it failed on, and it must read as a sentence, not as a TypeError.
let logLines: string[] = [];
let largestLogLine = 0;
const realWrite = realProcess.stdout.write.bind(realProcess.stdout);

function commandNames(mock: { calls(): { args: unknown[] }[] }, from: number): string[] {
  return mock
    .calls()
    .slice(from)
    .map((c) => (c.args[0] as object).constructor.name.replace(/Command$/, ""));
}

function snapshot() {
  return {
    ecs: aws.ecs.calls().length,
    cloudwatch: aws.cloudwatch.calls().length,
    codebuild: codebuild.calls().length,
    ssm: ssm.calls().length,
    dynamo: db.calls.length,
    webhooks: webhookCalls,
    logs: logLines.length,
  };
}

function writesSince(s: ReturnType<typeof snapshot>): string[] {
  const sdk = [
    ...commandNames(aws.ecs, s.ecs).map((n) => `ECS ${n}`),
    ...commandNames(aws.cloudwatch, s.cloudwatch).map((n) => `CloudWatch ${n}`),
    ...commandNames(codebuild, s.codebuild).map((n) => `CodeBuild ${n}`),
    ...commandNames(ssm, s.ssm).map((n) => `SSM ${n}`),
  ].filter((name) => !READ_ONLY.test(name.split(" ")[1] ?? ""));
  return [
    ...sdk,
    ...writesIn(db.calls.slice(s.dynamo)).map((n) => `DynamoDB ${n}`),
    ...(webhookCalls > s.webhooks ? [`${webhookCalls - s.webhooks} webhook call(s)`] : []),
  ];
}

type Outcome = { kind: "resolved"; value: unknown } | { kind: "rejected"; error: unknown } | { kind: "timeout" };

/** Calls `fn`, and says how it ended and how long it took (a synchronous hang shows in `ms`). */
async function settle(fn: () => unknown, boundMs: number): Promise<{ outcome: Outcome; ms: number }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve({ kind: "timeout" }), boundMs);
  });
  const run = Promise.resolve()
    .then(fn)
    .then(
      (value): Outcome => ({ kind: "resolved", value }),
      (error: unknown): Outcome => ({ kind: "rejected", error }),
    );
  const outcome = await Promise.race([run, timeout]);
  clearTimeout(timer);
  return { outcome, ms: performance.now() - started };
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message.slice(0, 300)}`;
  return `a thrown ${typeof error}: ${String(error).slice(0, 100)}`;
}

/** A logged line's message and error, without the context fields. */
function logSummary(line: string): string {
  try {
    const { message, error } = JSON.parse(line) as { message?: string; error?: unknown };
    return `"${String(message).slice(0, 120)}" ${error === undefined ? "" : `error: ${JSON.stringify(error).slice(0, 200)}`}`;
  } catch {
    return line.slice(0, 300);
  }
}

/** Why an error is not a clear one (or null when it is). */
function unclearError(error: unknown): string | null {
  if (!(error instanceof Error)) return `rejected with a non-Error (${describeError(error)})`;
  if (!(error instanceof StevedoreError)) return `rejected with ${describeError(error)}: not a StevedoreError`;
  if (!/\w{3,}.*\s.*\w{3,}/.test(error.message)) return `rejected with an empty or wordless message: ${describeError(error)}`;
  if (PROGRAMMING_ERROR.test(error.message)) return `rejected with a programming error inside: ${describeError(error)}`;
  return null;
}

interface Verdict {
  problems: string[];
  writes: string[];
  outcome: Outcome;
  ms: number;
}

/**
 * Runs one handler on one input and judges it: settles within the bound; resolves with a value
 * Lambda can serialise, or rejects with a StevedoreError whose message is a sentence; logs no
 * programming error; writes nothing unless `mayAct`; leaves Object.prototype alone.
 */
async function runCase(
  fn: (event: unknown, context: Context) => unknown,
  event: unknown,
  options: { mayAct?: boolean; boundMs?: number; name?: string } = {},
): Promise<Verdict> {
  const bound = options.boundMs ?? BOUND_MS;
  const before = snapshot();
  const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).length;
  const { outcome, ms } = await settle(() => fn(event, lambdaContext(options.name ?? "stevedore-faults", 60_000)), bound);
  const problems: string[] = [];
  if (outcome.kind === "timeout") problems.push(`did not settle within ${bound} ms`);
  else if (ms > bound) problems.push(`took ${Math.round(ms)} ms (bound ${bound} ms): it blocked`);
  if (outcome.kind === "rejected") {
    const unclear = unclearError(outcome.error);
    if (unclear) problems.push(unclear);
  }
  if (outcome.kind === "resolved") {
    try {
      JSON.stringify(outcome.value);
    } catch (error) {
      problems.push(`resolved with a value Lambda cannot serialise (${describeError(error)})`);
    }
  }
  for (const line of logLines.slice(before.logs)) {
    largestLogLine = Math.max(largestLogLine, line.length);
    if (line.includes('"level":"ERROR"') && PROGRAMMING_ERROR.test(line)) problems.push(`logged a programming error: ${logSummary(line)}`);
  }
  const writes = writesSince(before);
  if (!options.mayAct && writes.length > 0) problems.push(`wrote to AWS: ${writes.join(", ")}`);
  if (Object.getOwnPropertyNames(Object.prototype).length !== prototypeKeys || ({} as Record<string, unknown>).polluted !== undefined) {
    problems.push("polluted Object.prototype");
  }
  return { problems, writes, outcome, ms };
}

// ── the suite ──────────────────────────────────────────────────────────────────────────

/** The slowest handler calls, for the summary: where the time bound is closest to biting. */
const slowest: { ms: number; what: string }[] = [];
const totals = { handlerCalls: 0, resolved: 0, rejected: 0, acted: 0 };

beforeAll(async () => {
  realProcess.on("unhandledRejection", onUnhandled);
  realProcess.on("uncaughtException", onUncaught);
  realProcess.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    if (text.startsWith('{"level":')) {
      logLines.push(text);
      return true;
    }
    return (realWrite as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof realProcess.stdout.write;
  // The local DynamoDB forwards to dynalite with fetch (x-amz-target DynamoDB_…); any other
  // fetch is a webhook delivery, which no hostile input may cause.
  globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const target = new Headers(init?.headers).get("x-amz-target") ?? "";
    if (target.startsWith("DynamoDB_")) return realFetch(input, init);
    webhookCalls++;
    throw new Error("the fault corpus has no network");
  }) as typeof fetch;
  db = await startDynamo();
  aws = fakeAws({ services: SERVICES, alarms: QUIET_ALARMS });
  acceptStops(aws);
  codebuild.on(BatchGetBuildsCommand).callsFake((input: { ids: string[] }) => {
    const id = input.ids[0] ?? "";
    const variables = exported.get(id);
    if (!variables) return { builds: [], buildsNotFound: input.ids };
    return { builds: [{ id, exportedEnvironmentVariables: Object.entries(variables).map(([name, value]) => ({ name, value })) }] };
  });
  // Destinations whose secrets cannot be read yet (throttled): a valid final word in the corpus
  // goes back to the stream unsent. A missing parameter would make it a legitimate write: the
  // final word kept as undelivered (shared/notify/notify.ts), which test/notify/notify.test.ts covers.
  ssm.on(GetParameterCommand).rejects(awsError("ThrottlingException", "Rate exceeded"));
});

afterAll(async () => {
  realProcess.stdout.write = realWrite as typeof realProcess.stdout.write;
  globalThis.fetch = realFetch;
  aws.restore();
  codebuild.restore();
  ssm.restore();
  await db.close();
  realProcess.off("unhandledRejection", onUnhandled);
  realProcess.off("uncaughtException", onUncaught);
  const line =
    `fault corpus (seed 0x${SEED.toString(16)}): ${EVENTS.length} hostile events → ${totals.handlerCalls} handler calls ` +
    `(${totals.resolved} resolved, ${totals.rejected} rejected with a clear error, ${totals.acted} valid ones acted), ` +
    `${CONFIGS.length} hostile configs (${configOutcomes.rejected} ConfigErrors with ${configOutcomes.problems} problems, ${configOutcomes.loaded} still-valid truncations or allowed types loaded), ` +
    `${VALUES.length} hostile-value configs rendered end to end; largest log line ${largestLogLine} chars\n`;
  realWrite(line);
  realWrite(`slowest calls: ${slowest.map((s) => `${Math.round(s.ms)} ms ${s.what}`).join("; ")}\n`);
});

/**
 * Each test of the events and the controls starts from an empty records table, which the cases
 * of one test (a chunk of up to 300) share. Only the `mayAct` categories write, and their chunks
 * hold nothing else: a later push or build there may find an earlier one's deployment in flight,
 * a path the handlers must take without a crash too. Every other chunk leaves the table empty.
 */
async function emptyTable(): Promise<void> {
  await db.reset();
  logLines = [];
}

/** `cases` in runs of `size`, each named by its first and last id and its length. */
function batches<C extends { id: string }>(cases: readonly C[], size: number): [string, C[]][] {
  const out: [string, C[]][] = [];
  for (let i = 0; i < cases.length; i += size) {
    const batch = cases.slice(i, i + size);
    out.push([`${batch[0]?.id}…${batch[batch.length - 1]?.id}, ${batch.length} cases`, batch]);
  }
  return out;
}

/** `batches` of each category in turn, named by the category too. */
function byCategory<C extends { id: string; category: string }>(cases: readonly C[], size = cases.length): [string, C[]][] {
  return [...new Set(cases.map((c) => c.category))].flatMap((category) =>
    batches(
      cases.filter((c) => c.category === category),
      size,
    ).map(([range, batch]): [string, C[]] => [`${category} (${range})`, batch]),
  );
}

/** Every failure found, the first 25 shown. */
function expectNone(failures: string[]): void {
  expect({ failures: failures.length, first: failures.slice(0, 25) }).toEqual({ failures: 0, first: [] });
}

const EVENTS = hostileEvents(SEED);

async function runEventCase(c: EventCase): Promise<string[]> {
  const failures: string[] = [];
  if (c.exported) exported.set(c.exported.buildId, c.exported.variables);
  for (const name of c.only ?? HANDLERS) {
    const unhandledBefore = escaped.length;
    // A fresh event per handler: no handler may see what another one did to it.
    const verdict = await runCase(handlers[name], c.make(), { mayAct: !!c.mayAct, name: `stevedore-${name}` });
    await new Promise((resolve) => setImmediate(resolve));
    if (escaped.length > unhandledBefore)
      verdict.problems.push(
        `${escaped.length - unhandledBefore} unhandled rejection(s) or uncaught exception(s): ${escaped
          .slice(unhandledBefore)
          .map((e) => describeError(e.error))
          .join("; ")}`,
      );
    slowest.push({ ms: verdict.ms, what: `${c.id} [${name}] ${c.what.slice(0, 80)}` });
    slowest.sort((a, b) => b.ms - a.ms).splice(5);
    totals.handlerCalls++;
    if (verdict.outcome.kind === "resolved") totals.resolved++;
    if (verdict.outcome.kind === "rejected") totals.rejected++;
    if (verdict.writes.length > 0) totals.acted++;
    for (const problem of verdict.problems) failures.push(`${c.id} [${name}] ${c.what} → ${problem}`);
  }
  return failures;
}

describe(`hostile events (mulberry32 seed 0x${SEED.toString(16)}): ${EVENTS.length} cases, each fed to every handler`, () => {
  beforeEach(emptyTable);

  it("the corpus is at least a thousand events, in every category the issue lists", () => {
    expect(EVENTS.length).toBeGreaterThanOrEqual(1000);
    const categories = new Set(EVENTS.map((c) => c.category));
    for (const category of [
      "field deleted",
      "wrong type",
      "truncated",
      "unknown source",
      "unknown detail-type",
      "huge",
      "hostile text",
      "number for string",
      "prototype keys",
      "deep nesting",
      "not an object",
      "mismatched detail",
    ]) {
      expect(categories).toContain(category);
    }
    // The corpus is the same on every run: ids name the same inputs.
    expect(hostileEvents(SEED).map((c) => c.what)).toEqual(EVENTS.map((c) => c.what));
  });

  // Cases grouped by category, in chunks, so a jest test runs a few hundred handler calls.
  it.each(byCategory(EVENTS, 300))(
    "%s: settle, write nothing (unless marked valid), never crash",
    async (_name, cases) => {
      const failures: string[] = [];
      for (const c of cases) failures.push(...(await runEventCase(c)));
      expectNone(failures);
    },
    120_000,
  );
});

// ── configs ────────────────────────────────────────────────────────────────────────────

const CONFIGS = hostileConfigs(SEED);

/** What one problem must look like: one line that starts with the path it is about (or YAML's line:column). */
function badProblem(problem: unknown): string | null {
  if (typeof problem !== "string" || problem.trim() === "") return `an empty problem: ${JSON.stringify(problem)}`;
  if (/[\n\r\u2028\u2029]/.test(problem)) return `a problem spread over lines: ${JSON.stringify(problem.slice(0, 200))}`;
  if (problem.length > 2000) return `a problem ${problem.length} characters long`;
  if (PROGRAMMING_ERROR.test(problem)) return `a programming error as a problem: ${problem.slice(0, 200)}`;
  // zod/mini's own words name no fix ("Invalid input", "must be record"): load.ts must translate them.
  if (/\bInvalid input\b|must be (record|object|array|union)\b/.test(problem)) return `zod's words, not ours: ${problem.slice(0, 200)}`;
  // js-yaml names the line and column where it has one ("… (24:7)"); a document-level one
  // ("expected a single document") is about the whole file, which the ConfigError names.
  if (problem.startsWith("not valid YAML: ")) return /^not valid YAML: \S/.test(problem) ? null : `an empty YAML problem: ${problem}`;
  const path = /^(\(file\)|[A-Za-z0-9_-]+|\[".*?"\])(\.[A-Za-z0-9_-]+|\[\d+\]|\[".*?"\])*: \S/;
  return path.test(problem) ? null : `a problem that names no path: ${problem.slice(0, 200)}`;
}

/** Reads the example templates, with `files` changed (a `null` one is missing). */
function templateReader(files: Record<string, string | null> = {}): (path: string) => string {
  const all: Record<string, string | null> = { ...TEMPLATES, ...files };
  return (path) => {
    const text = all[path];
    if (typeof text !== "string") throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: "ENOENT" });
    return text;
  };
}

const readerFor = (c: ConfigCase) => c.reader ?? templateReader(c.files);

/** The example config, which every hostile config and value case starts from. */
const BASE_CONFIG = parseConfig(BASE_TEXT, CONFIG_FILE, templateReader());

const configOutcomes = { rejected: 0, loaded: 0, problems: 0 };

type ConfigOutcome = { loaded: PipelineConfig } | { error: unknown };

/** parseConfig on one hostile config: a ConfigError whose problems each name a path, or (mayLoad) a config. */
function runConfig(c: ConfigCase): { outcome: ConfigOutcome; failures: string[] } {
  const failures: string[] = [];
  const text = c.text();
  const started = performance.now();
  let outcome: ConfigOutcome;
  try {
    outcome = { loaded: parseConfig(text, CONFIG_FILE, readerFor(c)) };
  } catch (error) {
    outcome = { error };
  }
  const ms = performance.now() - started;
  const fail = (why: string) => failures.push(`${c.id} ${c.category}: ${c.what} → ${why}`);
  if (ms > BOUND_MS) fail(`took ${Math.round(ms)} ms (bound ${BOUND_MS} ms)`);
  if ("loaded" in outcome) {
    if (!c.mayLoad) fail("loaded: a broken config was accepted");
  } else if (!(outcome.error instanceof ConfigError)) {
    fail(`threw ${describeError(outcome.error)}, not a ConfigError`);
  } else {
    const { problems } = outcome.error;
    if (problems.length === 0) fail("a ConfigError with no problems");
    for (const problem of problems) {
      const bad = badProblem(problem);
      if (bad) fail(bad);
    }
  }
  return { outcome, failures };
}

describe(`hostile configs (mulberry32 seed 0x${SEED.toString(16)}): ${CONFIGS.length} cases through parseConfig`, () => {
  it("the corpus has a few hundred configs, in every category", () => {
    expect(CONFIGS.length).toBeGreaterThanOrEqual(300);
    expect(new Set(CONFIGS.map((c) => c.category))).toEqual(
      new Set([
        "YAML syntax",
        "truncated",
        "wrong type",
        "unknown key",
        "duplicate key",
        "YAML bomb",
        "huge",
        "bad regex",
        "bad name or ARN",
        "bad variable",
        "template",
      ]),
    );
    // The base they all start from is valid (BASE_CONFIG loaded it): each case fails for what was done to it.
    expect(BASE_CONFIG.apps.map((a) => a.name)).toEqual(["shop-web", "shop-worker"]);
  });

  it.each(byCategory(CONFIGS))(
    "%s: a ConfigError whose problems each name a path, never another error, never a hang",
    (_name, cases) => {
      const failures: string[] = [];
      for (const c of cases) {
        const { outcome, failures: found } = runConfig(c);
        if ("loaded" in outcome) configOutcomes.loaded++;
        else if (outcome.error instanceof ConfigError) {
          configOutcomes.rejected++;
          configOutcomes.problems += outcome.error.problems.length;
        }
        failures.push(...found);
      }
      expectNone(failures);
    },
    120_000,
  );

  it("the oracle can fail: a valid config, a TypeError and a multi-line problem are each reported", () => {
    expect(runConfig({ id: "X1", category: "control", what: "the valid example", text: () => BASE_TEXT }).failures).toEqual([
      expect.stringMatching(/loaded: a broken config was accepted$/),
    ]);
    expect(badProblem("apps.web.tags: not valid\nsecond line")).toMatch(/spread over lines/);
    expect(badProblem("something is wrong somewhere")).toMatch(/names no path/);
    expect(badProblem("apps.web: TypeError: x is not a function")).toMatch(/programming error/);
    expect(badProblem("apps: must be record, not a list")).toMatch(/zod's words/);
    expect(badProblem('apps.shop-web["a b"]: unknown key')).toBeNull();
  });
});

// ── hostile template values, end to end ────────────────────────────────────────────────

const VALUES = hostileValues(SEED, 320);
const IMAGE: Image = {
  repository: "shop/web",
  repositoryUri: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/web",
  digest: `sha256:${"5b0d3c7a".repeat(8)}`,
};

type Rendered = { family?: string; containerDefinitions?: { image?: string; command?: string[]; environment?: { name: string; value: string }[] }[] };

function renderAll(config: PipelineConfig, image: Image): Map<string, Rendered | string[]> {
  const out = new Map<string, Rendered | string[]>();
  for (const target of config.apps.flatMap((a) => a.environments.flatMap((e) => e.targets))) {
    const result = renderTarget(target, image);
    out.set(target.key, result.ok ? (JSON.parse(JSON.stringify(result.input)) as Rendered) : result.problems);
  }
  return out;
}

const baseline = renderAll(BASE_CONFIG, { ...IMAGE, tag: "3f9c2ab", commit: "3f9c2ab" });

/**
 * ECS takes a task definition of at most 64 KiB, and the corpus's values are either a few hundred
 * bytes or 100,000 characters (configs.ts): a huge value cannot fit whatever the template around
 * it, a small one always does (the fixture's definitions are about 2 kB). The test of the corpus
 * below holds that split, so this oracle stays exact.
 */
const SMALL_VALUE_BYTES = 10_000;
const fitsNoDefinition = (value: string): boolean => Buffer.byteLength(JSON.stringify(value)) > 64 * 1024;
const REFUSED_FOR_SIZE = /the task definition is \d+ bytes of JSON, and Stevedore's tags can add \d+; ECS takes at most 65536/;

/**
 * Loads the config with `c`'s values and renders every target with `render` (the real one unless
 * a control swaps it). A value too long for any task definition is refused, naming the size: by
 * the loader when it is a config variable, by the render of the targets whose template uses it
 * when it comes with the image (the commit in web's, the tag in the workers').
 */
function runValues(c: ValueCase, render = renderAll): string[] {
  const failures: string[] = [];
  const fail = (why: string) => failures.push(`${c.id}: ${c.what} → ${why}`);
  const oversized = Object.values(c.variables).some(fitsNoDefinition);
  let config: PipelineConfig;
  try {
    config = parseConfig(configWithValues(c), CONFIG_FILE, templateReader());
  } catch (error) {
    if (!oversized || !REFUSED_FOR_SIZE.test(describeError(error))) fail(`the config did not load: ${describeError(error)}`);
    return failures;
  }
  if (oversized) fail("a config whose task definitions cannot fit ECS's 64 KiB loaded");
  const image = { ...IMAGE, tag: c.tag, commit: c.commit };
  const rendered = render(config, image);
  for (const [key, before] of baseline) {
    const after = rendered.get(key);
    if (fitsNoDefinition(key.endsWith("/web") ? c.commit : c.tag)) {
      if (!Array.isArray(after) || !after.some((p) => REFUSED_FOR_SIZE.test(p)))
        fail(`${key}: rendered past ECS's 64 KiB: ${JSON.stringify(after).slice(0, 200)}`);
      continue;
    }
    if (!after || Array.isArray(after) || Array.isArray(before)) {
      fail(`${key} did not render: ${JSON.stringify(after).slice(0, 300)}`);
      continue;
    }
    if (shapeOf(after).join("\n") !== shapeOf(before).join("\n")) fail(`${key}: the task definition's shape changed`);
    const container = after.containerDefinitions?.[0];
    const env = Object.fromEntries((container?.environment ?? []).map((e) => [e.name, e.value]));
    if (container?.image !== `${IMAGE.repositoryUri}@${IMAGE.digest}`) fail(`${key}: image is ${JSON.stringify(container?.image)}`);
    if (after.family !== before.family) fail(`${key}: family changed to ${JSON.stringify(after.family)}`);
    if (key.endsWith("/web")) {
      if (env.LOG_LEVEL !== c.variables.LOG_LEVEL) fail(`${key}: LOG_LEVEL is ${JSON.stringify(env.LOG_LEVEL)?.slice(0, 80)}, not the value verbatim`);
      if (env.GIT_COMMIT !== c.commit) fail(`${key}: GIT_COMMIT is not the commit verbatim`);
    } else {
      const command = container?.command ?? [];
      if (command[2] !== c.variables.QUEUE || command[4] !== c.variables.CONCURRENCY) fail(`${key}: the command is ${JSON.stringify(command).slice(0, 200)}`);
      if (env.IMAGE_TAG !== c.tag) fail(`${key}: IMAGE_TAG is not the tag verbatim`);
    }
  }
  return failures;
}

describe(`hostile template values through parseConfig + renderTarget (mulberry32 seed 0x${SEED.toString(16)}): ${VALUES.length} configs`, () => {
  it("has values either small or too long for any task definition, and both kinds", () => {
    const values = VALUES.flatMap((c) => [...Object.values(c.variables), c.tag, c.commit]);
    const sizes = values.map((v) => Buffer.byteLength(JSON.stringify(v)));
    expect(sizes.filter((n) => n > SMALL_VALUE_BYTES && !(n > 64 * 1024))).toEqual([]);
    expect(values.filter(fitsNoDefinition).length).toBeGreaterThan(0);
    expect(sizes.filter((n) => n <= SMALL_VALUE_BYTES).length).toBeGreaterThan(0);
  });

  it.each(batches(VALUES, 80))(
    "%s: every target renders with the template's shape, each value verbatim where its placeholder was, or is refused for ECS's size",
    (_name, cases) => {
      expectNone(cases.flatMap((c) => runValues(c)));
    },
    120_000,
  );

  it("the oracle can fail: a value that changes the shape, through a renderer that splices text, is caught", () => {
    const value = 'info","injected":"yes';
    const c: ValueCase = { id: "X1", what: "control", variables: { LOG_LEVEL: value, QUEUE: "jobs", CONCURRENCY: "4" }, tag: "3f9c2ab", commit: "3f9c2ab" };
    // The value spliced into the JSON text unescaped, as text templating would: it closes its
    // string and adds a key beside it.
    const splicing: typeof renderAll = (config, image) =>
      new Map(
        [...renderAll(config, image)].map(([key, rendered]): [string, Rendered | string[]] => [
          key,
          Array.isArray(rendered) ? rendered : JSON.parse(JSON.stringify(rendered).replaceAll(JSON.stringify(value).slice(1, -1), value)),
        ]),
      );
    expect(runValues(c)).toEqual([]);
    const webTargets = [...baseline.keys()].filter((key) => key.endsWith("/web"));
    expect(webTargets).toHaveLength(2);
    expect(runValues(c, splicing).filter((f) => f.includes("shape"))).toEqual(
      webTargets.map((key) => `X1: control → ${key}: the task definition's shape changed`),
    );
  });

  it("the oracle can fail: a commit too long for ECS, through a renderer that lets any size through, is caught", () => {
    const commit = "a".repeat(100_000);
    const c: ValueCase = { id: "X2", what: "control", variables: { LOG_LEVEL: "info", QUEUE: "jobs", CONCURRENCY: "4" }, tag: "3f9c2ab", commit };
    expect(runValues(c)).toEqual([]);
    // As if the size rule were gone: each web target renders the commit verbatim.
    const unlimited: typeof renderAll = (config, image) =>
      new Map(
        [...renderAll(config, { ...image, commit: "3f9c2ab" })].map(([key, rendered]): [string, Rendered | string[]] => [
          key,
          Array.isArray(rendered) ? rendered : JSON.parse(JSON.stringify(rendered).replaceAll('"3f9c2ab"', JSON.stringify(commit))),
        ]),
      );
    const webTargets = [...baseline.keys()].filter((key) => key.endsWith("/web"));
    expect(runValues(c, unlimited).filter((f) => f.includes("64 KiB"))).toEqual(
      webTargets.map((key) => expect.stringMatching(new RegExp(`^X2: control → ${key}: rendered past ECS's 64 KiB`))),
    );
  });
});

// ── controls: the harness can fail ─────────────────────────────────────────────────────

describe("controls: the same runner catches what it is meant to catch", () => {
  beforeEach(emptyTable);

  it("a fully valid push of shop/web DOES write (ECS and DynamoDB), and is reported as a write", async () => {
    const verdict = await runCase(handlers["on-image-pushed"], pushEvent());
    expect(verdict.outcome.kind).toBe("resolved");
    expect(verdict.writes).toEqual(expect.arrayContaining(["ECS RegisterTaskDefinition", "ECS UpdateService", "DynamoDB TransactWriteItems"]));
    expect(verdict.problems).toEqual([expect.stringMatching(/^wrote to AWS: .*ECS RegisterTaskDefinition/)]);
  });

  it("a crashing function is reported, with its TypeError", async () => {
    const crashing = async (event: unknown) => (event as { detail: { nope: { deeper: string } } }).detail.nope.deeper;
    const verdict = await runCase(crashing, pushEvent());
    expect(verdict.problems).toEqual([expect.stringMatching(/TypeError: Cannot read properties of undefined.*not a StevedoreError/)]);
  });

  it("a function that never settles is reported", async () => {
    const verdict = await runCase(() => new Promise(() => undefined), {}, { boundMs: 50 });
    expect(verdict.problems).toEqual(["did not settle within 50 ms"]);
  });

  it("a function that blocks the event loop is reported", async () => {
    const verdict = await runCase(
      () => {
        const until = Date.now() + 80;
        while (Date.now() < until);
        return {};
      },
      {},
      { boundMs: 50 },
    );
    expect(verdict.problems).toEqual([expect.stringMatching(/^took \d+ ms \(bound 50 ms\): it blocked$/)]);
  });

  it("an error logged by a stream consumer as a TypeError is reported", async () => {
    const verdict = await runCase(async () => {
      process.stdout.write(`${JSON.stringify({ level: "ERROR", message: "notify: failed on a stream record", error: "TypeError: x is not a function" })}\n`);
      return { batchItemFailures: [] };
    }, {});
    expect(verdict.problems).toEqual([expect.stringMatching(/^logged a programming error/)]);
  });

  it("a floating rejection reaches the unhandledRejection listener on the real process", async () => {
    const before = escaped.length;
    const floating = Promise.reject(new Error("nobody awaits this"));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(escaped.slice(before).map((e) => [e.kind, (e.error as Error).message])).toEqual([["unhandledRejection", "nobody awaits this"]]);
    escaped.length = before;
    floating.catch(() => undefined); // handled late: jest forgets it, so only this control saw it
    await new Promise((resolve) => setTimeout(resolve, 10));
  });

  it("a polluted Object.prototype is reported", async () => {
    const verdict = await runCase(async () => {
      (Object.prototype as Record<string, unknown>).polluted = "yes";
      return {};
    }, {});
    delete (Object.prototype as Record<string, unknown>).polluted;
    expect(verdict.problems).toEqual(["polluted Object.prototype"]);
  });
});

describe("the whole run", () => {
  it("no unhandled rejection and no uncaught exception fired", () => {
    expect(escaped.map((e) => `${e.kind}: ${describeError(e.error)}`)).toEqual([]);
  });
});

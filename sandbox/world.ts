// One sandbox world: a local AWS (ECS, ECR, CodeBuild, CloudWatch, SSM, EventBridge, DynamoDB)
// on its own port, set up from the pipeline config; the bus that routes its events to the
// functions by serverless.yml's rules; the Lambda runtime running the bundles; a webhook receiver
// in place of Slack and the audit endpoint; a discrete-event clock (clock.ts) that the whole
// thread's Date and timers follow (virtual-time.ts); the faults of this run.
// Worlds share nothing, so several run side by side (one per worker thread: see run.ts).
import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { COMPILED_CONFIG_VARIABLE, writeCompiledConfig } from "../shared/config/compiled";
import { loadConfig } from "../shared/config/load";
import type { PipelineConfig, SecretRef } from "../shared/config/model";
import { renderTarget, type Image } from "../shared/render/task-definition";
import type { StoredRecord } from "../shared/records/model";
import { CLOUDWATCH_PREFIX, LocalCloudWatch } from "./aws/cloudwatch";
import { CODEBUILD_PREFIX, LocalCodeBuild, type BuildDurations, type FailingPhase } from "./aws/codebuild";
import { DYNAMODB_PREFIX, LocalDynamo, type StreamRecord } from "./aws/dynamodb";
import { ECR_PREFIX, LocalEcr } from "./aws/ecr";
import { ECS_PREFIX, LocalEcs, type EcsTiming } from "./aws/ecs";
import { EVENTBRIDGE_PREFIX, LocalEventBridge } from "./aws/eventbridge";
import { AwsError, awsError, LocalAwsServer, type AwsRequest } from "./aws/server";
import { LocalSsm, SSM_PREFIX } from "./aws/ssm";
import { Bus } from "./bus";
import { Clock, SECOND } from "./clock";
import type { AwsEvent } from "./events";
import { awsFaults, callDraws, noneInjected, type Faults, type Injected } from "./faults";
import { deployProblems, refusal, requiredPermissions, rolesOf, scopedAlarms, type Lookups, type Statement } from "./iam";
import { LambdaRuntime } from "./runtime";
import { recordsTable, type ResolvedStack, SANDBOX_ACCOUNT } from "./stack";
import { Timeline } from "./timeline";
import { exchangeOf, useClock } from "./virtual-time";
import { WebhookReceiver } from "./webhook";

export const ACCOUNT = SANDBOX_ACCOUNT;
export const REGION = "eu-west-1";
export const RECORDS_TABLE = "stevedore-sandbox-records";
/** Compiled configs, named by content: worlds of one config share theirs. */
const COMPILED_DIR = join(".build", "sandbox", "config");

export interface WorldOptions {
  stack: ResolvedStack;
  /** Function name → bundle file. */
  bundles: Record<string, string>;
  /** Sandbox epoch ms at the start (fixed by default: runs of one seed agree). */
  start?: number;
  faults?: Faults;
  /**
   * Sandbox ms an invocation of an EventBridge-triggered function may run at most (default 10
   * minutes; never more than serverless.yml's timeout). A claim's lease is its invocation's
   * deadline, so this is also how long a crashed claim blocks its service.
   */
  timeoutMs?: number;
  /** The functions' LOG_LEVEL. */
  logLevel?: string;
  /** Also forward Slack messages to this real Slack incoming webhook. */
  slackUrl?: string;
  /** How long ECS takes (sandbox time): rollouts, circuit breaker, rollbacks. */
  ecsTiming?: Partial<EcsTiming>;
  /** ECS's RegisterTaskDefinition throttle (on sandbox time), off unless given. */
  registrationLimit?: { perSecond: number; burst: number };
}

/**
 * What happened to the world from outside Stevedore that no AWS service keeps a history of: the
 * ground truth checks judge by (what was pushed, ECR itself keeps).
 */
export interface Happening {
  /** Sandbox time. */
  at: number;
  kind: "alarm";
  alarm: string;
  state: string;
}

/** A record's status as the table's stream showed it, at a sandbox time. */
export interface StateChange {
  /** Sandbox ISO time. */
  at: string;
  kind: string;
  id: string;
  status: string;
}

/** One AWS call, as the local AWS saw it. */
export interface Call {
  at: number;
  function?: string;
  service: string;
  operation: string;
  status: number;
  realMs: number;
  /** The request body of writes, for "what Stevedore did". */
  body?: Record<string, unknown>;
}

/** Whether an AWS operation changes something (invariant 5 counts these; their bodies are kept). */
export function isWrite(operation: string): boolean {
  return /^(Register|Update|Stop|Put|Delete|Create|TransactWrite|BatchWrite|Set|Start)/.test(operation);
}

export class World {
  readonly clock: Clock;
  readonly server = new LocalAwsServer();
  readonly timeline: Timeline;
  readonly calls: Call[] = [];
  readonly records = new Map<string, StoredRecord>();
  /** Per repository, the digest every service of it runs before anything is deployed. */
  readonly seedDigests = new Map<string, string>();
  readonly config: PipelineConfig;
  /** The compiled config the functions read (shared/config/compiled.ts). */
  readonly compiledConfig: string;
  /** Scratch space for a scenario (what it pushed, what the CLI said). */
  readonly state: Record<string, unknown> = {};
  /** Pushes and alarms, in order: what the world did to Stevedore. */
  readonly happenings: Happening[] = [];
  /** Every record's statuses in the order the table's stream showed them. */
  readonly stateChanges: StateChange[] = [];
  endpoint = "";

  private constructor(
    readonly options: WorldOptions,
    readonly dynamo: LocalDynamo,
    readonly ecs: LocalEcs,
    readonly cloudwatch: LocalCloudWatch,
    readonly ecr: LocalEcr,
    readonly codebuild: LocalCodeBuild,
    readonly ssm: LocalSsm,
    readonly eventbridge: LocalEventBridge,
    readonly webhook: WebhookReceiver,
    readonly runtime: LambdaRuntime,
    readonly bus: Bus,
    clock: Clock,
    private readonly injectedSoFar: Injected,
  ) {
    this.clock = clock;
    this.timeline = new Timeline(clock);
    this.config = loadConfig(options.stack.configFile);
    // What `osls package` does (infra/stack.cjs): the functions read the config compiled.
    this.compiledConfig = writeCompiledConfig(this.config, COMPILED_DIR);
  }

  /** How often each fault struck so far (AWS calls, event deliveries, crashes, the webhook). */
  injected(): Injected {
    return { ...this.injectedSoFar };
  }

  static async create(options: WorldOptions): Promise<World> {
    const faults = options.faults ?? {};
    const seed = faults.seed ?? 1;
    const clock = new Clock({ start: options.start });
    let runtime: LambdaRuntime | undefined;
    // Before anything else in this thread reads the time or sets a timer.
    useClock(clock, seed, () => runtime?.currentRandom());
    const injected = noneInjected();
    let bus: Bus | undefined;
    const emit = (event: AwsEvent) => bus?.publish(event);
    const origin = { clock, emit, account: ACCOUNT, region: REGION };

    const dynamo = await LocalDynamo.start({ region: REGION, account: ACCOUNT });
    const ecs = new LocalEcs({ ...origin, timing: options.ecsTiming, registrationLimit: options.registrationLimit });
    const cloudwatch = new LocalCloudWatch(origin);
    const ecr = new LocalEcr(origin);
    const codebuild = new LocalCodeBuild({ ...origin, ecr });
    const ssm = new LocalSsm();
    const eventbridge = new LocalEventBridge(origin);
    const secrets: Record<string, string> = {};
    const webhook = new WebhookReceiver({ secrets, forwardTo: options.slackUrl, injected, clock });
    runtime = new LambdaRuntime({
      bundles: options.bundles,
      clock,
      seed,
      // Lambda's timeouts, capped: a claim's lease is its invocation's deadline, and an abandoned
      // claim must be resumed well within a deployment's deadline. Stream consumers hold no
      // lease; they keep their whole timeout for slow webhooks.
      timeouts: Object.fromEntries(
        Object.entries(options.stack.functions).map(([name, fn]) => {
          const stream = (fn.events ?? []).some((e) => "stream" in e);
          const timeout = (fn.timeout ?? 6) * SECOND;
          return [name, stream ? timeout : Math.min(timeout, options.timeoutMs ?? 10 * 60 * SECOND)];
        }),
      ),
    });
    bus = new Bus(options.stack, runtime, clock, faults, seed, injected);
    const world = new World(options, dynamo, ecs, cloudwatch, ecr, codebuild, ssm, eventbridge, webhook, runtime, bus, clock, injected);
    world.roles = deployedRoles(options.stack);

    world.server
      .register(DYNAMODB_PREFIX, dynamo.handle)
      .register(ECS_PREFIX, ecs.handle)
      .register(CLOUDWATCH_PREFIX, cloudwatch.handle)
      .register(ECR_PREFIX, ecr.handle)
      .register(CODEBUILD_PREFIX, codebuild.handle)
      .register(SSM_PREFIX, ssm.handle)
      .register(EVENTBRIDGE_PREFIX, eventbridge.handle)
      .intercept(async (request) => world.refuseTheDead(request))
      .intercept(async (request) => world.authorize(request))
      .intercept(async (request) => world.slowDown(request, (ms) => clock.parkedFor(exchangeOf(request.headers), ms)))
      .intercept(
        awsFaults(
          faults,
          callDraws(seed, (request) => world.callerOf(request)),
          injected,
          (request, ms) => clock.parkedFor(exchangeOf(request.headers), ms),
        ),
      )
      .observe((request, response, realMs) => world.recordCall(request, response.status, realMs));
    world.endpoint = await world.server.listen();

    dynamo.onStream((table, records) => {
      if (table !== RECORDS_TABLE) return;
      world.noteRecords(records);
      bus?.onStream(records);
    });
    cloudwatch.onStateChange((name, state) => ecs.alarmChanged(name, state));
    bus.observe({
      published: (event) => world.timeline.event(event),
      invoked: (invocation) => world.timeline.invocation(invocation),
    });
    webhook.onMessage((message) => world.timeline.webhook(message));

    await world.setUp(secrets, faults);
    await runtime.start();
    bus.start();
    return world;
  }

  /** The environment the functions run with: the only switch is AWS_ENDPOINT_URL. */
  functionEnvironment(): Record<string, string> {
    return {
      AWS_ENDPOINT_URL: this.endpoint,
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: REGION,
      AWS_ACCESS_KEY_ID: "sandbox",
      AWS_SECRET_ACCESS_KEY: "sandbox",
      AWS_LAMBDA_FUNCTION_NAME: "stevedore-sandbox",
      RECORDS_TABLE,
      [COMPILED_CONFIG_VARIABLE]: this.compiledConfig,
      LOG_LEVEL: this.options.logLevel ?? "ERROR",
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    };
  }

  private async setUp(secrets: Record<string, string>, faults: Faults): Promise<void> {
    Object.assign(process.env, this.functionEnvironment());
    delete process.env.AWS_PROFILE;
    await this.dynamo.handle(request(DYNAMODB_PREFIX, "CreateTable", recordsTable(RECORDS_TABLE) as unknown as Record<string, unknown>));
    // dynalite makes a table ACTIVE on a timer, which runs on sandbox time: the table is ready
    // before anything is deployed, as it is in AWS.
    while (
      ((await this.dynamo.handle(request(DYNAMODB_PREFIX, "DescribeTable", { TableName: RECORDS_TABLE }))) as { body: { Table?: { TableStatus?: string } } })
        .body.Table?.TableStatus !== "ACTIVE"
    ) {
      await this.clock.sleep(100);
    }
    await this.webhook.start();
    if (faults.webhookDownMs) this.webhook.down(faults.webhookDownMs);
    if (faults.webhookSlowMs) this.webhook.slow(faults.webhookSlowMs);

    for (const destination of Object.values(this.config.destinations)) {
      const kind = destination.type === "slack" ? "slack" : "webhook";
      this.putSecret(destination.url, this.webhook.url(`/${kind}/${destination.name}`), destination.kmsKey);
      if (destination.type === "webhook") {
        secrets[destination.name] = randomBytes(24).toString("hex");
        this.putSecret(destination.secret, secrets[destination.name] as string, destination.kmsKey);
      }
    }
    for (const app of this.config.apps) {
      this.ecr.createRepository(app.repository);
      if (app.buildProject) this.codebuild.createProject(app.buildProject, { repository: app.repository });
      const seed: Image = {
        repository: app.repository,
        repositoryUri: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${app.repository}`,
        digest: `sha256:${sha256(`${app.repository}:seed`)}`,
        tag: "seed",
      };
      this.seedDigests.set(app.repository, seed.digest);
      for (const env of app.environments) {
        for (const alarm of env.alarms) if (!this.cloudwatch.alarm(alarm)) this.cloudwatch.createAlarm(alarm, { state: "OK" });
        for (const target of env.targets) {
          const rendered = renderTarget(target, seed);
          if (!rendered.ok) throw new Error(`sandbox: ${target.key} does not render: ${rendered.problems.join("; ")}`);
          this.ecs.createService({
            cluster: target.cluster,
            service: target.service,
            taskDefinition: rendered.input as unknown as Record<string, unknown>,
            desiredCount: 2,
            // As its owner set it up: ECS shifts a blue-green, linear or canary environment's
            // traffic between two target groups.
            ...(env.strategy.type === "ROLLING" ? {} : { loadBalancers: [trafficShifting(target.cluster, target.service)] }),
          });
        }
      }
    }
  }

  /** Stored as the destination says: encrypted with its customer-managed key, if it names one. */
  private putSecret(ref: SecretRef, value: string, keyId?: string): void {
    if (ref.store === "ssm") this.ssm.putParameter(ref.name, value, "SecureString", keyId);
    else this.ssm.putSecret(ref.id, value, keyId);
  }

  // ── what a person (or a scenario) does ────────────────────────────────────────────────────

  /** `docker push`: a new image in ECR, announced by ECR's event. */
  push(
    repository: string,
    tag: string,
    /** `delivery`: ECR's event comes `lateMs` late, or goes to the dead-letter queue ("dead-letter"). */
    options: { bad?: boolean; platforms?: number; delivery?: { lateMs: number } | "dead-letter" } = {},
  ): { digest: string; uri: string } {
    const held =
      options.delivery === "dead-letter"
        ? "; its event goes to the dead-letter queue"
        : options.delivery
          ? `; its event comes ${Math.round(options.delivery.lateMs / 60_000)} minutes late`
          : "";
    this.timeline.note(`docker push ${repository}:${tag}${options.bad ? " (an image whose tasks fail to start)" : ""}${held}`);
    const digest = `sha256:${sha256(`${repository}:${tag}:${this.clock.now()}`)}`;
    if (options.delivery) {
      const lateMs = options.delivery === "dead-letter" ? undefined : options.delivery.lateMs;
      this.bus.holdBack((e) => e.source === "aws.ecr" && (e.detail as { "image-digest"?: string })["image-digest"] === digest, lateMs);
    }
    // Marked bad before ECR announces it: ECS knows what will fail before anyone can deploy it.
    if (options.bad) this.ecs.markBad(digest);
    return this.ecr.push(repository, { tag, digest, platforms: options.platforms });
  }

  /** A person replays the dead-letter queue: each parked event is sent again as it was. */
  replayDeadLetters(): void {
    this.timeline.note(`the dead-letter queue is replayed (${this.bus.deadLetters.length} events)`);
    this.bus.replayDeadLetters();
  }

  /** An event put straight on the bus, as if AWS had sent it. */
  inject(event: AwsEvent): void {
    this.timeline.note(`an event arrives: ${event["detail-type"]} (${event.source})`);
    this.bus.publish(event);
  }

  /**
   * A CodeBuild build of `project` at `commit` that ends as `outcome`. `trigger`: what a webhook
   * started it for (default a push to main); `tag`: the tag an edited buildspec pushes under.
   */
  build(
    project: string,
    commit: string,
    outcome: "SUCCEEDED" | "FAILED",
    failIn: FailingPhase = "BUILD",
    options: { durations?: BuildDurations; trigger?: string; tag?: string } = {},
  ): string {
    const slow = options.durations?.postBuild ? `; its post-build step takes ${Math.round(options.durations.postBuild / 60_000)} minutes` : "";
    const of = options.trigger && options.trigger !== "branch/main" ? ` for ${options.trigger}` : "";
    const tagged = options.tag ? `; its buildspec, edited, pushes it as :${options.tag}` : "";
    this.timeline.note(
      `CodeBuild ${project} builds ${commit.slice(0, 7)}${of} (${outcome === "FAILED" ? `it will fail in ${failIn}` : "it will pass"}${slow}${tagged})`,
    );
    return this.codebuild.build(project, {
      commit,
      outcome,
      ...(outcome === "FAILED" ? { failIn } : {}),
      ...(options.durations ? { durations: options.durations } : {}),
      ...(options.trigger ? { trigger: options.trigger } : {}),
      ...(options.tag ? { tag: options.tag } : {}),
    });
  }

  async setAlarm(name: string, state: "OK" | "ALARM", reason: string): Promise<void> {
    this.timeline.note(`alarm ${name} → ${state}`);
    this.happen({ kind: "alarm", alarm: name, state });
    const response = await this.cloudwatch.handle(request(CLOUDWATCH_PREFIX, "SetAlarmState", { AlarmName: name, StateValue: state, StateReason: reason }));
    if (response.status !== 200) throw new Error(`SetAlarmState failed: ${JSON.stringify(response.body)}`);
  }

  /** setAlarm at this very moment (from a whenCalled hook): CloudWatch's state changes at once. */
  setAlarmNow(name: string, state: "OK" | "ALARM", reason: string): void {
    this.timeline.note(`alarm ${name} → ${state}`);
    this.happen({ kind: "alarm", alarm: name, state });
    this.cloudwatch.setAlarmState(name, state, reason);
  }

  private happen(what: Omit<Happening, "at">): void {
    this.happenings.push({ at: this.clock.now(), ...what });
  }

  /** The stevedore CLI, run against this world's AWS. */
  async cli(args: string[]): Promise<{ code: number; output: string[] }> {
    const { main } = await import("../cli/stevedore");
    const output: string[] = [];
    this.timeline.note(`$ stevedore ${args.join(" ")}`);
    const code = await main(args, (line) => output.push(line));
    return { code, output };
  }

  /**
   * Waits until `check` holds, looking each time the world comes to rest (before sandbox time
   * moves on); fails with `what` once `within` of sandbox time has passed.
   */
  async waitFor(what: string, check: () => boolean, within: number): Promise<void> {
    const until = this.clock.now() + within;
    while (!check()) {
      if (this.clock.now() > until) throw new Error(`timed out waiting for ${what}`);
      await this.clock.idle();
    }
  }

  /** Lets the world run on for `virtualMs` of sandbox time. */
  async pass(virtualMs: number): Promise<void> {
    await this.clock.sleep(virtualMs);
  }

  deployments(filter: Partial<Record<"app" | "env" | "service" | "digest", string>> = {}) {
    return [...this.records.values()]
      .filter((r): r is Extract<StoredRecord, { kind: "deployment" }> => r.kind === "deployment")
      .filter((r) => Object.entries(filter).every(([k, v]) => (r as unknown as Record<string, unknown>)[k] === v));
  }

  async close(): Promise<void> {
    this.bus.stop();
    this.clock.stop();
    await this.webhook.close();
    await this.server.close();
    await this.dynamo.close();
  }

  // ── plumbing ──────────────────────────────────────────────────────────────────────────────

  /** Who made an AWS call: the invocation's key, or "world" for the scenario's own calls. */
  private callerOf(request: AwsRequest): string {
    const trace = String(request.headers["x-amzn-trace-id"] ?? "");
    return (trace && this.runtime.find(trace)?.key) || "world";
  }

  /** A dead invocation's process is gone: it cannot make calls. (The fault "crash" kills it.) */
  private refuseTheDead(request: AwsRequest) {
    const trace = String(request.headers["x-amzn-trace-id"] ?? "");
    if (trace && this.runtime.isDead(trace)) {
      return Promise.resolve(awsError("AccessDeniedException", "sandbox: this invocation has ended; its process no longer exists"));
    }
    return Promise.resolve(undefined);
  }

  private recordCall(request: AwsRequest, status: number, realMs: number): void {
    const trace = String(request.headers["x-amzn-trace-id"] ?? "");
    const fn = functionOf(request);
    const call: Call = {
      at: this.clock.now(),
      function: fn,
      service: request.prefix,
      operation: request.operation,
      status,
      realMs,
      ...(isWrite(request.operation) ? { body: request.body } : {}),
    };
    this.calls.push(call);
    // Before the caller hears the answer: what a scenario makes happen right after this call.
    const hook = this.callHooks.find((h) => h.match(call));
    if (hook) {
      this.callHooks.splice(this.callHooks.indexOf(hook), 1);
      hook.action();
    }
    if (status < 300 && fn && /^(RegisterTaskDefinition|UpdateService|StopServiceDeployment)$/.test(request.operation)) {
      this.timeline.did(call);
    }
    // The fault "crash": the invocation dies right after its n-th call was carried out. "*"
    // makes the first invocations of every function crash so.
    const crash = this.options.faults?.crash;
    if (crash && fn && (crash.function === "*" || fn === crash.function) && trace && !this.runtime.isDead(trace)) {
      const made = (this.callsByInvocation.get(trace) ?? 0) + 1;
      this.callsByInvocation.set(trace, made);
      const crashed = this.crashes.get(fn) ?? 0;
      const due = "afterCalls" in crash ? made === crash.afterCalls : request.operation === crash.afterOperation && status < 300;
      if (due && crashed < (crash.times ?? 1)) {
        this.crashes.set(fn, crashed + 1);
        this.timeline.note(`fault: ${fn} crashes right after its call ${made} (${request.operation})`);
        if (this.runtime.crash(trace, `Runtime.ExitError: the process crashed after ${request.operation}`)) this.injectedSoFar.crashes++;
      }
    }
  }

  /** Each function's role, when the stack has them (a stack resolved by osls always does). */
  private roles?: Record<string, { name: string; statements: Statement[] }>;

  /** What an ARN a call is authorized against depends on (built once: every call uses it). */
  private readonly lookups: Lookups = {
    account: ACCOUNT,
    region: REGION,
    nextRevision: (family) => this.ecs.nextRevision(family),
    secretArn: (id) => this.ssm.secretArn(id),
    decryptionKey: (name) => this.ssm.decryptionKey(name),
  };

  /** IAM: a function's call is carried out only if its role allows everything the call needs. */
  private async authorize(request: AwsRequest) {
    const fn = functionOf(request);
    if (!fn || !this.roles) return undefined;
    const role = this.roles[fn];
    if (!role) return awsError("AccessDeniedException", `sandbox IAM: ${fn} has no role in the stack`);
    const visible = request.operation === "DescribeAlarms" && request.prefix === CLOUDWATCH_PREFIX ? scopedAlarms(role.statements) : undefined;
    if (visible) {
      // A role scoped to alarm ARNs: the metric alarms it may see, never a composite alarm.
      const answer = await this.cloudwatch.handle(request);
      if (answer.status !== 200) return answer;
      const body = answer.body as { MetricAlarms?: { AlarmArn: string }[]; CompositeAlarms?: unknown[] };
      return { ...answer, body: { ...body, MetricAlarms: (body.MetricAlarms ?? []).filter((a) => visible(a.AlarmArn)), CompositeAlarms: [] } };
    }
    try {
      const denied = refusal(role, fn, requiredPermissions(request.prefix, request.operation, request.body, this.lookups), ACCOUNT);
      if (denied) this.timeline.note(`IAM: ${denied}`);
      return denied ? awsError("AccessDeniedException", denied) : undefined;
    } catch (error) {
      if (error instanceof AwsError) return awsError(error.code, error.message);
      throw error;
    }
  }

  private readonly callsByInvocation = new Map<string, number>();
  private readonly callHooks: { match: (call: Call) => boolean; action: () => void }[] = [];

  private readonly slowCalls: { function: string; operation: string; ms: number }[] = [];

  /** From now on, `fn`'s calls of `operation` take `ms` of sandbox time (time that passes in AWS). */
  slowCallsOf(fn: string, operation: string, ms: number): void {
    this.slowCalls.push({ function: fn, operation, ms });
  }

  private async slowDown(request: AwsRequest, wait: (ms: number) => Promise<void>): Promise<undefined> {
    const fn = functionOf(request);
    const slow = this.slowCalls.find((s) => s.function === fn && s.operation === request.operation);
    if (slow) await wait(slow.ms);
    return undefined;
  }

  /** Runs `action` once, right after the first AWS call `match` accepts, before its caller hears the answer. */
  whenCalled(match: (call: Call) => boolean, action: () => void): void {
    this.callHooks.push({ match, action });
  }
  private readonly crashes = new Map<string, number>();

  private noteRecords(records: StreamRecord[]): void {
    for (const r of records) {
      const image = r.dynamodb.NewImage as Record<string, AttributeValue> | undefined;
      if (!image) continue;
      const item = unmarshall(image) as StoredRecord & { pk?: string; sk?: string };
      if (!item.kind) continue;
      const key = `${item.pk}|${item.sk}`;
      const before = this.records.get(key);
      this.records.set(key, item);
      const status = (item as { status?: string }).status;
      if (status !== (before as { status?: string } | undefined)?.status) {
        this.timeline.recorded(item);
        if (status) this.stateChanges.push({ at: this.clock.iso(), kind: item.kind, id: (item as { id: string }).id, status });
      }
    }
  }
}

function request(prefix: string, operation: string, body: Record<string, unknown>): AwsRequest {
  return { prefix, operation, body, headers: {} };
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

export { SECOND };

/** The function whose invocation made a call (its trace id names it), or undefined for the world's own. */
function functionOf(request: AwsRequest): string | undefined {
  return /Sandbox=([\w-]+)/.exec(String(request.headers["x-amzn-trace-id"] ?? ""))?.[1];
}

/** The stack's own ARNs in the sandbox, for resolving the roles' statements. */
const STACK_ARNS: Record<string, string> = {
  "RecordsTable.Arn": `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${RECORDS_TABLE}`,
  "RecordsTable.StreamArn": `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${RECORDS_TABLE}/stream/sandbox`,
  "DeadLetterQueue.Arn": `arn:aws:sqs:${REGION}:${ACCOUNT}:stevedore-sandbox-DeadLetterQueue`,
};

/**
 * The roles CloudFormation would create from the stack, after the checks its creation makes
 * (a stream's mapping and a failure destination need the role's permission); undefined for a
 * stack written by hand in a test, which has no resources.
 */
function deployedRoles(stack: ResolvedStack): Record<string, { name: string; statements: Statement[] }> | undefined {
  if (!stack.resources || Object.keys(stack.resources).length === 0) return undefined;
  const roles = rolesOf(stack.functions, stack.resources, { region: REGION, account: ACCOUNT, values: STACK_ARNS });
  const problems = deployProblems(stack.functions, roles, {
    stream: STACK_ARNS["RecordsTable.StreamArn"]!,
    deadLetterQueue: STACK_ARNS["DeadLetterQueue.Arn"]!,
  });
  if (problems.length > 0) throw new Error(`sandbox: the stack would not deploy:\n  ${problems.join("\n  ")}`);
  return roles;
}

/** A load balancer with the advancedConfiguration a blue-green, linear or canary deployment needs. */
function trafficShifting(cluster: string, service: string): Record<string, unknown> {
  const elb = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}`;
  return {
    targetGroupArn: `${elb}:targetgroup/${service}-blue/0123456789abcdef`,
    containerName: service,
    containerPort: 8080,
    advancedConfiguration: {
      alternateTargetGroupArn: `${elb}:targetgroup/${service}-green/fedcba9876543210`,
      productionListenerRule: `${elb}:listener-rule/app/${cluster}/0123456789abcdef/0123456789abcdef/0123456789abcdef`,
      roleArn: `arn:aws:iam::${ACCOUNT}:role/ecs-infrastructure-load-balancers`,
    },
  };
}

// One deployment from push to verified: what it costs in AWS calls and handler time, and how soon
// people hear that ECS finished, against two simulated polling deployers driven through the same
// 5-minute rollout on the same sandbox ECS (bench/pollers.ts).
//
// World side (in a worker): shop-web STAGING of sandbox/fixtures/stevedore.yml (one service, watch 5m),
// ECS rollouts of 5 sandbox minutes. Three pushes, one after the other's final message:
//   1. a good image, every container cold (a fresh world);
//   2. another good image, containers warm;
//   3. an image whose tasks cannot start: the circuit breaker fails it, ECS rolls back.
// Production (promoted automatically after staging is verified) is a separate deployment: the
// calls of its promotion are shown apart and not counted here.
import { MINUTE } from "../sandbox/clock";
import { slackLabel, statusOfSlackTitle } from "../sandbox/observe";
import type { Prepared } from "../sandbox/run";
import { World } from "../sandbox/world";
import { isFinal } from "../shared/records/model";
import { CALL_LATENCY_MS, waiterDistribution, type PollerParams, type PollerRun, type WaiterDistribution } from "./pollers";
import { countBy, cpuOf, now, Probe, round, type CpuProfileSummary, type Heard, type InvocationStamp, type Published } from "./probe";
import { progress } from "./progress";
import { byName, ms, notes, table, verdict } from "./table";
import { inWorker, type JobContext } from "./threads";

const ROLLOUT_MS = 5 * MINUTE;
/** Sandbox ms per real ms in this section's worlds (a 1-s poll is 33 real ms). */
export const TARGETS = { maxCalls: 12, minRatioVsEverySecond: 20, maxFinalNoticeMs: 1000 } as const;

const STAGING_ARN = "arn:aws:ecs:eu-west-1:123456789012:service/shop-staging/web";

const DEFINITION = [
  "calls of a deployment = every AWS call made by the invocations that handled its events:",
  "on-image-pushed for its push (matched by digest), on-deployment-changed for its service's ECS events (the record it",
  "advanced, or the service and time window for events it ignored), notify for its records' stream changes (the SSM",
  "reads of a cold notify container included), and the sweep invocation(s) whose result changed its record (all of",
  "that sweep's calls). Sweeps that changed nothing are the sweeper's fixed cost per sandbox minute, shown apart;",
  "promote's calls after staging is verified start production's deployment and are shown apart too.",
  "Marginal calls: the same, less what happens whether or not this deployment exists: the part of a sweep that an",
  "idle sweep makes too (its Query of the due index, every minute), and a cold notify container's reads of its",
  "destinations' SSM parameters (once per container, cached for its life). The target is judged on marginal calls.",
].join(" ");

interface Window {
  label: string;
  digest: string;
  recordId: string;
  status: string;
  reason?: string;
  ecsDeploymentId?: string;
  bad: boolean;
  /** Wall ms: the push, and the last destination receiving the final message. */
  from: number;
  to: number;
  virtualFrom: number;
  virtualTo: number;
}

export interface Notice {
  /** The ECS event it answers. */
  event: string;
  /** The message title it is. */
  message: string;
  /** Wall ms from the event being put on the bus to the first / the last destination receiving it. */
  firstMs: number;
  allMs: number;
  /** The same, on the sandbox clock: what it waited (sandbox time stands still while work runs). */
  sandboxMs: number;
  /** What it would take in AWS: the work's wall ms plus the sandbox time it waited. */
  totalMs: number;
}

export interface DeploymentFigures {
  label: string;
  recordId: string;
  outcome: string;
  reason?: string;
  /** Sandbox minutes from the push to its final message at every destination. */
  pushToFinalMinutes: number;
  calls: number;
  /** Calls less the idle sweep's share and per-container secret reads (see DEFINITION). */
  marginalCalls: number;
  callsByApi: Record<string, number>;
  callsByFunction: Record<string, number>;
  invocations: Record<string, number>;
  coldStarts: number;
  /** V8 samples in the function bundles during its invocations. */
  cpuMs: number;
  cpuMsByFunction: Record<string, number>;
  /** Σ (wall − waiting on its own AWS calls and webhook posts): an upper bound of handler CPU. */
  activeMs: number;
  /** Σ wall ms of its invocations (Lambda's billed duration; cold-start init included). */
  billedMs: number;
  /** Σ ms its cold starts spent importing the bundle (part of billedMs). */
  initMs: number;
  /** ECS's final event → the message people read for it. */
  notice?: Notice;
  /** Sandbox minutes from ECS's COMPLETED to the "deployed and verified" message (watch window + sweep). */
  verifiedAfterCompletedMinutes?: number;
}

export interface StevedoreRun {
  rolloutMs: number;
  deployments: DeploymentFigures[];
  sweeper: {
    minutes: number;
    sweeps: number;
    calls: number;
    callsPerMinute: number;
    callsByApi: Record<string, number>;
    billedMsPerSweep: number;
    cpuMsPerSweep: number;
  };
  promotion: { calls: number; callsByApi: Record<string, number> };
  profile: { intervalUs: number; busyMs: number; gcMs: number; inBundlesMs: number; byFunction: Record<string, number> };
  realMs: number;
}

// ── world side ─────────────────────────────────────────────────────────────────────────────

export async function stevedoreJob(params: JobContext & { rolloutMs: number }): Promise<StevedoreRun> {
  const started = now();
  const world = await World.create({
    stack: params.stack,
    bundles: params.bundles,
    ecsTiming: { rollout: params.rolloutMs },
    faults: { latencyMs: CALL_LATENCY_MS },
  });
  const probe = new Probe(world);
  const virtualStart = world.clock.now();
  await probe.startProfiler();
  const windows: Window[] = [];
  let profile: CpuProfileSummary;
  try {
    windows.push(await deploy(world, probe, "good image, cold containers", "a1b2c3d", false));
    progress(`deployment 1 ${windows[0]?.status}`);
    windows.push(await deploy(world, probe, "good image, warm containers", "b2c3d4e", false));
    progress(`deployment 2 ${windows[1]?.status}`);
    windows.push(await deploy(world, probe, "bad image → circuit breaker", "c3d4e5f", true));
    progress(`deployment 3 ${windows[2]?.status}`);
  } finally {
    profile = await probe.stopProfiler();
    await world.close();
  }
  const minutes = (world.clock.now() - virtualStart) / MINUTE;
  const cpu = cpuOf(profile, probe.invocations);
  const sum = (list: InvocationStamp[], f: (i: InvocationStamp) => number) => list.reduce((a, i) => a + f(i), 0);

  const sweeps = probe.invocations.filter((i) => i.fn === "sweep" && changedBy(i).length === 0);
  const sweepCalls = sweeps.flatMap((i) => probe.callsOf(i));
  const idleSweep = Object.fromEntries(
    Object.entries(countBy(sweepCalls, (c) => c.operation)).map(([op, n]) => [op, Math.round(n / Math.max(1, sweeps.length))]),
  );
  /** What a call-making invocation would have made anyway: an idle sweep's calls, a cold container's secret reads. */
  const fixedCalls = (i: InvocationStamp) => {
    const byApi = countBy(probe.callsOf(i), (c) => c.operation);
    if (i.fn === "sweep") return Object.entries(idleSweep).reduce((n, [op, idle]) => n + Math.min(idle, byApi[op] ?? 0), 0);
    return byApi.GetParameter ?? 0;
  };

  const deployments = windows.map((w): DeploymentFigures => {
    const mine = probe.invocations.filter((i) => belongs(i, w));
    const calls = mine.flatMap((i) => probe.callsOf(i));
    const cpuByFn: Record<string, number> = {};
    for (const i of mine) cpuByFn[i.fn] = round((cpuByFn[i.fn] ?? 0) + (cpu.get(i) ?? 0), 1);
    const completed = finalEvent(probe, w, "COMPLETED");
    const answered = notice(probe, w, w.bad ? finalEvent(probe, w, "ROLLBACK_COMPLETED") : completed);
    const verifiedHeard = heardAbout(probe, w.recordId).find((h) => /deployed and verified/.test(h.message.title));
    return {
      label: w.label,
      recordId: w.recordId,
      outcome: w.status,
      ...(w.reason ? { reason: w.reason } : {}),
      pushToFinalMinutes: round((w.virtualTo - w.virtualFrom) / MINUTE, 2),
      calls: calls.length,
      marginalCalls: calls.length - sum(mine, fixedCalls),
      callsByApi: countBy(calls, (c) => c.operation),
      callsByFunction: countBy(calls, (c) => c.fn ?? "?"),
      invocations: countBy(mine, (i) => i.fn),
      coldStarts: mine.filter((i) => i.coldStart).length,
      cpuMs: round(
        sum(mine, (i) => cpu.get(i) ?? 0),
        1,
      ),
      cpuMsByFunction: cpuByFn,
      activeMs: round(
        sum(mine, (i) => probe.activeMs(i)),
        1,
      ),
      billedMs: round(
        sum(mine, (i) => i.endedAt - i.startedAt),
        0,
      ),
      initMs: round(
        sum(mine, (i) => i.initMs ?? 0),
        1,
      ),
      ...(answered ? { notice: answered } : {}),
      ...(completed && verifiedHeard ? { verifiedAfterCompletedMinutes: round((verifiedHeard.virtualAt - completed.virtualAt) / MINUTE, 2) } : {}),
    };
  });

  const promotions = probe.invocations.filter((i) => i.fn === "promote" && windows.some((w) => streamIds(i.payload).includes(w.recordId)));
  const promotionCalls = promotions.flatMap((i) => probe.callsOf(i));
  return {
    rolloutMs: params.rolloutMs,
    deployments,
    sweeper: {
      minutes: round(minutes, 1),
      sweeps: sweeps.length,
      calls: sweepCalls.length,
      // An idle sweep's calls × how often the schedule fired (sweeps that changed a record belong to it).
      callsPerMinute: round((sweepCalls.length / Math.max(1, sweeps.length)) * (probe.invocations.filter((i) => i.fn === "sweep").length / minutes), 2),
      callsByApi: countBy(sweepCalls, (c) => c.operation),
      billedMsPerSweep: round(sum(sweeps, (i) => i.endedAt - i.startedAt) / Math.max(1, sweeps.length), 1),
      cpuMsPerSweep: round(sum(sweeps, (i) => cpu.get(i) ?? 0) / Math.max(1, sweeps.length), 2),
    },
    promotion: { calls: promotionCalls.length, callsByApi: countBy(promotionCalls, (c) => c.operation) },
    profile: {
      intervalUs: profile.intervalUs,
      busyMs: round(profile.busyMs, 0),
      gcMs: round(profile.gcMs, 0),
      inBundlesMs: round(
        Object.values(profile.byFunction).reduce((a, b) => a + b, 0),
        0,
      ),
      byFunction: Object.fromEntries(Object.entries(profile.byFunction).map(([k, v]) => [k, round(v, 0)])),
    },
    realMs: round(now() - started, 0),
  };

  function belongs(i: InvocationStamp, w: Window): boolean {
    const inWindow = i.startedAt >= w.from && i.startedAt <= w.to;
    switch (i.fn) {
      case "on-image-pushed":
        return (i.payload as { detail?: Record<string, unknown> }).detail?.["image-digest"] === w.digest;
      case "on-deployment-changed": {
        const result = i.result as { recordId?: string } | undefined;
        if (result?.recordId) return result.recordId === w.recordId;
        return inWindow && (i.payload as { resources?: string[] }).resources?.[0] === STAGING_ARN;
      }
      case "notify":
        return streamIds(i.payload).includes(w.recordId);
      case "on-alarm":
        // Warm-ups, woken by the rollout's own ECS events (shared/rollback/warm-up.ts): no AWS call, but billed.
        if ((i.result as { warmedUpFor?: string } | undefined)?.warmedUpFor)
          return inWindow && (i.payload as { resources?: string[] }).resources?.[0] === STAGING_ARN;
        return changedBy(i).includes(w.recordId);
      case "sweep":
        return changedBy(i).includes(w.recordId);
      default:
        return false;
    }
  }
}

/** Record ids a sweep (changed) or on-alarm (rolled back) invocation acted on. */
function changedBy(i: InvocationStamp): string[] {
  const result = i.result as { changed?: { id: string }[]; checked?: { recordId?: string; rolledBack?: boolean }[] } | undefined;
  return [...(result?.changed ?? []).map((c) => c.id), ...(result?.checked ?? []).filter((c) => c.rolledBack && c.recordId).map((c) => c.recordId as string)];
}

function streamIds(payload: unknown): string[] {
  const records = (payload as { Records?: { dynamodb?: { NewImage?: { id?: { S?: string } } } }[] }).Records ?? [];
  return records.map((r) => r.dynamodb?.NewImage?.id?.S ?? "");
}

/** Whether a message is about record `recordId` (its id anywhere in the body). */
const mentions = (h: Heard, recordId: string) => JSON.stringify(h.message.body).includes(recordId);

function heardAbout(probe: Probe, recordId: string): Heard[] {
  return probe.heard.filter((h) => mentions(h, recordId));
}

async function deploy(world: World, probe: Probe, label: string, tag: string, bad: boolean): Promise<Window> {
  const from = now();
  const virtualFrom = world.clock.now();
  const { digest } = world.push("shop/web", tag, { bad });
  const record = () => world.deployments({ app: "shop-web", env: "staging", digest })[0];
  await world.waitFor(`staging ${tag} final`, () => isFinal(record()?.status), 60 * MINUTE);
  const r = record();
  if (!r) throw new Error(`no staging record for ${tag}`);
  const destinations = world.config.apps.find((a) => a.name === "shop-web")?.environments.find((e) => e.name === "staging")?.notify.length ?? 1;
  // Its final messages, collected as they arrive: each check looks only at the messages heard since the last.
  const finals: Heard[] = [];
  let seen = 0;
  await world.waitFor(
    `the final message of ${tag} at every destination`,
    () => {
      for (const h of probe.heard.slice(seen)) if (isFinal(statusOfSlackTitle(h.message.title)) && mentions(h, r.id)) finals.push(h);
      seen = probe.heard.length;
      return finals.length >= destinations;
    },
    10 * MINUTE,
  );
  const last = finals.at(-1);
  // Let the stream consumers and the sweep that wrote it finish before the next push.
  await world.pass(10_000);
  return {
    label,
    digest,
    recordId: r.id,
    status: r.status,
    ...(r.reason ? { reason: r.reason } : {}),
    ...(r.ecsDeploymentId ? { ecsDeploymentId: r.ecsDeploymentId } : {}),
    bad,
    from,
    to: last?.at ?? now(),
    virtualFrom,
    virtualTo: last?.virtualAt ?? world.clock.now(),
  };
}

/** ECS's event `name` for the deployment Stevedore started (or, for ROLLBACK_COMPLETED, the rollback after its FAILED). */
function finalEvent(probe: Probe, w: Window, name: "COMPLETED" | "ROLLBACK_COMPLETED"): Published | undefined {
  const ecs = probe.published.filter((p) => p.event["detail-type"] === "ECS Deployment State Change" && p.event.resources[0] === STAGING_ARN && p.at >= w.from);
  const of = (e: (typeof ecs)[number]) => ({ id: String(e.event.detail.deploymentId), name: String(e.event.detail.eventName) });
  if (name === "COMPLETED") return ecs.find((e) => of(e).id === w.ecsDeploymentId && of(e).name === "SERVICE_DEPLOYMENT_COMPLETED");
  const failed = ecs.find((e) => of(e).id === w.ecsDeploymentId && of(e).name === "SERVICE_DEPLOYMENT_FAILED");
  return failed && ecs.find((e) => e.at >= failed.at && of(e).id !== w.ecsDeploymentId && of(e).name === "SERVICE_DEPLOYMENT_COMPLETED");
}

/** ECS's final `event` → the message that answers it: "rolled out" for a good image, "rolled back" for a bad one. */
function notice(probe: Probe, w: Window, event: Published | undefined): Notice | undefined {
  const title = w.bad ? /rolled back/ : /rolled out/;
  const heard = heardAbout(probe, w.recordId).filter((h) => title.test(h.message.title) && event && h.at >= event.at);
  if (!event || heard.length === 0) return undefined;
  const last = heard.at(-1)!;
  return {
    event: w.bad ? "COMPLETED of ECS's rollback deployment" : "SERVICE_DEPLOYMENT_COMPLETED",
    message: heard[0]!.message.title,
    firstMs: round(heard[0]!.at - event.at, 1),
    allMs: round(last.at - event.at, 1),
    sandboxMs: round(last.virtualAt - event.virtualAt, 0),
    totalMs: round(last.at - event.at + (last.virtualAt - event.virtualAt), 1),
  };
}

// ── main side ──────────────────────────────────────────────────────────────────────────────

export interface DeploymentBench {
  method: Record<string, string>;
  rolloutMinutes: number;
  /** Marginal calls (see DEFINITION), the worse of a cold and a warm deployment. */
  callsPerDeployment: number;
  /** Every call of the invocations that handled it, cold and warm containers. */
  callsPerDeploymentAll: { cold: number; warm: number };
  callsByApi: Record<string, number>;
  cpuMsPerDeployment: number;
  activeMsPerDeployment: number;
  billedMsPerDeployment: number;
  finalNotification: { rolledOut?: Notice; rolledBack?: Notice };
  sweeperFixedCost: StevedoreRun["sweeper"];
  promotionCalls: StevedoreRun["promotion"];
  stevedore: StevedoreRun;
  pollers: { everySecond: PollerRun; sdkWaiter: PollerRun; sdkWaiterSchedule: WaiterDistribution[] };
  ratios: {
    callsEverySecondOverStevedore: number;
    callsEverySecondOneCallPerCheckOverStevedore: number;
    callsSdkWaiterOverStevedore: number;
    /** Both on the sandbox clock: the waiter run's notice delay, and the median over its jitter (maxDelay 120 s). */
    noticeSdkWaiterRunOverStevedore: number;
    noticeSdkWaiterMedianOverStevedore: number;
    noticeEverySecondOverStevedore: number;
  };
  targets: Record<string, { target: string; measured: string; verdict: "PASS" | "MISS" }>;
}

export async function benchDeployment(ctx: Prepared): Promise<DeploymentBench> {
  const common = { stack: ctx.stack, bundles: ctx.bundles, rolloutMs: ROLLOUT_MS };
  const stevedore = await inWorker<typeof common, StevedoreRun>(ctx, "deployment.stevedore", common);
  const everySecond = await inWorker<PollerParams, PollerRun>(ctx, "deployment.poller", { ...common, kind: "every-second", seed: 1 });
  const sdkWaiter = await inWorker<PollerParams, PollerRun>(ctx, "deployment.poller", { ...common, kind: "sdk-waiter", seed: 1 });
  const schedule = [waiterDistribution(ROLLOUT_MS, 120), waiterDistribution(ROLLOUT_MS, 600)];

  const [cold, warm, bad] = stevedore.deployments as [DeploymentFigures, DeploymentFigures, DeploymentFigures];
  const rolledOut = [cold.notice, warm.notice].filter((n): n is Notice => !!n).sort((a, b) => b.allMs - a.allMs)[0];
  const rolledBack = bad.notice;
  const worstNotice = Math.max(rolledOut?.totalMs ?? Infinity, rolledBack?.totalMs ?? Infinity);
  const ratio = (a: number, b: number) => round(a / b, 1);
  const result: DeploymentBench = {
    method: {
      calls: DEFINITION,
      cpu: "V8's sampling profiler on the world's thread (250 µs): samples whose stack holds a frame of the function's bundle, assigned to the invocation of that function running at the sample's time (shared when several ran at once). Not counted: V8 compiling a bundle at a cold start, GC, Node's HTTP parsing before it calls back into the SDK.",
      active:
        "Σ per invocation of wall time minus the union of its own AWS calls (as the local AWS saw them) and webhook posts: includes whatever else the shared thread ran meanwhile (the local AWS, other functions), so an upper bound.",
      billed: "Σ wall ms of the invocations (Lambda's billed duration at 1 ms granularity; cold-start imports included).",
      notice: `wall ms from ECS's event being put on the sandbox bus to the webhook receiver accepting the message, at the first and at the last destination (Slack, signed webhook). Sandbox time stands still while work runs, so against the pollers (whose delays are sandbox time) Stevedore's delay counts as its wall ms plus the sandbox time it waited; in both worlds every AWS call takes ${CALL_LATENCY_MS} ms of sandbox time. The sandbox delivers events and stream records at once: EventBridge and DynamoDB Streams add their own delivery latency in AWS.`,
      pollers:
        "bench/pollers.ts: the real SDK against the same local ECS; calls from the first DescribeServices to the check that saw the service stable; notice delay on the sandbox clock from ECS's COMPLETED to that check.",
    },
    rolloutMinutes: ROLLOUT_MS / MINUTE,
    callsPerDeployment: Math.max(cold.marginalCalls, warm.marginalCalls),
    callsPerDeploymentAll: { cold: cold.calls, warm: warm.calls },
    callsByApi: cold.callsByApi,
    cpuMsPerDeployment: cold.cpuMs,
    activeMsPerDeployment: cold.activeMs,
    billedMsPerDeployment: cold.billedMs,
    finalNotification: { ...(rolledOut ? { rolledOut } : {}), ...(rolledBack ? { rolledBack } : {}) },
    sweeperFixedCost: stevedore.sweeper,
    promotionCalls: stevedore.promotion,
    stevedore,
    pollers: { everySecond, sdkWaiter, sdkWaiterSchedule: schedule },
    ratios: {
      callsEverySecondOverStevedore: ratio(everySecond.calls, cold.calls),
      callsEverySecondOneCallPerCheckOverStevedore: ratio(everySecond.calls - everySecond.checks, cold.calls),
      callsSdkWaiterOverStevedore: ratio(sdkWaiter.calls, cold.calls),
      noticeSdkWaiterRunOverStevedore: ratio(sdkWaiter.noticeDelayMs, rolledOut?.totalMs ?? NaN),
      noticeSdkWaiterMedianOverStevedore: ratio((schedule[0]?.delayMedianS ?? NaN) * 1000, rolledOut?.totalMs ?? NaN),
      noticeEverySecondOverStevedore: ratio(everySecond.noticeDelayMs, rolledOut?.totalMs ?? NaN),
    },
    targets: {},
  };
  const worstCalls = result.callsPerDeployment; // marginal: the worse of cold and warm
  result.targets = {
    callsPerDeployment: {
      target: `≤ ${TARGETS.maxCalls} AWS calls, push to verified (marginal)`,
      measured: `${worstCalls} marginal (all calls of its invocations: ${cold.calls} cold, ${warm.calls} warm)`,
      verdict: verdict(worstCalls <= TARGETS.maxCalls),
    },
    fewerCallsThanEverySecond: {
      target: `≥ ${TARGETS.minRatioVsEverySecond}× fewer than the 1-s poller over a 5-min rollout`,
      measured: `${result.ratios.callsEverySecondOverStevedore}× (${everySecond.calls} / ${cold.calls}); one call a check: ${result.ratios.callsEverySecondOneCallPerCheckOverStevedore}×`,
      verdict: verdict(everySecond.calls / worstCalls >= TARGETS.minRatioVsEverySecond),
    },
    finalNotification: {
      target: "final notification ≤ 1 s after ECS's final event",
      measured: `${ms(rolledOut?.totalMs ?? NaN)} rolled out, ${ms(rolledBack?.totalMs ?? NaN)} rolled back (work + sandbox waits)`,
      verdict: verdict(worstNotice <= TARGETS.maxFinalNoticeMs),
    },
  };
  return result;
}

export function deploymentTable(d: DeploymentBench): string {
  const [cold, warm, bad] = d.stevedore.deployments as [DeploymentFigures, DeploymentFigures, DeploymentFigures];
  const { everySecond: e, sdkWaiter: w } = d.pollers;
  const sec = (msValue: number) => `${(msValue / 1000).toFixed(1)} s`;
  const rows: (string | number)[][] = [
    ["deployer (5-min rollout, sandbox)", "AWS calls (marginal)", "by API", "CPU ms", "active ms", "billed ms", "notice after ECS's final event"],
    ...[cold, warm, bad].map((f) => [
      `Stevedore: ${f.label} → ${f.outcome}`,
      `${f.calls} (${f.marginalCalls})`,
      byName(f.callsByApi),
      f.cpuMs.toFixed(1),
      f.activeMs.toFixed(1),
      `${f.billedMs} (init ${f.initMs.toFixed(0)})`,
      f.notice ? `${ms(f.notice.allMs)} real + ${sec(f.notice.sandboxMs)} sandbox: ${slackLabel(f.notice.message)}` : "—",
    ]),
    [
      `poller every 1 s, 2 calls a check (${e.checks} checks)`,
      e.calls,
      byName(e.callsByApi),
      "—",
      "—",
      `runner busy ${(e.runMs / MINUTE).toFixed(1)} min`,
      `${sec(e.noticeDelayMs)} sandbox`,
    ],
    [
      `poller on the SDK waiter's schedule (${w.checks} checks)`,
      w.calls,
      byName(w.callsByApi),
      "—",
      "—",
      `runner busy ${(w.runMs / MINUTE).toFixed(1)} min`,
      `${sec(w.noticeDelayMs)} sandbox`,
    ],
  ];
  const [w120, w600] = d.pollers.sdkWaiterSchedule as [WaiterDistribution, WaiterDistribution];
  const targetRows = [["target", "measured", "verdict"], ...Object.values(d.targets).map((t) => [t.target, t.measured, t.verdict])];
  return [
    table(rows),
    "",
    `Ratios: the 1-s poller makes ${d.ratios.callsEverySecondOverStevedore}× Stevedore's calls (${d.ratios.callsEverySecondOneCallPerCheckOverStevedore}× at one call a check, as ecs-deploy's source does while the`,
    `rollout runs); the SDK-waiter poller ${d.ratios.callsSdkWaiterOverStevedore}× (it makes fewer calls, and pays in notice delay).`,
    `Notice delay, Stevedore's ${ms(d.finalNotification.rolledOut?.allMs ?? NaN)} of work plus ${((d.finalNotification.rolledOut?.sandboxMs ?? NaN) / 1000).toFixed(2)} s waited on the sandbox clock, against the pollers' sandbox delays:`,
    `  1-s poller ${(e.noticeDelayMs / 1000).toFixed(2)} s (${d.ratios.noticeEverySecondOverStevedore}×); SDK waiter this run ${(w.noticeDelayMs / 1000).toFixed(1)} s (${d.ratios.noticeSdkWaiterRunOverStevedore}×), its median over the jitter ${w120.delayMedianS.toFixed(0)} s (${d.ratios.noticeSdkWaiterMedianOverStevedore}×).`,
    `SDK waiter schedule over ${w120.samples} jitter draws (rollout 5 min, latency left out): maxDelay 120 s → notice after ${w120.delayMedianS.toFixed(0)} s median, ${w120.delayP95S.toFixed(0)} s p95, ${w120.delayMaxS.toFixed(0)} s max;`,
    `  maxDelay 600 s (client-ecs 3.1162's default) → ${w600.delayMedianS.toFixed(0)} s median, ${w600.delayP95S.toFixed(0)} s p95, ${w600.delayMaxS.toFixed(0)} s max.`,
    `Stevedore's "deployed and verified" comes by design only after the watch window: ${cold.verifiedAfterCompletedMinutes ?? "?"} / ${warm.verifiedAfterCompletedMinutes ?? "?"} sandbox min after COMPLETED (watch 5m, then the next sweep).`,
    `Fixed cost, apart from deployments: the sweeper, ${d.sweeperFixedCost.callsPerMinute} calls per sandbox minute whether or not anything deploys (${d.sweeperFixedCost.sweeps} sweeps that changed nothing: ${byName(d.sweeperFixedCost.callsByApi)}, over ${d.sweeperFixedCost.minutes} min).`,
    `Promotion to production after staging verified (production's deployment, not counted above): ${d.promotionCalls.calls} calls (${byName(d.promotionCalls.callsByApi)}).`,
    "",
    table(targetRows),
    "",
    notes([
      `Calls: ${d.method.calls}`,
      `CPU ms: ${d.method.cpu}`,
      `active ms: ${d.method.active}`,
      `billed ms: ${d.method.billed}`,
      `notice: ${d.method.notice}`,
      `pollers: ${d.method.pollers}`,
      `sandbox time waits for the work (sandbox/clock.ts); the profiler saw ${d.stevedore.profile.busyMs} ms of busy thread, ${d.stevedore.profile.inBundlesMs} ms of it in function bundles, ${d.stevedore.profile.gcMs} ms in GC.`,
    ]),
  ].join("\n");
}

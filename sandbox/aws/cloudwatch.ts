// CloudWatch alarms for the sandbox: PutMetricAlarm, PutCompositeAlarm, DescribeAlarms,
// SetAlarmState and DeleteAlarms in the wire shapes the SDK reads (AWS JSON 1.0 with
// awsQueryCompatible), and "CloudWatch Alarm State Change" events with exactly the shape of the
// samples in test/events/. Composite alarms follow their children (ALARM(), OK(),
// INSUFFICIENT_DATA(), AND, OR, NOT, TRUE, FALSE). Listeners (the sandbox's ECS) hear every
// real change of state.
import { type Clock } from "../clock";
import { awsEvent, type Emit, type EventOrigin } from "../events";
import type { AwsRequest, AwsResponse } from "./server";

export const CLOUDWATCH_PREFIX = "GraniteServiceVersion20100801";

type Json = Record<string, unknown>;

export const ALARM_STATES = ["OK", "ALARM", "INSUFFICIENT_DATA"] as const;
export type AlarmStateValue = (typeof ALARM_STATES)[number];
export type AlarmType = "MetricAlarm" | "CompositeAlarm";

export type AlarmListener = (name: string, state: AlarmStateValue, reason: string) => void;

export interface AlarmSnapshot {
  name: string;
  arn: string;
  type: AlarmType;
  state: AlarmStateValue;
  reason: string;
  reasonData?: string;
  /** Virtual epoch ms of the last state update. */
  updatedAt: number;
  description?: string;
  alarmRule?: string;
}

export interface CreateAlarmOptions {
  state?: AlarmStateValue;
  /** An AlarmRule: makes it a composite alarm. */
  composite?: string;
  description?: string;
  reason?: string;
  reasonData?: string;
  /** For a metric alarm: the metric it watches (a generic one when not given). */
  metric?: { namespace: string; name: string; dimensions?: Record<string, string>; stat?: string; period?: number };
}

interface AlarmState {
  value: AlarmStateValue;
  reason: string;
  reasonData?: string;
  timestamp: number;
}

interface Alarm {
  type: AlarmType;
  name: string;
  arn: string;
  /** The Put*Alarm input, as given (AlarmName aside). */
  config: Json;
  rule?: Rule;
  state: AlarmState;
  configUpdatedAt: number;
  transitionedAt: number;
}

const MAX_RECORDS = 100;
const COMPARISONS = [
  "GreaterThanOrEqualToThreshold",
  "GreaterThanThreshold",
  "LessThanThreshold",
  "LessThanOrEqualToThreshold",
  "LessThanLowerOrGreaterThanUpperThreshold",
  "LessThanLowerThreshold",
  "GreaterThanUpperThreshold",
];
const STATISTICS = ["SampleCount", "Average", "Sum", "Minimum", "Maximum"];

export class LocalCloudWatch {
  readonly account: string;
  readonly region: string;
  /** Requests per operation, failures included. */
  readonly calls: Record<string, number> = {};

  private readonly clock: Clock;
  private readonly emitEvent: Emit;
  private readonly origin: EventOrigin;
  private readonly alarms = new Map<string, Alarm>();
  private readonly listeners: AlarmListener[] = [];

  constructor(options: { clock: Clock; emit: Emit; account?: string; region?: string }) {
    this.clock = options.clock;
    this.emitEvent = options.emit;
    this.account = options.account ?? "123456789012";
    this.region = options.region ?? "eu-west-1";
    this.origin = { clock: this.clock, account: this.account, region: this.region };
  }

  readonly handle = async (request: AwsRequest): Promise<AwsResponse> => {
    this.calls[request.operation] = (this.calls[request.operation] ?? 0) + 1;
    try {
      const body = request.body ?? {};
      switch (request.operation) {
        case "PutMetricAlarm":
          return ok(this.putMetricAlarm(body));
        case "PutCompositeAlarm":
          return ok(this.putCompositeAlarm(body));
        case "DescribeAlarms":
          return ok(this.describeAlarms(body));
        case "SetAlarmState":
          return ok(this.setAlarmStateCall(body));
        case "DeleteAlarms":
          return ok(this.deleteAlarms(body));
        default:
          return cwError("UnknownOperationException", "UnknownOperationException", `${request.operation} is not implemented by the sandbox`, 400);
      }
    } catch (error) {
      if (error instanceof CloudWatchError) return cwError(error.shape, error.queryCode, error.message, error.status);
      throw error;
    }
  };

  // ── control ──────────────────────────────────────────────────────────────────────────────

  /** Hears every real change of an alarm's state, whatever caused it. */
  onStateChange(listener: AlarmListener): void {
    this.listeners.push(listener);
  }

  /**
   * An alarm, as if it had long existed: no event, but listeners hear its state (so that ECS
   * knows an alarm that is already firing). Replaces an alarm of the same name.
   */
  createAlarm(name: string, options: CreateAlarmOptions = {}): AlarmSnapshot {
    checkName(name);
    const now = this.clock.now();
    const metric = options.metric ?? { namespace: "Sandbox", name: "Errors" };
    const config: Json =
      options.composite !== undefined
        ? { AlarmRule: options.composite }
        : {
            Namespace: metric.namespace,
            MetricName: metric.name,
            Dimensions: Object.entries(metric.dimensions ?? {}).map(([Name, Value]) => ({ Name, Value })),
            Statistic: metric.stat ?? "Sum",
            Period: metric.period ?? 60,
            EvaluationPeriods: 1,
            Threshold: 1,
            ComparisonOperator: "GreaterThanOrEqualToThreshold",
          };
    config.AlarmDescription = options.description ?? `${name} (sandbox alarm)`;
    const alarm: Alarm = {
      type: options.composite !== undefined ? "CompositeAlarm" : "MetricAlarm",
      name,
      arn: this.arn(name),
      config,
      rule: options.composite !== undefined ? parseRule(options.composite) : undefined,
      state: { value: "INSUFFICIENT_DATA", reason: "Unchecked: Initial alarm creation", timestamp: now },
      configUpdatedAt: now,
      transitionedAt: now,
    };
    const value = options.state ?? (alarm.rule ? this.evaluate(alarm.rule) : "OK");
    alarm.state = {
      value,
      reason: options.reason ?? `Sandbox: ${name} created in ${value}`,
      ...(options.reasonData !== undefined ? { reasonData: options.reasonData } : {}),
      timestamp: now,
    };
    this.alarms.set(name, alarm);
    this.notify(alarm);
    this.reevaluateParents(name);
    return this.snapshot(alarm);
  }

  /** SetAlarmState without the SDK. Returns whether the state changed. */
  setAlarmState(name: string, value: AlarmStateValue, reason = `Sandbox set ${name} to ${value}`, reasonData?: string): boolean {
    const alarm = this.alarms.get(name);
    if (!alarm) throw new Error(`alarm ${name} does not exist`);
    return this.transition(alarm, { value, reason, reasonData, timestamp: this.clock.now() });
  }

  alarm(name: string): AlarmSnapshot | undefined {
    const alarm = this.alarms.get(name);
    return alarm && this.snapshot(alarm);
  }

  // ── the API ──────────────────────────────────────────────────────────────────────────────

  private putMetricAlarm(body: Json): Json {
    const name = checkName(body.AlarmName);
    if (body.Metrics !== undefined && (body.MetricName !== undefined || body.Namespace !== undefined || body.Statistic !== undefined)) {
      throw new CloudWatchError(
        "InvalidParameterCombinationException",
        "InvalidParameterCombination",
        "Metrics list cannot be used with MetricName, Namespace or Statistic.",
      );
    }
    if (body.ComparisonOperator !== undefined && !COMPARISONS.includes(String(body.ComparisonOperator))) {
      throw validation(body.ComparisonOperator, "comparisonOperator", `Member must satisfy enum value set: [${COMPARISONS.join(", ")}]`);
    }
    if (body.Statistic !== undefined && !STATISTICS.includes(String(body.Statistic))) {
      throw validation(body.Statistic, "statistic", `Member must satisfy enum value set: [${STATISTICS.join(", ")}]`);
    }
    for (const key of ["Period", "EvaluationPeriods", "DatapointsToAlarm"]) {
      const value = body[key];
      if (value !== undefined && (!Number.isInteger(value) || (value as number) < 1)) {
        throw validation(value, key.charAt(0).toLowerCase() + key.slice(1), "Member must have value greater than or equal to 1");
      }
    }
    const existing = this.alarms.get(name);
    if (existing && existing.type !== "MetricAlarm") {
      throw new CloudWatchError("InvalidParameterValueException", "InvalidParameterValue", `The alarm ${name} is a composite alarm.`);
    }
    this.put(name, "MetricAlarm", body);
    return {};
  }

  private putCompositeAlarm(body: Json): Json {
    const name = checkName(body.AlarmName);
    const ruleText = body.AlarmRule;
    if (typeof ruleText !== "string" || ruleText.length === 0 || ruleText.length > 10240) {
      throw validation(ruleText, "alarmRule", "Member must have length between 1 and 10240");
    }
    let rule: Rule;
    try {
      rule = parseRule(ruleText);
    } catch (error) {
      throw new CloudWatchError("InvalidParameterValueException", "InvalidParameterValue", `Error in alarm rule: ${(error as Error).message}`);
    }
    const existing = this.alarms.get(name);
    if (existing && existing.type !== "CompositeAlarm") {
      throw new CloudWatchError("InvalidParameterValueException", "InvalidParameterValue", `The alarm ${name} is a metric alarm.`);
    }
    if (this.descendants(rule).has(name)) {
      throw new CloudWatchError("InvalidParameterValueException", "InvalidParameterValue", "A composite alarm cannot depend on itself.");
    }
    const alarm = this.put(name, "CompositeAlarm", body, rule);
    this.reevaluate(alarm);
    return {};
  }

  private put(name: string, type: AlarmType, body: Json, rule?: Rule): Alarm {
    const now = this.clock.now();
    const { AlarmName: _name, Tags: _tags, ...config } = body;
    const existing = this.alarms.get(name);
    if (existing) {
      // Updating an alarm replaces its configuration and leaves its state alone.
      existing.config = config;
      existing.rule = rule;
      existing.configUpdatedAt = now;
      return existing;
    }
    const alarm: Alarm = {
      type,
      name,
      arn: this.arn(name),
      config,
      rule,
      state: { value: "INSUFFICIENT_DATA", reason: "Unchecked: Initial alarm creation", timestamp: now },
      configUpdatedAt: now,
      transitionedAt: now,
    };
    this.alarms.set(name, alarm);
    this.notify(alarm);
    this.reevaluateParents(name);
    return alarm;
  }

  private describeAlarms(body: Json): Json {
    const names = body.AlarmNames;
    if (names !== undefined && (!Array.isArray(names) || names.length > 100)) {
      throw validation(names, "alarmNames", "Member must have length less than or equal to 100");
    }
    if (names !== undefined && body.AlarmNamePrefix !== undefined) {
      throw new CloudWatchError(
        "InvalidParameterCombinationException",
        "InvalidParameterCombination",
        "AlarmNamePrefix and AlarmNames cannot be used together.",
      );
    }
    if (body.ChildrenOfAlarmName !== undefined || body.ParentsOfAlarmName !== undefined) {
      throw new CloudWatchError(
        "InvalidParameterValueException",
        "InvalidParameterValue",
        "ChildrenOfAlarmName and ParentsOfAlarmName are not implemented by the sandbox",
      );
    }
    // Without AlarmTypes, DescribeAlarms returns metric alarms only, like AWS.
    const types = body.AlarmTypes === undefined ? ["MetricAlarm"] : body.AlarmTypes;
    if (!Array.isArray(types) || types.some((t) => t !== "MetricAlarm" && t !== "CompositeAlarm")) {
      throw validation(types, "alarmTypes", "Member must satisfy enum value set: [CompositeAlarm, MetricAlarm]");
    }
    if (body.StateValue !== undefined && !(ALARM_STATES as readonly unknown[]).includes(body.StateValue)) {
      throw validation(body.StateValue, "stateValue", `Member must satisfy enum value set: [${ALARM_STATES.join(", ")}]`);
    }
    const max = body.MaxRecords ?? 50;
    if (!Number.isInteger(max) || (max as number) < 1 || (max as number) > MAX_RECORDS) {
      throw validation(max, "maxRecords", "Member must have value between 1 and 100");
    }
    let after = "";
    if (body.NextToken !== undefined) {
      try {
        const token = JSON.parse(Buffer.from(String(body.NextToken), "base64url").toString("utf8")) as { after?: unknown };
        if (typeof token.after !== "string") throw new Error("no position");
        after = token.after;
      } catch {
        throw new CloudWatchError("InvalidNextToken", "InvalidNextToken", "The service couldn't process the provided token.", 400);
      }
    }

    const wanted = names === undefined ? undefined : new Set(names as string[]);
    const prefix = typeof body.AlarmNamePrefix === "string" ? body.AlarmNamePrefix : undefined;
    const matching = [...this.alarms.values()]
      .filter((a) => (types as string[]).includes(a.type))
      .filter((a) => !wanted || wanted.has(a.name))
      .filter((a) => prefix === undefined || a.name.startsWith(prefix))
      .filter((a) => body.StateValue === undefined || a.state.value === body.StateValue)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .filter((a) => a.name > after);
    const page = matching.slice(0, max as number);
    const more = matching.length > page.length;
    return {
      MetricAlarms: page.filter((a) => a.type === "MetricAlarm").map((a) => this.describe(a)),
      CompositeAlarms: page.filter((a) => a.type === "CompositeAlarm").map((a) => this.describe(a)),
      ...(more ? { NextToken: Buffer.from(JSON.stringify({ after: page[page.length - 1]?.name ?? "" })).toString("base64url") } : {}),
    };
  }

  private setAlarmStateCall(body: Json): Json {
    const name = checkName(body.AlarmName);
    if (!(ALARM_STATES as readonly unknown[]).includes(body.StateValue)) {
      throw validation(body.StateValue, "stateValue", `Member must satisfy enum value set: [${ALARM_STATES.join(", ")}]`);
    }
    const reason = body.StateReason;
    if (typeof reason !== "string" || reason.length > 1023) {
      throw validation(reason, "stateReason", "Member must have length less than or equal to 1023");
    }
    const data = body.StateReasonData;
    if (data !== undefined) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(String(data));
      } catch {
        parsed = undefined;
      }
      if (typeof parsed !== "object" || parsed === null) {
        throw new CloudWatchError("InvalidFormatFault", "InvalidFormat", "StateReasonData must be a JSON object.");
      }
    }
    const alarm = this.alarms.get(name);
    if (!alarm) throw new CloudWatchError("ResourceNotFound", "ResourceNotFound", `Alarm ${name} not found`, 404);
    this.transition(alarm, {
      value: body.StateValue as AlarmStateValue,
      reason,
      ...(data !== undefined ? { reasonData: String(data) } : {}),
      timestamp: this.clock.now(),
    });
    return {};
  }

  private deleteAlarms(body: Json): Json {
    const names = body.AlarmNames;
    if (!Array.isArray(names) || names.length > 100) throw validation(names, "alarmNames", "Member must have length less than or equal to 100");
    const missing = names.filter((n) => !this.alarms.has(String(n)));
    if (missing.length > 0) throw new CloudWatchError("ResourceNotFound", "ResourceNotFound", `Alarms not found: ${missing.join(", ")}`, 404);
    for (const name of names) this.alarms.delete(String(name));
    return {};
  }

  // ── state changes ────────────────────────────────────────────────────────────────────────

  /** Applies a new state; a real change emits the event, tells the listeners and the parents. */
  private transition(alarm: Alarm, next: AlarmState): boolean {
    if (next.value === alarm.state.value) return false;
    const previous = alarm.state;
    alarm.state = next;
    alarm.transitionedAt = next.timestamp;
    this.emitEvent(
      awsEvent(
        this.origin,
        "aws.cloudwatch",
        "CloudWatch Alarm State Change",
        {
          alarmName: alarm.name,
          configuration: this.eventConfiguration(alarm),
          previousState: eventState(previous),
          state: eventState(next),
        },
        [alarm.arn],
      ),
    );
    this.notify(alarm);
    this.reevaluateParents(alarm.name);
    return true;
  }

  private notify(alarm: Alarm): void {
    for (const listener of this.listeners) listener(alarm.name, alarm.state.value, alarm.state.reason);
  }

  private reevaluateParents(child: string): void {
    for (const parent of this.alarms.values()) {
      if (parent.rule && children(parent.rule).includes(child)) this.reevaluate(parent);
    }
  }

  private reevaluate(alarm: Alarm): void {
    if (!alarm.rule) return;
    const value = this.evaluate(alarm.rule);
    if (value === alarm.state.value) return;
    const culprits = children(alarm.rule)
      .map((name) => this.alarms.get(name))
      .filter((a): a is Alarm => !!a && a.state.value === "ALARM")
      .map((a) => a.arn);
    this.transition(alarm, {
      value,
      reason:
        value === "ALARM"
          ? `${culprits[0] ?? "A child alarm"} transitioned to ALARM at ${new Date(this.clock.now()).toUTCString()}`
          : "The alarm rule no longer evaluates to true",
      reasonData: JSON.stringify({ triggeringAlarms: culprits.map((arn) => ({ arn, state: { value: "ALARM" } })) }),
      timestamp: this.clock.now(),
    });
  }

  /** Every alarm a rule depends on, through composite children too. */
  private descendants(rule: Rule, seen = new Set<string>()): Set<string> {
    for (const name of children(rule)) {
      if (seen.has(name)) continue;
      seen.add(name);
      const child = this.alarms.get(name)?.rule;
      if (child) this.descendants(child, seen);
    }
    return seen;
  }

  private evaluate(rule: Rule): AlarmStateValue {
    const state = (name: string) => this.alarms.get(name)?.state.value ?? "INSUFFICIENT_DATA";
    const truth = (r: Rule): boolean => {
      switch (r.kind) {
        case "const":
          return r.value;
        case "state":
          return state(r.alarm) === r.state;
        case "not":
          return !truth(r.of);
        case "and":
          return truth(r.left) && truth(r.right);
        case "or":
          return truth(r.left) || truth(r.right);
      }
    };
    return truth(rule) ? "ALARM" : "OK";
  }

  // ── shapes ───────────────────────────────────────────────────────────────────────────────

  private arn(name: string): string {
    return `arn:aws:cloudwatch:${this.region}:${this.account}:alarm:${name}`;
  }

  private describe(alarm: Alarm): Json {
    const common: Json = {
      AlarmName: alarm.name,
      AlarmArn: alarm.arn,
      AlarmDescription: alarm.config.AlarmDescription,
      AlarmConfigurationUpdatedTimestamp: alarm.configUpdatedAt / 1000,
      ActionsEnabled: alarm.config.ActionsEnabled ?? true,
      OKActions: alarm.config.OKActions ?? [],
      AlarmActions: alarm.config.AlarmActions ?? [],
      InsufficientDataActions: alarm.config.InsufficientDataActions ?? [],
      StateValue: alarm.state.value,
      StateReason: alarm.state.reason,
      ...(alarm.state.reasonData !== undefined ? { StateReasonData: alarm.state.reasonData } : {}),
      StateUpdatedTimestamp: alarm.state.timestamp / 1000,
      StateTransitionedTimestamp: alarm.transitionedAt / 1000,
    };
    if (alarm.type === "CompositeAlarm") {
      return {
        ...common,
        AlarmRule: alarm.config.AlarmRule,
        ...pick(alarm.config, ["ActionsSuppressor", "ActionsSuppressorWaitPeriod", "ActionsSuppressorExtensionPeriod"]),
      };
    }
    return {
      ...common,
      ...pick(alarm.config, [
        "MetricName",
        "Namespace",
        "Statistic",
        "ExtendedStatistic",
        "Period",
        "Unit",
        "EvaluationPeriods",
        "DatapointsToAlarm",
        "Threshold",
        "ComparisonOperator",
        "TreatMissingData",
        "EvaluateLowSampleCountPercentile",
        "Metrics",
        "ThresholdMetricId",
      ]),
      Dimensions: alarm.config.Dimensions ?? [],
    };
  }

  /** `configuration` of the state change event, as CloudWatch writes it. */
  private eventConfiguration(alarm: Alarm): Json {
    const c = alarm.config;
    const description = c.AlarmDescription === undefined ? {} : { description: c.AlarmDescription };
    if (alarm.type === "CompositeAlarm") {
      return {
        alarmRule: c.AlarmRule,
        ...(c.ActionsSuppressor !== undefined
          ? {
              actionsSuppressor: c.ActionsSuppressor,
              actionsSuppressorWaitPeriod: c.ActionsSuppressorWaitPeriod,
              actionsSuppressorExtensionPeriod: c.ActionsSuppressorExtensionPeriod,
            }
          : {}),
        ...description,
      };
    }
    const metrics = Array.isArray(c.Metrics)
      ? (c.Metrics as Json[]).map((q) => ({
          id: q.Id,
          ...(q.Expression !== undefined ? { expression: q.Expression } : {}),
          ...(q.Label !== undefined ? { label: q.Label } : {}),
          ...(isObject(q.MetricStat) ? { metricStat: metricStat(q.MetricStat.Metric, q.MetricStat.Period, q.MetricStat.Stat) } : {}),
          returnData: q.ReturnData ?? true,
        }))
      : [{ id: "m1", metricStat: metricStat(c, c.Period, c.Statistic ?? c.ExtendedStatistic), returnData: true }];
    return { ...description, metrics };
  }

  private snapshot(alarm: Alarm): AlarmSnapshot {
    return {
      name: alarm.name,
      arn: alarm.arn,
      type: alarm.type,
      state: alarm.state.value,
      reason: alarm.state.reason,
      ...(alarm.state.reasonData !== undefined ? { reasonData: alarm.state.reasonData } : {}),
      updatedAt: alarm.state.timestamp,
      ...(typeof alarm.config.AlarmDescription === "string" ? { description: alarm.config.AlarmDescription } : {}),
      ...(alarm.rule ? { alarmRule: String(alarm.config.AlarmRule) } : {}),
    };
  }
}

// ── composite alarm rules ──────────────────────────────────────────────────────────────────

type Rule =
  | { kind: "const"; value: boolean }
  | { kind: "state"; state: AlarmStateValue; alarm: string }
  | { kind: "not"; of: Rule }
  | { kind: "and" | "or"; left: Rule; right: Rule };

/** ALARM(x) / OK(x) / INSUFFICIENT_DATA(x), TRUE, FALSE, NOT, AND, OR and parentheses. */
export function parseRule(text: string): Rule {
  const tokens = text.match(/"[^"]*"|'[^']*'|\(|\)|[^\s()]+/g) ?? [];
  let i = 0;
  const peek = () => tokens[i];
  const next = () => {
    const token = tokens[i++];
    if (token === undefined) throw new Error("unexpected end of rule");
    return token;
  };
  const expect = (token: string) => {
    const got = next();
    if (got !== token) throw new Error(`expected "${token}", got "${got}"`);
  };
  const orExpr = (): Rule => {
    let left = andExpr();
    while (peek()?.toUpperCase() === "OR") {
      next();
      left = { kind: "or", left, right: andExpr() };
    }
    return left;
  };
  const andExpr = (): Rule => {
    let left = unary();
    while (peek()?.toUpperCase() === "AND") {
      next();
      left = { kind: "and", left, right: unary() };
    }
    return left;
  };
  const unary = (): Rule => {
    const token = next();
    const upper = token.toUpperCase();
    if (upper === "NOT") return { kind: "not", of: unary() };
    if (token === "(") {
      const inner = orExpr();
      expect(")");
      return inner;
    }
    if (upper === "TRUE" || upper === "FALSE") return { kind: "const", value: upper === "TRUE" };
    if ((ALARM_STATES as readonly string[]).includes(upper)) {
      expect("(");
      let alarm = next().replace(/^(["'])(.*)\1$/, "$2");
      alarm = /^arn:aws[a-z-]*:cloudwatch:[^:]+:\d{12}:alarm:(.+)$/.exec(alarm)?.[1] ?? alarm;
      expect(")");
      return { kind: "state", state: upper as AlarmStateValue, alarm };
    }
    throw new Error(`unexpected "${token}"`);
  };
  const rule = orExpr();
  if (i !== tokens.length) throw new Error(`unexpected "${tokens[i]}"`);
  return rule;
}

function children(rule: Rule): string[] {
  switch (rule.kind) {
    case "const":
      return [];
    case "state":
      return [rule.alarm];
    case "not":
      return children(rule.of);
    default:
      return [...children(rule.left), ...children(rule.right)];
  }
}

// ── errors and helpers ─────────────────────────────────────────────────────────────────────

/** An error as CloudWatch sends it: the Smithy shape in __type, the query-era code beside it. */
class CloudWatchError extends Error {
  constructor(
    readonly shape: string,
    readonly queryCode: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/**
 * With awsQueryCompatible, AWS names the query-era error code in an `x-amzn-query-error`
 * header ("ResourceNotFound;Sender"), from which the SDK fills `Code`, `Type` and `Error` and
 * picks the exception class. LocalAwsServer cannot set response headers, so the body carries
 * those fields itself; the SDK reads them first and builds the very same exception.
 */
function cwError(shape: string, queryCode: string, message: string, status: number): AwsResponse {
  return {
    status,
    body: {
      __type: `com.amazonaws.cloudwatch#${shape}`,
      message,
      Code: queryCode,
      Type: status >= 500 ? "Receiver" : "Sender",
      Error: { Code: queryCode, Type: status >= 500 ? "Receiver" : "Sender", Message: message },
    },
  };
}

function validation(value: unknown, member: string, constraint: string): CloudWatchError {
  return new CloudWatchError(
    "ValidationException",
    "ValidationError",
    `1 validation error detected: Value '${JSON.stringify(value) ?? "null"}' at '${member}' failed to satisfy constraint: ${constraint}`,
  );
}

function checkName(name: unknown): string {
  if (typeof name !== "string" || name.length < 1 || name.length > 255) {
    throw validation(name, "alarmName", "Member must have length between 1 and 255");
  }
  return name;
}

function ok(body: Json): AwsResponse {
  return { status: 200, body };
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function pick(source: Json, keys: string[]): Json {
  return Object.fromEntries(keys.filter((k) => source[k] !== undefined).map((k) => [k, source[k]]));
}

function metricStat(metric: unknown, period: unknown, stat: unknown): Json {
  const m = isObject(metric) ? metric : {};
  const dimensions = Array.isArray(m.Dimensions) ? (m.Dimensions as Json[]) : [];
  return {
    metric: {
      dimensions: Object.fromEntries(dimensions.map((d) => [String(d.Name), String(d.Value)])),
      name: m.MetricName,
      namespace: m.Namespace,
    },
    period,
    stat,
  };
}

/** "2026-11-20T09:24:40.303+0000", as alarm state changes write timestamps. */
function eventTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace("Z", "+0000");
}

function eventState(state: AlarmState): Json {
  return {
    reason: state.reason,
    ...(state.reasonData !== undefined ? { reasonData: state.reasonData } : {}),
    timestamp: eventTimestamp(state.timestamp),
    value: state.value,
  };
}

// The local EventBridge and event source mappings: events reach functions by the rules that
// `osls print` resolves from serverless.yml (the very patterns a deployment creates), with
// Lambda's delivery semantics:
//   - EventBridge → Lambda is an asynchronous invocation: an error is retried after about one
//     and then two minutes (maximumRetryAttempts), then the event goes to the dead-letter queue;
//   - `rate(...)` schedules fire on the sandbox's clock;
//   - DynamoDB stream consumers get ordered batches of the records that pass their filter
//     patterns; with ReportBatchItemFailures a batch is retried from the first failed record.
// EventBridge delivers at least once and in no guaranteed order: the faults can duplicate,
// reorder and delay its events. Stream batches are retried after failures only, as in AWS.
import type { Clock } from "./clock";
import { MINUTE, SECOND } from "./clock";
import type { StreamRecord } from "./aws/dynamodb";
import type { AwsEvent } from "./events";
import { noneInjected, type Faults, type Injected } from "./faults";
import { matches, PatternError, RULE_PATTERN_MAX_CHARS, validatePattern } from "./pattern";
import { contentDigest, keyed, madeUpId, Occurrences } from "./random";
import type { Invocation, LambdaRuntime } from "./runtime";
import type { ResolvedStack } from "./stack";

interface Rule {
  function: string;
  pattern: Record<string, unknown>;
  maxRetries: number;
}
interface Schedule {
  function: string;
  everyMs: number;
  maxRetries: number;
}
interface StreamMapping {
  function: string;
  filters: Record<string, unknown>[];
  batchSize: number;
  maxRetries: number;
  reportFailures: boolean;
  queue: StreamRecord[];
  pumping: boolean;
}

export interface DeadLetter {
  function: string;
  error: string;
  payload: unknown;
}

export interface BusObserver {
  published?(event: AwsEvent): void;
  invoked?(invocation: Invocation, payload: unknown): void;
}

export class Bus {
  private readonly rules: Rule[] = [];
  private readonly schedules: Schedule[] = [];
  private readonly streams: StreamMapping[] = [];
  private readonly observers: BusObserver[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private pending = 0;
  private stopped = false;
  readonly deadLetters: DeadLetter[] = [];
  private readonly deliveries = new Occurrences();
  /** What a scenario does to one event's delivery (see holdBack). */
  private readonly holds: { match: (event: AwsEvent) => boolean; late?: number }[] = [];

  constructor(
    stack: Pick<ResolvedStack, "service" | "functions">,
    private readonly runtime: LambdaRuntime,
    private readonly clock: Clock,
    private readonly faults: Faults = {},
    /** Seeds the delivery faults' draws, one generator per delivery (see random.ts `keyed`). */
    private readonly seed = 1,
    /** Where the delivery faults that struck are counted. */
    private readonly injected: Injected = noneInjected(),
  ) {
    for (const [name, fn] of Object.entries(stack.functions)) {
      const maxRetries = inRange(`${name}: maximumRetryAttempts`, fn.maximumRetryAttempts ?? 2, 0, 2);
      for (const event of fn.events ?? []) {
        if ("eventBridge" in event) {
          const { pattern, schedule, enabled } = event.eventBridge;
          if (enabled === false) continue;
          if (schedule) this.schedules.push({ function: name, everyMs: rateMs(schedule), maxRetries });
          else if (pattern) this.rules.push({ function: name, pattern: putRule(name, pattern), maxRetries });
        } else if ("stream" in event && event.stream.type === "dynamodb") {
          this.streams.push({
            function: name,
            filters: event.stream.filterPatterns ?? [],
            batchSize: inRange(`${name}: stream batchSize`, event.stream.batchSize ?? 100, 1, 10_000),
            // -1, the default, retries until the record expires from the stream.
            maxRetries: streamRetries(name, event.stream.maximumRetryAttempts ?? -1),
            reportFailures: event.stream.functionResponseType === "ReportBatchItemFailures",
            queue: [],
            pumping: false,
          });
        }
      }
    }
  }

  observe(observer: BusObserver): void {
    this.observers.push(observer);
  }

  /** Starts the schedules: the first tick one period from now, like a new rule. */
  start(): void {
    for (const schedule of this.schedules) {
      const tick = () => {
        if (this.stopped) return;
        this.asyncInvoke(schedule.function, scheduledEvent(this.clock, schedule.function), schedule.maxRetries, 0);
        this.clock.after(schedule.everyMs, tick);
      };
      this.clock.after(schedule.everyMs, tick);
    }
  }

  stop(): void {
    this.stopped = true;
  }

  /**
   * The next event that `match` accepts is delivered `lateMs` later than it would be, or, without
   * `lateMs`, not at all: every delivery of it is failed and parked in the dead-letter queue, as
   * after exhausted retries, to be replayed (replayDeadLetters).
   */
  holdBack(match: (event: AwsEvent) => boolean, lateMs?: number): void {
    this.holds.push({ match, late: lateMs });
  }

  /**
   * What a person does with the parked events (README, "Replaying the dead-letter queue"): each
   * sent again as it was, an asynchronous invocation with the function's retries.
   */
  replayDeadLetters(filter: (letter: DeadLetter) => boolean = () => true): number {
    const letters = this.deadLetters.filter(filter);
    for (const letter of letters) {
      this.deadLetters.splice(this.deadLetters.indexOf(letter), 1);
      const retries = this.rules.find((r) => r.function === letter.function)?.maxRetries ?? 2;
      this.asyncInvoke(letter.function, letter.payload, retries, 0);
    }
    return letters.length;
  }

  /** An event put on the bus (by a local service or PutEvents): routed by every matching rule. */
  publish(event: AwsEvent): void {
    if (this.stopped) return;
    for (const observer of this.observers) observer.published?.(event);
    const hold = this.holds.find((h) => h.match(event));
    if (hold) this.holds.splice(this.holds.indexOf(hold), 1);
    for (const rule of this.rules) {
      if (!matches(rule.pattern, event)) continue;
      if (hold && hold.late === undefined) {
        this.deadLetters.push({ function: rule.function, error: "held back by the scenario: every delivery failed", payload: event });
        continue;
      }
      this.deliver(`${rule.function}:${contentDigest(event)}`, () => this.asyncInvoke(rule.function, event, rule.maxRetries, 0), hold?.late ?? 0);
    }
  }

  /** Stream records of a table: each consumer gets those that pass its filters, in order. */
  onStream(records: StreamRecord[]): void {
    if (this.stopped) return;
    for (const mapping of this.streams) {
      const accepted = records.filter((r) => mapping.filters.length === 0 || mapping.filters.some((f) => matches(f, r)));
      if (accepted.length === 0) continue;
      mapping.queue.push(...accepted);
      void this.pump(mapping);
    }
  }

  /** Resolves once nothing is queued, delayed or running. */
  idle(): Promise<void> {
    return this.pending === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Applies EventBridge's delivery faults (duplicates, reordering, lateness) to the delivery named `key`. */
  private deliver(key: string, send: () => void, heldMs = 0): void {
    const draw = keyed(this.seed, this.deliveries.name(key));
    const delay =
      heldMs +
      (this.faults.reorderMs ? draw() * this.faults.reorderMs : 0) +
      (this.faults.lateEvents && draw() < this.faults.lateEvents.share ? this.faults.lateEvents.lateMs : 0);
    if (delay > 0) this.injected.delayed++;
    this.later(delay, send);
    if (this.faults.duplicateEvents) {
      this.injected.duplicated++;
      this.later(delay + draw() * 5 * SECOND, send);
    }
  }

  private later(virtualMs: number, fn: () => void): void {
    this.track(+1);
    this.clock.after(virtualMs, () => {
      try {
        fn();
      } finally {
        this.track(-1);
      }
    });
  }

  private asyncInvoke(name: string, event: unknown, maxRetries: number, attempt: number): void {
    this.track(+1);
    void this.runtime
      .invoke(name, event)
      .then((invocation) => {
        for (const observer of this.observers) observer.invoked?.(invocation, event);
        if (invocation.outcome?.ok === false && !this.stopped) {
          if (attempt < maxRetries) {
            // Lambda's asynchronous retries: about one minute, then two minutes later.
            this.later((attempt + 1) * MINUTE, () => this.asyncInvoke(name, event, maxRetries, attempt + 1));
          } else {
            this.deadLetters.push({ function: name, error: invocation.outcome.error, payload: event });
          }
        }
      })
      .finally(() => this.track(-1));
  }

  private async pump(mapping: StreamMapping): Promise<void> {
    if (mapping.pumping) return;
    mapping.pumping = true;
    this.track(+1);
    let attempts = 0;
    try {
      while (mapping.queue.length > 0 && !this.stopped) {
        const batch = mapping.queue.slice(0, mapping.batchSize);
        const payload = { Records: batch };
        // A stream record appears exactly once; a batch comes again only after a failure (below).
        // That is where at-least-once shows here: the crash fault exercises it.
        const invocation = await this.runtime.invoke(mapping.function, payload);
        for (const observer of this.observers) observer.invoked?.(invocation, payload);
        const failedAt = firstFailure(invocation, batch, mapping.reportFailures);
        if (failedAt === undefined) {
          mapping.queue.splice(0, batch.length);
          attempts = 0;
          continue;
        }
        mapping.queue.splice(0, failedAt); // what succeeded before the failure is done
        if (++attempts > mapping.maxRetries) {
          const parked = mapping.queue.splice(0, batch.length - failedAt);
          this.deadLetters.push({ function: mapping.function, error: errorOf(invocation), payload: { Records: parked } });
          attempts = 0;
          continue;
        }
        await this.clock.sleep(SECOND * attempts);
      }
    } finally {
      mapping.pumping = false;
      this.track(-1);
    }
  }

  private track(change: number): void {
    this.pending += change;
    if (this.pending === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}

/** Index of the first record to retry, or undefined when the whole batch succeeded. */
function firstFailure(invocation: Invocation, batch: StreamRecord[], reportFailures: boolean): number | undefined {
  if (invocation.outcome?.ok === false) return 0;
  if (!reportFailures) return undefined;
  const failures = (invocation.outcome?.result as { batchItemFailures?: { itemIdentifier: string }[] } | undefined)?.batchItemFailures ?? [];
  if (failures.length === 0) return undefined;
  const index = Math.min(...failures.map((f) => batch.findIndex((r) => r.dynamodb.SequenceNumber === f.itemIdentifier)).filter((i) => i >= 0));
  return Number.isFinite(index) ? index : 0;
}

function errorOf(invocation: Invocation): string {
  return invocation.outcome?.ok === false ? invocation.outcome.error : "reported batch item failures";
}

/** `rate(1 minute)`, `rate(5 minutes)`, `rate(1 hour)`. */
/**
 * What PutRule does with a rule's pattern (the stack's rules are created from it on deploy): a
 * pattern over EventBridge's size quota, or one it cannot parse, is refused.
 */
export function putRule(name: string, pattern: Record<string, unknown>): Record<string, unknown> {
  const size = JSON.stringify(pattern).length;
  if (size > RULE_PATTERN_MAX_CHARS) {
    throw new PatternError([`${name}: LimitExceededException: the event pattern has ${size} characters; EventBridge allows ${RULE_PATTERN_MAX_CHARS}`]);
  }
  const problems = validatePattern(pattern);
  if (problems.length > 0) throw new PatternError(problems.map((p) => `${name}: ${p}`));
  return pattern;
}

function rateMs(expression: string): number {
  const m = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (!m) throw new Error(`sandbox: unsupported schedule ${expression}`);
  const unit = m[2]?.startsWith("minute") ? MINUTE : m[2]?.startsWith("hour") ? 60 * MINUTE : 24 * 60 * MINUTE;
  return Number(m[1]) * unit;
}

function scheduledEvent(clock: Clock, name: string): AwsEvent {
  return {
    version: "0",
    id: madeUpId({ schedule: name, at: clock.now() }),
    "detail-type": "Scheduled Event",
    source: "aws.events",
    account: "123456789012",
    time: clock.eventTime(),
    region: "eu-west-1",
    resources: [`arn:aws:events:eu-west-1:123456789012:rule/stevedore-sandbox-${name}`],
    detail: {},
  };
}

/**
 * What Lambda accepts, so a stack the sandbox runs is one CloudFormation can create: a function's
 * asynchronous MaximumRetryAttempts is 0–2, an event source mapping's BatchSize for DynamoDB
 * streams 1–10,000 (PutFunctionEventInvokeConfig, CreateEventSourceMapping).
 */
function inRange(what: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`serverless.yml: ${what} is ${value}; Lambda accepts a whole number from ${min} to ${max}`);
  }
  return value;
}

/** An event source mapping's MaximumRetryAttempts: -1 (until the record expires) or 0–10,000. */
function streamRetries(name: string, value: number): number {
  return value === -1 ? Number.POSITIVE_INFINITY : inRange(`${name}: stream maximumRetryAttempts`, value, -1, 10_000);
}

// The sandbox's event delivery refuses settings Lambda refuses, so a serverless.yml the sandbox
// runs is one CloudFormation can create.
import { Bus } from "../bus";
import { Clock } from "../clock";
import type { LambdaRuntime } from "../runtime";
import type { ResolvedFunction } from "../stack";

function busFor(fn: ResolvedFunction): Bus {
  // The constructor only reads the stack; nothing is invoked.
  return new Bus({ service: "stevedore", functions: { notify: fn } }, {} as LambdaRuntime, new Clock({}));
}

const rule = (pattern: Record<string, unknown>): ResolvedFunction => ({ handler: "h", events: [{ eventBridge: { pattern } }] });
/** A pattern of exactly `size` characters as EventBridge counts them (its JSON text). */
function patternOf(size: number): Record<string, unknown> {
  const base = { source: ["aws.ecs"], resources: [""] };
  const pad = size - JSON.stringify(base).length;
  const pattern = { source: ["aws.ecs"], resources: ["x".repeat(pad)] };
  expect(JSON.stringify(pattern)).toHaveLength(size);
  return pattern;
}

const stream = (settings: Record<string, number>): ResolvedFunction => ({
  handler: "functions/notify.handler",
  events: [{ stream: { type: "dynamodb", ...settings } }],
});

describe("the sandbox bus reads serverless.yml as Lambda would", () => {
  it.each([
    ["a stream retried until its records expire (-1)", stream({ maximumRetryAttempts: -1 })],
    ["a stream retried 10,000 times", stream({ maximumRetryAttempts: 10_000 })],
    ["a stream never retried", stream({ maximumRetryAttempts: 0 })],
    ["a stream batch of 10,000", stream({ batchSize: 10_000 })],
    ["an asynchronous function retried twice", { handler: "h", maximumRetryAttempts: 2 }],
    ["a rule pattern of 2,048 characters", rule(patternOf(2048))],
  ])("accepts %s", (_, fn) => {
    expect(() => busFor(fn)).not.toThrow();
  });

  it.each([
    [
      "a stream retried 10,001 times",
      stream({ maximumRetryAttempts: 10_001 }),
      /notify: stream maximumRetryAttempts is 10001; Lambda accepts a whole number from -1 to 10000/,
    ],
    ["a stream retried -2 times", stream({ maximumRetryAttempts: -2 }), /maximumRetryAttempts is -2/],
    ["an empty stream batch", stream({ batchSize: 0 }), /notify: stream batchSize is 0; Lambda accepts a whole number from 1 to 10000/],
    [
      "an asynchronous function retried three times",
      { handler: "h", maximumRetryAttempts: 3 },
      /notify: maximumRetryAttempts is 3; Lambda accepts a whole number from 0 to 2/,
    ],
    // PutRule: EventBridge's quota on a pattern's size, and a pattern it cannot parse.
    [
      "a rule pattern of 2,049 characters",
      rule(patternOf(2049)),
      /notify: LimitExceededException: the event pattern has 2049 characters; EventBridge allows 2048/,
    ],
    ["a rule pattern with an unknown operator", rule({ source: [{ startsWith: "aws." }] }), /notify: /],
  ])("refuses %s, naming the function, the field and the range", (_, fn, message) => {
    expect(() => busFor(fn)).toThrow(message);
  });
});

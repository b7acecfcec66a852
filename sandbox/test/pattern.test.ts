// The sandbox's EventBridge pattern matcher against AWS's documented examples, against the rules
// serverless.yml deploys (as `osls print` resolves them) with the events in test/events/, and
// against the DynamoDB stream filterPatterns with stream records of the records table.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { marshall } from "@aws-sdk/util-dynamodb";
import type { StreamRecord } from "../aws/dynamodb";
import { matches, PatternError, validatePattern } from "../pattern";
import { inAccount, readServerless, WORLD_CONFIG } from "../stack";

type Json = Record<string, unknown>;

/** The event of AWS's content-filtering documentation (and event-ruler's README). */
const EC2_EVENT = {
  version: "0",
  id: "ddddd4-aaaa-7777-4444-345dd43cc333",
  "detail-type": "EC2 Instance State-change Notification",
  source: "aws.ec2",
  account: "012345679012",
  time: "2017-10-02T16:24:49Z",
  region: "us-east-1",
  resources: ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
  detail: { "c-count": 5, "d-count": 3, "x-limit": 301.8, "source-ip": "10.0.0.33", "instance-id": "i-000000aaaaaa00000", state: "running" },
};

describe("matches: AWS's documented examples", () => {
  it.each<[string, Json, boolean]>([
    // equality; fields AND, values OR
    ["exact source", { source: ["aws.ec2"] }, true],
    ["exact source, other value", { source: ["aws.s3"] }, false],
    ["any of the listed values", { source: ["aws.s3", "aws.ec2"] }, true],
    ["nested field", { "detail-type": ["EC2 Instance State-change Notification"], detail: { state: ["initializing", "running"] } }, true],
    ["nested field, value not listed", { detail: { state: ["stopped"] } }, false],
    ["every field must match (AND)", { source: ["aws.ec2"], detail: { state: ["stopped"] } }, false],
    ["a nested object matches as a whole", { detail: { state: ["running"], "c-count": [6] } }, false],
    ["a field the event lacks", { detail: { missing: ["x"] } }, false],
    ["a nested object the event lacks", { nothing: { here: ["x"] } }, false],
    ["an event array matches when one element does", { resources: ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000", "other"] }, true],
    ["a number", { detail: { "c-count": [5] } }, true],
    ["a number written another way", { detail: { "x-limit": [3.018e2] } }, true],
    ["a number is not its string", { detail: { "c-count": ["5"] } }, false],
    ["a string is not a number", { detail: { state: [5] } }, false],
    // prefix / suffix / ignore case / wildcard
    ["prefix", { time: [{ prefix: "2017-10-02" }] }, true],
    ["prefix, not matching", { time: [{ prefix: "2017-10-03" }] }, false],
    ["prefix is case sensitive", { region: [{ prefix: "US-" }] }, false],
    ["prefix only applies to strings", { detail: { "c-count": [{ prefix: "5" }] } }, false],
    ["prefix equals-ignore-case", { region: [{ prefix: { "equals-ignore-case": "US-" } }] }, true],
    ["suffix", { source: [{ suffix: "ec2" }] }, true],
    ["suffix, not matching", { source: [{ suffix: "s3" }] }, false],
    ["suffix equals-ignore-case", { source: [{ suffix: { "equals-ignore-case": "EC2" } }] }, true],
    ["equals-ignore-case", { source: [{ "equals-ignore-case": "AWS.EC2" }] }, true],
    ["equals-ignore-case, another word", { source: [{ "equals-ignore-case": "AWS.EC" }] }, false],
    ["wildcard in the middle", { "detail-type": [{ wildcard: "EC2*Notification" }] }, true],
    ["wildcard matching nothing", { source: [{ wildcard: "aws.*ec2" }] }, true],
    ["wildcard, not matching", { "detail-type": [{ wildcard: "EC2*Alert" }] }, false],
    ["wildcard across slashes", { resources: [{ wildcard: "arn:aws:ec2:*:instance/*" }] }, true],
    ["wildcard only applies to strings", { detail: { "c-count": [{ wildcard: "*" }] } }, false],
    // anything-but
    ["anything-but a string", { detail: { state: [{ "anything-but": "initializing" }] } }, true],
    ["anything-but the very string", { detail: { state: [{ "anything-but": "running" }] } }, false],
    ["anything-but a number", { detail: { "x-limit": [{ "anything-but": 123 }] } }, true],
    ["anything-but the very number", { detail: { "c-count": [{ "anything-but": 5 }] } }, false],
    ["anything-but a list of strings", { detail: { state: [{ "anything-but": ["stopped", "overloaded"] }] } }, true],
    ["anything-but a list holding the value", { detail: { state: [{ "anything-but": ["stopped", "running"] }] } }, false],
    ["anything-but a list of numbers", { detail: { "x-limit": [{ "anything-but": [100, 200, 300] }] } }, true],
    ["anything-but a list of numbers holding it", { detail: { "d-count": [{ "anything-but": [1, 2, 3] }] } }, false],
    ["anything-but a prefix", { detail: { state: [{ "anything-but": { prefix: "init" } }] } }, true],
    ["anything-but the value's prefix", { detail: { state: [{ "anything-but": { prefix: "run" } }] } }, false],
    ["anything-but a suffix", { detail: { state: [{ "anything-but": { suffix: "ing" } }] } }, false],
    ["anything-but another suffix", { detail: { state: [{ "anything-but": { suffix: ".png" } }] } }, true],
    ["anything-but equals-ignore-case", { detail: { state: [{ "anything-but": { "equals-ignore-case": "RUNNING" } }] } }, false],
    ["anything-but equals-ignore-case list", { detail: { state: [{ "anything-but": { "equals-ignore-case": ["STOPPED", "PENDING"] } }] } }, true],
    ["anything-but a wildcard", { detail: { state: [{ "anything-but": { wildcard: "r*g" } }] } }, false],
    ["anything-but another wildcard", { detail: { state: [{ "anything-but": { wildcard: "*/lib/*" } }] } }, true],
    ["anything-but a string lets a number through", { detail: { "c-count": [{ "anything-but": "initializing" }] } }, true],
    ["anything-but never matches a missing field", { detail: { absent: [{ "anything-but": "x" }] } }, false],
    // numeric
    [
      "numeric range",
      { detail: { "c-count": [{ numeric: [">", 0, "<=", 5] }], "d-count": [{ numeric: ["<", 10] }], "x-limit": [{ numeric: ["=", 3.018e2] }] } },
      true,
    ],
    ["numeric range, value above", { detail: { "c-count": [{ numeric: [">", 0, "<", 5] }] } }, false],
    ["numeric lower bound", { detail: { "d-count": [{ numeric: [">=", 3] }] } }, true],
    ["numeric, open lower bound", { detail: { "d-count": [{ numeric: [">", 3] }] } }, false],
    ["numeric only applies to numbers", { detail: { state: [{ numeric: [">", 0] }] } }, false],
    // cidr
    ["IPv4 in the block", { detail: { "source-ip": [{ cidr: "10.0.0.0/24" }] } }, true],
    ["IPv4 outside the block", { detail: { "source-ip": [{ cidr: "10.0.1.0/24" }] } }, false],
    ["IPv4 in a wide block", { detail: { "source-ip": [{ cidr: "10.0.0.0/8" }] } }, true],
    // exists
    ["exists: true on a present field", { detail: { "c-count": [{ exists: true }] } }, true],
    ["exists: false on a present field", { detail: { "c-count": [{ exists: false }] } }, false],
    ["exists: false on a missing field", { detail: { "e-count": [{ exists: false }] } }, true],
    ["exists: true on a missing field", { detail: { "e-count": [{ exists: true }] } }, false],
    ["exists: false under a missing object", { nothing: { here: [{ exists: false }] } }, true],
    // the complex example
    [
      "complex example",
      {
        time: [{ prefix: "2017-10-02" }],
        detail: {
          state: [{ "anything-but": "initializing" }],
          "c-count": [{ numeric: [">", 0, "<=", 5] }],
          "d-count": [{ numeric: ["<", 10] }],
          "x-limit": [{ "anything-but": [100, 200, 300] }],
          "source-ip": [{ cidr: "10.0.0.0/8" }],
        },
      },
      true,
    ],
  ])("%s", (...[, pattern, expected]) => {
    expect(matches(pattern, EC2_EVENT)).toBe(expected);
  });

  it.each<[string, Json, Json, boolean]>([
    ["null matches null", { UserID: [null] }, { UserID: null }, true],
    ["null does not match an empty string", { UserID: [null] }, { UserID: "" }, false],
    ["null does not match a missing field", { UserID: [null] }, {}, false],
    ["an empty string matches an empty string", { LastName: [""] }, { LastName: "" }, true],
    ["an empty string does not match null", { LastName: [""] }, { LastName: null }, false],
    ["true matches true", { ok: [true] }, { ok: true }, true],
    ["true is not the string", { ok: [true] }, { ok: "true" }, false],
    ["exists: true on null (null is a value)", { UserID: [{ exists: true }] }, { UserID: null }, true],
    ["exists: true on an object (not a leaf)", { "c-count": [{ exists: true }] }, { "c-count": { c1: 100 } }, false],
    ["exists: false on an object (the documented surprise)", { "c-count": [{ exists: false }] }, { "c-count": { c1: 100 } }, true],
    ["exists: false on an empty array", { tags: [{ exists: false }] }, { tags: [] }, true],
    ["exists: true on an array of values", { tags: [{ exists: true }] }, { tags: ["a"] }, true],
    ["wildcard with an escaped star", { f: [{ wildcard: "a\\*b" }] }, { f: "a*b" }, true],
    ["an escaped star is not a wildcard", { f: [{ wildcard: "a\\*b" }] }, { f: "axb" }, false],
    ["wildcard with an escaped backslash", { f: [{ wildcard: "a\\\\*" }] }, { f: "a\\bc" }, true],
    ["wildcard: the other characters are literal", { f: [{ wildcard: "*.png" }] }, { f: "apng" }, false],
    ["wildcard spans lines", { f: [{ wildcard: "a*b" }] }, { f: "a\nb" }, true],
    ["anything-but a prefix lets a number through", { n: [{ "anything-but": { prefix: "5" } }] }, { n: 5 }, true],
    ["anything-but a number lets its string through", { n: [{ "anything-but": [5] }] }, { n: "5" }, true],
    ["anything-but on an array: another element passes", { s: [{ "anything-but": "initializing" }] }, { s: ["initializing", "running"] }, true],
    ["anything-but on an array of only excluded values", { s: [{ "anything-but": ["a", "b"] }] }, { s: ["a", "b"] }, false],
    ["IPv6 in the block", { ip: [{ cidr: "2001:db8::/32" }] }, { ip: "2001:db8:1::1" }, true],
    ["IPv6 outside the block", { ip: [{ cidr: "2001:db8::/32" }] }, { ip: "2001:db9::1" }, false],
    ["an IPv4 block does not hold IPv6", { ip: [{ cidr: "0.0.0.0/0" }] }, { ip: "::1" }, false],
    ["cidr on something that is not an address", { ip: [{ cidr: "10.0.0.0/8" }] }, { ip: "10.0.0.x" }, false],
    ["an exact IP matches another spelling of it", { ip: ["0:0:0:0:0:0:0:1"] }, { ip: "::1" }, true],
    ["an exact IP does not match another address", { ip: ["10.0.0.1"] }, { ip: "10.0.0.2" }, false],
    ["numeric outside ComparableNumber's range", { n: [{ numeric: [">", 0] }] }, { n: 6e9 }, false],
    ["numeric on a value in a list", { n: [{ numeric: [">", 10] }] }, { n: [1, 20] }, true],
  ])("%s", (...[, pattern, event, expected]) => {
    expect(matches(pattern, event)).toBe(expected);
  });
});

describe("matches: $or", () => {
  const cloudwatch = (extra: Json): Json => ({ source: "aws.cloudwatch", ...extra });
  const orPattern = { source: ["aws.cloudwatch"], $or: [{ metricName: ["CPUUtilization", "ReadLatency"] }, { namespace: ["AWS/EC2", "AWS/ES"] }] };
  const andInside = {
    source: ["aws.cloudwatch"],
    $or: [{ metricName: ["CPUUtilization"] }, { metricType: ["MetricType"], namespace: ["AWS/EC2"] }, { scope: ["Service"] }],
  };
  const nested = {
    source: ["aws.cloudwatch"],
    $or: [{ metricName: ["CPUUtilization"] }, { metricType: ["MetricType"], $or: [{ metricId: [1234] }, { spaceId: [1000] }] }],
  };
  const parallel = {
    $or: [{ metricName: ["CPUUtilization"] }, { namespace: ["AWS/EC2"] }],
    detail: { $or: [{ source: ["aws.cloudwatch"] }, { "detail-type": ["CloudWatch Alarm State Change"] }] },
  };

  it.each<[string, Json, Json, boolean]>([
    ["first branch", orPattern, cloudwatch({ metricName: "CPUUtilization" }), true],
    ["second branch", orPattern, cloudwatch({ namespace: "AWS/ES" }), true],
    ["no branch", orPattern, cloudwatch({ metricName: "Other", namespace: "AWS/S3" }), false],
    ["a branch, but the AND outside fails", orPattern, { source: "aws.ec2", metricName: "CPUUtilization" }, false],
    ["an AND inside a branch: all of it", andInside, cloudwatch({ metricType: "MetricType", namespace: "AWS/EC2" }), true],
    ["an AND inside a branch: half of it", andInside, cloudwatch({ metricType: "MetricType", namespace: "AWS/ES" }), false],
    ["a third branch", andInside, cloudwatch({ scope: "Service" }), true],
    ["nested $or", nested, cloudwatch({ metricType: "MetricType", spaceId: 1000 }), true],
    ["nested $or, no inner branch", nested, cloudwatch({ metricType: "MetricType", spaceId: 1 }), false],
    ["parallel $or, both hold", parallel, { namespace: "AWS/EC2", detail: { source: "aws.cloudwatch" } }, true],
    ["parallel $or, the nested one fails", parallel, { namespace: "AWS/EC2", detail: { source: "aws.ec2" } }, false],
  ])("%s", (...[, pattern, event, expected]) => {
    expect(matches(pattern, event)).toBe(expected);
  });
});

describe("matches: arrays of objects (array consistency)", () => {
  const flat = {
    employees: [
      { firstName: "John", lastName: "Doe" },
      { firstName: "Anna", lastName: "Smith" },
      { firstName: "Peter", lastName: "Jones" },
    ],
  };
  const nestedArrays = {
    employees: [
      [
        { firstName: "John", lastName: "Doe" },
        { firstName: "Anna", lastName: "Smith" },
      ],
      [{ firstName: "Peter", lastName: "Jones" }],
    ],
  };

  it.each<[string, Json, Json, boolean]>([
    ["one field inside some element", { employees: { firstName: ["Anna"] } }, flat, true],
    ["two fields of one element", { employees: { firstName: ["Anna"], lastName: ["Smith"] } }, flat, true],
    ["two fields from different elements never combine", { employees: { firstName: ["Anna"], lastName: ["Jones"] } }, flat, false],
    ["arrays of arrays are crushed", { employees: { firstName: ["Peter"] } }, nestedArrays, true],
    ["…and stay consistent", { employees: { firstName: ["John"], lastName: ["Jones"] } }, nestedArrays, false],
    ["exists: false inside one element", { employees: { middleName: [{ exists: false }] } }, flat, true],
  ])("%s", (...[, pattern, event, expected]) => {
    expect(matches(pattern, event)).toBe(expected);
  });
});

describe("validatePattern", () => {
  it.each<[string, unknown]>([
    ["a rule of this stack", { source: ["aws.ecr"], "detail-type": ["ECR Image Action"], detail: { result: ["SUCCESS"] } }],
    [
      "every operator",
      {
        a: [{ prefix: "x" }, { prefix: { "equals-ignore-case": "X" } }, { suffix: "x" }, { suffix: { "equals-ignore-case": "X" } }],
        b: [{ "equals-ignore-case": "x" }, { wildcard: "a*b\\*c\\\\" }, { exists: false }, { cidr: "10.0.0.0/8" }, { cidr: "2001:db8::/32" }],
        c: [{ numeric: ["=", 1] }, { numeric: [">", 0, "<=", 5] }, { numeric: [">=", -5e9] }, 1, "x", true, null],
        d: [{ "anything-but": "x" }, { "anything-but": 1 }, { "anything-but": ["a", "b"] }, { "anything-but": [1, 2] }],
        e: [
          { "anything-but": { prefix: "x" } },
          { "anything-but": { suffix: ["x", "y"] } },
          { "anything-but": { "equals-ignore-case": ["X"] } },
          { "anything-but": { wildcard: "*/lib/*" } },
        ],
        $or: [{ f: ["1"] }, { g: { h: ["2"] } }],
      },
    ],
  ])("accepts %s", (...[, pattern]) => {
    expect(validatePattern(pattern)).toEqual([]);
  });

  it.each<[string, unknown, string]>([
    ["a string", "aws.ecr", "Filter is not an object"],
    ["an array", [{ source: ["x"] }], "Filter is not an object"],
    ["null", null, "Filter is not an object"],
    ["an empty pattern", {}, "Empty objects are not allowed"],
    ["an empty nested object", { detail: {} }, "detail: Empty objects are not allowed"],
    ["an empty array", { source: [] }, "source: Empty arrays are not allowed"],
    ["a bare value", { source: "aws.ecr" }, 'source: "source" must be an object or an array'],
    ["an array in a value list", { source: [["aws.ecr"]] }, "source: Match value must be String, number, true, false, or null"],
    ["an unknown operator", { source: [{ contains: "ecr" }] }, "source: Unrecognized match type contains"],
    ["two operators in one expression", { source: [{ prefix: "a", suffix: "b" }] }, "source: Only one key allowed in match expression"],
    ["an empty expression", { source: [{}] }, "source: Match expression name not found"],
    ["a prefix that is not a string", { source: [{ prefix: 1 }] }, "source: prefix match pattern must be a string"],
    ["prefix with another modifier", { source: [{ prefix: { wildcard: "x" } }] }, "source: Unsupported prefix pattern: wildcard"],
    ["a suffix that is not a string", { source: [{ suffix: ["x"] }] }, "source: suffix match pattern must be a string"],
    ["equals-ignore-case of a number", { source: [{ "equals-ignore-case": 1 }] }, "source: equals-ignore-case match pattern must be a string"],
    ["consecutive wildcards", { source: [{ wildcard: "a**b" }] }, "source: Consecutive wildcard characters at pos 2"],
    ["an escape of another character", { source: [{ wildcard: "a\\b" }] }, "source: Invalid escape character at pos 1"],
    ["exists that is not a boolean", { source: [{ exists: "yes" }] }, "source: exists match pattern must be either true or false."],
    ["a cidr without a prefix length", { ip: [{ cidr: "10.0.0.1" }] }, "ip: Malformed CIDR, one '/' required: 10.0.0.1"],
    ["a cidr too long", { ip: [{ cidr: "10.0.0.0/33" }] }, "ip: Invalid CIDR: 10.0.0.0/33"],
    ["numeric that is not an array", { n: [{ numeric: 5 }] }, "n: Value of numeric must be an array."],
    ["an unknown numeric operator", { n: [{ numeric: ["==", 5] }] }, "n: Unrecognized numeric range operator: =="],
    ["a numeric operand that is a string", { n: [{ numeric: [">", "5"] }] }, "n: Value of > must be numeric"],
    ["a numeric range upside down", { n: [{ numeric: [">", 5, "<", 1] }] }, "n: Bottom must be less than top"],
    ["a numeric range after <", { n: [{ numeric: ["<", 5, ">", 1] }] }, "n: Too many elements in numeric expression"],
    ["a numeric range with a bad closer", { n: [{ numeric: [">", 1, ">", 5] }] }, "n: Bad numeric range operator: >"],
    ["a numeric beyond 5e9", { n: [{ numeric: ["<", 6e9] }] }, "n: Value of < must be between -5.0E9 and 5.0E9 inclusive"],
    [
      "anything-but of mixed types",
      { s: [{ "anything-but": ["a", 1] }] },
      "s: Inside anything but list, either all values are number or string, mixed type is not supported",
    ],
    [
      "anything-but of an empty list",
      { s: [{ "anything-but": [] }] },
      "s: Inside anything but list, either all values are number or string, mixed type is not supported",
    ],
    ["anything-but of null", { s: [{ "anything-but": [null] }] }, "s: Inside anything but list, start|null|boolean is not supported."],
    ["anything-but of a boolean", { s: [{ "anything-but": true }] }, "s: Value of anything-but must be an array or single string/number value."],
    ["anything-but of an empty prefix", { s: [{ "anything-but": { prefix: "" } }] }, "s: Null prefix/suffix not allowed"],
    ["anything-but of an unsupported operator", { s: [{ "anything-but": { numeric: [">", 1] } }] }, "s: Unsupported anything-but pattern: numeric"],
    [
      "anything-but equals-ignore-case of a number",
      { s: [{ "anything-but": { "equals-ignore-case": [1] } }] },
      "s: Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.",
    ],
    ["$or that is not an array", { $or: { a: ["1"] } }, "$or: It must be an Array followed with $or."],
    ["$or of one branch", { $or: [{ a: ["1"] }] }, "$or: There must have at least 2 Objects in $or relationship."],
    ["$or of a value", { $or: [{ a: ["1"] }, "b"] }, "$or: Only JSON object is allowed in array of $or relationship."],
    [
      "an operator name as a field inside $or",
      { $or: [{ prefix: ["1"] }, { b: ["2"] }] },
      "prefix: prefix is Ruler reserved fieldName which cannot be used inside $or.",
    ],
  ])("refuses %s", (...[, pattern, problem]) => {
    expect(validatePattern(pattern)).toEqual([problem]);
  });

  it("reports every problem, each with its path", () => {
    expect(validatePattern({ source: [], detail: { state: [{ prefix: 1 }], ok: ["x"] } })).toEqual([
      "source: Empty arrays are not allowed",
      "detail.state: prefix match pattern must be a string",
    ]);
  });

  it("matches refuses to run a pattern AWS would refuse", () => {
    expect(() => matches({ source: [] }, { source: "x" })).toThrow(PatternError);
    expect(() => matches({ source: [] }, { source: "x" })).toThrow("source: Empty arrays are not allowed");
    expect(() => matches("aws.ecr", { source: "x" })).toThrow("Filter is not an object");
  });
});

// ── the stack's own rules ─────────────────────────────────────────────────────────────────

/**
 * The event sources of serverless.yml as `npx osls print --format json` resolves them for the
 * fixture config (functions.*.events; retry settings left out). The drift test below recomputes
 * them, so a change to the fixture, infra/stack.cjs or serverless.yml shows here.
 */
const OSLS_PRINT = {
  "on-image-pushed": {
    pattern: {
      account: [{ Ref: "AWS::AccountId" }],
      source: ["aws.ecr"],
      "detail-type": ["ECR Image Action"],
      detail: { "action-type": ["PUSH"], result: ["SUCCESS"], "repository-name": ["shop/web", "shop/worker"] },
    },
  },
  "on-build-finished": {
    pattern: {
      account: [{ Ref: "AWS::AccountId" }],
      source: ["aws.codebuild"],
      "detail-type": ["CodeBuild Build State Change"],
      detail: { "project-name": ["shop-web"], "build-status": ["SUCCEEDED", "FAILED", "FAULT", "STOPPED", "TIMED_OUT"] },
    },
  },
  "on-deployment-changed": {
    pattern: {
      account: [{ Ref: "AWS::AccountId" }],
      source: ["aws.ecs"],
      "detail-type": ["ECS Deployment State Change", "ECS Service Action"],
      resources: [
        { wildcard: "arn:aws:ecs:eu-west-1:*:service/shop-batch/worker-reports" },
        { wildcard: "arn:aws:ecs:eu-west-1:*:service/shop-prod/web" },
        { wildcard: "arn:aws:ecs:eu-west-1:*:service/shop-prod/worker" },
        { wildcard: "arn:aws:ecs:eu-west-1:*:service/shop-staging/web" },
        { wildcard: "arn:aws:ecs:eu-west-1:*:service/shop-staging/worker" },
        { wildcard: "arn:aws:ecs:eu-west-1:*:service/shop-staging/worker-priority" },
      ],
    },
  },
  "on-alarm": {
    pattern: {
      account: [{ Ref: "AWS::AccountId" }],
      source: ["aws.cloudwatch"],
      "detail-type": ["CloudWatch Alarm State Change"],
      detail: {
        alarmName: ["shop-prod-web-5xx", "shop-prod-web-latency", "shop-prod-worker-errors", "shop-staging-web-5xx", "shop-staging-worker-errors"],
        state: { value: ["ALARM"] },
      },
    },
  },
  "on-approval": {
    pattern: { account: [{ Ref: "AWS::AccountId" }], source: ["stevedore"], "detail-type": ["Stevedore Promotion Decision"], detail: { app: ["shop-worker"] } },
  },
  notify: { filterPatterns: [{ eventName: ["INSERT", "MODIFY"], dynamodb: { NewImage: { kind: { S: ["deployment", "build", "promotion"] } } } }] },
  promote: {
    filterPatterns: [
      {
        eventName: ["MODIFY"],
        dynamodb: { NewImage: { kind: { S: ["deployment"] }, status: { S: ["verified"] } }, OldImage: { status: { S: [{ "anything-but": ["verified"] }] } } },
      },
    ],
  },
} as const;

const RULES = Object.entries(OSLS_PRINT).flatMap(([fn, source]) => ("pattern" in source ? [[fn, source.pattern as Json] as const] : []));
/** The rules as deployed: CloudFormation resolves the account (the sandbox's). */
const DEPLOYED = RULES.map(([fn, pattern]) => [fn, inAccount(pattern)] as const);

function routed(event: Json): string[] {
  return DEPLOYED.filter(([, pattern]) => matches(pattern, event)).map(([fn]) => fn);
}

const EVENTS_DIR = join(__dirname, "..", "..", "test", "events");
const fixture = (name: string): Json => JSON.parse(readFileSync(join(EVENTS_DIR, name), "utf8")) as Json;
const edit = (name: string, change: (event: Json & { detail: Json }) => void): Json => {
  const event = fixture(name) as Json & { detail: Json };
  change(event);
  return event;
};

describe("the stack's EventBridge rules", () => {
  it("are all patterns AWS accepts", () => {
    for (const [fn, pattern] of DEPLOYED) expect([fn, validatePattern(pattern)]).toEqual([fn, []]);
  });

  const expected: Record<string, string[]> = {
    "cloudwatch-alarm-state-change-alarm.json": ["on-alarm"],
    "cloudwatch-alarm-state-change-ok.json": [],
    "codebuild-build-failed.json": ["on-build-finished"],
    "codebuild-build-succeeded.json": ["on-build-finished"],
    "ecr-image-push.json": ["on-image-pushed"],
    "ecs-deployment-completed.json": ["on-deployment-changed"],
    "ecs-deployment-failed-circuit-breaker.json": ["on-deployment-changed"],
    "ecs-deployment-in-progress.json": ["on-deployment-changed"],
    "ecs-deployment-rollback-in-progress.json": ["on-deployment-changed"],
    "ecs-service-task-start-impaired.json": ["on-deployment-changed"],
  };

  it("cover every event fixture in test/events", () => {
    expect(
      readdirSync(EVENTS_DIR)
        .filter((f) => f.endsWith(".json"))
        .sort(),
    ).toEqual(Object.keys(expected).sort());
  });

  it.each(Object.entries(expected))("route %s to %j", (...[name, functions]) => {
    expect(routed(fixture(name))).toEqual(functions);
  });

  it.each<[string, Json, string[]]>([
    [
      "a push to a repository no app uses",
      edit("ecr-image-push.json", (e) => {
        e.detail["repository-name"] = "shop/other";
      }),
      [],
    ],
    [
      "an image deletion",
      edit("ecr-image-push.json", (e) => {
        e.detail["action-type"] = "DELETE";
      }),
      [],
    ],
    [
      "a failed push",
      edit("ecr-image-push.json", (e) => {
        e.detail.result = "FAILURE";
      }),
      [],
    ],
    [
      "an untagged platform manifest",
      edit("ecr-image-push.json", (e) => {
        delete e.detail["image-tag"];
      }),
      ["on-image-pushed"],
    ],
    [
      "a build still running",
      edit("codebuild-build-succeeded.json", (e) => {
        e.detail["build-status"] = "IN_PROGRESS";
      }),
      [],
    ],
    [
      "a build that timed out",
      edit("codebuild-build-succeeded.json", (e) => {
        e.detail["build-status"] = "TIMED_OUT";
      }),
      ["on-build-finished"],
    ],
    [
      "a build of another project",
      edit("codebuild-build-failed.json", (e) => {
        e.detail["project-name"] = "shop-api";
      }),
      [],
    ],
    [
      "an ECS event of a service not configured",
      edit("ecs-deployment-completed.json", (e) => {
        e.resources = ["arn:aws:ecs:eu-west-1:123456789012:service/shop-prod/api"];
      }),
      [],
    ],
    [
      "an ECS event of a service whose name only starts alike",
      edit("ecs-deployment-completed.json", (e) => {
        e.resources = ["arn:aws:ecs:eu-west-1:123456789012:service/shop-prod/web-canary"];
      }),
      [],
    ],
    [
      "an ECS event of another account",
      edit("ecs-deployment-completed.json", (e) => {
        e.account = "210987654321";
        e.resources = ["arn:aws:ecs:eu-west-1:210987654321:service/shop-staging/worker"];
      }),
      [],
    ],
    [
      "an ECR push in another account (to a repository of the same name)",
      edit("ecr-image-push.json", (e) => {
        e.account = "210987654321";
      }),
      [],
    ],
    [
      "an alarm of another account with a guarding alarm's name",
      edit("cloudwatch-alarm-state-change-alarm.json", (e) => {
        e.account = "210987654321";
      }),
      [],
    ],
    [
      "an ECS event of another region",
      edit("ecs-deployment-completed.json", (e) => {
        e.resources = ["arn:aws:ecs:us-east-1:123456789012:service/shop-prod/web"];
      }),
      [],
    ],
    [
      "an ECS task state change",
      edit("ecs-deployment-completed.json", (e) => {
        e["detail-type"] = "ECS Task State Change";
      }),
      [],
    ],
    [
      "an alarm going to INSUFFICIENT_DATA",
      edit("cloudwatch-alarm-state-change-alarm.json", (e) => {
        (e.detail.state as Json).value = "INSUFFICIENT_DATA";
      }),
      [],
    ],
    [
      "an alarm that guards nothing of ours",
      edit("cloudwatch-alarm-state-change-alarm.json", (e) => {
        e.detail.alarmName = "billing-alarm";
      }),
      [],
    ],
    [
      "an alarm without a state",
      edit("cloudwatch-alarm-state-change-alarm.json", (e) => {
        delete e.detail.state;
      }),
      [],
    ],
    [
      "a promotion decision for an app with manual approval",
      { account: "123456789012", source: "stevedore", "detail-type": "Stevedore Promotion Decision", detail: { app: "shop-worker", decision: "approve" } },
      ["on-approval"],
    ],
    [
      "a promotion decision for an app without",
      { account: "123456789012", source: "stevedore", "detail-type": "Stevedore Promotion Decision", detail: { app: "shop-web", decision: "approve" } },
      [],
    ],
  ])("route %s to %j", (...[, event, functions]) => {
    expect(routed(event)).toEqual(functions);
  });
});

// ── the DynamoDB stream filters ───────────────────────────────────────────────────────────

let sequence = 0;
function streamRecord(eventName: StreamRecord["eventName"], oldImage: Json | undefined, newImage: Json | undefined): StreamRecord {
  sequence++;
  const key = { pk: "APP#shop-web", sk: "DEPLOYMENT#d-1" };
  return {
    eventID: `e-${sequence}`,
    eventName,
    eventVersion: "1.1",
    eventSource: "aws:dynamodb",
    awsRegion: "eu-west-1",
    eventSourceARN: "arn:aws:dynamodb:eu-west-1:123456789012:table/records/stream/2026-01-01T00:00:00.000",
    dynamodb: {
      ApproximateCreationDateTime: 1_780_000_000,
      Keys: marshall(key),
      ...(newImage ? { NewImage: marshall({ ...key, ...newImage }) } : {}),
      ...(oldImage ? { OldImage: marshall({ ...key, ...oldImage }) } : {}),
      SequenceNumber: String(sequence).padStart(21, "0"),
      SizeBytes: 200,
      StreamViewType: "NEW_AND_OLD_IMAGES",
    },
  };
}

const deploymentAt = (status: string): Json => ({ kind: "deployment", status, version: 3, history: [{ status, at: "2026-03-02T09:10:00.000Z" }] });

describe("the stack's stream filterPatterns", () => {
  const [notify] = OSLS_PRINT.notify.filterPatterns;
  const [promote] = OSLS_PRINT.promote.filterPatterns;
  const filters = { notify, promote } as Record<string, Json>;

  it("are patterns Lambda accepts", () => {
    expect(validatePattern(notify)).toEqual([]);
    expect(validatePattern(promote)).toEqual([]);
  });

  it.each<[string, StreamRecord, string[]]>([
    ["a deployment created", streamRecord("INSERT", undefined, deploymentAt("pending")), ["notify"]],
    ["a deployment moving on", streamRecord("MODIFY", deploymentAt("started"), deploymentAt("completed")), ["notify"]],
    ["a deployment becoming verified", streamRecord("MODIFY", deploymentAt("completed"), deploymentAt("verified")), ["notify", "promote"]],
    ["a verified deployment written again", streamRecord("MODIFY", deploymentAt("verified"), { ...deploymentAt("verified"), version: 4 }), ["notify"]],
    ["a deployment written verified at once (no old image)", streamRecord("INSERT", undefined, deploymentAt("verified")), ["notify"]],
    ["a build record", streamRecord("INSERT", undefined, { kind: "build", status: "FAILED" }), ["notify"]],
    ["a promotion record", streamRecord("MODIFY", { kind: "promotion", status: "awaiting_approval" }, { kind: "promotion", status: "approved" }), ["notify"]],
    ["a HEAD item", streamRecord("MODIFY", { kind: "head", status: "completed" }, { kind: "head", status: "verified" }), []],
    ["a removal", streamRecord("REMOVE", deploymentAt("verified"), undefined), []],
  ])("%s reaches %j", (...[, record, functions]) => {
    expect(Object.keys(filters).filter((fn) => matches(filters[fn], record))).toEqual(functions);
  });
});

describe("the fixture of `osls print`", () => {
  it("still describes serverless.yml's stream filters", () => {
    const file = readServerless();
    const filterPatterns = (fn: string) =>
      (file.functions[fn]?.events ?? []).flatMap((e) => ((e.stream as Json | undefined)?.filterPatterns as Json[] | undefined) ?? []);
    expect(filterPatterns("notify")).toEqual(OSLS_PRINT.notify.filterPatterns);
    expect(filterPatterns("promote")).toEqual(OSLS_PRINT.promote.filterPatterns);
  });

  it("still describes the EventBridge patterns infra/stack.cjs resolves (fix the fixture if the config changed)", () => {
    // infra/stack.cjs loads TypeScript through tsx, which cannot run inside jest: a short node.
    const run = spawnSync(process.execPath, ["-e", "process.stdout.write(JSON.stringify(require('./infra/stack.cjs').compute().patterns))"], {
      cwd: join(__dirname, "..", ".."),
      env: { ...process.env, STEVEDORE_CONFIG: WORLD_CONFIG },
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(run.stderr).toBe("");
    const live = JSON.parse(run.stdout) as Record<string, Json>;
    expect({
      "on-image-pushed": live.imagePushed,
      "on-build-finished": live.buildFinished,
      "on-deployment-changed": live.deploymentChanged,
      "on-alarm": live.alarm,
      "on-approval": live.promotionDecision,
    }).toEqual(Object.fromEntries(RULES));
  });
});

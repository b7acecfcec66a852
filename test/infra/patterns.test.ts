// infra/patterns.ts: a list that would take a rule's pattern past EventBridge's 2,048
// characters is narrowed to shared prefixes, as little as it takes, and still matches every value.
import { fitted } from "../../infra/patterns";
import { matches } from "../../sandbox/pattern";

const alarmsPattern = (list: unknown[]) => ({ source: ["aws.cloudwatch"], detail: { alarmName: list } });
const names = (count: number, make: (i: number) => string) => Array.from({ length: count }, (_, i) => make(i));
const event = (alarmName: string) => ({ source: "aws.cloudwatch", detail: { alarmName } });

describe("fitting a list into one event pattern", () => {
  it("lists the values exactly when they fit", () => {
    expect(fitted(["b", "a", "a"], "prefix", alarmsPattern, "alarms", "eu-west-1")).toEqual(alarmsPattern(["a", "b"]));
  });

  it.each([
    ["200 alarms of 10 teams", names(200, (i) => `team-${i % 10}-service-${String(i).padStart(3, "0")}-errors`)],
    ["300 alarms with nothing but a letter in common", names(300, (i) => `a${i.toString(36)}-latency-p99-over-threshold`)],
  ])("narrows %s to prefixes that fit, and every one still matches", (_, values) => {
    const pattern = fitted(values, "prefix", alarmsPattern, "alarms", "eu-west-1");
    expect(JSON.stringify(pattern).length).toBeLessThanOrEqual(1843);
    expect(JSON.stringify(alarmsPattern(values)).length).toBeGreaterThan(2048);
    for (const value of values) expect(matches(pattern, event(value))).toBe(true);
    expect(matches(pattern, event("billing-errors"))).toBe(false);
  });

  it("merges the longest shared prefix first: the widest match it needs, no wider", () => {
    const values = [...names(60, (i) => `checkout-api-canary-${String(i).padStart(2, "0")}-errors`), "search-errors", "shipping-errors"];
    const pattern = fitted(values, "prefix", alarmsPattern, "alarms", "eu-west-1") as { detail: { alarmName: unknown[] } };
    expect(pattern.detail.alarmName).toEqual(expect.arrayContaining(["search-errors", "shipping-errors"]));
    expect(matches(pattern, event("checkout-web-errors"))).toBe(false);
  });

  it("matches ECS service ARNs with wildcards that keep the account position open", () => {
    const arns = names(200, (i) => `arn:aws:ecs:eu-west-1:*:service/cluster-${i % 4}/service-${String(i).padStart(3, "0")}`);
    const ecs = (list: unknown[]) => ({ source: ["aws.ecs"], resources: list });
    const pattern = fitted(arns, "wildcard", ecs, "services", "eu-west-1");
    expect(JSON.stringify(pattern).length).toBeLessThanOrEqual(1843);
    expect(matches(pattern, { source: "aws.ecs", resources: ["arn:aws:ecs:eu-west-1:123456789012:service/cluster-3/service-199"] })).toBe(true);
    expect(matches(pattern, { source: "aws.ecs", resources: ["arn:aws:ecs:eu-west-1:123456789012:service/other/service-199"] })).toBe(false);
  });

  it("refuses, naming what does not fit and the fix, when no shared prefix is left", () => {
    const values = names(200, (i) => `${String.fromCharCode(0x4e00 + i)}-alarm-name-long-enough-to-overflow`);
    expect(() => fitted(values, "prefix", alarmsPattern, "alarms", "eu-west-1")).toThrow(
      /the alarms do not fit one EventBridge pattern .* split the config into several stacks/,
    );
  });
});

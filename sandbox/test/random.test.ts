// A replay draws the same numbers whatever order concurrent invocations reach the sandbox in:
// each draw is named by what it is for (sandbox/random.ts), and the AWS faults draw per call
// and keep a throttling burst per caller (sandbox/faults.ts).
import type { AwsRequest } from "../aws/server";
import { awsFaults, callDraws, noneInjected, type CallDraws, type Faults } from "../faults";
import { contentDigest, keyed, madeUpId, random } from "../random";

function draws(next: () => number, n: number): number[] {
  return Array.from({ length: n }, next);
}

describe("keyed", () => {
  it("gives one name the same numbers, whichever names were asked for first", () => {
    const first = draws(keyed(7, "notify:abc#0"), 5);
    draws(keyed(7, "sweep:def#0"), 5);
    expect(draws(keyed(7, "notify:abc#0"), 5)).toEqual(first);
  });

  it("gives other names and other seeds other numbers", () => {
    const first = draws(keyed(7, "notify:abc#0"), 5);
    expect(draws(keyed(7, "notify:abc#1"), 5)).not.toEqual(first);
    expect(draws(keyed(8, "notify:abc#0"), 5)).not.toEqual(first);
  });
});

describe("contentDigest", () => {
  const event = { version: "0", id: "3f1c…", "detail-type": "ECS Deployment State Change", detail: { deploymentId: "ecs-svc/1" } };

  it.each([
    ["an event's own id", { ...event, id: "9a0b…" }],
    ["a stream record's eventID", { ...event, detail: { ...event.detail, eventID: "sandbox-12" } }],
    ["the SDK's idempotency token", { ...event, ClientRequestToken: "5e0d…" }],
  ])("ignores %s, which is random per run", (_, other) => {
    expect(contentDigest(other)).toBe(contentDigest(event));
  });

  it.each([
    ["the content", { ...event, detail: { deploymentId: "ecs-svc/2" } }],
    ["an id inside it (a record's own id)", { ...event, detail: { ...event.detail, id: "d-1" } }],
  ])("sees %s", (_, other) => {
    expect(contentDigest(other)).not.toBe(contentDigest(event));
  });
});

describe("madeUpId", () => {
  it("is a version-4 UUID, and identical content made twice gets two ids", () => {
    const a = madeUpId({ build: "b", at: 1 });
    const b = madeUpId({ build: "b", at: 1 });
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(b).not.toBe(a);
  });
});

describe("the AWS faults under two concurrent callers", () => {
  const faults: Faults = { throttling: { share: 0.3, burst: 3 }, serverErrors: 0.2 };
  const call = (caller: string, n: number): AwsRequest => ({
    prefix: "AmazonEC2ContainerServiceV20141113",
    operation: "DescribeServices",
    body: { services: [`${caller}-${n}`], cluster: "shop" },
    headers: { caller },
  });
  const callerOf = (request: AwsRequest) => String(request.headers.caller);

  /** Each call's answer (its error code, or "ok"), with the two callers' calls interleaved A-first or B-first. */
  async function answers(drawsFor: () => CallDraws, aFirst: boolean): Promise<Record<string, string>> {
    const apply = awsFaults(faults, drawsFor(), noneInjected(), async () => undefined);
    const seen: Record<string, string> = {};
    for (let n = 0; n < 40; n++) {
      for (const caller of aFirst ? ["A", "B"] : ["B", "A"]) {
        const answer = await apply(call(caller, n));
        seen[`${caller}${n}`] = answer ? String((answer.body as { __type?: string }).__type) : "ok";
      }
    }
    return seen;
  }

  it("answers each call the same whichever caller arrives first", async () => {
    const keyedDraws = () => callDraws(19, callerOf);
    const aFirst = await answers(keyedDraws, true);
    expect(Object.values(aFirst)).toEqual(expect.arrayContaining(["ok", "ThrottlingException"]));
    expect(await answers(keyedDraws, false)).toEqual(aFirst);
  });

  it("would see the difference: one shared generator hands its draws out in arrival order", async () => {
    const sharedDraws = (): CallDraws => {
      const shared = random(19);
      return () => ({ caller: "everyone", draw: shared });
    };
    expect(await answers(sharedDraws, false)).not.toEqual(await answers(sharedDraws, true));
  });
});

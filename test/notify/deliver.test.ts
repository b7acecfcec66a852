import { deliver, type Delivery } from "../../shared/notify/deliver";
import { captureLogs, closedPortUrl, hang, reply, startReceiver, type Receiver } from "./receiver";

// Fast but real: short timeouts and no waiting between attempts.
const FAST = { timeoutMs: 200, attempts: 3, backoffMs: 1, maxBackoffMs: 5 };
const SECRET_PATH = "/services/T0000/B0000/XXXXSECRETXXXX";

let receiver: Receiver;
let logs: ReturnType<typeof captureLogs>;

beforeEach(async () => {
  receiver = await startReceiver();
  logs = captureLogs();
});

afterEach(async () => {
  logs.restore();
  await receiver.close();
});

function to(url: string): Delivery {
  return { destination: "shop-slack", url, body: '{"text":"hello"}', headers: { "content-type": "application/json" }, deliveryId: "d-1:verified" };
}

function giveUpLine(): string {
  const line = logs.lines().find((l) => l.includes("gave up"));
  if (!line) throw new Error(`no give-up line in ${JSON.stringify(logs.lines())}`);
  return line;
}

describe("deliver", () => {
  it("posts the body and headers and reports the delivery", async () => {
    const result = await deliver(to(receiver.url("/hook")), FAST);
    expect(result).toEqual({ destination: "shop-slack", delivered: true, attempts: 1, status: 200 });
    expect(receiver.received).toEqual([expect.objectContaining({ path: "/hook", body: '{"text":"hello"}' })]);
    expect(receiver.received[0]?.headers["content-type"]).toBe("application/json");
  });

  it("retries a 500 and delivers on the next attempt", async () => {
    receiver.script.push(reply(500, "oops"));
    const result = await deliver(to(receiver.url("/hook")), FAST);
    expect(result).toMatchObject({ delivered: true, attempts: 2, status: 200 });
    expect(receiver.received).toHaveLength(2);
  });

  it("retries a 429, waiting as long as Retry-After asks, within the cap", async () => {
    receiver.script.push(reply(429, "", { "retry-after": "2" }), reply(429, "", { "retry-after": "60" }));
    const waits: number[] = [];
    const sleep = async (ms: number) => {
      waits.push(ms);
    };
    const result = await deliver(to(receiver.url("/hook")), { ...FAST, maxBackoffMs: 4000, sleep });
    expect(result).toMatchObject({ delivered: true, attempts: 3 });
    expect(waits).toEqual([2000, 4000]);
  });

  it.each([
    [404, true],
    [403, true],
    [410, true],
    [408, false],
    [429, false],
    [503, false],
  ])("calls HTTP %i permanent: %s", async (status, permanent) => {
    receiver.script.push(reply(status));
    const result = await deliver(to(receiver.url("/hook")), { ...FAST, attempts: 1 });
    expect(result.delivered).toBe(false);
    expect(result.permanent ?? false).toBe(permanent);
  });

  it("honours Retry-After in full, past the cap, when it ends before the deadline", async () => {
    receiver.script.push(reply(429, "", { "retry-after": "30" }));
    const waits: number[] = [];
    const sleep = async (ms: number) => {
      waits.push(ms);
    };
    const result = await deliver(to(receiver.url("/hook")), { ...FAST, maxBackoffMs: 4000, sleep, deadline: Date.now() + 60_000 });
    expect(result).toMatchObject({ delivered: true, attempts: 2 });
    expect(waits).toEqual([30_000]);
  });

  it("gives up at once, without sleeping, when Retry-After ends past the deadline, and says so", async () => {
    receiver.script.push(reply(429, "", { "retry-after": "30" }));
    const waits: number[] = [];
    const sleep = async (ms: number) => {
      waits.push(ms);
    };
    const result = await deliver(to(receiver.url("/hook")), { ...FAST, sleep, until: Date.now() + 10_000 });
    expect(result).toMatchObject({ delivered: false, attempts: 1, error: "HTTP 429, asked to retry after 30 s, past this invocation's deadline" });
    expect(result.permanent).toBeUndefined();
    expect(waits).toEqual([]);
  });

  it("waits longer before each retry, with jitter", async () => {
    receiver.script.push(reply(500), reply(500), reply(500), reply(500));
    const waits: number[] = [];
    const sleep = async (ms: number) => {
      waits.push(ms);
    };
    await deliver(to(receiver.url("/hook")), { ...FAST, attempts: 4, backoffMs: 100, maxBackoffMs: 10_000, random: () => 1, sleep });
    expect(waits).toEqual([100, 200, 400]);
    waits.length = 0;
    receiver.script.push(reply(500), reply(500));
    await deliver(to(receiver.url("/hook")), { ...FAST, attempts: 2, backoffMs: 100, maxBackoffMs: 10_000, random: () => 0, sleep });
    expect(waits).toEqual([50]);
  });

  it("does not retry a 400, keeps Slack's error code, and says trying again cannot help", async () => {
    receiver.script.push(reply(400, "invalid_blocks"));
    const result = await deliver(to(receiver.url("/hook")), FAST);
    expect(result).toEqual({ destination: "shop-slack", delivered: false, attempts: 1, status: 400, error: "HTTP 400 (invalid_blocks)", permanent: true });
    expect(receiver.received).toHaveLength(1);
  });

  it("never repeats an error page that may echo the secret path", async () => {
    receiver.script.push(reply(404, `<html>Not found: ${SECRET_PATH}</html>`));
    const result = await deliver(to(receiver.url(SECRET_PATH)), FAST);
    expect(result.error).toBe("HTTP 404");
    expect(giveUpLine()).not.toContain("XXXXSECRETXXXX");
  });

  it("gives up after the last attempt on a server that keeps failing, naming the destination but not the URL", async () => {
    receiver.script.push(reply(503), reply(502), reply(500));
    const result = await deliver(to(receiver.url(SECRET_PATH)), FAST);
    expect(result).toEqual({ destination: "shop-slack", delivered: false, attempts: 3, status: 500, error: "HTTP 500" });
    const line = giveUpLine();
    expect(JSON.parse(line)).toMatchObject({ level: "WARN", destination: "shop-slack", attempts: 3, status: 500 });
    expect(line).not.toContain("XXXXSECRETXXXX");
    expect(line).not.toContain("127.0.0.1");
  });

  it("times out a slow server on every attempt and gives up after N attempts", async () => {
    receiver.script.push(hang(2000), hang(2000));
    const started = Date.now();
    const result = await deliver(to(receiver.url(SECRET_PATH)), { ...FAST, attempts: 2, timeoutMs: 150 });
    expect(result).toEqual({ destination: "shop-slack", delivered: false, attempts: 2, error: "timed out after 150 ms" });
    expect(receiver.received).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(giveUpLine()).toContain("shop-slack");
    expect(giveUpLine()).not.toContain("XXXXSECRETXXXX");
  });

  it("gives up on a closed port without throwing, and without the URL in the log", async () => {
    const url = await closedPortUrl(SECRET_PATH);
    const result = await deliver(to(url), FAST);
    expect(result).toEqual({ destination: "shop-slack", delivered: false, attempts: 3, error: "network error ECONNREFUSED" });
    const line = giveUpLine();
    expect(line).toContain("shop-slack");
    expect(line).not.toContain("XXXXSECRETXXXX");
    expect(line).not.toContain(new URL(url).port);
  });

  it("treats a redirect as a failure instead of following it elsewhere", async () => {
    receiver.script.push(reply(302, "", { location: receiver.url("/elsewhere") }));
    const result = await deliver(to(receiver.url("/hook")), FAST);
    expect(result).toMatchObject({ delivered: false, attempts: 1, status: 302 });
    expect(receiver.received.map((r) => r.path)).toEqual(["/hook"]);
  });
});

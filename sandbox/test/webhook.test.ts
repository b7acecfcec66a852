// The sandbox's webhook receiver, fed with what shared/notify really sends: Slack payloads from
// toSlack and signed webhooks from toWebhook, built from records the way the deploy handlers
// write them. Signatures are verified; the fault knobs are seen from the sender's side.
import { deliver } from "../../shared/notify/deliver";
import { changesToNotify, type Notification } from "../../shared/notify/message";
import { toSlack } from "../../shared/notify/slack";
import { SIGNATURE_HEADER, toWebhook } from "../../shared/notify/webhook";
import { Clock } from "../clock";
import { render, WebhookReceiver, type ReceivedMessage } from "../webhook";
import { captureLogs, closedPortUrl } from "../../test/notify/receiver";
import { build, deployment, moved } from "../../test/notify/records";

const SECRET = "whsec_sandbox_0123456789";

const completed = moved(moved(deployment(), "started"), "completed");
const [rolledBack] = changesToNotify(completed, moved(completed, "rolled_back", "alarm shop-staging-web-5xx is in ALARM")) as [Notification];
const [verified] = changesToNotify(completed, moved(completed, "verified")) as [Notification];
const [buildFailed] = changesToNotify(undefined, build()) as [Notification];

let receiver: WebhookReceiver;

beforeEach(async () => {
  receiver = new WebhookReceiver({ secrets: { audit: SECRET } });
  await receiver.start();
});

afterEach(async () => {
  await receiver.close();
});

function postSlack(path: string, payload: unknown): Promise<Response> {
  return fetch(receiver.url(path), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof payload === "string" ? payload : JSON.stringify(payload),
  });
}

function postWebhook(path: string, request: { body: string; headers: Record<string, string> }): Promise<Response> {
  return fetch(receiver.url(path), { method: "POST", headers: request.headers, body: request.body });
}

async function answer(response: Promise<Response>): Promise<[number, string]> {
  const r = await response;
  return [r.status, await r.text()];
}

describe("WebhookReceiver: Slack incoming webhooks", () => {
  it("accepts a payload from toSlack with Slack's 'ok' and keeps it", async () => {
    await expect(answer(postSlack("/slack/deploys", toSlack(rolledBack)))).resolves.toEqual([200, "ok"]);
    expect(receiver.messages).toHaveLength(1);
    const [message] = receiver.messages as [ReceivedMessage];
    expect(message).toMatchObject({
      destination: "deploys",
      kind: "slack",
      title: "❌ shop-web → staging: rolled back, deployment failed",
      body: JSON.parse(JSON.stringify(toSlack(rolledBack))) as object,
    });
    expect(message.text).toContain("was rolled back on shop-staging/web (eu-west-1)");
    expect(message.event).toBeUndefined();
    expect(Date.parse(message.at)).not.toBeNaN();
  });

  it.each<[string, unknown, string]>([
    ["a body that is not JSON", "text=hello", "invalid_payload"],
    ["a JSON array", "[1,2]", "invalid_payload"],
    ["a text that is not a string", { text: 5 }, "invalid_payload"],
    ["no text, no blocks", { username: "stevedore" }, "no_text"],
    ["an empty text", { text: "  " }, "no_text"],
    ["a header block in mrkdwn", { text: "x", blocks: [{ type: "header", text: { type: "mrkdwn", text: "*x*" } }] }, "invalid_blocks"],
    ["a header over 150 characters", { text: "x", blocks: [{ type: "header", text: { type: "plain_text", text: "x".repeat(151) } }] }, "invalid_blocks"],
    ["a block of no known type", { text: "x", blocks: [{ type: "banner" }] }, "invalid_blocks"],
    [
      "a section of eleven fields",
      { text: "x", blocks: [{ type: "section", fields: Array.from({ length: 11 }, () => ({ type: "mrkdwn", text: "f" })) }] },
      "invalid_blocks",
    ],
    ["attachments that are not a list", { text: "x", attachments: { color: "#fff" } }, "invalid_attachments"],
    ["an attachment with bad blocks", { text: "x", attachments: [{ blocks: [{ type: "section" }] }] }, "invalid_attachments"],
  ])("refuses %s with 400 and Slack's error code", async (...[, payload, code]) => {
    await expect(answer(postSlack("/slack/deploys", payload))).resolves.toEqual([400, code]);
    expect(receiver.messages).toEqual([]);
    expect(receiver.rejected).toEqual([expect.objectContaining({ path: "/slack/deploys", status: 400, reason: code })]);
  });

  it("answers a path that is no webhook with 404 no_service, and a GET with 405", async () => {
    await expect(answer(postSlack("/services/T000/B000/XXXX", { text: "x" }))).resolves.toEqual([404, "no_service"]);
    await expect(answer(fetch(receiver.url("/slack/deploys")))).resolves.toEqual([405, "method_not_allowed"]);
  });
});

describe("WebhookReceiver: signed webhooks", () => {
  it("accepts a request from toWebhook whose signature verifies, and keeps its event and delivery id", async () => {
    await expect(answer(postWebhook("/webhook/audit", toWebhook(rolledBack, SECRET)))).resolves.toEqual([200, "ok"]);
    const [message] = receiver.messages as [ReceivedMessage];
    expect(message).toMatchObject({
      destination: "audit",
      kind: "webhook",
      event: "deployment.rolled_back",
      deliveryId: "d-3f9c2a1b4e5d:rolled_back",
      title: "shop-web → staging: rolled back, deployment failed",
      text: rolledBack.summary,
    });
    expect(message.body).toMatchObject({ event: "deployment.rolled_back", severity: "failure", deployment: { cluster: "shop-staging", service: "web" } });
  });

  const signed = toWebhook(verified, SECRET);
  const tenMinutesAgo = new Date(Date.now() - 600_000);

  it.each<[string, { body: string; headers: Record<string, string> }, string]>([
    ["a tampered body", { ...signed, body: signed.body.replace("verified", "rolled_back") }, "invalid signature"],
    ["another secret", toWebhook(verified, "whsec_someone_else"), "invalid signature"],
    ["a stale signature (a replay)", toWebhook(verified, SECRET, tenMinutesAgo), "invalid signature"],
    [
      "a re-timestamped signature",
      {
        ...signed,
        headers: { ...signed.headers, [SIGNATURE_HEADER]: signed.headers[SIGNATURE_HEADER]?.replace(/t=\d+/, `t=${Math.floor(Date.now() / 1000) + 1}`) ?? "" },
      },
      "invalid signature",
    ],
    ["no signature", { body: signed.body, headers: { "content-type": "application/json" } }, "missing signature"],
  ])("refuses %s with 401", async (...[, request, reason]) => {
    await expect(answer(postWebhook("/webhook/audit", request))).resolves.toEqual([401, reason]);
    expect(receiver.messages).toEqual([]);
  });

  it("refuses a destination it has no secret for", async () => {
    const [status] = await answer(postWebhook("/webhook/unknown", toWebhook(verified, SECRET)));
    expect(status).toBe(401);
    expect(receiver.messages).toEqual([]);
  });

  it("judges freshness by its own clock and tolerance", async () => {
    const at = new Date("2026-03-02T09:20:00.000Z");
    const late = new WebhookReceiver({ secrets: { audit: SECRET }, now: () => new Date(at.getTime() + 90_000), toleranceSeconds: 60 });
    await late.start();
    try {
      const response = await fetch(late.url("/webhook/audit"), { method: "POST", ...toWebhook(verified, SECRET, at) });
      expect(response.status).toBe(401);
      const fresh = await fetch(late.url("/webhook/audit"), { method: "POST", ...toWebhook(verified, SECRET, new Date(at.getTime() + 60_000)) });
      expect(fresh.status).toBe(200);
    } finally {
      await late.close();
    }
  });

  it("groups webhook messages by delivery id (receivers dedupe on it)", async () => {
    await postWebhook("/webhook/audit", toWebhook(rolledBack, SECRET));
    await postWebhook("/webhook/audit", toWebhook(verified, SECRET));
    await postWebhook("/webhook/audit", toWebhook(rolledBack, SECRET)); // a stream retry
    await postSlack("/slack/deploys", toSlack(rolledBack));
    const groups = receiver.messagesByDelivery();
    expect([...groups.keys()]).toEqual(["d-3f9c2a1b4e5d:rolled_back", "d-3f9c2a1b4e5d:verified"]);
    expect(groups.get("d-3f9c2a1b4e5d:rolled_back")).toHaveLength(2);
  });
});

describe("render", () => {
  it("reads a Slack message as a person would: the emoji title, then the facts", async () => {
    await postSlack("/slack/deploys", toSlack(rolledBack));
    const text = render(receiver.messages[0] as ReceivedMessage);
    const [title, ...facts] = text.split("\n");
    expect(title).toBe("[slack deploys] ❌ shop-web → staging: rolled back, deployment failed");
    expect(facts).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^ {4}service +shop-staging\/web \(eu-west-1\)$/),
        expect.stringMatching(/^ {4}image +shop\/web:3f9c2a1 · 4b1d09c2e8aa$/),
        expect.stringMatching(/^ {4}commit +3f9c2a1$/),
        expect.stringMatching(/^ {4}revision +42$/),
        expect.stringMatching(/^ {4}trigger +push$/),
        expect.stringMatching(/^ {4}duration +\d+m \d+s$/),
        expect.stringMatching(/^ {4}reason +alarm shop-staging-web-5xx is in ALARM$/),
      ]),
    );
    expect(facts.every((line) => line.startsWith("    ") && line.length < 120)).toBe(true);
  });

  it("reads a signed webhook with its event name and delivery id", async () => {
    await postWebhook("/webhook/audit", toWebhook(rolledBack, SECRET));
    const text = receiver.render(receiver.messages[0] as ReceivedMessage);
    expect(text.split("\n")[0]).toBe("[webhook audit] ❌ shop-web → staging: rolled back, deployment failed");
    for (const fact of [
      /^ {4}service +shop-staging\/web \(eu-west-1\)$/m,
      /^ {4}image +shop\/web:3f9c2a1 · 4b1d09c2e8aa$/m,
      /^ {4}reason +alarm shop-staging-web-5xx is in ALARM$/m,
      /^ {4}event +deployment\.rolled_back$/m,
      /^ {4}delivery +d-3f9c2a1b4e5d:rolled_back$/m,
      /^ {4}revision +42$/m,
    ])
      expect(text).toMatch(fact);
  });

  it("reads a failed build with its project, number, phase and reason", async () => {
    await postSlack("/slack/deploys", toSlack(buildFailed));
    await postWebhook("/webhook/audit", toWebhook(buildFailed, SECRET));
    const [slack, webhook] = receiver.messages.map(render) as [string, string];
    for (const text of [slack, webhook]) {
      expect(text).toMatch(/❌ shop-web: build shop-web #118 failed/);
      expect(text).toMatch(/^ {4}build +#118$/m);
      expect(text).toMatch(/^ {4}phase +BUILD$/m);
      expect(text).toMatch(/^ {4}reason +COMMAND_EXECUTION_ERROR: Error while executing command: npm test\. Reason: exit status 1$/m);
    }
    expect(receiver.transcript()).toBe(`${slack}\n\n${webhook}`);
  });

  it("says success as success", async () => {
    await postWebhook("/webhook/audit", toWebhook(verified, SECRET));
    expect(render(receiver.messages[0] as ReceivedMessage).split("\n")[0]).toBe("[webhook audit] ✅ shop-web → staging: deployed and verified");
  });
});

describe("WebhookReceiver: listeners", () => {
  it("calls onMessage listeners in arrival order until unsubscribed, and waitFor finds a message", async () => {
    const seen: string[] = [];
    const stop = receiver.onMessage((m) => seen.push(m.title));
    const waiting = receiver.waitFor((m) => m.event === "deployment.verified");
    await postSlack("/slack/deploys", toSlack(rolledBack));
    await postWebhook("/webhook/audit", toWebhook(verified, SECRET));
    await expect(waiting).resolves.toMatchObject({ deliveryId: "d-3f9c2a1b4e5d:verified" });
    stop();
    await postSlack("/slack/deploys", toSlack(verified));
    expect(seen).toEqual(["❌ shop-web → staging: rolled back, deployment failed", "shop-web → staging: deployed and verified"]);
    await expect(receiver.waitFor((m) => m.event === "nothing", 50)).rejects.toThrow(/no matching message within 50 ms/);
  });
});

describe("WebhookReceiver: faults", () => {
  it("answers 503 while down, keeps nothing, and is back after up()", async () => {
    receiver.down();
    await expect(answer(postSlack("/slack/deploys", toSlack(verified)))).resolves.toEqual([503, "service_unavailable"]);
    expect(receiver.messages).toEqual([]);
    await receiver.up();
    await expect(answer(postSlack("/slack/deploys", toSlack(verified)))).resolves.toEqual([200, "ok"]);
  });

  it("comes back by itself after the given time", async () => {
    receiver.down(150);
    expect((await postSlack("/slack/deploys", toSlack(verified))).status).toBe(503);
    await new Promise((r) => setTimeout(r, 250));
    expect((await postSlack("/slack/deploys", toSlack(verified))).status).toBe(200);
  });

  it("with a sandbox clock, is down and slow for sandbox time, not wall time", async () => {
    const clock = new Clock({ running: false });
    const timed = new WebhookReceiver({ clock });
    await timed.start();
    const post = () =>
      fetch(timed.url("/slack/deploys"), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(toSlack(verified)) });
    try {
      timed.down(8 * 60_000);
      await new Promise((r) => setTimeout(r, 50));
      expect((await post()).status).toBe(503);
      await clock.advance(8 * 60_000);
      expect((await post()).status).toBe(200);

      timed.slow(2500);
      let answered = false;
      const slow = post().then((r) => {
        answered = true;
        return r.status;
      });
      while (timed.messages.length < 2) await new Promise((r) => setTimeout(r, 5)); // it arrived, and waits
      await clock.advance(2000);
      expect(answered).toBe(false);
      await clock.advance(500);
      await expect(slow).resolves.toBe(200);
    } finally {
      clock.stop();
      await timed.close();
    }
  });

  it("refuses connections when down in 'refuse' mode, and listens on the same port again", async () => {
    const url = receiver.url("/slack/deploys");
    receiver.down(undefined, "refuse");
    await new Promise((r) => setTimeout(r, 20));
    const error = await fetch(url, { method: "POST", body: JSON.stringify(toSlack(verified)) }).catch((e: unknown) => e);
    expect((error as { cause?: { code?: string } }).cause?.code).toBe("ECONNREFUSED");
    await receiver.up();
    expect(receiver.url("/slack/deploys")).toBe(url);
    expect((await fetch(url, { method: "POST", body: JSON.stringify(toSlack(verified)) })).status).toBe(200);
  });

  it("is seen by shared/notify's deliver as a failure it retries", async () => {
    const logs = captureLogs();
    try {
      receiver.down(undefined, "503");
      const result = await deliver(
        {
          destination: "deploys",
          url: receiver.url("/slack/deploys"),
          body: JSON.stringify(toSlack(verified)),
          headers: { "content-type": "application/json" },
        },
        { attempts: 2, sleep: () => Promise.resolve() },
      );
      expect(result).toMatchObject({ delivered: false, attempts: 2, status: 503 });
    } finally {
      logs.restore();
    }
  });

  it("answers late when slow, but counts the message on arrival", async () => {
    receiver.slow(200);
    const started = Date.now();
    const pending = postSlack("/slack/deploys", toSlack(verified));
    await receiver.waitFor();
    expect(Date.now() - started).toBeLessThan(200);
    expect((await pending).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    receiver.slow(0);
  });

  it("makes a sender that times out deliver twice: the duplicate shows under one delivery id", async () => {
    const logs = captureLogs();
    try {
      receiver.slow(300);
      const request = toWebhook(rolledBack, SECRET);
      const result = await deliver(
        { destination: "audit", url: receiver.url("/webhook/audit"), body: request.body, headers: request.headers, deliveryId: rolledBack.deliveryId },
        { attempts: 2, timeoutMs: 100, sleep: () => Promise.resolve() },
      );
      expect(result.delivered).toBe(false);
      expect(receiver.messagesByDelivery().get(rolledBack.deliveryId)).toHaveLength(2);
    } finally {
      logs.restore();
    }
  });
});

describe("WebhookReceiver: forwarding to a real Slack", () => {
  it("forwards Slack payloads as received, and not the signed webhooks", async () => {
    const slack = new WebhookReceiver();
    await slack.start();
    const forwarding = new WebhookReceiver({ secrets: { audit: SECRET }, forwardTo: slack.url("/slack/real-channel") });
    await forwarding.start();
    try {
      const payload = JSON.stringify(toSlack(rolledBack));
      await fetch(forwarding.url("/slack/deploys"), { method: "POST", headers: { "content-type": "application/json" }, body: payload });
      await fetch(forwarding.url("/webhook/audit"), { method: "POST", ...toWebhook(rolledBack, SECRET) });
      const forwarded = await slack.waitFor();
      expect(forwarded.destination).toBe("real-channel");
      expect(JSON.stringify(forwarded.body)).toBe(payload);
      await forwarding.close(); // waits for forwards in flight
      expect(slack.messages).toHaveLength(1);
    } finally {
      await forwarding.close();
      await slack.close();
    }
  });

  it("logs a failure to forward and still answers ok", async () => {
    const lines: string[] = [];
    const forwarding = new WebhookReceiver({ forwardTo: await closedPortUrl("/services/T/B/x"), log: (l) => lines.push(l) });
    await forwarding.start();
    try {
      const response = await fetch(forwarding.url("/slack/deploys"), { method: "POST", body: JSON.stringify(toSlack(verified)) });
      expect([response.status, await response.text()]).toEqual([200, "ok"]);
      await forwarding.close();
      expect(lines).toEqual([expect.stringMatching(/^webhook receiver: forwarding to Slack failed: /)]);
      expect(lines.join("")).not.toContain("/services/T/B/x");
    } finally {
      await forwarding.close();
    }
  });
});

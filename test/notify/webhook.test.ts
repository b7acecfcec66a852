import { createHmac } from "node:crypto";
import { changesToNotify, type Notification } from "../../shared/notify/message";
import { signatureHeader, toWebhook, verifySignature } from "../../shared/notify/webhook";
import { build, deployment, moved } from "./records";

const SECRET = "whsec_test_0123456789";
const NOW = new Date("2026-03-02T09:20:00.000Z");
const T = Math.floor(NOW.getTime() / 1000);

const completed = moved(moved(deployment(), "started"), "completed");
const [rolledBack] = changesToNotify(completed, moved(completed, "rolled_back", "alarm shop-staging-web-5xx is in ALARM"));

describe("signatureHeader", () => {
  it("is t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.<body>'>", () => {
    const body = '{"event":"deployment.verified"}';
    const expected = createHmac("sha256", SECRET).update(`${T}.${body}`).digest("hex");
    expect(signatureHeader(SECRET, body, T)).toBe(`t=${T},v1=${expected}`);
    expect(signatureHeader(SECRET, body, T)).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
  });
});

describe("verifySignature", () => {
  const body = JSON.stringify({ event: "deployment.rolled_back", deliveryId: "d-1:rolled_back" });
  const header = signatureHeader(SECRET, body, T);

  it("accepts the signature it made (string or Buffer body)", () => {
    expect(verifySignature(SECRET, body, header, { now: NOW })).toBe(true);
    expect(verifySignature(SECRET, Buffer.from(body), header, { now: NOW })).toBe(true);
  });

  it("rejects a tampered body", () => {
    expect(verifySignature(SECRET, body.replace("rolled_back", "verified"), header, { now: NOW })).toBe(false);
  });

  it("rejects another secret", () => {
    expect(verifySignature("another-secret", body, header, { now: NOW })).toBe(false);
  });

  it("rejects a timestamp older than the tolerance, and one too far ahead", () => {
    expect(verifySignature(SECRET, body, header, { now: new Date(NOW.getTime() + 301_000) })).toBe(false);
    expect(verifySignature(SECRET, body, header, { now: new Date(NOW.getTime() + 299_000) })).toBe(true);
    expect(verifySignature(SECRET, body, header, { now: new Date(NOW.getTime() + 61_000), toleranceSeconds: 60 })).toBe(false);
    expect(verifySignature(SECRET, body, header, { now: new Date(NOW.getTime() - 301_000) })).toBe(false);
  });

  it("rejects a re-timestamped signature (the timestamp is signed)", () => {
    const v1 = header.split("v1=")[1];
    expect(verifySignature(SECRET, body, `t=${T + 100},v1=${v1}`, { now: NOW })).toBe(false);
  });

  it.each([undefined, "", "v1=abc", `t=${T}`, `t=${T},v1=zz`, `t=${T},v1=${"0".repeat(64)}`])("rejects the malformed header %p", (h) => {
    expect(verifySignature(SECRET, body, h, { now: NOW })).toBe(false);
  });

  const v1 = header.split("v1=")[1] as string;
  it.each([
    ["two timestamps (the second would win a lenient parser)", `t=${T - 86_400},t=${T},v1=${v1}`],
    ["a v1 value with a stray '='", `t=${T},v1=${v1}=`],
    ["a timestamp with a stray '='", `t=${T}=0,v1=${v1}`],
    ["a part that is no key=value pair", `t=${T},v1=${v1},garbage`],
    ["an empty part", `t=${T},,v1=${v1}`],
  ])("reads the header strictly: rejects %s", (_, h) => {
    expect(verifySignature(SECRET, body, h, { now: NOW })).toBe(false);
  });

  it("ignores keys it does not know (a future v2 beside v1)", () => {
    expect(verifySignature(SECRET, body, `${header},v2=${"a".repeat(64)}`, { now: NOW })).toBe(true);
  });

  it.each([
    ["a tolerance that is not a number", { now: NOW, toleranceSeconds: Number.NaN }],
    ["an infinite tolerance", { now: NOW, toleranceSeconds: Number.POSITIVE_INFINITY }],
    ["a negative tolerance", { now: NOW, toleranceSeconds: -1 }],
    ["a clock that is not a date", { now: new Date("not a date") }],
  ])("fails closed on %s, even for a fresh signature", (_, options) => {
    expect(verifySignature(SECRET, body, header, options)).toBe(false);
  });

  it("fails closed on a day-old signature whatever the options say", () => {
    const dayOld = signatureHeader(SECRET, body, T - 86_400);
    expect(verifySignature(SECRET, body, dayOld, { now: NOW, toleranceSeconds: Number.NaN })).toBe(false);
    expect(verifySignature(SECRET, body, dayOld, { now: new Date(Number.NaN) })).toBe(false);
  });

  it("accepts any one of several v1 signatures (secret rotation)", () => {
    const old = signatureHeader("old-secret", body, T).split(",")[1];
    expect(verifySignature(SECRET, body, `${header},${old}`, { now: NOW })).toBe(true);
    expect(verifySignature("old-secret", body, `${header},${old}`, { now: NOW })).toBe(true);
  });
});

describe("toWebhook", () => {
  it("posts the event, delivery id, severity, title, summary, time, facts and links, signed", () => {
    const request = toWebhook(rolledBack as Notification, SECRET, NOW);
    const body = JSON.parse(request.body);
    expect(body).toMatchObject({
      event: "deployment.rolled_back",
      deliveryId: "d-3f9c2a1b4e5d:rolled_back",
      severity: "failure",
      title: "shop-web → staging: rolled back, deployment failed",
      at: "2026-03-02T09:19:50.000Z",
      deployment: {
        cluster: "shop-staging",
        service: "web",
        region: "eu-west-1",
        tag: "3f9c2a1",
        revision: 42,
        reason: "alarm shop-staging-web-5xx is in ALARM",
      },
      links: { ecsConsole: expect.stringContaining("https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/shop-staging/services/web") },
    });
    expect(body.summary).toContain("Reason: alarm shop-staging-web-5xx is in ALARM");
    expect(request.headers).toMatchObject({
      "content-type": "application/json",
      "X-Stevedore-Event": "deployment.rolled_back",
      "X-Stevedore-Delivery": "d-3f9c2a1b4e5d:rolled_back",
    });
    expect(request.headers["X-Stevedore-Signature"]).toMatch(new RegExp(`^t=${T},v1=[0-9a-f]{64}$`));
    expect(verifySignature(SECRET, request.body, request.headers["X-Stevedore-Signature"], { now: NOW })).toBe(true);
  });

  it("sends a build failure under build, not deployment", () => {
    const [n] = changesToNotify(undefined, build());
    const body = JSON.parse(toWebhook(n as Notification, SECRET, NOW).body);
    expect(body.build).toMatchObject({ project: "shop-web", buildNumber: 118, phase: "BUILD", status: "FAILED" });
    expect(body.deployment).toBeUndefined();
    expect(body.links.buildLogs).toBe(build().logsUrl);
  });

  it("never carries the signing secret", () => {
    expect(JSON.stringify(toWebhook(rolledBack as Notification, SECRET, NOW).body)).not.toContain(SECRET);
  });
});

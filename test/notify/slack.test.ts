import { changesToNotify, type Notification } from "../../shared/notify/message";
import { toSlack, type SlackBlock, type SlackPayload } from "../../shared/notify/slack";
import type { DeploymentStatus } from "../../shared/records/model";
import { build, deployment, moved } from "./records";

const rollingOut = moved(deployment(), "started");

function slackFor(status: DeploymentStatus, reason?: string): SlackPayload {
  const before = status === "started" ? deployment() : rollingOut;
  const [n] = changesToNotify(before, moved(before, status, reason));
  if (!n) throw new Error(`no notification for ${status}`);
  return toSlack(n);
}

/** Every text a person can see in the message. */
function visible(payload: SlackPayload): string {
  const texts = (blocks: SlackBlock[]): string[] =>
    blocks.flatMap((b) => {
      switch (b.type) {
        case "header":
          return [b.text.text];
        case "section":
          return [b.text?.text ?? "", ...(b.fields ?? []).map((f) => f.text)];
        case "context":
          return b.elements.map((e) => e.text);
        case "actions":
          return b.elements.map((e) => `${e.text.text} ${e.url}`);
      }
    });
  return [...texts(payload.blocks), ...payload.attachments.flatMap((a) => texts(a.blocks))].join("\n");
}

function header(payload: SlackPayload): string {
  const block = payload.blocks[0];
  if (block?.type !== "header") throw new Error("first block is not a header");
  return block.text.text;
}

describe("toSlack", () => {
  it("names cluster, service, region, image, commit, revision, trigger, duration and reason", () => {
    const text = visible(slackFor("rolled_back", "ECS deployment circuit breaker: tasks failed to start"));
    for (const expected of [
      "*App*\nshop-web",
      "*Environment*\nstaging",
      "*Service*\nshop-staging/web (eu-west-1)",
      "*Image*\nshop/web:3f9c2a1 · 4b1d09c2e8aa",
      "*Commit*\n3f9c2a1",
      "*Revision*\n42",
      "*Trigger*\npush",
      "*Duration*\n9m 42s",
      "Reason: ECS deployment circuit breaker: tasks failed to start",
    ])
      expect(text).toContain(expected);
  });

  it("links the ECS console and the build logs as buttons", () => {
    const fromBuild = { ...rollingOut, buildUrl: "https://eu-west-1.console.aws.amazon.com/codesuite/codebuild/logs" };
    const [n] = changesToNotify(fromBuild, moved(fromBuild, "verified"));
    const actions = toSlack(n as Notification).attachments[0]?.blocks.find((b) => b.type === "actions");
    expect(actions).toMatchObject({
      elements: [
        { text: { text: "ECS console" }, url: expect.stringContaining("/ecs/v2/clusters/shop-staging/services/web/deployments") },
        { text: { text: "Build logs" }, url: "https://eu-west-1.console.aws.amazon.com/codesuite/codebuild/logs" },
      ],
    });
  });

  it.each<DeploymentStatus>(["rolled_back", "failed", "timed_out"])("makes %s look like a failure, never a success", (status) => {
    const payload = slackFor(status);
    expect(header(payload)).toMatch(/^❌ /);
    expect(payload.attachments[0]?.color).toBe("#e01e5a");
    expect(payload.text).toMatch(/^❌ /);
    expect(visible(payload)).not.toMatch(/✅|:white_check_mark:|success|succeeded/i);
  });

  it("marks only a verified deployment with a tick and green", () => {
    const payload = slackFor("verified");
    expect(header(payload)).toBe("✅ shop-web → staging: deployed and verified");
    expect(payload.attachments[0]?.color).toBe("#2eb67d");
    for (const status of ["started", "completed", "rolling_back", "superseded", "refused"] as const) {
      expect(visible(slackFor(status))).not.toContain("✅");
      expect(slackFor(status).attachments[0]?.color).not.toBe("#2eb67d");
    }
  });

  it("says until when alarms are watched after completion", () => {
    expect(visible(slackFor("completed"))).toContain("watching alarms until 09:19 UTC");
  });

  it("keeps within Slack's limits and truncates a long reason with …", () => {
    const payload = slackFor("failed", "x".repeat(10_000));
    const summary = payload.attachments[0]?.blocks[0];
    expect(summary?.type === "section" && summary.text?.text.length).toBeLessThanOrEqual(3000);
    expect(summary?.type === "section" && summary.text?.text.endsWith("…")).toBe(true);
    expect(payload.text.length).toBeLessThanOrEqual(3000);
    for (const block of payload.attachments[0]?.blocks ?? []) {
      if (block.type === "section") for (const f of block.fields ?? []) expect(f.text.length).toBeLessThanOrEqual(2000);
      if (block.type === "section") expect(block.fields?.length ?? 0).toBeLessThanOrEqual(10);
    }
    expect(header(payload).length).toBeLessThanOrEqual(150);
  });

  it("escapes reasons so they cannot mention @channel or forge links", () => {
    const text = visible(slackFor("failed", "<!channel> see <https://evil.example|docs> & more"));
    expect(text).toContain("&lt;!channel&gt; see &lt;https://evil.example|docs&gt; &amp; more");
    expect(text).not.toContain("<!channel>");
  });

  it("renders a failed build with its project, phase, commit, reason and logs", () => {
    const [n] = changesToNotify(undefined, build());
    const payload = toSlack(n as Notification);
    expect(header(payload)).toBe("❌ shop-web: build shop-web #118 failed");
    const text = visible(payload);
    for (const expected of ["*Project*\nshop-web", "*Build*\n#118", "*Phase*\nBUILD", "*Commit*\n9e8d7c6", "npm test. Reason: exit status 1", "Build logs"]) {
      expect(text).toContain(expected);
    }
  });
});

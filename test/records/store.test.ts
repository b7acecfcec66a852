// The DynamoDB adapter of the records (shared/records/store.ts) against a real local DynamoDB
// (dynalite behind the sandbox's layer, which adds transactions and streams), not a mock:
// every write is conditional, and these tests are about the conditions holding.
import { GetItemCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { BuildVerdict, DeploymentRecord, Head, PromotionRecord } from "../../shared/records/model";
import { keys, pushKeyOf } from "../../shared/records/model";
import {
  claim,
  create,
  fromItem,
  getPromotion,
  getRecord,
  queryApp,
  queryDue,
  queryImage,
  readTarget,
  readVerdict,
  recordVerdict,
  retake,
  save,
  saveAndLock,
  saveAndUnlock,
  toItem,
  unlock,
} from "../../shared/records/store";
import { deploymentRecord, digestOf, promotionRecord, targetRecords, WEB_STAGING, writesIn } from "../support/records";
import { handlerWorld } from "../support/handler-world";

const world = handlerWorld({ aws: false });

/** Wall-clock ms used as "now" and as lock deadlines: the store only compares them. */
const NOW = 1_800_000_000_000;
const LOCK = NOW + 60_000;

/** The n-th image pushed to shop-web staging, a minute after the previous one. */
function image(n: number, overrides: Partial<DeploymentRecord> = {}): DeploymentRecord {
  const pushedAt = new Date(Date.parse("2026-11-20T09:00:00.000Z") + n * 60_000).toISOString();
  return deploymentRecord({ digest: digestOf(n), pushedAt, createdAt: pushedAt, updatedAt: pushedAt, leaseUntil: LOCK, ...overrides });
}

function headOf(record: DeploymentRecord): Head {
  return { digest: record.digest, pushKey: record.pushKey, recordSk: keys.deployment(record.pushKey), recordId: record.id };
}

async function rawHead(targetKey = WEB_STAGING): Promise<Record<string, unknown> | undefined> {
  const out = await new DynamoDBClient({ endpoint: world.db.endpoint, region: "eu-west-1" }).send(
    new GetItemCommand({
      TableName: world.db.table,
      Key: { pk: { S: keys.target(targetKey) }, sk: { S: keys.head } },
      ConsistentRead: true,
    }),
  );
  return out.Item ? unmarshall(out.Item) : undefined;
}

describe("records store", () => {
  describe("claim", () => {
    it("makes the first image the head of a service nobody deployed, with its record, atomically", async () => {
      const first = image(1);

      await expect(claim(first, undefined, LOCK, NOW)).resolves.toBe("claimed");

      const state = await readTarget(WEB_STAGING);
      expect(state.head).toMatchObject({ digest: first.digest, pushKey: first.pushKey, recordId: first.id, lockUntil: LOCK });
      expect(state.record).toEqual(first);
      expect(world.db.calls).toEqual(expect.arrayContaining(["TransactWriteItems"]));
    });

    it("fails over a stale view of the head, and writes nothing", async () => {
      const [first, second, third] = [image(1), image(2), image(3)];
      await claim(first, undefined, NOW - 1, NOW);
      await claim(second, headOf(first), NOW - 1, NOW);
      const streamed = world.db.stream.length;

      // Decided against "nothing there" or against the first image: both are stale now.
      await expect(claim(third, undefined, LOCK, NOW)).resolves.toBe("conflict");
      await expect(claim(third, headOf(first), LOCK, NOW)).resolves.toBe("conflict");

      expect((await readTarget(WEB_STAGING)).head?.recordId).toBe(second.id);
      expect(await getRecord(WEB_STAGING, third.pushKey)).toBeUndefined();
      expect(world.db.stream.length).toBe(streamed);
    });

    it("lets exactly one of two concurrent claims over the same head win", async () => {
      const first = image(1);
      await claim(first, undefined, NOW - 1, NOW);
      const contenders = [image(2), image(3), image(4)];

      const results = await Promise.all(contenders.map((c) => claim(c, headOf(first), LOCK, NOW)));

      expect(results.filter((r) => r === "claimed")).toHaveLength(1);
      const winner = contenders[results.indexOf("claimed")] as DeploymentRecord;
      expect((await readTarget(WEB_STAGING)).head?.recordId).toBe(winner.id);
      expect(await targetRecords(WEB_STAGING)).toHaveLength(2); // the first image and the winner only
    });

    it("lets exactly one of two concurrent first claims of an empty service win", async () => {
      const results = await Promise.all([claim(image(1), undefined, LOCK, NOW), claim(image(2), undefined, LOCK, NOW)]);

      expect([...results].sort()).toEqual(["claimed", "conflict"]);
    });

    it("is blocked while the head is locked, and allowed once the lock has expired", async () => {
      const [first, second] = [image(1), image(2)];
      await claim(first, undefined, LOCK, NOW);

      await expect(claim(second, headOf(first), LOCK + 60_000, LOCK - 1)).resolves.toBe("conflict");
      await expect(claim(second, headOf(first), LOCK + 60_000, LOCK)).resolves.toBe("conflict");
      await expect(claim(second, headOf(first), LOCK + 60_000, LOCK + 1)).resolves.toBe("claimed");

      expect((await readTarget(WEB_STAGING)).head).toMatchObject({ recordId: second.id, lockUntil: LOCK + 60_000 });
    });

    it("never creates a record twice, even when the head would allow it", async () => {
      const first = image(1);
      await claim(first, undefined, NOW - 1, NOW);

      await expect(claim({ ...first, status: "started" }, headOf(first), LOCK, NOW)).resolves.toBe("exists");
      expect((await getRecord(WEB_STAGING, first.pushKey))?.status).toBe("pending");
    });
  });

  describe("retake", () => {
    it("takes over an abandoned claim only once the head's lock has expired", async () => {
      const first = image(1, { leaseUntil: LOCK });
      await claim(first, undefined, LOCK, NOW);
      const taken = {
        ...first,
        leaseUntil: LOCK + 60_000,
        taskDefinitionArn: "arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-web-staging:42",
        version: 2,
      };

      await expect(retake(taken, 1, LOCK + 60_000, LOCK - 1)).resolves.toBe("conflict");
      expect(await getRecord(WEB_STAGING, first.pushKey)).toMatchObject({ version: 1, leaseUntil: LOCK });

      await expect(retake(taken, 1, LOCK + 60_000, LOCK + 1)).resolves.toBe("claimed");
      expect(await getRecord(WEB_STAGING, first.pushKey)).toMatchObject({ version: 2, leaseUntil: LOCK + 60_000 });
      expect((await readTarget(WEB_STAGING)).head?.lockUntil).toBe(LOCK + 60_000);
    });

    it("is refused to a record that is not the head's", async () => {
      const [first, second] = [image(1), image(2, { status: "refused", leaseUntil: undefined })];
      await claim(first, undefined, NOW - 1, NOW);
      await create(second);

      await expect(retake({ ...second, status: "pending", version: 2 }, 1, LOCK, NOW)).resolves.toBe("conflict");

      expect(await getRecord(WEB_STAGING, second.pushKey)).toMatchObject({ status: "refused", version: 1 });
      expect((await readTarget(WEB_STAGING)).head).toMatchObject({ recordId: first.id });
      expect((await rawHead())?.lockUntil).toBe(NOW - 1);
    });

    it("is refused from a version that is not the stored one (someone else retook it first)", async () => {
      const first = image(1);
      await claim(first, undefined, NOW - 1, NOW);
      await retake({ ...first, version: 2 }, 1, NOW - 1, NOW);

      await expect(retake({ ...first, version: 2 }, 1, LOCK, NOW)).resolves.toBe("conflict");
      expect((await rawHead())?.lockUntil).toBe(NOW - 1);
    });
  });

  describe("build verdicts", () => {
    const verdict = (n: number, word: "accepted" | "rejected", overrides: Partial<BuildVerdict> = {}): BuildVerdict => ({
      repository: "shop/web",
      digest: digestOf(1),
      verdict: word,
      project: "shop-web",
      buildId: `shop-web:build-${n}`,
      buildNumber: n,
      at: "2026-11-20T09:00:00.000Z",
      ...(word === "rejected" ? { reason: `its build shop-web #${n} failed in POST_BUILD after pushing this image` } : {}),
      ...overrides,
    });

    it("refuses the claim and the retake of an image a build rejected, writing nothing", async () => {
      const first = image(1);
      await claim(first, undefined, NOW - 1, NOW);
      await recordVerdict(verdict(7, "rejected"));
      const before = world.db.stream.length;

      await expect(
        claim(image(1, { pushedAt: "2026-11-20T10:00:00.000Z", pushKey: pushKeyOf("2026-11-20T10:00:00.000Z", digestOf(1)) }), headOf(first), LOCK, NOW),
      ).resolves.toBe("rejected");
      await expect(retake({ ...first, version: 2 }, 1, LOCK, NOW)).resolves.toBe("rejected");
      await expect(claim(image(2), headOf(first), LOCK, NOW)).resolves.toBe("claimed"); // another image is not concerned

      expect(world.db.stream.slice(before).map((r) => (r.dynamodb.Keys.sk as { S?: string }).S)).toEqual(["HEAD", keys.deployment(image(2).pushKey)]);
    });

    it.each([
      ["a later build's success lifts an earlier build's rejection", [verdict(7, "rejected"), verdict(8, "accepted")], [true, true], "accepted"],
      [
        "an earlier build's failure, arriving late, does not override a later success",
        [verdict(8, "accepted"), verdict(7, "rejected")],
        [true, false],
        "accepted",
      ],
      ["the same build's word again stands (a repeated event carries on)", [verdict(7, "rejected"), verdict(7, "rejected")], [true, true], "rejected"],
      [
        "another project's word overrides, whatever its number",
        [verdict(8, "accepted"), verdict(2, "rejected", { project: "shop-web-nightly" })],
        [true, true],
        "rejected",
      ],
      ["a build without a number has the last word", [verdict(8, "accepted"), verdict(7, "rejected", { buildNumber: undefined })], [true, true], "rejected"],
    ] as const)("orders verdicts by build number within a project: %s", async (...[, verdicts, stood, last]) => {
      const results = [];
      for (const v of verdicts) results.push(await recordVerdict(v));

      expect(results).toEqual(stood);
      expect((await readVerdict("shop/web", digestOf(1)))?.verdict).toBe(last);
      expect(await readVerdict("shop/other", digestOf(1))).toBeUndefined();
    });
  });

  describe("save, create, saveAndUnlock, saveAndLock, unlock", () => {
    it("saves only from the version it was read at: a wrong version writes nothing", async () => {
      const record = image(1, { status: "refused" });
      await create(record);
      const streamed = world.db.stream.length;

      await expect(save({ ...record, reason: "mine", version: 2 }, 7)).resolves.toBe(false);
      expect(await getRecord(WEB_STAGING, record.pushKey)).toEqual(record);
      expect(world.db.stream.length).toBe(streamed);

      await expect(save({ ...record, reason: "mine", version: 2 }, 1)).resolves.toBe(true);
      await expect(save({ ...record, reason: "theirs", version: 2 }, 1)).resolves.toBe(false);
      expect(await getRecord(WEB_STAGING, record.pushKey)).toMatchObject({ reason: "mine", version: 2 });
    });

    it("creates a record once: the second create is refused and changes nothing", async () => {
      const record = image(1, { status: "refused", reason: "first" });

      await expect(create(record)).resolves.toBe(true);
      await expect(create({ ...record, reason: "second" })).resolves.toBe(false);

      expect(await getRecord(WEB_STAGING, record.pushKey)).toMatchObject({ reason: "first" });
      expect(writesIn(world.db.calls)).toEqual(["PutItem", "PutItem"]);
    });

    it("saves a promotion from its version only", async () => {
      const promotion = promotionRecord();
      await create(promotion);

      await expect(save({ ...promotion, status: "approved", version: 2 }, 2)).resolves.toBe(false);
      await expect(save({ ...promotion, status: "approved", version: 2 }, 1)).resolves.toBe(true);
      expect(await getPromotion("shop-worker", promotion.id)).toMatchObject({ status: "approved", version: 2 });
    });

    it("saveAndUnlock saves the record and releases the head's lock together", async () => {
      const first = image(1);
      await claim(first, undefined, LOCK, NOW);

      await expect(saveAndUnlock({ ...first, status: "started", version: 2 }, 1)).resolves.toBe(true);

      expect(await getRecord(WEB_STAGING, first.pushKey)).toMatchObject({ status: "started", version: 2 });
      expect((await rawHead())?.lockUntil).toBeUndefined();
    });

    it("saveAndUnlock from a stale version changes neither the record nor the lock", async () => {
      const first = image(1);
      await claim(first, undefined, LOCK, NOW);
      await save({ ...first, status: "superseded", version: 2 }, 1);

      await expect(saveAndUnlock({ ...first, status: "started", version: 2 }, 1)).resolves.toBe(false);

      expect(await getRecord(WEB_STAGING, first.pushKey)).toMatchObject({ status: "superseded" });
      expect((await rawHead())?.lockUntil).toBe(LOCK);
    });

    it("saveAndUnlock by a record that lost the head leaves the new owner's lock alone", async () => {
      const [first, second] = [image(1), image(2)];
      await claim(first, undefined, NOW - 1, NOW);
      await claim(second, headOf(first), LOCK, NOW);

      await expect(saveAndUnlock({ ...first, status: "started", version: 2 }, 1)).resolves.toBe(false);
      await unlock(first);

      expect(await rawHead()).toMatchObject({ recordId: second.id, lockUntil: LOCK });
      expect(await getRecord(WEB_STAGING, first.pushKey)).toMatchObject({ status: "pending", version: 1 });
    });

    it.each([
      ["the stored version, head free", "locked", { version: 1, lockedUntil: NOW - 1, owner: "self" }],
      ["a stale version", "conflict", { version: 2, lockedUntil: NOW - 1, owner: "self" }],
      ["the head locked by someone else", "head", { version: 1, lockedUntil: LOCK, owner: "self" }],
      ["the head owned by a newer image", "head", { version: 1, lockedUntil: NOW - 1, owner: "newer" }],
    ] as const)("saveAndLock with %s answers %s", async (_, expected, given) => {
      const [first, second] = [image(1), image(2)];
      await claim(first, undefined, given.lockedUntil, NOW);
      if (given.owner === "newer") await claim(second, headOf(first), NOW - 1, NOW);
      if (given.version === 2) await save({ ...first, reason: "changed meanwhile", version: 2 }, 1);
      const before = { record: await getRecord(WEB_STAGING, first.pushKey), head: await rawHead() };

      await expect(saveAndLock({ ...first, status: "rolling_back", version: given.version + 1 }, 1, LOCK + 1, NOW)).resolves.toBe(expected);

      if (expected === "locked") {
        expect(await getRecord(WEB_STAGING, first.pushKey)).toMatchObject({ status: "rolling_back", version: 2 });
        expect(await rawHead()).toMatchObject({ recordId: first.id, lockUntil: LOCK + 1 });
      } else {
        // Nothing written: neither the record nor the head.
        expect({ record: await getRecord(WEB_STAGING, first.pushKey), head: await rawHead() }).toEqual(before);
      }
    });

    it("unlock releases the lock of the head's own record", async () => {
      const first = image(1);
      await claim(first, undefined, LOCK, NOW);

      await unlock(first);

      expect((await rawHead())?.lockUntil).toBeUndefined();
      expect((await rawHead())?.recordId).toBe(first.id);
    });
  });

  describe("readTarget", () => {
    it("knows nothing of a service without a head", async () => {
      await create(image(1, { status: "refused" })); // records that never claimed do not make a head

      await expect(readTarget(WEB_STAGING)).resolves.toEqual({});
    });

    it("returns the head's record even when a newer record that never claimed the service sorts above it", async () => {
      const [owner, refused, failed] = [image(1), image(2, { status: "refused", reason: "alarm firing" }), image(3, { status: "failed" })];
      await claim(owner, undefined, NOW - 1, NOW);
      await create(refused);
      await create(failed);

      const state = await readTarget(WEB_STAGING);

      expect(state.head?.recordId).toBe(owner.id);
      expect(state.record).toEqual(owner);
    });

    it("returns the head's record, not an older one below it", async () => {
      const [old, owner] = [image(1), image(2)];
      await claim(old, undefined, NOW - 1, NOW);
      await claim(owner, headOf(old), NOW - 1, NOW);

      expect((await readTarget(WEB_STAGING)).record).toEqual(owner);
    });
  });

  describe("queryDue", () => {
    const at = (minutes: number) => new Date(Date.parse("2026-11-20T09:00:00.000Z") + minutes * 60_000).toISOString();

    it("returns unfinished deployments by when they are due, and waiting promotions by their expiry, never finished ones", async () => {
      const records = {
        pending: image(1, { status: "pending", createdAt: at(1) }),
        started: image(2, { status: "started", deadline: at(30) }),
        startedLater: image(3, { status: "started", deadline: at(40) }),
        rollingBack: image(4, { status: "rolling_back", deadline: at(50) }),
        completed: image(5, { status: "completed", deadline: at(60), watchUntil: at(20) }),
        verified: image(6, { status: "verified", deadline: at(5), watchUntil: at(5) }),
        failed: image(7, { status: "failed", deadline: at(5) }),
        rolledBack: image(8, { status: "rolled_back", deadline: at(5) }),
        timedOut: image(9, { status: "timed_out", deadline: at(5) }),
        superseded: image(10, { status: "superseded", deadline: at(5) }),
        refused: image(11, { status: "refused", deadline: at(5) }),
      };
      for (const r of Object.values(records)) await create(r);
      const waiting = promotionRecord({ id: "p-00000000000a", expiresAt: at(45) });
      const approved = promotionRecord({ id: "p-00000000000b", status: "approved", expiresAt: at(5) });
      await create(waiting);
      await create(approved);
      const ids = async (now: string) => (await queryDue(now)).map((r) => r.id).sort();

      expect(await ids(at(2))).toEqual([records.pending.id]);
      expect(await ids(at(20))).toEqual([records.pending.id, records.completed.id].sort());
      expect(await ids(at(30))).toEqual([records.pending.id, records.completed.id, records.started.id].sort());
      expect(await ids(at(45))).toEqual([records.pending.id, records.completed.id, records.started.id, records.startedLater.id, waiting.id].sort());
      expect(await ids(at(10_000))).toEqual(
        [records.pending.id, records.started.id, records.startedLater.id, records.rollingBack.id, records.completed.id, waiting.id].sort(),
      );
    });

    it("returns whole records, and drops one from the index once it is finished", async () => {
      const record = image(1, { status: "completed", watchUntil: "2026-11-20T09:20:00.000Z" });
      await create(record);
      const [due] = await queryDue("2026-11-20T09:21:00.000Z");
      expect(due).toEqual(record);

      await save({ ...record, status: "verified", version: 2 }, 1);

      await expect(queryDue("2030-01-01T00:00:00.000Z")).resolves.toEqual([]);
    });

    it("drops a promotion once it is decided", async () => {
      const promotion = promotionRecord();
      await create(promotion);
      expect(await queryDue(promotion.expiresAt)).toEqual([promotion]);

      await save({ ...promotion, status: "rejected", version: 2 }, 1);

      await expect(queryDue("2030-01-01T00:00:00.000Z")).resolves.toEqual([]);
    });
  });

  describe("queryImage, queryApp", () => {
    const WORKERS = ["eu-west-1/shop-staging/worker", "eu-west-1/shop-staging/worker-priority", "eu-west-1/shop-batch/worker-reports"];
    const worker = (targetKey: string, env: string, n: number): DeploymentRecord => {
      const [region, cluster, service] = targetKey.split("/") as [string, string, string];
      const pushedAt = `2026-11-20T09:0${n}:00.000Z`;
      return deploymentRecord({
        id: `d-${env.slice(0, 4)}${n}${service.length.toString().padStart(7, "0")}`,
        app: "shop-worker",
        env,
        region,
        cluster,
        service,
        targetKey,
        repository: "shop/worker",
        digest: digestOf(n),
        pushedAt,
        pushKey: pushKeyOf(pushedAt, digestOf(n)),
        status: "verified",
      });
    };

    it("finds every target of one image in one environment, and nothing else", async () => {
      const image1 = WORKERS.map((t) => worker(t, "staging", 1));
      const image2 = WORKERS.slice(0, 1).map((t) => worker(t, "staging", 2));
      const production1 = [worker("eu-west-1/shop-prod/worker", "production", 1)];
      for (const r of [...image1, ...image2, ...production1]) await create(r);
      await create(image(1)); // another app's record of the same push time

      const found = await queryImage("shop-worker", "staging", image1[0]?.pushKey as string);

      expect(found.map((r) => r.targetKey).sort()).toEqual([...WORKERS].sort());
      expect(found).toEqual(expect.arrayContaining(image1));
    });

    it("lists an app's deployments, newest push first", async () => {
      const records = [1, 2, 3].map((n) => worker(WORKERS[0] as string, "staging", n));
      for (const r of records) await create(r);

      expect((await queryApp("shop-worker")).map((r) => r.digest)).toEqual([digestOf(3), digestOf(2), digestOf(1)]);
    });
  });

  describe("toItem / fromItem", () => {
    it.each([
      ["a pending deployment", image(1)],
      ["a verified deployment", image(2, { status: "verified", watchUntil: "2026-11-20T09:20:00.000Z", finishedAt: "2026-11-20T09:21:00.000Z" })],
      ["a waiting promotion", promotionRecord()],
      ["a decided promotion", promotionRecord({ status: "approved", decidedAt: "2026-11-20T10:00:00.000Z", decidedBy: "alice@example.com" })],
    ])("gives back %s unchanged", (_name, record: DeploymentRecord | PromotionRecord) => {
      expect(fromItem(toItem(record))).toEqual(record);
    });

    it("puts only unfinished records in the due index", () => {
      expect(toItem(image(1, { status: "completed", watchUntil: "2026-11-20T09:20:00.000Z" }))).toMatchObject({
        duePk: { S: "DUE" },
        dueAt: { S: "2026-11-20T09:20:00.000Z" },
      });
      expect(toItem(image(1, { status: "verified" })).duePk).toBeUndefined();
      expect(toItem(promotionRecord({ status: "expired" })).duePk).toBeUndefined();
    });

    const CREATED = "2026-11-20T09:01:00.000Z";
    const DEADLINE = "2026-11-20T09:31:00.000Z";
    const decision = { action: "stop-deployment" as const, reason: "alarm web-5xx", requestedAt: "2026-11-20T09:10:00.000Z", leaseUntil: 0 };
    it.each([
      // A claim or a rollback decision whose invocation may have died is looked at on every sweep.
      ["a pending claim is due at once (its lease decides)", { status: "pending" as const }, CREATED],
      ["an unconfirmed rollback decision is due at once (its lease decides)", { status: "rolling_back" as const, rollback: decision }, CREATED],
      [
        "a rollback ECS confirmed is due at the deadline",
        { status: "rolling_back" as const, rollback: { ...decision, confirmedAt: "2026-11-20T09:10:01.000Z" } },
        DEADLINE,
      ],
      ["ECS's own rollback is due at the deadline", { status: "rolling_back" as const }, DEADLINE],
      ["a started rollout is due at the deadline", { status: "started" as const }, DEADLINE],
      [
        "a completed one is due when its watch window ends",
        { status: "completed" as const, watchUntil: "2026-11-20T09:20:00.000Z" },
        "2026-11-20T09:20:00.000Z",
      ],
    ])("%s", (...[, overrides, dueAt]: [string, Partial<DeploymentRecord>, string]) => {
      expect(toItem(image(1, { deadline: DEADLINE, ...overrides }))).toMatchObject({ duePk: { S: "DUE" }, dueAt: { S: dueAt } });
    });
  });
});

// mulberry32: a tiny seeded PRNG. The sandbox's faults, the benchmarks' jitter and the test
// corpora all draw from it, so the same seed replays the same run.
import { createHash } from "node:crypto";

export function random(seed = 1): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A generator for one named thing (an invocation, a request, a delivery): the same seed and name
 * draw the same numbers whatever order the names are asked in. Concurrent invocations reach the
 * sandbox in an order the machine's load decides; one shared generator would hand its draws out
 * in that order, and a replay would differ.
 */
export function keyed(seed: number, name: string): () => number {
  return random(createHash("sha256").update(`${seed}\u0000${name}`).digest().readUInt32LE(0));
}

/**
 * Members that are random per run while the content is not: a stream record's `eventID` and the
 * idempotency tokens the SDK generates for a call (and an event's own `id`, at the top).
 */
const RANDOM_MEMBERS = new Set(["eventID", "ClientRequestToken", "clientToken", "ClientToken"]);

/** A digest of what something says, without its random members. */
export function contentDigest(value: unknown): string {
  const json = JSON.stringify(value, function (this: unknown, key: string, v: unknown) {
    return RANDOM_MEMBERS.has(key) || (key === "id" && this === value) ? undefined : v;
  });
  return createHash("sha256")
    .update(json ?? "")
    .digest("hex")
    .slice(0, 16);
}

/** Names each occurrence of a key ("k#0", "k#1", …): identical things still get draws of their own. */
export class Occurrences {
  private readonly seen = new Map<string, number>();
  name(key: string): string {
    const n = this.seen.get(key) ?? 0;
    this.seen.set(key, n + 1);
    return `${key}#${n}`;
  }
}

const madeUp = new Occurrences();

/**
 * A UUID for something the sandbox makes up an id for (an event, a build), derived from what it
 * says and how many identical ones came before: AWS's ids are random, but ours end up in request
 * bodies, whose content names each call's fault draws, so a replay must make the same ones.
 */
export function madeUpId(content: unknown): string {
  const hex = createHash("sha256")
    .update(madeUp.name(contentDigest(content)))
    .digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${((parseInt(hex[16] as string, 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

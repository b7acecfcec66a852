import { Clock, MINUTE, SECOND } from "../clock";

const START = Date.parse("2026-12-01T09:00:00.000Z");
/**
 * Lets the running clock take every step it can. Real timers, not setImmediate: the clock counts
 * a pending immediate as work still in flight, and would wait for the helper itself.
 */
const turns = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setTimeout(resolve, 2));
};

describe("Clock (running)", () => {
  let clock: Clock;
  beforeEach(() => {
    clock = new Clock({ start: START });
  });
  afterEach(() => clock.stop());

  it("jumps to each due timer when nothing holds it, in order, and stands at the last", async () => {
    const fired: string[] = [];
    clock.after(5 * MINUTE, () => fired.push(`b ${clock.iso()}`));
    clock.after(2 * SECOND, () => fired.push(`a ${clock.iso()}`));
    await clock.sleep(10 * MINUTE);
    expect(fired).toEqual(["a 2026-12-01T09:00:02.000Z", "b 2026-12-01T09:05:00.000Z"]);
    expect(clock.now()).toBe(START + 10 * MINUTE);
  });

  it("fires timers due at one instant together, in the order they were set", async () => {
    const fired: number[] = [];
    for (const n of [1, 2, 3]) clock.after(SECOND, () => fired.push(n));
    await clock.sleep(SECOND);
    expect(fired).toEqual([1, 2, 3]);
  });

  it("stands still while anything holds it, however long that takes on the wall clock", async () => {
    let fired = false;
    clock.after(SECOND, () => {
      fired = true;
    });
    const release = clock.hold("an invocation");
    await new Promise((resolve) => setTimeout(resolve, 30));
    await turns();
    expect(fired).toBe(false);
    expect(clock.now()).toBe(START);
    expect(clock.describeActivity()).toContain("an invocation×1");
    release();
    release(); // idempotent: a second release must not free someone else's hold
    await turns();
    expect(fired).toBe(true);
  });

  it("lets time run through a wait the server makes inside an exchange, and not outside it", async () => {
    const exchange = clock.exchange();
    let answered = false;
    void clock.parkedFor(exchange.id, 2500).then(() => {
      answered = true;
    });
    await turns();
    expect(answered).toBe(true);
    expect(clock.now()).toBe(START + 2500);

    let later = false;
    clock.after(SECOND, () => {
      later = true;
    });
    await turns();
    expect(later).toBe(false); // the exchange acts again until its response is in
    exchange.end();
    await turns();
    expect(later).toBe(true);
  });

  it("stops counting an exchange its client gave up while the server waited", async () => {
    const exchange = clock.exchange();
    const waiting = clock.parkedFor(exchange.id, MINUTE);
    exchange.end();
    await waiting;
    let next = false;
    clock.after(SECOND, () => {
      next = true;
    });
    await turns();
    expect(next).toBe(true);
    expect(clock.describeActivity()).toMatch(/^0 active/);
  });

  it("wakes an idle waiter at each new rest point, before time moves on", async () => {
    const seen: number[] = [];
    clock.after(MINUTE, () => undefined);
    clock.after(2 * MINUTE, () => undefined);
    while (clock.now() < START + 2 * MINUTE) {
      await clock.idle();
      seen.push((clock.now() - START) / MINUTE);
    }
    expect(seen).toEqual([1, 2]);
  });
});

describe("Clock (stepped)", () => {
  it("moves only when told, firing what falls due on the way", async () => {
    const clock = new Clock({ start: START, running: false });
    const fired: number[] = [];
    clock.after(MINUTE, () => fired.push(1));
    clock.after(3 * MINUTE, () => fired.push(3));
    await turns();
    expect(fired).toEqual([]);
    await clock.advance(2 * MINUTE);
    expect(fired).toEqual([1]);
    expect(clock.now()).toBe(START + 2 * MINUTE);
    expect(await clock.step()).toBe(true);
    expect(fired).toEqual([1, 3]);
    expect(await clock.step()).toBe(false);
  });

  it("counts time in whole milliseconds, as Date.now() does", async () => {
    const clock = new Clock({ start: START, running: false });
    clock.after(0.4, () => undefined);
    await clock.step();
    expect(clock.now()).toBe(START);
  });
});

// The tick scheduler: polls never overlap, skipped ticks are counted, failures back off, triggers and
// pause/resume behave as documented.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ErrorLatch, TickScheduler } from "../../lib/poll";
import { waitFor } from "../support/wait";

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe("poll: tick scheduler", () => {
  it("skips and counts ticks while a poll is running; never runs two at once", async () => {
    let running = 0;
    let max = 0;
    let gate = deferred();
    const s = new TickScheduler(async () => {
      running++;
      max = Math.max(max, running);
      await gate.promise;
      running--;
      return {};
    }, { intervalMs: 0 });
    s.tick();
    s.tick();
    s.tick();
    assert.equal(s.state.skippedTicks, 2);
    assert.equal(s.state.runs, 1);
    gate.resolve();
    await waitFor("poll finished", () => !s.state.running);
    gate = deferred();
    s.tick();
    assert.equal(s.state.runs, 2);
    gate.resolve();
    await s.stop();
    assert.equal(max, 1);
  });

  it("an interval shorter than the poll skips ticks (real timer)", async () => {
    const gate = deferred();
    let runs = 0;
    const s = new TickScheduler(async () => {
      runs++;
      await gate.promise;
      return {};
    }, { intervalMs: 5 });
    s.start();
    await waitFor("ticks skipped", () => s.state.skippedTicks >= 3);
    assert.equal(runs, 1);
    gate.resolve();
    await s.stop();
  });

  it("a trigger during a poll runs one more poll right after it and resolves then", async () => {
    const gate = deferred();
    const order: string[] = [];
    let n = 0;
    const s = new TickScheduler(async () => {
      const me = ++n;
      order.push(`start${me}`);
      if (me === 1) await gate.promise;
      order.push(`end${me}`);
      return {};
    }, { intervalMs: 0 });
    const first = s.trigger();
    const second = s.trigger();
    const third = s.trigger();
    gate.resolve();
    await Promise.all([first, second, third]);
    assert.deepEqual(order, ["start1", "end1", "start2", "end2"]);
    await s.stop();
  });

  it("backs off after a failure (ticks wait), reports each failure, and recovers on success", async () => {
    let now = 0;
    let fail = true;
    const errors: string[] = [];
    let runs = 0;
    const s = new TickScheduler(
      async () => {
        runs++;
        if (fail) throw new Error(`boom${runs}`);
        return {};
      },
      { intervalMs: 0, backoffBaseMs: 100, backoffMaxMs: 250, now: () => now },
      (e) => errors.push(e.message),
    );
    s.tick();
    await waitFor("failure", () => s.state.consecutiveFailures === 1);
    assert.equal(s.state.retryAt, 100);
    s.tick();
    assert.equal(runs, 1, "waiting for the back-off");
    now = 100;
    s.tick();
    await waitFor("second failure", () => s.state.consecutiveFailures === 2);
    assert.equal(s.state.retryAt, 300);
    now = 300;
    s.tick();
    await waitFor("third failure", () => s.state.consecutiveFailures === 3);
    assert.equal(s.state.retryAt, 550, "capped at backoffMaxMs");
    await assert.rejects(s.trigger(), /boom4/, "a trigger polls despite the back-off and gets the error");
    fail = false;
    await s.trigger();
    assert.equal(s.state.consecutiveFailures, 0);
    assert.equal(s.state.retryAt, 0);
    assert.deepEqual(errors, ["boom1", "boom2", "boom3", "boom4"]);
    await s.stop();
  });

  it("pause stops interval polls, resume restarts them; 'again' re-polls at once", async () => {
    let runs = 0;
    const s = new TickScheduler(async () => ({ again: ++runs < 3 }), { intervalMs: 0 });
    s.pause();
    s.tick();
    assert.equal(runs, 0);
    s.resume();
    s.tick();
    await waitFor("three chained polls", () => runs === 3 && !s.state.running);
    await s.stop();
    await assert.rejects(s.trigger(), /stopped/);
  });

  it("idle() resolves once the running poll has finished", async () => {
    const gate = deferred();
    let finished = false;
    const s = new TickScheduler(async () => {
      await gate.promise;
      finished = true;
      return {};
    }, { intervalMs: 0 });
    await s.idle();
    s.tick();
    const idle = s.idle().then(() => finished);
    gate.resolve();
    assert.equal(await idle, true);
    await s.stop();
  });

  it("stop waits for the running poll", async () => {
    const gate = deferred();
    let finished = false;
    const s = new TickScheduler(async () => {
      await gate.promise;
      finished = true;
      return {};
    }, { intervalMs: 0 });
    s.tick();
    const stopping = s.stop();
    gate.resolve();
    await stopping;
    assert.ok(finished);
  });
});

describe("poll: error latch", () => {
  it("reports a failure once per state change", () => {
    const l = new ErrorLatch();
    const down = Object.assign(new Error("refused 1"), { kind: "refused", code: 1 });
    const down2 = Object.assign(new Error("refused again"), { kind: "refused", code: 1 });
    const missing = Object.assign(new Error("table missing"), { kind: "server", code: 9731 });
    assert.equal(l.fail(down), true);
    assert.equal(l.fail(down2), false, "same kind and code: not again");
    assert.equal(l.fail(missing), true);
    assert.equal(l.succeed(), true);
    assert.equal(l.succeed(), false);
    assert.equal(l.fail(down), true, "after a recovery it is new again");
    assert.equal(l.fail(new Error("x")), true);
    assert.equal(l.fail(new Error("x")), false);
  });

  it("wake: polls at once when idle, tells the poll it was woken, and never runs two polls at once", async () => {
    const woken: boolean[] = [];
    let running = 0;
    let max = 0;
    let gate = deferred();
    const s = new TickScheduler(async (w) => {
      woken.push(w);
      running++;
      max = Math.max(max, running);
      await gate.promise;
      running--;
      return {};
    }, { intervalMs: 0 });
    s.wake(0);
    await waitFor("the woken poll started", () => s.state.runs === 1);
    // Wakes while it runs (the rows may have landed after it read): one more poll after it, not one per wake.
    s.wake(0);
    s.wake(0);
    s.wake(0);
    assert.equal(s.state.runs, 1);
    const first = gate;
    gate = deferred();
    first.resolve();
    await waitFor("the second woken poll", () => s.state.runs === 2);
    gate.resolve();
    await waitFor("idle", () => !s.state.running);
    assert.equal(s.state.runs, 2);
    assert.deepEqual(woken, [true, true]);
    s.tick();
    await s.stop();
    assert.deepEqual(woken, [true, true, false], "an interval tick is not a wake");
    assert.equal(max, 1);
  });

  it("wake: polls no more often than the floor, counted from the last woken poll's start", async () => {
    let clock = 1_000_000;
    const starts: number[] = [];
    const s = new TickScheduler(async () => {
      starts.push(clock);
      return {};
    }, { intervalMs: 0, now: () => clock });
    s.wake(60_000);
    await waitFor("first woken poll", () => starts.length === 1);
    await waitFor("idle", () => !s.state.running);
    clock += 10;
    // 10 ms after the last start with a floor of 60 s: the wake waits (a timer), so nothing runs now...
    s.wake(60_000);
    s.wake(60_000);
    await new Promise((r) => setImmediate(r));
    assert.equal(starts.length, 1);
    // ...and an interval tick meanwhile serves it: no extra poll is left pending behind it.
    s.tick();
    await waitFor("the tick's poll", () => starts.length === 2);
    await s.stop();
    assert.equal(starts.length, 2);
  });

  it("wake: an interval poll does not count for the floor: a write landing right after one is read at once", async () => {
    let clock = 1_000_000;
    const woken: boolean[] = [];
    const s = new TickScheduler(async (w) => {
      woken.push(w);
      return {};
    }, { intervalMs: 0, now: () => clock });
    s.tick();
    await waitFor("the tick's poll", () => woken.length === 1 && !s.state.running);
    clock += 10;
    // The tick's poll may have started before the write's rows landed: the wake polls now, floor or not.
    s.wake(60_000);
    await waitFor("the woken poll", () => woken.length === 2);
    assert.deepEqual(woken, [false, true]);
    await waitFor("idle", () => !s.state.running);
    clock += 10;
    s.wake(60_000);
    await new Promise((r) => setImmediate(r));
    assert.equal(woken.length, 2, "a second wake within the floor of the woken poll waits");
    await s.stop();
  });

  it("wake: a woken poll does the interval's work (is not told 'woken') when no full poll started within an interval", async () => {
    let clock = 1_000_000;
    const woken: boolean[] = [];
    const s = new TickScheduler(async (w) => {
      woken.push(w);
      return {};
    }, { intervalMs: 1000, now: () => clock });
    const pollOnce = async (start: () => void): Promise<void> => {
      const n = woken.length;
      start();
      await waitFor("a poll", () => woken.length === n + 1 && !s.state.running);
    };
    await pollOnce(() => s.tick());
    clock += 400;
    await pollOnce(() => s.wake(0));
    clock += 400;
    await pollOnce(() => s.wake(0));
    // Wakes took every tick's turn for a whole interval: this one looks for late rows too...
    clock += 400;
    await pollOnce(() => s.wake(0));
    // ...and counts as the interval's full poll.
    clock += 400;
    await pollOnce(() => s.wake(0));
    assert.deepEqual(woken, [false, true, true, false, true]);
    await s.stop();
  });

  it("wake with more: a write landing batch by batch is read once, after its last batch; ticks wait for it too", async () => {
    let clock = 1_000_000;
    let runs = 0;
    const s = new TickScheduler(async () => {
      runs++;
      return {};
    }, { intervalMs: 0, settleMaxMs: 60_000, now: () => clock });
    s.wake(0, true);
    clock += 5;
    s.wake(0, true);
    assert.equal(s.settling, true);
    let settled = false;
    void s.settled().then(() => (settled = true));
    s.tick();
    await new Promise((r) => setImmediate(r));
    assert.equal(runs, 0, "neither the batches' wakes nor a tick poll while the write lands");
    assert.equal(settled, false);
    clock += 5;
    s.wake(0); // the last batch
    await waitFor("one poll for the whole write", () => runs === 1 && !s.state.running);
    assert.equal(s.settling, false);
    assert.equal(settled, true, "settled() resolves with the last batch");
    await s.settled(); // nothing landing: at once
    await s.stop();
    assert.equal(runs, 1);
  });

  it("wake with more: a write that never sends its last batch is read settleMaxMs after it began; a pause meanwhile leaves ticks working", async () => {
    let runs = 0;
    const s = new TickScheduler(async () => {
      runs++;
      return {};
    }, { intervalMs: 0, settleMaxMs: 20 });
    s.wake(0, true);
    await s.settled();
    await waitFor("the poll after the settle time", () => runs === 1 && !s.state.running);
    s.wake(0, true);
    s.pause();
    await s.settled(); // its wake is refused (paused), and the settle must not outlive it
    s.resume();
    s.tick();
    await waitFor("the tick polls after resume", () => runs === 2);
    s.wake(0, true);
    const stopped = s.settled();
    await s.stop();
    await stopped; // stop ends the wait of a poll that waits for a write to land
    assert.equal(runs, 2);
  });

  it("landedDuringRun: a poll that rows landed during learns it once the write settled, takes the wake, and no extra poll follows", async () => {
    const gate = deferred();
    const answers: boolean[] = [];
    let runs = 0;
    const s = new TickScheduler(async () => {
      runs++;
      if (runs === 1) await gate.promise;
      answers.push(await s.landedDuringRun());
      return {};
    }, { intervalMs: 0, settleMaxMs: 60_000 });
    s.tick();
    await waitFor("the poll started", () => runs === 1);
    s.wake(0, true); // a write began while the poll ran: its first batch...
    gate.resolve();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(answers, [], "the poll waits while the write is still landing");
    s.wake(0); // ...and its last
    await waitFor("the poll answered", () => answers.length === 1);
    await s.idle();
    await new Promise((r) => setTimeout(r, 0));
    assert.deepEqual(answers, [true]);
    assert.equal(runs, 1, "the poll read the write itself: no second poll for the same wake");
    s.tick();
    await waitFor("a quiet poll", () => answers.length === 2);
    assert.deepEqual(answers, [true, false], "nothing landed during the second poll");
    await s.stop();
  });

  it("wake: ignored while paused and during a failure back-off", async () => {
    let runs = 0;
    let fail = true;
    const s = new TickScheduler(async () => {
      runs++;
      if (fail) throw new Error("down");
      return {};
    }, { intervalMs: 0, backoffBaseMs: 60_000 });
    s.tick();
    await waitFor("failed once", () => s.state.consecutiveFailures === 1);
    s.wake(0);
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(runs, 1, "backing off: a wake does not poll");
    fail = false;
    s.retryNow();
    await waitFor("recovered", () => s.state.consecutiveFailures === 0);
    s.pause();
    s.wake(0);
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(runs, 2, "paused: a wake does not poll");
    await s.stop();
  });
});

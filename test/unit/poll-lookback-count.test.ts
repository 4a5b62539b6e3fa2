// The lookback's cheap path: a poll counts the rows of its lookback window and re-reads the window only when
// the count differs from the rows it emitted there. Late rows must still be caught, every row exactly once; and
// when nothing is late the window is not read again.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { epochToMs, Poller, type PollerOptions } from "../../lib/poll";
import { FakeTdengineClient, seeded } from "../support/fake-tdengine-client";

const table = { database: "power", table: "meters", tsColumn: "ts", columns: ["v"], tags: [] };

function poller(opts: Partial<PollerOptions> = {}): Poller {
  return new Poller({ source: { mode: "table", table, includeTbname: true }, start: { kind: "everything" }, timestamps: "ms", ...opts });
}

const keysOf = (rows: Record<string, unknown>[]): string[] => rows.map((x) => `${String(x.tbname)}@${String(x.ts)}`);

/** Row reads (not counts) of the client since `from`: their lower bounds. */
function readBounds(c: FakeTdengineClient, from: number): bigint[] {
  return c.queries.slice(from).filter((q) => !q.sql.includes("COUNT(*)")).map((q) => q.params[0] as bigint);
}

describe("poll: lookback by count", () => {
  it("with nothing late, a poll reads from the watermark only (one COUNT instead of the window)", async () => {
    const c = new FakeTdengineClient();
    const p = poller({ lookbackMs: 100, pageSize: 50 });
    for (let i = 0; i < 30; i++) c.insert(`d${i % 3}`, 1000 + i);
    await p.poll(c);
    c.insert("d0", 1030);
    c.insert("d1", 1031);
    const q0 = c.queries.length;
    const r = await p.poll(c);
    assert.equal(r.lookbackRead, false);
    assert.deepEqual(keysOf(r.rows), ["d0@1030", "d1@1031"]);
    assert.deepEqual(readBounds(c, q0), [1029n], "read from the watermark, not from watermark - 100");
    assert.equal(r.rowsRead, 3, "the row at the watermark again, and the two new ones");
    const count = c.queries.slice(q0).find((q) => q.sql.includes("COUNT(*)"));
    assert.deepEqual(count?.params, [929n, 1029n], "the count covers the window [watermark - lookback, watermark]");
  });

  it("a late row inside the window makes the count differ: the window is read and the row emitted once", async () => {
    const c = new FakeTdengineClient();
    const p = poller({ lookbackMs: 100, pageSize: 4 });
    for (let i = 0; i < 10; i++) c.insert(`d${i % 3}`, 1000 + i * 10);
    await p.poll(c);
    c.insert("d7", 1085); // late, inside the window [990, 1090]
    const late = await p.poll(c);
    assert.equal(late.lookbackRead, true);
    assert.deepEqual(keysOf(late.rows), ["d7@1085"]);
    const q0 = c.queries.length;
    const quiet = await p.poll(c);
    assert.equal(quiet.lookbackRead, false, "once emitted, the late row is counted as seen");
    assert.deepEqual(quiet.rows, []);
    assert.deepEqual(readBounds(c, q0), [1090n]);
  });

  it("a late row in a large window: only a small range around it is read, not the whole window", async () => {
    const c = new FakeTdengineClient();
    const p = poller({ lookbackMs: 1000, pageSize: 100 });
    for (let ts = 1000; ts < 2000; ts++) for (let t = 0; t < 3; t++) c.insert(`d${t}`, ts);
    for (;;) if ((await p.poll(c)).caughtUp) break;
    c.insert("d9", 1500); // late, inside the window [999, 1999] of 3,000 rows
    const late = await p.poll(c);
    assert.equal(late.lookbackRead, true);
    assert.deepEqual(keysOf(late.rows), ["d9@1500"]);
    assert.ok(late.rowsRead <= 20, `${late.rowsRead} rows read for one late row (the window holds 3,000)`);
  });

  it("random writers with late rows inside the lookback: every row exactly once", async () => {
    const c = new FakeTdengineClient("ms", undefined, 5);
    const p = poller({ lookbackMs: 50, pageSize: 6 });
    const rnd = seeded(11);
    const emitted: string[] = [];
    let ts = 10_000;
    let reads = 0;
    for (let round = 0; round < 60; round++) {
      for (let k = 0; k < 4; k++, ts++) for (let t = 0; t < 5; t++) if (rnd() < 0.7) c.insert(`d${t}`, ts);
      const wm = p.watermarkInfo?.ms;
      // Now and then a late row, at most 50 ms behind the watermark (inside the lookback), sometimes at it.
      if (wm !== undefined && rnd() < 0.4) c.insert(`late${round % 4}`, wm - Math.floor(rnd() * 51));
      for (let i = 0; i < 100; i++) {
        const r = await p.poll(c);
        if (r.lookbackRead) reads++;
        emitted.push(...keysOf(r.rows));
        if (r.caughtUp) break;
      }
    }
    const expected = c.rows.map((r) => `${r.tbname}@${epochToMs(r.ts, c.precision)}`);
    assert.equal(new Set(emitted).size, emitted.length, "no row emitted twice");
    assert.deepEqual([...emitted].sort(), [...expected].sort(), "every row, late ones included");
    assert.ok(reads > 0 && reads < 60, `the window was re-read only for late rows (${reads} of 60 rounds)`);
  });
});

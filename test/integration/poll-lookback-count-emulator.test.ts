// The lookback's cheap path against the emulator over a real socket: the window's COUNT(*) with two bound
// timestamps answered as TDengine does, a quiet poll reading only the rows at the watermark, a late row caught once.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startEmulator, type Emulator } from "../../emulator";
import { Poller } from "../../lib/poll";
import { openClient, type TdengineClientApi } from "../../lib/tdengine";

const keysOf = (rows: Record<string, unknown>[]): string[] => rows.map((x) => `${String(x.tbname)}@${String(x.ts)}`);

describe("poll: lookback by count, against the emulator", () => {
  let emu: Emulator;
  let client: TdengineClientApi;
  before(async () => {
    emu = await startEmulator();
    emu.sql("CREATE DATABASE power PRECISION 'ms'");
    emu.sql("CREATE STABLE power.meters (ts TIMESTAMP, v INT) TAGS (g INT)");
    client = await openClient({ url: emu.wsUrl, timeoutMs: 10_000 });
  });
  after(async () => {
    await client.close();
    await emu.stop();
  });

  it("counts the window through the real client and catches a late row once", async () => {
    const p = new Poller({ source: { mode: "table", table: { database: "power", table: "meters", tsColumn: "ts", columns: ["v"], tags: [] }, includeTbname: true }, start: { kind: "everything" }, timestamps: "ms", lookbackMs: 1000 });
    emu.sql("INSERT INTO power.d0 USING power.meters TAGS (0) VALUES (1700000000000, 1) (1700000000500, 2) power.d1 USING power.meters TAGS (1) VALUES (1700000000500, 3)");
    assert.equal((await p.poll(client)).rows.length, 3);
    const quiet = await p.poll(client);
    assert.equal(quiet.lookbackRead, false);
    assert.equal(quiet.rowsRead, 2, "only the rows at the watermark were read again");
    emu.sql("INSERT INTO power.d2 USING power.meters TAGS (2) VALUES (1700000000200, 4)");
    const late = await p.poll(client);
    assert.equal(late.lookbackRead, true);
    assert.deepEqual(keysOf(late.rows), ["d2@1700000000200"]);
    assert.deepEqual((await p.poll(client)).rows, []);
    await p.close();
  });
});

// The in-process "rows landed in db.table" signal from tdengine-write to tdengine-poll.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LandedRows } from "../../lib/tdengine-connection";

describe("landed rows signal", () => {
  it("reaches the listeners of the same server, database and table (names case-insensitive), no others", () => {
    const s = new LandedRows();
    const calls: string[] = [];
    const off = s.listen("ws://a:6041", "power", "meters", () => calls.push("meters"));
    s.listen("ws://a:6041", "power", "other", () => calls.push("other"));
    s.listen("ws://b:6041", "power", "meters", () => calls.push("server b"));
    s.notify("ws://a:6041", "POWER", "Meters");
    assert.deepEqual(calls, ["meters"]);
    off();
    s.notify("ws://a:6041", "power", "meters");
    assert.deepEqual(calls, ["meters"], "unsubscribed");
    assert.equal(s.size, 2, "the emptied table is forgotten");
  });

  it("a failing listener does not keep the others from hearing", () => {
    const s = new LandedRows();
    let heard = 0;
    s.listen("x", "d", "t", () => {
      throw new Error("boom");
    });
    s.listen("x", "d", "t", () => heard++);
    s.notify("x", "d", "t");
    assert.equal(heard, 1);
  });
});

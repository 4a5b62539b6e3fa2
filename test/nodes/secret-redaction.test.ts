// A server error text that echoes the password (a proxy, a logging gateway, a careless error message) must not
// carry it to a user: tdengine-write, tdengine-poll and tdengine-query mask the connection's secrets in what they
// show (status, Catch/Debug, done(err), msg.errors, the dashboard's source health), as tdengine-config's Test
// connection does. The emulator injects failures whose message contains the password. (In the test helper,
// status and node.error texts are i18n keys without their values; what carries the server's text is checked.)
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { startEmulator, type Emulator } from "../../emulator";
import { sourceHealth } from "../../lib/health/source-health";
import helper from "../support/helper";
import { nodeModule } from "../support/package-info";
import { waitFor } from "../support/wait";

const PASSWORD = "Echoed-Secret-pw-5531";
const echoing = (what: string): string => `${what} failed for root:${PASSWORD} (echoed by the server)`;

interface Caught {
  error?: { message: string; source?: { id: string } };
  errors?: { reason: string }[];
}
interface Spied {
  on(event: "call:status", cb: (call: { args: [{ text?: string }] }) => void): void;
}

describe("server error texts shown by the nodes never contain the password", () => {
  let emu: Emulator;
  before(async () => {
    emu = await startEmulator({ password: PASSWORD });
    emu.sql("CREATE DATABASE sec PRECISION 'ms'");
    emu.sql("CREATE STABLE sec.meters (ts TIMESTAMP, v INT) TAGS (g INT)");
    emu.sql("INSERT INTO sec.d1 USING sec.meters TAGS (1) VALUES (1700000000000, 1)");
    await helper.startServer();
  });
  after(async () => {
    await helper.stopServer();
    await emu.stop();
  });
  afterEach(async () => {
    emu.faults.reset();
    await helper.unload();
  });

  async function load(node: Record<string, unknown>): Promise<{ caught: Caught[]; statuses: string[] }> {
    await helper.load(
      [nodeModule("tdengine-config"), nodeModule(String(node.type))],
      [
        { id: "tab", type: "tab", label: "secrets" },
        { id: "cfg", type: "tdengine-config", url: emu.wsUrl, database: "sec", timeout: 2000, maxBackoff: 200 },
        { id: "n", z: "tab", server: "cfg", wires: [[]], ...node },
        { id: "catcher", z: "tab", type: "catch", scope: ["n"], wires: [["caught"]] },
        { id: "caught", z: "tab", type: "helper" },
      ],
      { cfg: { user: "root", password: PASSWORD } },
    );
    const caught: Caught[] = [];
    const statuses: string[] = [];
    helper.getNode("caught").on("input", (m: Caught) => caught.push(m));
    (helper.getNode("n") as unknown as Spied).on("call:status", (c) => statuses.push(c.args[0]?.text ?? ""));
    return { caught, statuses };
  }

  function assertMasked(caught: Caught[], statuses: string[]): void {
    const shown = JSON.stringify({ caught, statuses, health: sourceHealth("n") ?? null });
    assert.match(shown, /root:\*\*\*/, "the echoed error was shown, masked (so the check below is meaningful)");
    assert.ok(!shown.includes(PASSWORD), `the password shows: ${shown}`);
  }

  it("tdengine-query: done(err) reaching Catch", async () => {
    const { caught, statuses } = await load({ type: "tdengine-query", sql: "SELECT ts, v FROM sec.meters", output: "all" });
    await waitFor("connected", () => statuses.some((t) => /ready/.test(t)));
    emu.faults.failNext(3, 0x2600, echoing("query"));
    helper.getNode("n").receive({ payload: 1 });
    await waitFor("the failed query reached Catch", () => caught.length > 0);
    assert.match(caught[0].error?.message ?? "", /root:\*\*\*/);
    assertMasked(caught, statuses);
  });

  it("tdengine-poll: the last error of its source health, and done(err) of a triggered poll", async () => {
    const { caught, statuses } = await load({ type: "tdengine-poll", mode: "table", table: "meters", columns: "v", start: "everything", interval: 100 });
    emu.faults.failNext(1000, 0x2600, echoing("poll"));
    await waitFor("the failed interval polls in the source health", () => /root:/.test(sourceHealth("n")?.lastError?.message ?? ""));
    helper.getNode("n").receive({ payload: "poll now" });
    await waitFor("the failed triggered poll reached Catch", () => caught.some((m) => /root:/.test(m.error?.message ?? "")));
    assertMasked(caught, statuses);
  });

  it("tdengine-write: msg.errors of the refused rows", async () => {
    const { caught, statuses } = await load({
      type: "tdengine-write", stable: "meters", subtableMode: "template", subtable: "d_${g}", tsField: "ts", tsUnit: "ms",
      columns: "ts TIMESTAMP, v INT", tags: "g INT", autoCreate: false, batchSize: 10, flushInterval: 10,
    });
    // Refusals of the bind and exec requests: rows rejected by the server, each with its text.
    emu.faults.failNext(1000, 0x2603, echoing("write"));
    helper.getNode("n").receive({ payload: [{ ts: 1700000000001, v: 2, g: 1 }, { ts: 1700000000002, v: 3, g: 1 }] });
    await waitFor("the failed write reached Catch", () => caught.length > 0, { timeoutMs: 20000 });
    assert.match(caught[0].errors?.[0]?.reason ?? "", /root:\*\*\*/, "msg.errors");
    assertMasked(caught, statuses);
  });
});

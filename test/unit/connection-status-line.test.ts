// The status line of the TDengine nodes: a new state is shown at once, while numbers that change on every message
// or batch (rows/s, buffered rows) reach node.status() at most every MIN_NUMBERS_MS, the latest of them last.
// Each node.status() goes to every open editor and every Status node: a writer at 1M rows/s used to set its
// status over a thousand times a second. Timers and the clock are mocked, so nothing here sleeps.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it, mock } from "node:test";
import type { Node, NodeStatus } from "node-red";
import { connectionStatusLine, MIN_NUMBERS_MS } from "../../nodes/shared/connection-status";
import type { ConnectionStatus } from "../../nodes/shared/tdengine-config-api";

function setup(): { shown: NodeStatus[]; look: { fill: "green" | "red"; text: string }; line: ReturnType<typeof connectionStatusLine>; setState(s: ConnectionStatus): void } {
  const shown: NodeStatus[] = [];
  const node = { status: (s: NodeStatus) => void shown.push(s) } as unknown as Node;
  let listener: ((s: ConnectionStatus) => void) | undefined;
  const server = {
    connectionStatus: { state: "connected" } as ConnectionStatus,
    onState(l: (s: ConnectionStatus) => void) {
      listener = l;
      return () => (listener = undefined);
    },
  };
  const look: { fill: "green" | "red"; text: string } = { fill: "green", text: "0 rows/s" };
  const line = connectionStatusLine(node, server, () => ({ fill: look.fill, shape: "dot", text: look.text }));
  return { shown, look, line, setState: (s) => listener?.(s) };
}

describe("connection status line", () => {
  beforeEach(() => mock.timers.enable({ apis: ["setTimeout", "setInterval", "Date"], now: 1_000_000 }));
  afterEach(() => mock.timers.reset());

  it("shows numbers that change on every message at most every MIN_NUMBERS_MS, and the latest of them", () => {
    const { shown, look, line } = setup();
    assert.deepEqual(shown.map((s) => s.text), ["0 rows/s"], "the first status at once");
    for (let i = 1; i <= 1000; i++) {
      look.text = `${i} rows/s`;
      line.refresh();
    }
    assert.equal(shown.length, 1, "a thousand refreshes within the interval set no status");
    mock.timers.tick(MIN_NUMBERS_MS);
    assert.deepEqual(shown.map((s) => s.text), ["0 rows/s", "1000 rows/s"], "the latest numbers once the interval is over");
    // Another second of changes on every refresh, 100 of them every 10 ms: two statuses, not a hundred.
    for (let i = 0; i < 100; i++) {
      look.text = `${2000 + i} rows/s`;
      line.refresh();
      mock.timers.tick(10);
    }
    assert.ok(shown.length <= 2 + Math.ceil(1000 / MIN_NUMBERS_MS), `${shown.length} statuses in a second`);
    mock.timers.tick(MIN_NUMBERS_MS);
    assert.equal(shown[shown.length - 1].text, "2099 rows/s");
    line.dispose();
  });

  it("shows a new state at once, even right after a change of numbers", () => {
    const { shown, look, line, setState } = setup();
    look.text = "5 rows/s";
    line.refresh();
    look.fill = "red";
    look.text = "disconnected";
    setState({ state: "disconnected" });
    assert.deepEqual(shown.map((s) => [s.fill, s.text]), [["green", "0 rows/s"], ["red", "disconnected"]]);
    // The deferred "5 rows/s" is not shown over the newer state afterwards.
    mock.timers.tick(MIN_NUMBERS_MS * 2);
    assert.equal(shown.length, 2);
    line.dispose();
  });

  it("sets no status after dispose, even one that was waiting", () => {
    const { shown, look, line } = setup();
    look.text = "7 rows/s";
    line.refresh();
    line.dispose();
    mock.timers.tick(MIN_NUMBERS_MS * 4);
    assert.deepEqual(shown.map((s) => s.text), ["0 rows/s"]);
  });
});

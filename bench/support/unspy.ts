// node-red-node-test-helper wraps Node.prototype.send/status/log/... in sinon spies during load(), and every node
// copies the (spied) send into its own `send` property when it is created (Node-RED's Node constructor). A spy
// keeps each call's arguments and a stack trace: every message ever sent stays in memory and every send pays for
// an Error. A real Node-RED has neither, so benchmarks put the real methods back after load().
import type helperType from "../../test/support/helper";

interface HelperInternals {
  _sandbox: { restore(): void };
  _NodePrototype: { send: unknown };
}

export function unspy(helper: typeof helperType, nodeIds: string[]): void {
  const h = helper as unknown as HelperInternals;
  h._sandbox.restore();
  for (const id of nodeIds) {
    const n = helper.getNode(id) as unknown as { send: unknown };
    // Nodes without wires hold a no-op send; only the ones holding the spied prototype method are reset.
    if (n && typeof (n.send as { getCalls?: unknown }).getCalls === "function") n.send = h._NodePrototype.send;
  }
}

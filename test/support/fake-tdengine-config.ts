// A stand-in for the tdengine-config node (same type name and contract, nodes/shared/tdengine-config-api.ts)
// serving a FakeTdengineClient, so node tests can drive connection states and the client precisely.
// Tests pick a client per config-node id with `fakeClients.set(id, client)` before loading the flow.
import type { Node, NodeAPI, NodeDef } from "node-red";
import type { ConnectionStatus } from "../../nodes/shared/tdengine-config-api";
import type { FakeTdengineClient } from "./fake-tdengine-client";

export const fakeClients = new Map<string, FakeTdengineClient>();

export interface FakeConfigNode extends Node {
  database: string;
  connectionStatus: ConnectionStatus;
  users: Set<Node>;
  /** Changes the connection state and tells every listener. */
  setState(s: ConnectionStatus): void;
}

export function fakeTdengineConfig(RED: NodeAPI): void {
  function FakeConfig(this: FakeConfigNode, config: NodeDef & { database?: string }): void {
    RED.nodes.createNode(this, config);
    const listeners = new Set<(s: ConnectionStatus) => void>();
    this.database = config.database ?? "";
    this.connectionStatus = { state: "connected" };
    this.users = new Set();
    const client = fakeClients.get(this.id);
    this.setState = (s) => {
      this.connectionStatus = s;
      for (const l of listeners) l(s);
    };
    Object.assign(this, {
      register: (u: Node) => this.users.add(u),
      deregister: async (u: Node) => void this.users.delete(u),
      getClient: async () => {
        if (this.connectionStatus.state !== "connected" || !client) {
          throw Object.assign(new Error("not connected"), { kind: "closed", code: 0, retryable: true });
        }
        return client;
      },
      redact: (e: Error) => e,
      onState: (l: (s: ConnectionStatus) => void) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
    });
  }
  RED.nodes.registerType("tdengine-config", FakeConfig as unknown as (this: Node, c: NodeDef) => void);
}

// The status line of a node that uses a tdengine-config connection: it follows the connection's state
// changes, refreshes on a timer (rates and lags move without events) and only calls node.status() when the
// text really changed, so a busy flow does not flood the editor with identical status messages.
import type { Node, NodeStatus } from "node-red";
import type { ConnectionStatus, TdengineConfigNode } from "./tdengine-config-api";

const REFRESH_EVERY_MS = 1000;

export interface ConnectionStatusLine {
  /** The connection's latest state. */
  readonly connection: ConnectionStatus;
  /** Recomputes the status now (after an event that changes it). */
  refresh(): void;
  /** Stops the timer and the subscription and clears the status; later refreshes do nothing. */
  dispose(): void;
}

export function connectionStatusLine(
  node: Node,
  server: Pick<TdengineConfigNode, "connectionStatus" | "onState">,
  render: (connection: ConnectionStatus) => NodeStatus,
): ConnectionStatusLine {
  let connection: ConnectionStatus = server.connectionStatus ?? { state: "connecting" };
  let shown = "";
  let disposed = false;
  const refresh = (): void => {
    if (disposed) return;
    const s = withEndpoint(render(connection), connection);
    const key = `${s.fill}|${s.shape}|${s.text}`;
    if (key === shown) return;
    shown = key;
    node.status(s);
  };
  const unsubscribe = server.onState((s) => {
    connection = s;
    refresh();
  });
  const timer = setInterval(refresh, REFRESH_EVERY_MS);
  refresh();
  return {
    get connection() {
      return connection;
    },
    refresh,
    dispose() {
      disposed = true;
      clearInterval(timer);
      unsubscribe();
    },
  };
}

/** Rows per second, short enough for a status line: 0.5, 12, 340, 25k. */
export function formatRate(r: number): string {
  return r >= 10000 ? `${Math.round(r / 1000)}k` : r >= 100 ? String(Math.round(r)) : r.toFixed(1).replace(/\.0$/, "");
}

/**
 * With several endpoints, a connected status says which one is in use and how many are down, in a few characters
 * ("· ep 2/3, 1 down"); the hosts are in the log and in Test connection's result.
 */
function withEndpoint(s: NodeStatus, connection: ConnectionStatus): NodeStatus {
  if (connection.state !== "connected" || !connection.endpointNo) return s;
  const down = connection.down?.length ? `, ${connection.down.length} down` : "";
  return { ...s, text: `${s.text ?? ""} · ep ${connection.endpointNo}${down}` };
}

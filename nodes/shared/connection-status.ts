// The status line of a node that uses a tdengine-config connection: it follows the connection's state
// changes, refreshes on a timer (rates and lags move without events) and only calls node.status() when the
// text really changed, so a busy flow does not flood the editor with identical status messages.
// A new state (another colour or shape) is shown at once; a change of the numbers only (rows/s, buffered rows)
// at most every MIN_NUMBERS_MS, the latest one at the end of that time. Every node.status() goes to each open
// editor and to every Status node watching the node: a writer refreshing per message and per batch set its
// status over a thousand times a second at 1M rows/s.
import type { Node, NodeStatus } from "node-red";
import type { ConnectionStatus, TdengineConfigNode } from "./tdengine-config-api";

const REFRESH_EVERY_MS = 1000;
/** Shortest time between two statuses that differ only in their text. */
export const MIN_NUMBERS_MS = 500;

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
  let shownLook = "";
  let shownAt = 0;
  let later: NodeJS.Timeout | undefined;
  let disposed = false;
  const refresh = (): void => {
    if (disposed) return;
    // render() runs every time: the nodes' renderers also publish health and refusal summaries.
    const s = withEndpoint(render(connection), connection);
    const look = `${s.fill}|${s.shape}`;
    const key = `${look}|${s.text}`;
    if (key === shown) return;
    const wait = shownAt + MIN_NUMBERS_MS - Date.now();
    if (look === shownLook && wait > 0) {
      // Only the numbers changed, and recently: the latest of them once the interval is over.
      later ??= setTimeout(() => {
        later = undefined;
        refresh();
      }, wait);
      return;
    }
    if (later) clearTimeout(later);
    later = undefined;
    shown = key;
    shownLook = look;
    shownAt = Date.now();
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
      if (later) clearTimeout(later);
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

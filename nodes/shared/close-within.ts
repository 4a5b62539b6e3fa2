// The end of a close handler of a node that uses a tdengine-config connection: wait for the node's own work
// to stop (bounded, so Node-RED's 15 s close timeout is never hit), deregister from the connection, clear the
// status, then call Node-RED's done.
import type { Node } from "node-red";
import type { TdengineConfigNode } from "./tdengine-config-api";

/** Close must finish well inside Node-RED's 15 s close timeout. */
export const CLOSE_WAIT_MS = 10000;

export function closeWithin(node: Node, server: TdengineConfigNode, stopped: Promise<unknown>, done: () => void, waitMs = CLOSE_WAIT_MS): void {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<void>((r) => (timer = setTimeout(r, waitMs)));
  void Promise.race([stopped, limit])
    .then(() => server.deregister(node))
    .catch((err: unknown) => node.warn(String(err)))
    .finally(() => {
      clearTimeout(timer);
      node.status({});
      done();
    });
}

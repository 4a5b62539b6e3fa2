// Node-RED gives a sender no acknowledgement; its onReceive hook tells when a message reaches a node. Nodes that must
// know whether what they sent reached a running node (tdengine-poll's handover, tdengine-subscribe's commits) keep
// their messages in flight in a map by message id; one runtime-wide hook per node type reports each receipt there
// (one Map lookup per message in the runtime, nothing more when nothing is in flight).
import type { NodeAPI } from "node-red";

export interface ReceiptSink {
  /** A destination received message `id`; `running` is false when that node had already been stopped. */
  received(id: string, running: boolean): void;
  /** Whether receipts of `id` are still awaited. */
  has(id: string): boolean;
}

/** Installs (or replaces) the hook `onReceive.<name>`; false when the runtime offers no hooks API (some test harnesses). */
export function installReceiptHook(RED: NodeAPI, name: string, inFlight: Map<string, ReceiptSink>): boolean {
  if (!RED.hooks) return false;
  const hook = `onReceive.${name}`;
  RED.hooks.remove(hook);
  RED.hooks.add(hook, (ev: { msg?: { _msgid?: string }; destination: { id: string; node?: unknown } }) => {
    if (inFlight.size === 0) return;
    const id = ev.msg?._msgid;
    const sink = id === undefined ? undefined : inFlight.get(id);
    if (!sink || id === undefined) return;
    // Delivered only when the receiving node is still the running one: during a deploy Node-RED hands messages
    // sent just before the stop to nodes already stopped, which drop them.
    sink.received(id, RED.nodes.getNode(ev.destination.id) === ev.destination.node);
    if (!sink.has(id)) inFlight.delete(id);
  });
  return true;
}

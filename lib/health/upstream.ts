// Which nodes feed a node: a walk against the direction of the wires, a few hops back, over the flow
// configuration as Node-RED gives it (RED.nodes.eachNode: each node's id, type and wires).

export interface WiredNode {
  id: string;
  type: string;
  wires?: unknown;
}

/** The ids of nodes within `maxHops` wires upstream of `targetId` whose type is in `types`, nearest first. */
export function upstreamOfType(nodes: Iterable<WiredNode>, targetId: string, types: ReadonlySet<string>, maxHops = 4): string[] {
  const feeders = new Map<string, string[]>();
  const typeOf = new Map<string, string>();
  for (const n of nodes) {
    typeOf.set(n.id, n.type);
    if (!Array.isArray(n.wires)) continue;
    for (const port of n.wires) {
      if (!Array.isArray(port)) continue;
      for (const to of port) {
        if (typeof to !== "string") continue;
        let list = feeders.get(to);
        if (!list) feeders.set(to, (list = []));
        list.push(n.id);
      }
    }
  }
  const found: string[] = [];
  const seen = new Set([targetId]);
  let frontier = [targetId];
  for (let hop = 0; hop < maxHops && frontier.length > 0; hop++) {
    const next: string[] = [];
    for (const id of frontier) {
      for (const from of feeders.get(id) ?? []) {
        if (seen.has(from)) continue;
        seen.add(from);
        if (types.has(typeOf.get(from) ?? "")) found.push(from);
        next.push(from);
      }
    }
    frontier = next;
  }
  return found;
}

// A real persistent context store (Node-RED's own "localfilesystem") inside node-red-node-test-helper, and a
// way to "restart" Node-RED as far as context is concerned: flows stopped, the store closed (which flushes it
// to disk, as at shutdown), then a new store instance opened from the same directory by the next load.
import helper from "./helper";

interface ContextModule {
  init(settings: Record<string, unknown>): void;
  load(): Promise<void>;
  close(): Promise<void>;
}

const context = (): ContextModule => (helper as unknown as { _context: ContextModule })._context;

/** Helper settings that make "file" a localfilesystem store in `dir` (memory stays the default). */
export function fileContextSettings(dir: string): Record<string, unknown> {
  return {
    contextStorage: {
      default: { module: "memory" },
      file: { module: "localfilesystem", config: { dir, base: "context", flushInterval: 30 } },
    },
  };
}

/**
 * Pass as an extra "node module" to helper.load: it runs after the runtime's context.init and before the
 * flows start, and opens the configured stores (the helper itself never calls context.load()).
 */
export function openContextStores(): Promise<void> {
  return context().load();
}

/** Stops the flows and closes the stores the way a Node-RED shutdown does, then detaches them. */
export async function shutDownContext(): Promise<void> {
  await helper.clearFlows();
  await context().close();
  // helper.unload() cleans context for "removed" nodes, which would delete the files; point it at a
  // throw-away memory store first.
  context().init({});
}

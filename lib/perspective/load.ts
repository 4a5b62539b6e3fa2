// Loads @finos/perspective once per process. The package is ESM-only with top-level await, so it must be
// reached through a real import(): tsc's module "node16" keeps import() as it is in the CommonJS output.
import type { Client, Table, View } from "@finos/perspective" with { "resolution-mode": "import" };

const load = () => import("@finos/perspective");
export type PerspectiveModule = Awaited<ReturnType<typeof load>>;
export type { Client, Table, View };

let loading: Promise<PerspectiveModule> | undefined;

/** The module, imported (and its WASM compiled) on first use; later calls share the same promise. */
export function loadPerspective(): Promise<PerspectiveModule> {
  loading ??= load();
  return loading;
}

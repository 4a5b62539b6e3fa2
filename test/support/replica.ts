// Reads a server table the way the dashboard page does, through the only calls a browser is allowed by
// default: a flat view, its Arrow snapshot loaded into a local table, then that local table's rows.
import { loadPerspective, type Client, type View } from "../../lib/perspective/load";

/** The rows of a flat server view, as a local copy computed in this process. */
export async function viewRows(view: View, columns?: string[]): Promise<Record<string, unknown>[]> {
  const psp = await loadPerspective();
  const local = await psp.default.table(await view.to_arrow());
  const lv = await local.view(columns ? { columns } : {});
  try {
    return (await lv.to_json()) as Record<string, unknown>[];
  } finally {
    await lv.delete();
    await local.delete();
  }
}

/** The rows of the server table `table`, read through a flat view that is deleted afterwards. */
export async function replicaRows(client: Client, table: string, columns?: string[]): Promise<Record<string, unknown>[]> {
  const t = await client.open_table(table);
  const v = await t.view(columns ? { columns } : {});
  try {
    return await viewRows(v);
  } finally {
    await v.delete();
  }
}

/** A flat server view's columns, read through a local copy. */
export async function viewColumns(view: View): Promise<Record<string, unknown[]>> {
  const psp = await loadPerspective();
  const local = await psp.default.table(await view.to_arrow());
  const lv = await local.view();
  try {
    return (await lv.to_columns()) as Record<string, unknown[]>;
  } finally {
    await lv.delete();
    await local.delete();
  }
}

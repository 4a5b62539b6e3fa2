// Counting the rows a node under test emits (node-red-node-test-helper's "helper" node on its output) until a
// total is reached; a node that stops emitting for `stallMs` fails the benchmark with a message instead of
// hanging it.
import type helperType from "../../test/support/helper";

export async function rowsEmitted(helper: typeof helperType, outId: string, total: number, what: string, stallMs = 60_000): Promise<number> {
  let got = 0;
  let lastProgress = Date.now();
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  helper.getNode(outId).on("input", (m: { payload: unknown[] }) => {
    got += m.payload.length;
    lastProgress = Date.now();
    if (got >= total) finish();
  });
  let stall: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    stall = setInterval(() => {
      if (Date.now() - lastProgress > stallMs) reject(new Error(`${what} stalled: ${got} of ${total} rows emitted, nothing for ${stallMs / 1000} s`));
    }, 1000);
  });
  try {
    await Promise.race([finished, stalled]);
  } finally {
    clearInterval(stall);
  }
  return got;
}

// The TDengine client against a hostile server (test/support/hostile-server.ts): every kind of broken reply
// alone, then a seeded fuzz run for a bounded time. Whatever arrives, each request settles (no hang) with a
// result or a TdengineError that says what went wrong, the process does not crash, sockets are closed and
// memory stays bounded. Replay a fuzz run with FUZZ_SEED=<printed seed>.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { openClient, TdengineError, type TdengineClientApi } from "../../lib/tdengine/index";
import { FAULTS, prng, startHostileServer, type Fault, type HostileServer } from "../support/hostile-server";
import { waitFor } from "../support/wait";

const FUZZ_MS = Number(process.env.FUZZ_MS ?? 3000);
const REQUEST_TIMEOUT_MS = 150;
/** A request that has not settled this long after its own timeout is hung. */
const HANG_MS = 5000;
const KINDS = new Set(["server", "refused", "closed", "timeout", "protocol", "tls", "version", "invalid"]);

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Settles `p` or fails with "hang" after HANG_MS; the outcome is "ok" or the TdengineError. */
async function settle<T>(what: string, p: Promise<T>): Promise<{ ok: T } | { err: TdengineError }> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${HANG_MS} ms`)), HANG_MS);
  });
  try {
    return { ok: await Promise.race([p, hang]) };
  } catch (err) {
    if ((err as Error).message.endsWith(`within ${HANG_MS} ms`)) throw err;
    assert.ok(err instanceof TdengineError, `${what}: rejected with a ${(err as Error)?.constructor?.name}: ${String(err)}`);
    assert.ok(KINDS.has(err.kind), `${what}: unknown kind ${err.kind}`);
    assert.ok(err.message.length > 5, `${what}: a message that says something`);
    return { err };
  } finally {
    clearTimeout(timer);
  }
}

/** One client session against the server: connect, then a few operations at once, then close. */
async function session(url: string, ops: number, rnd: () => number): Promise<{ errors: TdengineError[]; oks: number }> {
  const errors: TdengineError[] = [];
  let oks = 0;
  const opened = await settle("connect", openClient({ url, timeoutMs: REQUEST_TIMEOUT_MS }));
  if ("err" in opened) return { errors: [opened.err], oks };
  const client: TdengineClientApi = opened.ok;
  client.on("error", () => undefined);
  const runs: Array<Promise<unknown>> = [];
  for (let i = 0; i < ops; i++) {
    const pick = Math.floor(rnd() * 3);
    if (pick === 0) runs.push(client.query("SELECT v FROM t"));
    else if (pick === 1) runs.push(client.exec("INSERT INTO t VALUES (now, 1)"));
    else {
      runs.push(
        (async () => {
          const st = await client.prepare("INSERT INTO t VALUES (?, ?)");
          try {
            await st.bind([{ columns: [[1700000000000], [1]] }]);
            return await st.exec();
          } finally {
            await st.close().catch(() => undefined);
          }
        })(),
      );
    }
  }
  // Settled together: a later operation may fail while an earlier one is still pending.
  for (const s of await Promise.all(runs.map((r, i) => settle(`operation ${i}`, r)))) {
    if ("err" in s) errors.push(s.err);
    else oks++;
  }
  await settle("close", client.close());
  return { errors, oks };
}

function sockets(): number {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.filter((h) => (h as object)?.constructor?.name === "Socket").length;
}

describe("TDengine client against a hostile server", () => {
  let server: HostileServer;
  let rnd: () => number;
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
  const figures: Record<string, number | string> = {};

  before(async () => {
    rnd = prng(seed);
    server = await startHostileServer(rnd);
  });
  after(async () => {
    await server.close();
    console.log(`# protocol robustness figures: ${JSON.stringify(figures)}`);
  });

  // Each fault on its own, applied to the first request after the handshake: what the caller gets.
  const expectations: Array<[Fault, RegExp]> = [
    ["truncate", /protocol error|truncated|not JSON|not a fetch_raw_block reply/],
    ["oversize", /./], // big but well-formed: may succeed; the point is that it settles and memory comes back
    ["reorder", /timed out/],
    ["garbage", /protocol error|not JSON|req_id|not a fetch_raw_block reply|connection/],
    ["silent", /timed out after 150 ms/],
    ["close", /closed|connection/],
    ["wrong-id", /timed out/],
    ["duplicate", /./],
    ["wrong-types", /./],
    ["server-error", /hostile refusal/],
    ["huge-length", /./],
    ["huge-frame", /./], // the cap's own error is checked below with a timeout a loaded machine cannot hit
  ];
  for (const [fault, message] of expectations) {
    it(`${fault} replies: every request settles with a result or a clear TdengineError`, async () => {
      for (const action of ["binary_query", "fetch_raw_block", "stmt2_prepare", "stmt2_bind"]) {
        let hits = 0;
        server.plan = (req) => (req.action === action && hits++ === 0 ? fault : "ok");
        const baseline = sockets();
        const { errors } = await session(server.url, 3, () => (action === "binary_query" || action === "fetch_raw_block" ? 0 : 0.9));
        for (const e of errors) assert.match(e.message, message, `${fault} on ${action}: ${e.kind} ${e.message}`);
        if (["silent", "wrong-id", "truncate", "garbage", "close", "server-error", "huge-frame"].includes(fault)) {
          assert.ok(errors.length > 0, `${fault} on ${action} must fail the request, not fake a result`);
        }
        await waitFor("the client's sockets closed", () => sockets() <= baseline && server.connections() === 0);
      }
    });
  }

  for (const step of ["conn", "version"]) {
    it(`a server that stalls on ${step}: the connect fails at its timeout, not later`, async () => {
      server.plan = (req) => (req.action === step ? "stall" : "ok");
      const started = Date.now();
      const err = await openClient({ url: server.url, timeoutMs: 1000 }).then(
        () => assert.fail("the connect must fail"),
        (e: unknown) => e,
      );
      const took = Date.now() - started;
      assert.ok(err instanceof TdengineError);
      assert.equal(err.kind, "timeout");
      assert.match(err.message, /^connecting to ws:\/\/127\.0\.0\.1:\d+ timed out after 1000 ms/);
      // One deadline for socket + conn + version, and no closing handshake with a server that stopped answering
      // (it was 1 s per step plus up to 2 s for the close). Generous slack for a loaded machine.
      assert.ok(took < 1900, `connect took ${took} ms for a 1000 ms timeout`);
      await waitFor("the socket closed", () => server.connections() === 0);
    });
  }

  it("a frame announcing 1.4 GB fails its request at the header with the 256 MiB cap's error, not by timeout", async () => {
    let hits = 0;
    server.plan = (req) => (req.action === "binary_query" && hits++ === 0 ? "huge-frame" : "ok");
    const client = await openClient({ url: server.url, timeoutMs: 10_000 });
    client.on("error", () => undefined);
    const err = await client.query("SELECT v FROM t").then(
      () => assert.fail("the request must fail"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof TdengineError);
    assert.deepEqual([err.kind, err.retryable], ["protocol", false]);
    assert.match(err.message, /larger than the client's limit of 268435456 bytes \(maxFrameBytes\)/);
    await client.close().catch(() => undefined);
  });

  it("the frame cap is configurable: maxFrameBytes 1 MiB refuses a 1-3 MB reply at once, not by timeout", async () => {
    let hits = 0;
    server.plan = (req) => (req.action === "binary_query" && hits++ === 0 ? "oversize" : "ok");
    const client = await openClient({ url: server.url, timeoutMs: 10_000, maxFrameBytes: 2 ** 20 });
    client.on("error", () => undefined);
    const err = await client.query("SELECT v FROM t").then(
      () => assert.fail("a reply over the cap must fail the request"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof TdengineError);
    assert.equal(err.kind, "protocol");
    assert.equal(err.retryable, false);
    assert.match(err.message, /larger than the client's limit of 1048576 bytes \(maxFrameBytes\)/);
    await client.close().catch(() => undefined);
    await assert.rejects(openClient({ url: server.url, maxFrameBytes: 0 }), /maxFrameBytes must be a positive integer/);
  });

  it(`random faults for ${FUZZ_MS} ms (seeded): no crash, no hang, bounded memory`, async () => {
    console.log(`# fuzz seed ${seed} (replay with FUZZ_SEED=${seed})`);
    const baselineHeap = heapAfterGc();
    const baselineSockets = sockets();
    const weights: Array<[Fault, number]> = FAULTS.map((f) => [f, f === "ok" ? 6 : f === "oversize" ? 0.7 : 1]);
    const total = weights.reduce((s, [, w]) => s + w, 0);
    server.plan = () => {
      let x = rnd() * total;
      for (const [f, w] of weights) if ((x -= w) < 0) return f;
      return "ok";
    };
    server.applied.clear();
    const end = Date.now() + FUZZ_MS;
    let sessions = 0;
    let oks = 0;
    const kinds = new Map<string, number>();
    let peakHeap = 0;
    while (Date.now() < end) {
      // A few sessions at once, so faults hit interleaved requests on several sockets.
      const batch = await Promise.all([0, 1, 2].map(() => session(server.url, 1 + Math.floor(rnd() * 4), rnd)));
      for (const r of batch) {
        sessions++;
        oks += r.oks;
        for (const e of r.errors) kinds.set(e.kind, (kinds.get(e.kind) ?? 0) + 1);
      }
      if (sessions % 30 === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    }
    await waitFor("every socket closed", () => sockets() <= baselineSockets && server.connections() === 0);
    const grown = heapAfterGc() - baselineHeap;
    const requests = [...server.applied.values()].reduce((s, n) => s + n, 0);
    Object.assign(figures, {
      seed,
      fuzzMs: FUZZ_MS,
      sessions,
      requests,
      succeeded: oks,
      errorsByKind: JSON.stringify(Object.fromEntries(kinds)),
      faults: JSON.stringify(Object.fromEntries(server.applied)),
      heapGrowthMB: (grown / 2 ** 20).toFixed(1),
      peakHeapMB: (peakHeap / 2 ** 20).toFixed(1),
    });
    assert.ok(sessions >= 20, `enough sessions ran (${sessions})`);
    for (const f of FAULTS) assert.ok((server.applied.get(f) ?? 0) > 0, `fault ${f} was exercised (seed ${seed})`);
    assert.ok(oks > 0, "some requests still succeeded between faults");
    assert.ok(grown < 32 * 2 ** 20, `heap grew by ${(grown / 2 ** 20).toFixed(1)} MB after the run (seed ${seed})`);
  });
});
